"""Live sources run into the store: checkpoints across restarts, and the record of the spans
in which a source was failing or silent, which incidents' explanations name. Each test runs on
SQLite and on the real PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from detector.clock import FixedClock
from detector.config import Settings
from detector.ingest.live.base import SourceHealth
from detector.ingest.live.manager import SOURCES_LEASE, LiveSources
from detector.ingest.live.settings import FeedSettings
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.store.incidents import list_incidents
from detector.store.leases import acquire_lease, lease_holder
from detector.store.sources import (
    gaps_between,
    load_checkpoints,
    load_health,
    open_gap,
    open_gaps,
)
from detector.store.sql import SqlStore
from tests.ingest.live.forum_server import Forum, frame, rss_without
from tests.ingest.live.sinks import wait_until
from tests.test_pipeline import synthetic_posts


@pytest.fixture
def forum() -> Iterator[Forum]:
    with Forum().running() as running:
        yield running


def feed(forum: Forum, **overrides: Any) -> FeedSettings:
    values: dict[str, Any] = {
        "kind": "feed",
        "name": "tmc",
        "url": f"{forum.base}/posts.rss",
        "interval_seconds": 0.1,
        "backoff_seconds": 0.02,
        "max_backoff_seconds": 0.1,
        **overrides,
    }
    return FeedSettings.model_validate(values)


def test_posts_are_stored_and_a_restart_resumes_from_the_stored_checkpoint(
    forum: Forum, store: SqlStore, analyzer: Analyzer
) -> None:
    recorded = frame("feed_rss.xml")
    forum.serve("/posts.rss", rss_without(recorded, 0), "application/rss+xml")
    pipeline = Pipeline(store, analyzer, Settings())
    live = LiveSources(pipeline, [feed(forum)])
    live.start()
    try:
        assert wait_until(lambda: store.count_posts() == 3)
    finally:
        live.stop()
    saved = load_checkpoints(store.engine)
    assert set(saved) == {"tmc"} and '"etag"' in (saved["tmc"] or "")
    before = len(forum.requests)

    forum.serve("/posts.rss", recorded, "application/rss+xml")  # one new post meanwhile
    again = LiveSources(pipeline, [feed(forum)])
    again.start()
    try:
        assert wait_until(lambda: store.count_posts() == 4)
        assert wait_until(lambda: len(forum.requests) >= before + 3)
    finally:
        again.stop()
    # The restarted source asked conditionally at once: it resumed from the stored state.
    assert "if-none-match" in forum.headers(before)
    [health] = again.health()
    assert health.posts_total == 1 and health.status == "stopped"
    assert again.intake_stats().stored == 1


def test_a_disabled_source_is_not_started(
    forum: Forum, store: SqlStore, analyzer: Analyzer
) -> None:
    live = LiveSources(Pipeline(store, analyzer, Settings()), [feed(forum, enabled=False)])
    assert live.sources == {}


def test_a_failing_source_is_recorded_as_a_gap_until_it_is_back(
    forum: Forum, store: SqlStore, analyzer: Analyzer
) -> None:
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
    forum.status = 503
    live = LiveSources(Pipeline(store, analyzer, Settings()), [feed(forum, failing_after_errors=2)])
    live.start()
    try:
        assert wait_until(lambda: live.health()[0].status == "failing")
        assert live.check() == 1
        assert live.check() == 0  # still failing: nothing new to record
        [gap] = open_gaps(store.engine)
        assert (gap.source, gap.kind, gap.status) == ("tmc", "feed", "failing")
        assert "503" in (gap.detail or "")
        forum.status = 200
        assert wait_until(lambda: live.health()[0].status == "ok")
        assert live.check() == 1
    finally:
        live.stop()
    assert open_gaps(store.engine) == []
    with store.engine.connect() as conn:
        [closed] = gaps_between(conn, gap.started_at, datetime.now(UTC))
    assert closed.ended_at is not None and closed.ended_at >= closed.started_at


def test_a_silent_source_is_recorded_from_its_last_post(
    forum: Forum, store: SqlStore, analyzer: Analyzer
) -> None:
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
    clock = FixedClock(datetime(2024, 3, 2, 10, 0, tzinfo=UTC))  # just after the recorded feed
    live = LiveSources(
        Pipeline(store, analyzer, Settings(), clock=clock),
        [feed(forum, silent_after_seconds=600)],
        clock=clock,
    )
    live.start()
    try:
        assert wait_until(lambda: store.count_posts() == 4)
        assert live.check() == 0
        clock.current += timedelta(minutes=11)  # the feed answers, but no new post comes
        assert live.health()[0].status == "silent"
        assert live.check() == 1
        [gap] = open_gaps(store.engine)
    finally:
        live.stop()
    assert gap.status == "silent"
    assert gap.started_at == datetime(2024, 3, 2, 10, 0, tzinfo=UTC)  # when it last read posts
    assert gap.detail == "no posts since 2024-03-02 10:00:00 UTC"
    assert open_gaps(store.engine) == []  # a stopped source is not a silent one


# --- one reader per database -------------------------------------------------------------


@contextmanager
def two_processes(forum: Forum, pipeline: Pipeline) -> Iterator[tuple[LiveSources, LiveSources]]:
    """The same source in two server processes on one database, started in turn (the first
    reads), on the pipeline's clock with 60-second leases."""
    clock = pipeline.clock
    first = LiveSources(pipeline, [feed(forum)], owner="a.test:1", lease_seconds=60, clock=clock)
    second = LiveSources(pipeline, [feed(forum)], owner="b.test:2", lease_seconds=60, clock=clock)
    first.start()
    second.start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def test_one_process_reads_and_another_takes_over_when_it_stops(
    forum: Forum, store: SqlStore, analyzer: Analyzer
) -> None:
    recorded = frame("feed_rss.xml")
    forum.serve("/posts.rss", rss_without(recorded, 0), "application/rss+xml")
    pipeline = Pipeline(store, analyzer, Settings())
    first = LiveSources(pipeline, [feed(forum)], owner="radar-1.test:101")
    second = LiveSources(pipeline, [feed(forum)], owner="radar-2.test:202")
    first.start()
    second.start()
    try:
        assert first.reading and not second.reading
        assert second.reader == first.reader == "radar-1.test:101"
        assert [h.status for h in second.health()] == ["standby"]
        assert wait_until(lambda: store.count_posts() == 3)
        assert second.check() == 0 and not second.reading  # the reader holds on
        first.stop()
        forum.serve("/posts.rss", recorded, "application/rss+xml")  # one new post meanwhile
        before = len(forum.requests)
        assert second.check() == 0
        assert second.reading and second.reader == "radar-2.test:202"
        assert wait_until(lambda: store.count_posts() == 4)
    finally:
        first.stop()
        second.stop()
    # The second process resumed where the first stopped: conditionally, read only the new post.
    assert "if-none-match" in forum.headers(before)
    [health] = second.health()
    assert health.posts_total == 1
    assert lease_holder(store.engine, SOURCES_LEASE, datetime.now(UTC)) is None  # given up


