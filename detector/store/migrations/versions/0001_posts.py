"""Posts and ingest runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from detector.store.schema import JSONColumn, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(35)),
        sa.Column("author_id", sa.String(512)),
        sa.Column("author_handle", sa.String(512)),
        sa.Column("author_location", sa.Text()),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("place", JSONColumn),
        sa.Column("url", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("reply_to", sa.String(512)),
        sa.Column("quote_of", sa.String(512)),
        sa.Column("repost_of", sa.String(512)),
        sa.Column("fingerprint", sa.String(32)),
        sa.Column("created_day", sa.Integer(), nullable=False),
        sa.Column("extra", JSONColumn),
        sa.Column("ingested_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_posts"),
    )
    op.create_index("ix_posts_created_at", "posts", ["created_at"])
    op.create_index("ix_posts_source_name_created_at", "posts", ["source_name", "created_at"])
    op.create_index("ix_posts_created_day_fingerprint", "posts", ["created_day", "fingerprint"])
    op.create_index("ix_posts_repost_of", "posts", ["repost_of"])
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("paths", JSONColumn, nullable=False),
        sa.Column("summary", JSONColumn, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_runs"),
    )


def downgrade() -> None:
    op.drop_table("ingest_runs")
    op.drop_table("posts")
