"""``POST /v1/posts``: collectors push posts; they are stored, annotated and counted."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from api.auth import WriterDep
from api.problems import problem_responses
from api.schemas_writes import PostBatch, PushResult
from detector.ingest.push import parse_pushed
from detector.pipeline import Pipeline

router = APIRouter(prefix="/v1/posts", tags=["posts"])


@router.post(
    "",
    responses=problem_responses(400, 401, 413, 422, 429, 503),
    summary="Push posts (idempotent by id)",
)
async def push_posts(batch: PostBatch, request: Request, key: WriterDep) -> PushResult:  # noqa: ARG001 (the key gates the route)
    """Store, annotate and count a batch of posts. Nothing is stored when any post is
    invalid (422 names each); a post pushed again (same ``id`` and source) is not stored or
    counted twice. Detection picks the new posts up on its next run."""
    posts, problems = parse_pushed([p.record() for p in batch.posts])
    if problems:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "posts", p.index, p.field or "record"),
                    "msg": p.message,
                    "type": p.reason,
                }
                for p in problems
            ]
        )
    pipeline: Pipeline = request.app.state.pipeline
    # Annotating and writing take milliseconds to seconds: off the event loop.
    result = await run_in_threadpool(pipeline.add, posts)
    return PushResult.from_result(len(batch.posts), result)
