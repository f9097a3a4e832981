"""Bulk writes of posts, below SQLAlchemy's per-row type handling.

Archive ingestion writes hundreds of thousands of rows; building plain tuples once and handing
them to SQLite's ``executemany`` or PostgreSQL's ``COPY`` is several times faster than going
through the ORM-level bind processors. Reads still go through ``schema.posts``, so the values
written here must look exactly like what SQLAlchemy would have written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection

from detector.errors import StoreError
from detector.models import Post, RawFields
from detector.store.schema import posts

__all__ = ["COLUMNS", "epoch_day", "json_text", "write_posts"]

COLUMNS = tuple(column.name for column in posts.columns)
_ROWS_PER_CALL = 2000
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
_SQLITE_INSERT = (
    f"INSERT INTO posts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (id) DO NOTHING"
)
# PostgreSQL refuses NUL in text and the \u0000 escape in JSONB; posts sometimes carry one.
_JSON_NUL_RE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def write_posts(conn: Connection, batch: Sequence[tuple[Post, str | None]], now: datetime) -> int:
    """Insert ``(post, fingerprint)`` pairs, ignoring ids already present; return rows written.

    Runs inside the caller's transaction.
    """
    if not batch:
        return 0
    dialect = conn.dialect.name
    if dialect == "sqlite":
        stamp = _sqlite_time(now)
        written = 0
        # Rows are built a slice at a time: a transaction may hold tens of thousands of posts
        # (fewer commits are faster), but their row copies need not all be in memory at once.
        for first in range(0, len(batch), _ROWS_PER_CALL):
            rows = [
                _row(post, fp, _sqlite_time(post.created_at), stamp)
                for post, fp in batch[first : first + _ROWS_PER_CALL]
            ]
            written += int(conn.exec_driver_sql(_SQLITE_INSERT, rows).rowcount)
        return written
    if dialect == "postgresql":
        return _copy_postgres(conn, (_row(post, fp, post.created_at, now) for post, fp in batch))
    raise StoreError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")


def _copy_postgres(conn: Connection, rows: Iterable[tuple[Any, ...]]) -> int:
    # COPY cannot skip conflicts, so rows land in a session-local table first.
    driver = conn.connection.driver_connection
    if driver is None:  # pragma: no cover - a checked-out connection always has one
        raise StoreError("no database connection for COPY")
    columns = ", ".join(COLUMNS)
    with driver.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS posts_incoming "
            "(LIKE posts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY posts_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO posts ({columns}) SELECT {columns} FROM posts_incoming "
            "ON CONFLICT (id) DO NOTHING"
        )
        written = cursor.rowcount
        cursor.execute("TRUNCATE posts_incoming")
    return int(written)


def _row(post: Post, fingerprint: str | None, created: Any, ingested: Any) -> tuple[Any, ...]:
    point = post.coordinates
    extra = post.extra.json if isinstance(post.extra, RawFields) else orjson.dumps(post.extra)
    return (
        post.id,
        post.source_kind.value,
        post.source_name,
        created,
        _no_nul(post.text),
        post.lang,
        post.author_id,
        post.author_handle,
        _no_nul(post.author_location),
        point.lat if point else None,
        point.lon if point else None,
        json_text(post.place.as_dict()) if post.place else None,
        post.url,
        _no_nul(post.title),
        post.reply_to,
        post.quote_of,
        post.repost_of,
        fingerprint,
        epoch_day(post.created_at),
        None if extra == b"{}" else _json_text(extra),
        ingested,
    )


def epoch_day(moment: datetime) -> int:
    """Days since 1970-01-01 of an aware datetime, in UTC.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> epoch_day(datetime(2021, 11, 19, 23, 59, tzinfo=UTC))
    18950
    """
    return moment.astimezone(UTC).toordinal() - _EPOCH_ORDINAL


def _sqlite_time(moment: datetime) -> str:
    # The text SQLAlchemy's SQLite DATETIME writes, so range queries compare like with like.
    if moment.tzinfo is not UTC:  # posts are UTC already; other callers may not be
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ", "microseconds")[:26]


def json_text(value: Any) -> str:
    """Encode ``value`` as JSON text that both SQLite and PostgreSQL's JSONB accept."""
    return _json_text(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


def _json_text(encoded: bytes) -> str:
    if b"\\u0000" in encoded:
        encoded = _JSON_NUL_RE.sub(rb"\1", encoded)
    return encoded.decode()


def _no_nul(value: str | None) -> str | None:
    return value.replace("\x00", "") if value is not None and "\x00" in value else value
