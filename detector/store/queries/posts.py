"""Stored posts with what the analyzer found in them, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, exists, func, literal, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from detector.store.queries._common import (
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    reading,
)
from detector.store.schema import post_annotations, posts

__all__ = ["AnnotationSummary", "PostRecord", "post_page"]

_POST_COLUMNS = [
    posts.c[name]
    for name in "id source_kind source_name created_at text lang author_handle url reply_to "
    "quote_of repost_of".split()
]


@dataclass(frozen=True, slots=True)
class AnnotationSummary:
    """What the analyzer found in a post, short: service slugs, symptom categories, normalized
    error messages and feature names."""

    outage_probability: float
    is_outage: bool
    services: list[str]
    symptoms: list[str]
    errors: list[str]
    features: list[str]
    recovered: bool
    country: str | None


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A stored post and its annotation (None when the classifier found it too unlikely to be a
    complaint to look further: those are not kept)."""

    id: str
    source_kind: str
    source_name: str
    created_at: datetime
    text: str
    lang: str | None
    author_handle: str | None
    url: str | None
    reply_to: str | None
    quote_of: str | None
    repost_of: str | None
    annotation: AnnotationSummary | None


def post_page(
    engine: Engine,
    *,
    service: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    is_outage: bool | None = None,
    country: str | None = None,
    q: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[PostRecord]:
    """Stored posts newest first (ties by id), one page at a time.

    ``service`` keeps posts in which the analyzer found that service (only likely complaints
    are looked at for services); ``is_outage`` is the classifier's verdict (a post without an
    annotation is not an outage report); ``country`` is where the writer was located; ``q`` is
    a case-insensitive substring of the text (SQLite folds ASCII letters only).

    Examples
    --------
    >>> from detector.store.sql import SqlStore
    >>> post_page(SqlStore("sqlite://").engine, q="down")
    Page(items=[], next_cursor=None)
    """
    check_limit(limit)
    query = select(*_POST_COLUMNS, post_annotations.c.data.label("annotation")).select_from(
        posts.outerjoin(post_annotations, post_annotations.c.post_id == posts.c.id)
    )
    if since is not None:
        query = query.where(posts.c.created_at >= since)
    if until is not None:
        query = query.where(posts.c.created_at < until)
    if is_outage is True:
        query = query.where(post_annotations.c.is_outage.is_(True))
    elif is_outage is False:
        query = query.where(
            or_(post_annotations.c.is_outage.is_(None), post_annotations.c.is_outage.is_(False))
        )
    if country is not None:
        query = query.where(post_annotations.c.country == country)
    if q:
        query = query.where(posts.c.text.icontains(q, autoescape=True))
    if service is not None:
        query = query.where(_names_service(engine.dialect.name, service))
    if cursor is not None:
        created, last_id = decode_cursor(cursor, "posts")
        query = query.where(
            or_(
                posts.c.created_at < created,
                and_(posts.c.created_at == created, posts.c.id < last_id),
            )
        )
    query = query.order_by(posts.c.created_at.desc(), posts.c.id.desc()).limit(limit + 1)
    with reading(engine, "list posts") as conn:
        rows = conn.execute(query).mappings().all()
    items = [_post_record(row) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return Page(items, encode_cursor("posts", last.created_at, last.id) if last else None)


def _names_service(dialect: str, service: str) -> Any:
    """The annotation names ``service``: JSONB containment on PostgreSQL, ``json_each`` on
    SQLite (the JSON functions differ; the meaning does not)."""
    data = post_annotations.c.data
    if dialect == "postgresql":
        return type_coerce(data, JSONB)["services"].contains([{"slug": service}])
    mentions = func.json_each(data, "$.services").table_valued("value").alias("mention")
    return exists(
        select(literal(1))
        .select_from(mentions)
        .where(func.json_extract(mentions.c.value, "$.slug") == service)
    )


def _post_record(row: Any) -> PostRecord:
    data = row["annotation"]
    note = None
    if data is not None:
        note = AnnotationSummary(
            outage_probability=float(data["outage_probability"]),
            is_outage=bool(data["is_outage"]),
            services=list(dict.fromkeys(m["slug"] for m in data.get("services", []))),
            symptoms=list(data.get("symptoms", [])),
            errors=list(dict.fromkeys(e["normalized"] for e in data.get("errors", []))),
            features=list(dict.fromkeys(f["feature"] for f in data.get("features", []))),
            recovered=bool(data.get("recovered", False)),
            country=data.get("country"),
        )
    return PostRecord(
        id=row["id"],
        source_kind=row["source_kind"],
        source_name=row["source_name"],
        created_at=row["created_at"],
        text=row["text"],
        lang=row["lang"],
        author_handle=row["author_handle"],
        url=row["url"],
        reply_to=row["reply_to"],
        quote_of=row["quote_of"],
        repost_of=row["repost_of"],
        annotation=note,
    )
