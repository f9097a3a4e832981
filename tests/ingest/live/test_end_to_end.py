"""From the firehose to an incident: Bluesky posts streamed by a Jetstream stand-in on loopback,
read through two dropped connections, stored, annotated, counted and detected on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from detector.config import Settings
from detector.ingest.live.manager import LiveSources
from detector.ingest.live.settings import JetstreamSettings
from detector.models import Post
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.store.incidents import list_incidents
from detector.store.sql import SqlStore
from tests.ingest.live.jetstream_server import Frame, ReplayServer
from tests.ingest.live.sinks import wait_until
from tests.test_pipeline import synthetic_posts

POST = "app.bsky.feed.post"


def jetstream_frames(posts: list[Post]) -> list[Frame]:
    """Each post as the create commit Jetstream would send (time order, unique ``time_us``)."""
    frames = []
    for number, post in enumerate(posts):
        time_us = int(post.created_at.timestamp()) * 1_000_000 + number
        event = {
            "did": f"did:plc:{post.author_id}",
            "time_us": time_us,
            "kind": "commit",
            "commit": {
                "rev": f"3l{number:010d}",
                "operation": "create",
                "collection": POST,
                "rkey": f"3k{number:010d}",
                "cid": f"bafyreib{number:010d}",
                "record": {
                    "$type": POST,
                    "text": post.text,
                    "createdAt": post.created_at.isoformat().replace("+00:00", "Z"),
                    "langs": ["en"],
                },
            },
        }
        frames.append(Frame(orjson.dumps(event).decode(), time_us, POST))
    return frames


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore(f"sqlite:///{tmp_path / 'radar.db'}")
    yield opened
    opened.close()


def test_a_burst_streamed_from_bluesky_becomes_the_tesla_incident(
    store: SqlStore, analyzer: Analyzer
) -> None:
    posts = synthetic_posts()  # two days of chatter, a Tesla burst on day 2 from 20:00
    frames = jetstream_frames(posts)
    burst = next(n for n, post in enumerate(posts) if post.author_id == "b0")
    # The connection drops twice: once in the chatter, once in the middle of the burst.
    server = ReplayServer(frames, plan=[("drop", burst // 2), ("drop", burst + 100)])
    settings = JetstreamSettings(
        name="bluesky", url=server.url, backoff_seconds=0.05, max_backoff_seconds=0.1
    )
    pipeline = Pipeline(store, analyzer, Settings())
    live = LiveSources(pipeline, [settings])
    live.start()
    try:
        assert wait_until(lambda: live.intake_stats().posts == len(posts), timeout=60)
    finally:
        live.stop()
        server.close()
    [health] = live.health()
    assert health.posts_total == len(posts) and health.errors == 2  # the drops, nothing lost
    # Every post read once: the store keeps all but an author's repeats of a text (collapsed).
    reference = SqlStore("sqlite://")  # the same posts stored straight from the list
    try:
        expected = reference.add_posts(posts, collapse_window=Settings().collapse_window).stored
    finally:
        reference.close()
    assert store.count_posts() == expected
    assert len(server.paths) == 3 and "cursor=" in server.paths[2]
    pipeline.detect(until=posts[-1].created_at)
    [tesla] = list_incidents(store.engine, service="tesla")
    assert tesla.start.hour == 20 and tesla.start.date() == posts[burst].created_at.date()
    evidence = tesla.evidence
    assert {"US", "KR", "AU"} <= {c["country"] for c in evidence["countries"]}
    assert "500 server error" in {e["name"] for e in evidence["errors"]}
    assert {s["source"] for s in evidence["sources"]} == {"bluesky"}
