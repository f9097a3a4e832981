"""Alembic environment: runs on the connection handed in by ``detector.store.sql.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from detector.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:  # `alembic -c detector/store/alembic.ini upgrade head` from a shell
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///outage-radar.db")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
