"""The relational schema, shared by SQLite and PostgreSQL (migrations live in ``migrations/``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UTCDateTime",
    "api_keys",
    "bucket_scores",
    "complaints",
    "detector_state",
    "incident_events",
    "incidents",
    "ingest_runs",
    "leases",
    "metadata",
    "post_annotations",
    "posts",
    "pulled_files",
    "source_checkpoints",
    "source_gaps",
    "source_health",
    "webhook_deliveries",
    "webhooks",
]

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

# What the analyzer found in each post likely to be a complaint (the evidence behind incidents).
post_annotations = Table(
    "annotations",
    metadata,
    Column("post_id", String(512), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("probability", Float, nullable=False),
    Column("is_outage", Boolean, nullable=False),
    Column("country", String(2)),
    Column("data", JSONColumn, nullable=False),
)

# One row per (outage post, service it names): what the detector counts. ``counted`` is the
# first report of that author about that service within the report window, and not a repost.
complaints = Table(
    "complaints",
    metadata,
    Column("post_id", String(512), primary_key=True),
    Column("service", String(200), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("minute", Integer, nullable=False),  # minutes since 1970-01-01 UTC
    Column("author_key", String(600), nullable=False),
    Column("country", String(2)),
    Column("source_kind", String(16), nullable=False),
    Column("source_name", String(200), nullable=False),
    Column("counted", Boolean, nullable=False),
    Index(None, "service", "minute"),
    Index(None, "minute"),
    Index(None, "service", "author_key", "created_at"),
)

# The detector's streaming state (engine arrays and lifecycle), so a restart continues.
detector_state = Table(
    "detector_state",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("engine", LargeBinary, nullable=False),
    Column("tracker", JSONColumn, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(300), primary_key=True),
    Column("service", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("start", UTCDateTime(), nullable=False),
    Column("detected_at", UTCDateTime(), nullable=False),
    Column("end", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("data", JSONColumn, nullable=False),
    Index(None, "service", "start"),
    Index(None, "status"),
)

# Every incident change, written in the same transaction as the change: the webhook outbox.
incident_events = Table(
    "incident_events",
    metadata,
    Column("id", String(400), primary_key=True),  # incident id + type + time: replays collide
    Column("seq", Integer, nullable=False),
    Column("incident_id", String(300), nullable=False),
    Column("type", String(40), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("payload", JSONColumn, nullable=False),
    Index(None, "seq"),
    Index(None, "incident_id"),
)

# Observed vs expected for every hot series and bucket (charts and the timeseries API).
bucket_scores = Table(
    "bucket_scores",
    metadata,
    Column("service", String(200), primary_key=True),
    Column("minute", Integer, primary_key=True),
    Column("observed", Float, nullable=False),
    Column("expected", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("state", Integer, nullable=False),
)

# --- the service: API keys, webhooks and their deliveries, leases ------------------------------

# API keys: only a SHA-256 of the token is kept (tokens are 256-bit random, so no slow hash is
# needed to resist guessing); ``prefix`` is shown to people to tell keys apart.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Column("last_used_at", UTCDateTime()),
)

# Webhook endpoints. The secret is kept in clear because every delivery is signed with it; it
# is shown once, at creation, and never again. ``after_seq`` is the last incident event fanned
# out to this endpoint (a new endpoint starts at the newest event: no replay of history).
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("format", String(16), nullable=False),
    Column("services", JSONColumn),
    Column("countries", JSONColumn),
    Column("min_severity", String(16), nullable=False),
    Column("event_types", JSONColumn, nullable=False),
    Column("description", String(500), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(500)),
    Column("after_seq", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "owner"),
)

# One row per (endpoint, event): pending until delivered, or dead after the retry horizon or a
# permanent refusal. Delivered in ``seq`` order per endpoint.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(500), primary_key=True),  # webhook id + event id: fan-out is idempotent
    Column("webhook_id", String(32), nullable=False),
    Column("event_id", String(400), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("first_attempt_at", UTCDateTime()),
    Column("last_attempt_at", UTCDateTime()),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("delivered_at", UTCDateTime()),
    Index(None, "webhook_id", "status", "seq"),
)

# Named leases: the one process that holds ``detect`` or ``webhook:<id>`` until ``until`` does
# that work; two servers on one database never both do it.
leases = Table(
    "leases",
    metadata,
    Column("name", String(300), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("until", UTCDateTime(), nullable=False),
)

# Files the server has ingested from its watched folder (path, and size and mtime when read):
# a file is taken again only when it changed.
pulled_files = Table(
    "pulled_files",
    metadata,
    Column("path", String(1000), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("mtime", Float, nullable=False),
    Column("pulled_at", UTCDateTime(), nullable=False),
)

# Where each live source resumes (its checkpoint after the last batch stored).
source_checkpoints = Table(
    "source_checkpoints",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("checkpoint", Text),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Each live source's health as the process reading the sources last reported it (JSON), so that
# every server process of the database shows it, not only the reader.
source_health = Table(
    "source_health",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("reader", String(100), nullable=False),  # a lease owner
    Column("reported_at", UTCDateTime(), nullable=False),
    Column("health", Text, nullable=False),
)

# Spans in which a live source was silent or failing: its posts (so its share of the counts)
# may be missing there, which incidents' explanations say. ``ended_at`` is null while it lasts.
source_gaps = Table(
    "source_gaps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    Column("detail", Text),
    Index(None, "started_at"),
)
