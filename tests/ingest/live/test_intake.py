"""The intake between live sources and the database: backpressure, retries, checkpoints."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from detector.config import Settings
from detector.ingest.live.base import Batch
from detector.ingest.live.intake import Intake
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.store.schema import complaints, post_annotations, source_checkpoints
from detector.store.sql import SqlStore
from tests.factories import make_post
from tests.ingest.live.sinks import wait_until


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, SqlStore]]:
    path = tmp_path / "radar.db"
    store = SqlStore(f"sqlite:///{path}")
    yield str(path), store
    store.close()


def batches(source: str, count: int, size: int) -> list[Batch]:
    return [
        Batch(
            source,
            tuple(make_post(id=f"twitter:{source}-{n}-{i}") for i in range(size)),
            checkpoint=str(n + 1),
        )
        for n in range(count)
    ]


def stored_checkpoints(store: SqlStore) -> dict[str, str | None]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(source_checkpoints.c.name, source_checkpoints.c.checkpoint))
        return {row.name: row.checkpoint for row in rows}


def test_a_locked_database_makes_sources_wait_and_loses_nothing(
    database: tuple[str, SqlStore], analyzer: Analyzer
) -> None:
    path, store = database
    intake = Intake(
        Pipeline(store, analyzer, Settings()), {"tmc": "feed"}, capacity=2, batch_posts=5
    )
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database: writes wait
    intake.start()
    stop = threading.Event()
    handed = []

    def source() -> None:
        for batch in batches("tmc", 8, 5):
            assert intake.put(batch, stop)
            handed.append(batch.checkpoint)

    reader = threading.Thread(target=source)
    reader.start()
    try:
        # One batch is being stored (waiting for the lock), two fill the queue, the source
        # waits with the fourth: nothing beyond that was read.
        assert wait_until(lambda: intake.stats().queued_batches == 2)
        time.sleep(0.5)
        assert len(handed) == 3
        assert store.count_posts() == 0
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    reader.join(10)
    assert not reader.is_alive()
    assert wait_until(lambda: intake.stats().batches == 8)
    intake.stop()
    assert store.count_posts() == 40
    stats = intake.stats()
    assert stats.posts == 40 and stats.stored == 40 and stats.blocked_seconds > 0.4
    assert stored_checkpoints(store) == {"tmc": "8"}


def test_a_failing_store_is_retried_and_no_checkpoint_moves_past_unstored_posts(
    database: tuple[str, SqlStore], analyzer: Analyzer
) -> None:
    _, store = database
    intake = Intake(Pipeline(store, analyzer, Settings()), {"tmc": "feed"}, retry_seconds=0.05)
    with store.engine.begin() as conn:  # the posts table is gone: every write fails
        conn.execute(text("ALTER TABLE posts RENAME TO posts_away"))
    intake.start()
    try:
        stop = threading.Event()
        for batch in batches("tmc", 3, 4):
            assert intake.put(batch, stop)
        assert wait_until(lambda: intake.stats().errors >= 3)
        stats = intake.stats()
        assert stats.retrying and "posts" in (stats.last_error or "")
        assert stored_checkpoints(store) == {}
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE posts_away RENAME TO posts"))
        assert wait_until(lambda: intake.stats().batches == 3)
    finally:
        intake.stop()
    assert store.count_posts() == 12
    assert not intake.stats().retrying
    assert stored_checkpoints(store) == {"tmc": "3"}


def test_a_batch_without_posts_still_moves_its_source_checkpoint(
    database: tuple[str, SqlStore], analyzer: Analyzer
) -> None:
    _, store = database
    intake = Intake(Pipeline(store, analyzer, Settings()), {"bluesky": "jetstream"})
    intake.start()
    try:
        assert intake.put(Batch("bluesky", (), "1725911162329308"), threading.Event())
        assert wait_until(lambda: intake.stats().batches == 1)
    finally:
        intake.stop()
    assert stored_checkpoints(store) == {"bluesky": "1725911162329308"}
    assert store.count_posts() == 0


def test_a_waiting_source_gives_up_when_it_is_stopped(
    database: tuple[str, SqlStore], analyzer: Analyzer
) -> None:
    _, store = database
    intake = Intake(Pipeline(store, analyzer, Settings()), {"tmc": "feed"}, capacity=1)
    stop = threading.Event()
    first, second = batches("tmc", 2, 1)
    assert intake.put(first, stop)  # not started: the queue is now full
    done: list[bool] = []
    waiting = threading.Thread(target=lambda: done.append(intake.put(second, stop)))
    waiting.start()
    time.sleep(0.3)
    assert not done
    stop.set()
    waiting.join(5)
    assert done == [False]


def test_posts_stored_before_their_annotation_failed_are_still_annotated(
    database: tuple[str, SqlStore], analyzer: Analyzer
) -> None:
    _, store = database
    intake = Intake(Pipeline(store, analyzer, Settings()), {"tmc": "feed"}, retry_seconds=0.05)
    with store.engine.begin() as conn:  # posts can be stored, their annotations cannot
        conn.execute(text("ALTER TABLE annotations RENAME TO annotations_away"))
    intake.start()
    try:
        assert intake.put(batches("tmc", 1, 6)[0], threading.Event())
        assert wait_until(lambda: intake.stats().errors >= 2)
        assert store.count_posts() == 6  # stored: a retry of the whole add would skip them
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE annotations_away RENAME TO annotations"))
        assert wait_until(lambda: intake.stats().batches == 1)
    finally:
        intake.stop()
    with store.engine.connect() as conn:
        annotated = conn.execute(select(func.count()).select_from(post_annotations)).scalar()
        complained = conn.execute(select(func.count()).select_from(complaints)).scalar()
    assert annotated == 6 and complained == 6  # every post says the Tesla app is down
    assert stored_checkpoints(store) == {"tmc": "1"}
