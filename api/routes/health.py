"""``/health``: is the database reachable, and how far behind is the detector."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter

from api.deps import StoreDep
from api.problems import problem_responses
from api.schemas import DatabaseHealth, DetectorHealth, Health
from detector.store import queries

router = APIRouter(tags=["operations"])


@router.get("/health", responses=problem_responses(503), summary="Health check")
def health(store: StoreDep) -> Health:
    """200 when the database answers, with the detector's watermark and lag; 503 (a problem)
    when it does not."""
    queries.check_database(store.engine)
    status = queries.detector_status(store.engine)
    return Health(
        version=version("outage-radar"),
        database=DatabaseHealth(ok=True, dialect=store.dialect),
        detector=DetectorHealth.from_status(status),
    )
