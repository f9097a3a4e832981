"""``/v1/posts``: the stored posts and what the analyzer found in them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import StoreDep, UtcDatetime, Word
from api.problems import problem_responses
from api.schemas import PostList, PostOut
from detector.store import queries

router = APIRouter(prefix="/v1/posts", tags=["posts"])


@router.get("", responses=problem_responses(422, 503), summary="List posts")
def list_posts(
    store: StoreDep,
    service: Annotated[
        Word | None, Query(description="Posts in which the analyzer found this service.")
    ] = None,
    since: Annotated[UtcDatetime | None, Query(description="Written at or after.")] = None,
    until: Annotated[UtcDatetime | None, Query(description="Written before.")] = None,
    is_outage: Annotated[
        bool | None, Query(description="The classifier's verdict (unannotated posts: false).")
    ] = None,
    country: Annotated[
        str | None,
        Query(pattern="^[A-Za-z]{2}$", description="Where the writer was located (ISO alpha-2)."),
    ] = None,
    q: Annotated[Word | None, Query(description="Case-insensitive substring of the text.")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="``next_cursor`` of the previous page.")
    ] = None,
) -> PostList:
    """Posts newest first, a page at a time (follow ``next_cursor``), each with a summary of
    its annotation (null for posts the classifier found too unlikely to look at further)."""
    page = queries.post_page(
        store.engine,
        service=service,
        since=since,
        until=until,
        is_outage=is_outage,
        country=country.upper() if country else None,
        q=q,
        limit=limit,
        cursor=cursor,
    )
    return PostList(
        items=[PostOut.from_record(p) for p in page.items], next_cursor=page.next_cursor
    )
