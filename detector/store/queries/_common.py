"""What every read query shares: connections whose failures are ``StoreError``, pages and their
keyset cursors, and minute arithmetic (minutes since 1970-01-01 UTC, as stored)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Connection, Engine, bindparam, exists, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from detector.errors import QueryError, StoreError
from detector.store.schema import complaints, incidents, posts

__all__ = [
    "MAX_LIMIT",
    "SERVICE_KNOWN",
    "SERVICE_KNOWN_AND_NEWEST",
    "Page",
    "at_minute",
    "aware",
    "check_limit",
    "decode_cursor",
    "encode_cursor",
    "minute_ceil",
    "minute_of",
    "reading",
]

T = TypeVar("T")

#: Largest page a list query returns.
MAX_LIMIT = 500

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)

#: Whether service ``:service`` has complaints or incidents (a page of it can be shown) ...
SERVICE_KNOWN = select(
    or_(
        exists().where(complaints.c.service == bindparam("service")),
        exists().where(incidents.c.service == bindparam("service")),
    )
)
#: ... and, in the same round trip, when the newest stored post was written.
SERVICE_KNOWN_AND_NEWEST = SERVICE_KNOWN.add_columns(
    select(func.max(posts.c.created_at)).scalar_subquery()
)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; ``next_cursor`` fetches the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None = None


@contextmanager
def reading(engine: Engine, what: str) -> Iterator[Connection]:
    """A connection for one read; a database failure becomes ``StoreError("cannot <what>")``."""
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        # The message can carry the URL (and so credentials); callers decide what to show.
        raise StoreError(f"cannot {what}: {type(exc).__name__}: {exc}") from exc


def check_limit(limit: int) -> None:
    """Refuse a page size outside ``[1, MAX_LIMIT]`` (``QueryError`` on ``limit``)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be within [1, {MAX_LIMIT}], got: {limit}")


def encode_cursor(kind: str, at: datetime, key: str) -> str:
    """The opaque cursor of list ``kind`` after the row sorted at (``at``, ``key``).

    Examples
    --------
    >>> cursor = encode_cursor("posts", datetime(2021, 11, 19, 21, tzinfo=UTC), "twitter:1")
    >>> decode_cursor(cursor, "posts")
    (datetime.datetime(2021, 11, 19, 21, 0, tzinfo=datetime.timezone.utc), 'twitter:1')
    """
    raw = orjson.dumps([kind, aware(at).isoformat(), key])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, kind: str) -> tuple[datetime, str]:
    """The sort key in a cursor of list ``kind``; ``QueryError`` on ``cursor`` for anything this
    API did not hand out for that list."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, at, key = orjson.loads(raw)
        moment = datetime.fromisoformat(at)
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError):
        raise QueryError("cursor", "is not a cursor this API handed out") from None
    if found != kind or not isinstance(key, str) or moment.tzinfo is None:
        raise QueryError("cursor", f"is not a cursor of the {kind} list")
    return moment, key


def aware(value: Any) -> datetime:
    """A database time as an aware UTC datetime."""
    # Aggregates (max) bypass the column type on SQLite and come back naive, or as text.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def minute_of(at: datetime) -> int:
    """The minute (since 1970-01-01 UTC) that ``at`` falls in."""
    return int((at - _EPOCH) // _MINUTE)


def minute_ceil(at: datetime) -> int:
    """The first minute starting at or after ``at``."""
    return -int(-(at - _EPOCH) // _MINUTE)


def at_minute(minute: int) -> datetime:
    """When ``minute`` starts.

    Examples
    --------
    >>> at_minute(minute_of(datetime(2021, 11, 19, 21, 0, 30, tzinfo=UTC)))
    datetime.datetime(2021, 11, 19, 21, 0, tzinfo=datetime.timezone.utc)
    """
    return _EPOCH + minute * _MINUTE
