"""Shared fixtures: a clean environment, a fixed clock, and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from detector.clock import FixedClock
from detector.store.sql import SqlStore

PG_URL = os.environ.get(
    "OUTAGE_RADAR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's OUTAGE_RADAR_* settings."""
    for name in list(os.environ):
        if name.startswith("OUTAGE_RADAR_") and name != "OUTAGE_RADAR_TEST_PG_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def clock() -> FixedClock:
    """A clock stopped just after the Tesla outage started."""
    return FixedClock(datetime(2021, 11, 19, 21, 30, tzinfo=UTC))


@pytest.fixture
def sqlite_store(tmp_path, clock) -> Iterator[SqlStore]:
    """A fresh SQLite store in a temporary file."""
    store = SqlStore(f"sqlite:///{tmp_path / 'radar.db'}", clock=clock)
    yield store
    store.close()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A private schema on the real PostgreSQL server; fails (never skips) when it is down."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    yield name
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_store(pg_schema, clock) -> Iterator[SqlStore]:
    """A fresh store in a private schema of the real PostgreSQL server."""
    store = SqlStore(PG_URL, clock=clock, connect_args={"options": f"-csearch_path={pg_schema}"})
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request) -> SqlStore:
    """The same contract, run on every backend."""
    fixture = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(fixture)
