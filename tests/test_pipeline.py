"""The pipeline end to end: posts in, incidents out, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from detector.config import Settings
from detector.ingest.files import ReadOptions
from detector.ingest.quarantine import QuarantineWriter
from detector.models import Post
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.store.incidents import list_events, list_incidents
from detector.store.schema import complaints
from detector.store.sql import SqlStore
from tests.factories import make_post

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
T0 = datetime(2021, 11, 18, 0, 0, tzinfo=UTC)
CHATTER = ["what a lovely morning", "coffee first", "new episode tonight!", "go team"]
COMPLAINTS = [
    "tesla app down? 500 server error",
    "@TeslaSupport can't unlock my car, app says 500 server error",
    "is the tesla app down for everyone",
    "tesla app not working, phone key dead",
]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load()


def synthetic_posts(seed: int = 7) -> list[Post]:
    """Two days of chatter and a trickle of Tesla and Netflix complaints, then a Tesla burst
    from day 2 20:00 to 20:40 (writers in the US, Korea and Australia)."""
    rng = random.Random(seed)
    posts = []
    n = 0

    def post(at: datetime, text: str, author: str, **extra) -> None:
        nonlocal n
        n += 1
        posts.append(
            make_post(id=f"twitter:{n}", created_at=at, text=text, author_id=author, **extra)
        )

    for minute in range(0, 2 * 1440, 3):
        at = T0 + timedelta(minutes=minute, seconds=rng.randrange(60))
        post(at, rng.choice(CHATTER), f"c{rng.randrange(500)}")
        if rng.random() < 0.02:
            post(at, rng.choice(COMPLAINTS), f"t{rng.randrange(10_000)}")
        if rng.random() < 0.02:
            post(at, "netflix down again??", f"n{rng.randrange(10_000)}")
    burst = T0 + timedelta(days=1, hours=20)
    places = ["here in Seoul", "here in Sydney", "here in Denver", "here in Toronto"]
    for i in range(240):
        at = burst + timedelta(seconds=10 * i)
        post(at, f"{rng.choice(COMPLAINTS)} {rng.choice(places)}", f"b{i}")
    return sorted(posts, key=lambda p: p.created_at)


def settings_for(url: str) -> Settings:
    return Settings(database_url=url)


def incidents_of(store: SqlStore) -> list[dict]:
    return [i.as_dict() for i in list_incidents(store.engine)]


def events_of(store: SqlStore) -> list[tuple]:
    return [(e["id"], e["type"], e["seq"]) for e in list_events(store.engine)]


def test_streaming_equals_batch_and_a_restart_loses_nothing(tmp_path, analyzer, clock):
    posts = synthetic_posts()
    batch_store = SqlStore(f"sqlite:///{tmp_path / 'batch.db'}", clock=clock)
    batch = Pipeline(batch_store, analyzer, settings_for("sqlite://"), clock=clock)
    batch.add(posts)
    batch.detect()

    url = f"sqlite:///{tmp_path / 'stream.db'}"
    stream_store = SqlStore(url, clock=clock)
    stream = Pipeline(stream_store, analyzer, settings_for(url), clock=clock)
    lateness = timedelta(minutes=2)
    for first in range(0, len(posts), 150):
        chunk = posts[first : first + 150]
        stream.add(chunk)
        stream.detect(until=chunk[-1].created_at - lateness)
        if first == 1500:  # the process dies; a new one continues from the saved state
            stream_store.close()
            stream_store = SqlStore(url, clock=clock)
            stream = Pipeline(stream_store, analyzer, settings_for(url), clock=clock)
    stream.detect()

    found = incidents_of(batch_store)
    assert found == incidents_of(stream_store)
    assert events_of(batch_store) == events_of(stream_store)
    (tesla,) = [i for i in found if i["service"] == "tesla"]
    assert tesla["start"] <= "2021-11-19T20:02" and tesla["detected_at"] <= "2021-11-19T20:06"
    assert tesla["status"] == "resolved"
    countries = {c["country"] for c in tesla["evidence"]["countries"]}
    assert {"KR", "AU", "US", "CA"} <= countries
    assert [i["service"] for i in found] == ["tesla"]  # the steady netflix trickle is no outage
    batch_store.close()
    stream_store.close()


def test_detect_again_finds_nothing_new_and_events_are_not_repeated(sqlite_store, analyzer, clock):
    pipeline = Pipeline(sqlite_store, analyzer, settings_for("sqlite://"), clock=clock)
    pipeline.add(synthetic_posts())
    first = pipeline.detect()
    assert [e.type for e in first.events] == ["incident.opened", "incident.resolved"]
    events = events_of(sqlite_store)
    assert [seq for *_, seq in events] == [1, 2]
    again = pipeline.detect()
    assert again.minutes == 0 and events_of(sqlite_store) == events
    payload = list_events(sqlite_store.engine)[0]["payload"]
    assert payload["type"] == "incident.opened"
    assert "outage reports about tesla" in payload["incident"]["explanation"]


def test_each_author_counts_once_per_service_per_window(sqlite_store, analyzer, clock):
    pipeline = Pipeline(sqlite_store, analyzer, settings_for("sqlite://"), clock=clock)
    at = T0 + timedelta(hours=5)
    same = [
        make_post(
            text=f"tesla app down, 500 server error #{i}",
            author_id="u1",
            created_at=at + timedelta(minutes=10 * i),
        )
        for i in range(8)  # 0..70 minutes: counted at 0 and 60
    ]
    original = make_post(text="tesla app down? 500 server error", author_id="u2", created_at=at)
    repost = make_post(
        text=original.text,
        author_id="u3",
        created_at=at + timedelta(minutes=1),
        repost_of=original.id,
    )
    pipeline.add(same[:4])
    result = pipeline.add([*same[4:], original, repost])
    assert result.outage_posts == 6  # the repost is an outage post too, but never counted
    with sqlite_store.engine.connect() as conn:
        rows = conn.execute(
            select(complaints.c.author_key, func.count())
            .where(complaints.c.counted.is_(True))
            .group_by(complaints.c.author_key)
            .order_by(complaints.c.author_key)
        ).all()
    assert rows == [("twitter:u1", 2), ("twitter:u2", 1)]


def test_the_pipeline_runs_on_postgresql(pg_store, analyzer, clock):
    posts = synthetic_posts()
    pipeline = Pipeline(pg_store, analyzer, settings_for("sqlite://"), clock=clock)
    for first in range(0, len(posts), 1000):
        pipeline.add(posts[first : first + 1000])
    pipeline.detect()
    (tesla,) = incidents_of(pg_store)
    assert tesla["service"] == "tesla" and tesla["status"] == "resolved"


@pytest.fixture(scope="module")
def tesla_sample(tmp_path_factory, analyzer):
    """The bundled sample replayed in time order, once for the module."""
    folder = tmp_path_factory.mktemp("sample")
    url = f"sqlite:///{folder / 'radar.db'}"
    store = SqlStore(url)
    pipeline = Pipeline(store, analyzer, settings_for(url))
    with QuarantineWriter(folder / "q.jsonl") as quarantine:
        pipeline.replay([SAMPLES / "posts"], ReadOptions(), quarantine)
    yield store
    store.close()


def test_the_tesla_outage_is_raised_before_the_ceo_answered(tesla_sample):
    """Reference case: Tesla's CEO wrote "Checking..." at 21:24 UTC on 2021-11-19."""
    found = list_incidents(tesla_sample.engine, service="tesla")
    assert len(found) == 1
    tesla = found[0]
    assert tesla.start <= datetime(2021, 11, 19, 21, 10, tzinfo=UTC)
    assert tesla.detected_at <= datetime(2021, 11, 19, 21, 15, tzinfo=UTC)
    evidence = tesla.evidence
    assert {"US", "KR", "AU"} <= {c["country"] for c in evidence["countries"]}
    assert "500 server error" in {e["name"] for e in evidence["errors"]}
    assert "unlock" in {f["name"] for f in evidence["features"]}
    assert tesla.status == "resolved"
    assert tesla.end is not None and tesla.end >= datetime(2021, 11, 20, 1, 0, tzinfo=UTC)


def test_only_services_with_a_burst_get_incidents(tesla_sample):
    truth = (SAMPLES / "truth.csv").read_text().splitlines()[1:]
    bursts = {line.split(",")[0]: line.split(",")[1] for line in truth}
    found = list_incidents(tesla_sample.engine)
    assert sorted(i.service for i in found) == sorted(bursts)
    for incident in found:
        start = datetime.fromisoformat(bursts[incident.service].replace("Z", "+00:00"))
        assert abs(incident.start - start) <= timedelta(minutes=10), incident.id
        assert incident.detected_at - start <= timedelta(minutes=15), incident.id
    payloads = [e["payload"] for e in list_events(tesla_sample.engine)]
    assert all(orjson.dumps(p) for p in payloads)