def test_a_reader_that_died_is_replaced_once_its_lease_runs_out(
    forum: Forum, store: SqlStore, analyzer: Analyzer
) -> None:
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
    clock = FixedClock(datetime(2024, 3, 2, 10, 0, tzinfo=UTC))
    # A reader on another host was killed without giving its lease up.
    lease = timedelta(seconds=60)
    assert acquire_lease(store.engine, SOURCES_LEASE, "gone.test:7", clock.now(), lease)
    live = LiveSources(
        Pipeline(store, analyzer, Settings(), clock=clock),
        [feed(forum)],
        owner="radar-2.test:202",
        lease_seconds=60,
        clock=clock,
    )
    live.start()
    try:
        assert not live.reading and live.reader == "gone.test:7"
        clock.current += timedelta(seconds=30)
        assert live.check() == 0 and not live.reading  # it might still be alive
        clock.current += timedelta(seconds=31)
        assert live.check() == 0
        assert live.reading and live.reader == "radar-2.test:202"
        assert wait_until(lambda: store.count_posts() == 4)
    finally:
        live.stop()


def test_a_reader_whose_lease_was_taken_over_stops_reading(
    forum: Forum, store: SqlStore, analyzer: Analyzer
) -> None:
    """A reader that could not renew in time (its process was paused) finds another process
    reading, and stops: the sources are never read by two at once for longer than a check."""
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
    clock = FixedClock(datetime(2024, 3, 2, 10, 0, tzinfo=UTC))
    with two_processes(forum, Pipeline(store, analyzer, Settings(), clock=clock)) as (
        first,
        second,
    ):
        assert first.reading and not second.reading
        clock.current += timedelta(seconds=61)  # the first missed its renewals
        second.check()
        assert second.reading
        first.check()
        assert not first.reading and first.reader == "b.test:2"
        # It now shows what the new reader reported at its check.
        report = load_health(store.engine)["tmc"]
        assert report.reader == "b.test:2"
        assert first.health() == [SourceHealth.from_dict(report.health)]
        assert not first.sources["tmc"].health().connected


def test_a_process_standing_by_shows_the_health_the_reader_reports(
    forum: Forum, store: SqlStore, analyzer: Analyzer
) -> None:
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
    clock = FixedClock(datetime(2024, 3, 2, 10, 0, tzinfo=UTC))
    with two_processes(forum, Pipeline(store, analyzer, Settings(), clock=clock)) as (
        first,
        second,
    ):
        assert wait_until(lambda: store.count_posts() == 4)
        assert [h.status for h in second.health()] == ["standby"]  # nothing reported yet
        first.check()
        [reported] = second.health()
        assert reported == first.health()[0]  # every field, times included
        assert reported.status == "ok" and reported.posts_total == 4
        assert reported.as_of == clock.now()
        clock.current += timedelta(seconds=61)  # the reader stopped reporting
        assert [h.status for h in second.health()] == ["standby"]


def test_an_incident_says_which_sources_were_not_reporting(
    store: SqlStore, analyzer: Analyzer
) -> None:
    posts = synthetic_posts()
    burst = datetime(2021, 11, 19, 20, 0, tzinfo=UTC)  # the synthetic Tesla burst
    open_gap(store.engine, "bluesky", "jetstream", "failing", burst - timedelta(minutes=10), "x")
    pipeline = Pipeline(store, analyzer, Settings())
    pipeline.add(posts)
    pipeline.detect(until=posts[-1].created_at)
    [tesla] = list_incidents(store.engine, service="tesla")
    [gap] = tesla.evidence["source_gaps"]
    assert gap["source"] == "bluesky" and gap["status"] == "failing" and gap["ended_at"] is None
    explanation = tesla.explanation(posts[-1].created_at)
    assert explanation.endswith(
        "Not every source was reporting, so the counts may be too low: "
        "bluesky failing from 2021-11-19 19:50 UTC, still."
    )
