"""The relational schema, shared by SQLite and PostgreSQL (migrations live in ``migrations/``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "ingest_runs", "metadata", "posts"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always reads them back aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a naive datetime: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


JSONColumn = JSON().with_variant(JSONB(), "postgresql")

posts = Table(
    "posts",
    metadata,
    Column("id", String(512), primary_key=True),
    Column("source_kind", String(16), nullable=False),
    Column("source_name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("text", Text, nullable=False),
    Column("lang", String(35)),
    Column("author_id", String(512)),
    Column("author_handle", String(512)),
    Column("author_location", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("place", JSONColumn),
    Column("url", Text),
    Column("title", Text),
    Column("reply_to", String(512)),
    Column("quote_of", String(512)),
    Column("repost_of", String(512)),
    Column("fingerprint", String(32)),
    # Days since 1970-01-01 (UTC). Leading the fingerprint index with it keeps an archive's
    # inserts in one small region of the index instead of spreading them over all of it.
    Column("created_day", Integer, nullable=False),
    Column("extra", JSONColumn),
    Column("ingested_at", UTCDateTime(), nullable=False),
    Index(None, "created_at"),
    Index(None, "source_name", "created_at"),
    Index(None, "created_day", "fingerprint"),
    Index(None, "repost_of"),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("paths", JSONColumn, nullable=False),
    Column("summary", JSONColumn, nullable=False),
)
