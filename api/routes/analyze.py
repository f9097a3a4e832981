"""``/v1/analyze``: annotate texts without storing them."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AnalyzerDep, ClockDep
from api.problems import problem_responses
from api.schemas import AnalysisOut, AnalyzeRequest, AnalyzeResponse
from detector.models import Post, SourceKind

router = APIRouter(prefix="/v1/analyze", tags=["analyze"])


@router.post("", responses=problem_responses(400, 413, 422), summary="Analyze texts")
def analyze(body: AnalyzeRequest, analyzer: AnalyzerDep, clock: ClockDep) -> AnalyzeResponse:
    """Run the analyzer over up to 1000 texts: outage probability, services, symptoms, error
    messages, features and places, as the pipeline would find them. Nothing is stored."""
    now = clock.now()
    batch = [
        Post(
            id=f"generic:analyze-{i}",
            source_kind=SourceKind.GENERIC,
            source_name="api",
            created_at=now,
            text=text,
        )
        for i, text in enumerate(body.texts)
    ]
    notes = analyzer.annotate(batch)
    return AnalyzeResponse(items=[AnalysisOut.from_annotation(i, n) for i, n in enumerate(notes)])
