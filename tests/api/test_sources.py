"""``GET /v1/sources`` and the sources' metrics, on a real server reading a feed on loopback."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from detector.config import Settings
from detector.ingest.live.manager import SOURCES_LEASE
from detector.ingest.live.registry import build_source
from detector.ingest.live.settings import FeedSettings
from detector.nlp.analyzer import Analyzer
from detector.store.leases import acquire_lease
from detector.store.sources import save_health
from detector.store.sql import SqlStore
from tests.api.conftest import LiveServer, serve_app
from tests.ingest.live.forum_server import Forum, frame


@pytest.fixture
def forum() -> Iterator[Forum]:
    with Forum().running() as running:
        running.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
        running.serve("/broken.rss", b"", "application/rss+xml")
        yield running


def source_settings(tmp_path: Path, forum: Forum) -> Settings:
    common = {"interval_seconds": 0.1, "backoff_seconds": 0.05, "max_backoff_seconds": 0.1}
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'radar.db'}",
        quarantine_path=tmp_path / "quarantine.jsonl",
        jobs_interval_seconds=0.5,
        sources_check_seconds=0.2,
        sources=[
            FeedSettings(name="tmc", url=f"{forum.base}/posts.rss", **common),
            FeedSettings(
                name="down", url=f"{forum.base}/missing.rss", failing_after_errors=2, **common
            ),
        ],
    )


@pytest.fixture
def server(tmp_path: Path, forum: Forum, analyzer: Analyzer) -> Iterator[LiveServer]:
    with serve_app(create_app(source_settings(tmp_path, forum), analyzer=analyzer)) as running:
        yield running


def wait_for(probe: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_sources_show_their_health_and_the_failing_one_its_gap(server: LiveServer) -> None:
    def sources() -> dict:
        return httpx.get(f"{server.url}/v1/sources", timeout=10).json()

    wait_for(lambda: any(g["source"] == "down" for g in sources()["gaps"]))
    answer = sources()
    by_name = {s["name"]: s for s in answer["sources"]}
    tmc, down = by_name["tmc"], by_name["down"]
    assert tmc["kind"] == "feed" and tmc["status"] == "ok" and tmc["connected"]
    assert tmc["posts_total"] == 4 and tmc["last_post_at"].startswith("2024-03-02T09:16:40")
    assert tmc["errors"] == 0 and tmc["lag_seconds"] > 0
    assert down["status"] == "failing" and down["consecutive_errors"] >= 2
    assert "404" in down["last_error"]
    [gap] = answer["gaps"]
    assert gap["source"] == "down" and gap["status"] == "failing" and gap["ended_at"] is None
    assert answer["intake"]["posts"] == 4 and answer["intake"]["stored"] == 4
    assert answer["intake"]["capacity_batches"] == 64
    posts = httpx.get(f"{server.url}/v1/posts", params={"limit": 10}, timeout=10).json()
    assert len(posts["items"]) == 4  # what the source read is stored, through the pipeline


def test_metrics_carry_each_source(server: LiveServer) -> None:
    def metrics() -> str:
        return httpx.get(f"{server.url}/metrics", timeout=10).text

    wait_for(lambda: 'outage_radar_source_up{kind="feed",source="down"} 0.0' in metrics())
    text = metrics()
    assert 'outage_radar_source_up{kind="feed",source="tmc"} 1.0' in text
    assert 'outage_radar_source_posts_total{kind="feed",source="tmc"} 4.0' in text
    assert 'outage_radar_source_status{kind="feed",source="down",status="failing"} 1.0' in text
    assert "outage_radar_intake_queued_batches 0.0" in text


def test_a_server_without_live_sources_lists_none(client: httpx.Client) -> None:
    answer = client.get("/v1/sources").json()
    assert answer == {
        "reader": None,
        "reading_here": False,
        "sources": [],
        "intake": None,
        "gaps": [],
    }


def test_a_server_standing_by_names_the_reader_and_raises_no_alarm(
    tmp_path: Path, forum: Forum, analyzer: Analyzer
) -> None:
    settings = source_settings(tmp_path, forum)
    store = SqlStore(settings.database_url)
    reader = "radar-1.test:101"  # another server process, on another host
    now = datetime.now(UTC)
    tmc = build_source(settings.sources[0]).health()
    reported = dataclasses.replace(tmc, status="ok", posts_total=12, as_of=now)
    try:
        acquire_lease(store.engine, SOURCES_LEASE, reader, now, timedelta(hours=1))
        save_health(store.engine, reader, {"tmc": ("feed", reported.as_dict())}, now)
    finally:
        store.close()
    with serve_app(create_app(settings, analyzer=analyzer)) as server:
        time.sleep(0.5)  # two checks of the sources: the lease stays the other's
        answer = httpx.get(f"{server.url}/v1/sources", timeout=10).json()
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert answer["reader"] == "radar-1.test:101" and answer["reading_here"] is False
    by_name = {s["name"]: s for s in answer["sources"]}
    # What the reader reported, as of then; the other source it has not reported yet.
    assert by_name["tmc"]["status"] == "ok" and by_name["tmc"]["posts_total"] == 12
    assert datetime.fromisoformat(by_name["tmc"]["as_of"]) == now
    assert by_name["down"]["status"] == "standby"
    assert answer["intake"] is None  # the reader's queue is in the reader
    assert forum.requests == []  # nothing was read twice
    assert "outage_radar_sources_reading 0.0" in metrics
    assert "outage_radar_source_up" not in metrics  # its zeros would page someone


def test_the_reader_says_so(server: LiveServer) -> None:
    answer = httpx.get(f"{server.url}/v1/sources", timeout=10).json()
    assert answer["reading_here"] is True and answer["reader"].endswith(":" + str(os.getpid()))
    assert "outage_radar_sources_reading 1.0" in httpx.get(f"{server.url}/metrics").text
