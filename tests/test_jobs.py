"""The server's jobs, called directly and from a real scheduler."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from detector.alerts.outbox import Dispatcher
from detector.alerts.signing import generate_secret
from detector.alerts.transport import GuardedTransport
from detector.clock import FixedClock
from detector.config import Settings
from detector.ingest.poll import FeedPoller
from detector.jobs import Jobs, start_scheduler
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.samples import sample_posts_dir
from detector.store.incidents import list_incidents
from detector.store.leases import acquire_lease, owner_name
from detector.store.schema import leases
from detector.store.sql import SqlStore
from detector.store.webhooks import create_webhook
from tests.factories import make_post
from tests.ingest.test_poll import Feed, lines
from tests.receiver import Receiver
from tests.store.test_leases import dead_pid, owners

FORUM = sample_posts_dir() / "teslamotorsclub-2021-11.jsonl.gz"


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load()


@pytest.fixture
def jobs(tmp_path, analyzer):
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    settings = Settings(
        database_url=url,
        watch_dir=tmp_path / "inbox",
        quarantine_path=tmp_path / "quarantine.jsonl",
        jobs_interval_seconds=0.2,
        delivery_interval_seconds=0.2,
    )
    (tmp_path / "inbox").mkdir()
    clock = FixedClock(datetime(2021, 11, 20, 6, 0, tzinfo=UTC))
    store = SqlStore(url, clock=clock)
    client = httpx.Client(transport=GuardedTransport(allow_private=True), timeout=5)
    dispatcher = Dispatcher(store.engine, owner="test", clock=clock, client=client)
    yield Jobs(Pipeline(store, analyzer, settings, clock=clock), dispatcher, settings, clock)
    client.close()
    store.close()


def drop(jobs: Jobs, source=FORUM, name: str = "forum.jsonl.gz") -> None:
    """Put a file in the watched folder as a finished write (an old modification time)."""
    assert jobs.settings.watch_dir is not None
    target = jobs.settings.watch_dir / name
    shutil.copy(source, target)
    old = time.time() - 60
    os.utime(target, (old, old))


def test_pull_detect_deliver_finds_the_tesla_outage_and_tells_a_receiver(jobs):
    secret = generate_secret()
    with Receiver(secret=secret).running() as receiver:
        spec = {
            "url": receiver.url,
            "format": "generic",
            "services": ["tesla"],
            "countries": None,
            "min_severity": "minor",
            "event_types": ["incident.opened"],
            "description": "",
            "enabled": True,
        }
        create_webhook(jobs.pipeline.store.engine, "k", spec, secret, jobs.clock.now())
        drop(jobs)
        assert jobs.pull() == 1
        assert jobs.pull() == 0  # unchanged: not read twice
        assert jobs.detect() > 0
        assert jobs.deliver() == 1
    (tesla,) = list_incidents(jobs.pipeline.store.engine, service="tesla")
    assert tesla.detected_at <= datetime(2021, 11, 19, 21, 24, tzinfo=UTC)
    (got,) = receiver.received
    assert got.verified and got.body["data"]["id"] == tesla.id


def test_a_file_still_being_written_waits(jobs):
    drop(jobs)
    fresh = jobs.settings.watch_dir / "fresh.jsonl.gz"
    shutil.copy(FORUM, fresh)  # modified just now: maybe not finished
    assert jobs.pull() == 1
    os.utime(fresh, (time.time() - 60, time.time() - 60))
    assert jobs.pull() == 1


def test_detection_runs_in_one_process_only(jobs):
    drop(jobs)
    jobs.pull()
    engine = jobs.pipeline.store.engine
    assert acquire_lease(engine, "detect", "other-server", jobs.clock.now(), timedelta(hours=1))
    assert jobs.detect() == 0
    jobs.clock.current += timedelta(hours=2)  # the other server died: its lease ran out
    assert jobs.detect() > 0


def test_a_killed_predecessors_leases_are_released_when_the_scheduler_starts(jobs):
    """A server killed on this host leaves its leases behind; its successor must not wait
    for them to expire (the clock here never moves, so they never would)."""
    drop(jobs)
    jobs.pull()
    engine = jobs.pipeline.store.engine
    dead = owner_name(socket.gethostname(), dead_pid())
    for name in ("detect", "webhook:abc"):
        assert acquire_lease(engine, name, dead, jobs.clock.now(), timedelta(minutes=2))
    assert acquire_lease(engine, "other", "other-server", jobs.clock.now(), timedelta(hours=1))
    assert jobs.detect() == 0  # held by the dead server
    scheduler = start_scheduler(jobs, jobs.settings)
    try:
        held = owners(engine)  # the jobs may hold "detect" by now, under their own name
        assert dead not in held.values() and held["other"] == "other-server"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not jobs.stats.get("detect"):
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert jobs.stats["detect"].errors == 0
    assert list_incidents(engine, service="tesla")  # detection went ahead at once


def test_a_store_that_cannot_release_leases_only_delays_the_jobs(jobs, caplog):
    leases.drop(jobs.pipeline.store.engine)
    with caplog.at_level(logging.WARNING, logger="detector.jobs"):
        assert jobs.release_dead_leases() == []
    assert "could not release the leases of dead processes" in caplog.text


def test_retention_deletes_posts_older_than_the_newest_by_the_setting(jobs):
    drop(jobs)
    jobs.pull()
    jobs.detect()
    engine = jobs.pipeline.store.engine
    kept = jobs.pipeline.store.stats().posts
    jobs.clock.current = datetime(2026, 1, 1, tzinfo=UTC)  # a replayed archive is not dropped
    assert jobs.retention() == 0
    later = make_post(created_at=datetime(2022, 6, 1, tzinfo=UTC), text="hello")
    jobs.pipeline.add([later])
    assert jobs.retention() > 0
    assert jobs.pipeline.store.stats().posts == 1 < kept
    assert list_incidents(engine, service="tesla")  # incidents are kept


def test_a_failing_job_is_counted_and_the_next_run_goes_on(jobs, monkeypatch):
    calls = []

    def broken() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return 0

    monkeypatch.setattr(jobs, "pull", broken)
    jobs.run("pull")
    jobs.run("pull")
    stats = jobs.stats["pull"]
    assert (stats.runs, stats.errors) == (2, 1)
    assert stats.last_error == "RuntimeError: database went away"


def test_the_scheduler_runs_every_job_and_stops_cleanly(jobs):
    drop(jobs)
    scheduler = start_scheduler(jobs, jobs.settings)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(jobs.stats.get(n) and jobs.stats[n].runs >= 2 for n in ("pull", "deliver")):
                break
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert jobs.stats["pull"].runs >= 2 and jobs.stats["detect"].runs >= 1
    assert all(s.errors == 0 for s in jobs.stats.values()), jobs.stats
    assert list_incidents(jobs.pipeline.store.engine, service="tesla")


def test_polled_feeds_are_ingested_and_a_dead_feed_is_counted_not_fatal(jobs):
    feed = Feed()
    feed.body = lines(
        {"id": "1", "text": "tesla app down, 500 server error", "created_at": "2021-11-19T21:02Z"}
    )
    with feed.running() as url, httpx.Client(timeout=5) as client:
        dead = "http://127.0.0.1:9/feed.jsonl"  # nothing listens on the discard port
        jobs.settings = jobs.settings.model_copy(update={"poll_urls": [dead, url]})
        jobs.poller = FeedPoller(client)
        jobs.run("pull")
    stats = jobs.stats["pull"]
    assert (stats.runs, stats.errors) == (1, 1)
    assert "127.0.0.1:9" in (stats.last_error or "")
    assert jobs.pipeline.store.get_posts(["generic:feed:1"])  # the live feed still went in
