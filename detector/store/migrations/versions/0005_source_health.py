"""Live sources' health as the reading process reports it, for every server to show.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from detector.store.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_health",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reader", sa.String(100), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("health", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_source_health"),
    )


def downgrade() -> None:
    op.drop_table("source_health")
