"""Annotations, complaints, detector state, incidents and their events, bucket scores.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from detector.store.schema import JSONColumn, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("post_id", sa.String(512), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("is_outage", sa.Boolean(), nullable=False),
        sa.Column("country", sa.String(2)),
        sa.Column("data", JSONColumn, nullable=False),
        sa.PrimaryKeyConstraint("post_id", name="pk_annotations"),
    )
    op.create_table(
        "complaints",
        sa.Column("post_id", sa.String(512), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("author_key", sa.String(600), nullable=False),
        sa.Column("country", sa.String(2)),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_name", sa.String(200), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("post_id", "service", name="pk_complaints"),
    )
    op.create_index("ix_complaints_service_minute", "complaints", ["service", "minute"])
    op.create_index("ix_complaints_minute", "complaints", ["minute"])
    op.create_index(
        "ix_complaints_service_author_key_created_at",
        "complaints",
        ["service", "author_key", "created_at"],
    )
    op.create_table(
        "detector_state",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("engine", sa.LargeBinary(), nullable=False),
        sa.Column("tracker", JSONColumn, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_detector_state"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(300), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("data", JSONColumn, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_service_start", "incidents", ["service", "start"])
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_table(
        "incident_events",
        sa.Column("id", sa.String(400), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(300), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("payload", JSONColumn, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incident_events"),
    )
    op.create_index("ix_incident_events_seq", "incident_events", ["seq"])
    op.create_index("ix_incident_events_incident_id", "incident_events", ["incident_id"])
    op.create_table(
        "bucket_scores",
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("observed", sa.Float(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service", "minute", name="pk_bucket_scores"),
    )


def downgrade() -> None:
    for table in (
        "bucket_scores",
        "incident_events",
        "incidents",
        "detector_state",
        "complaints",
        "annotations",
    ):
        op.drop_table(table)
