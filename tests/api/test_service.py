"""The service end to end, against real processes on loopback.

The first tests run ``outage-radar serve`` as a child process (the CLI creates its API key),
push the Tesla forum sample through ``POST /v1/posts`` or drop it in the watched folder, and
wait for a real receiver to get the signed events; one kills the server mid-run and restarts
it. The others check the keyed endpoints' refusals and limits over HTTP on an in-thread server.
Every wait is bounded, and every process and server is stopped when its test ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, select

from api.app import create_app
from detector.alerts.outbox import wants
from detector.alerts.signing import message_id
from detector.config import Settings
from detector.ingest.files import ReadOptions, read_file
from detector.ingest.push import parse_pushed
from detector.models import Post
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.samples import sample_posts_dir
from detector.store.apikeys import create_api_key as new_key
from detector.store.apikeys import revoke_api_key
from detector.store.schema import incident_events, leases
from detector.store.sql import SqlStore
from detector.store.webhooks import list_webhooks
from tests.api.conftest import LiveServer, serve_app
from tests.processes import ServerProcess, create_api_key, reserved_port, wait_for
from tests.receiver import Receiver

FORUM = sample_posts_dir() / "teslamotorsclub-2021-11.jsonl.gz"
PROBLEM = "application/problem+json"
TICK = "0.5"  # seconds between job runs of the servers under test
DELIVERY_TIMEOUT = 45.0  # a failed attempt is retried within 10 s, the next within 20 s
METADATA_URL = "http://169.254.169.254/latest/meta-data/"


# --- the sample, and what an uninterrupted run makes of it -----------------------------------


def _native(post_id: str | None) -> str | None:
    """The network's own id of a post (``forum:teslamotorsclub:123`` -> ``123``)."""
    return None if post_id is None else post_id.rsplit(":", 1)[-1]


def push_record(post: Post) -> dict[str, Any]:
    """A post as a collector pushes it to ``POST /v1/posts``."""
    record = {
        "id": _native(post.id),
        "text": post.text,
        "created_at": post.created_at.isoformat(),
        "source_name": post.source_name,
        "author_id": post.author_id,
        "author_handle": post.author_handle,
        "author_location": post.author_location,
        "lang": post.lang,
        "url": post.url,
        "title": post.title,
        "latitude": post.coordinates.lat if post.coordinates else None,
        "longitude": post.coordinates.lon if post.coordinates else None,
        "reply_to": _native(post.reply_to),
        "quote_of": _native(post.quote_of),
        "repost_of": _native(post.repost_of),
    }
    return {name: value for name, value in record.items() if value is not None}


@dataclass(frozen=True)
class Event:
    """An incident event as the outbox stores it."""

    id: str
    type: str
    incident: dict[str, Any]


@dataclass(frozen=True)
class Reference:
    """The sample's records in time order, and what the library makes of them in one go."""

    records: list[dict[str, Any]]
    events: list[Event]
    posts: int


def stored_events(engine: Engine) -> list[Event]:
    """The outbox's events, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(incident_events).order_by(incident_events.c.seq)).all()
    return [Event(row.id, row.type, row.payload.get("incident", {})) for row in rows]


def _settings(**values: Any) -> Settings:
    """Settings from these values and defaults only (module fixtures outlive the per-test
    environment cleaner, so the developer's OUTAGE_RADAR_* must be kept out here too)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("OUTAGE_RADAR_"):
                patch.delenv(name)
        return Settings(**values)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, analyzer: Analyzer) -> Reference:
    """The forum sample pushed and detected in-process on a fresh store."""
    read = (item for item in read_file(FORUM, ReadOptions()) if isinstance(item, Post))
    records = [push_record(post) for post in sorted(read, key=lambda p: p.created_at)]
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'radar.db'}"
    settings = _settings(database_url=url)
    store = SqlStore(url)
    try:
        posts, problems = parse_pushed(records)
        assert not problems
        pipeline = Pipeline(store, analyzer, settings)
        pipeline.add(posts)
        pipeline.detect(until=max(p.created_at for p in posts) - settings.detect_lateness)
        events = stored_events(store.engine)
        stored = store.stats().posts
    finally:
        store.close()
    assert events[0].type == "incident.opened" and events[0].incident["service"] == "tesla"
    assert events[-1].type == "incident.resolved"
    return Reference(records, events, stored)


# --- helpers for the served API ------------------------------------------------------------------


def keyed(url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=httpx.Timeout(60.0)
    )


def push(api: httpx.Client, records: list[dict[str, Any]], batch: int = 100) -> None:
    for start in range(0, len(records), batch):
        response = api.post("/v1/posts", json={"posts": records[start : start + batch]})
        assert response.status_code == 200, response.text


def delivered(api: httpx.Client, webhook_id: str, event_ids: list[str]) -> bool:
    """Whether the endpoint's delivered events are these, in this order."""
    done = [d["event_id"] for d in deliveries(api, webhook_id) if d["status"] == "delivered"]
    return done == event_ids


def create_hook(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def deliveries(api: httpx.Client, webhook_id: str) -> list[dict[str, Any]]:
    """The endpoint's deliveries, oldest first."""
    response = api.get(f"/v1/webhooks/{webhook_id}/deliveries", params={"limit": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    assert response.json()["next_cursor"] is None
    return items[::-1]


def health_of(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/health")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def service_env(tmp_path: Path, **more: str) -> dict[str, str]:
    """The settings of a server under test: fast jobs, receivers on loopback allowed."""
    return {
        "OUTAGE_RADAR_ALLOW_PRIVATE_WEBHOOKS": "true",
        "OUTAGE_RADAR_JOBS_INTERVAL_SECONDS": TICK,
        "OUTAGE_RADAR_DELIVERY_INTERVAL_SECONDS": TICK,
        "OUTAGE_RADAR_QUARANTINE_PATH": str(tmp_path / "quarantine.jsonl"),
        **more,
    }


def drop(source: Path, folder: Path) -> None:
    """Put a file in the watched folder as a finished write (modified a minute ago)."""
    folder.mkdir(exist_ok=True)
    target = folder / source.name
    shutil.copy(source, target)
    old = time.time() - 60
    os.utime(target, (old, old))


# --- 1. the sample reaches a receiver ------------------------------------------------------------


@pytest.mark.slow
def test_pushing_the_tesla_sample_into_a_server_signals_a_receiver(tmp_path, reference):
    db = f"sqlite:///{tmp_path / 'radar.db'}"
    token = create_api_key(db)
    server = ServerProcess(db, tmp_path / "server.log", env=service_env(tmp_path))
    with Receiver().running() as receiver, server.running(), keyed(server.url, token) as api:
        hook = create_hook(api, url=receiver.url, services=["tesla"])
        receiver.secret = hook["secret"]
        push(api, reference.records)
        wait_for(
            "every event at the receiver",
            lambda: len(receiver.received) >= len(reference.events),
            timeout=DELIVERY_TIMEOUT,
        )
        wait_for(
            "the deliveries recorded",
            partial(delivered, api, hook["id"], [e.id for e in reference.events]),
            timeout=10,
        )
        sent = deliveries(api, hook["id"])
        assert health_of(api)["database"]["ok"]
    assert server.stopped_cleanly, server.log()

    opened = receiver.received[0]
    assert opened.verified, opened.error
    assert opened.path == "/hook"
    assert opened.body["type"] == "incident.opened"
    assert opened.body["data"]["service"] == "tesla"
    assert opened.headers["webhook-id"] == message_id(opened.body["id"])
    # Every event, once, in the order detection wrote them.
    assert all(got.verified for got in receiver.received)
    assert [got.body["id"] for got in receiver.received] == [e.id for e in reference.events]
    # The figures the library computes in-process, to the last digit.
    assert [got.body["data"] for got in receiver.received] == [e.incident for e in reference.events]
    assert [d["event_id"] for d in sent] == [e.id for e in reference.events]
    assert {(d["status"], d["attempts"], d["last_status_code"]) for d in sent} == {
        ("delivered", 1, 204)
    }


# --- 2. a receiver that is down is retried -------------------------------------------------------


@pytest.mark.slow
def test_a_receiver_that_is_down_gets_the_event_once_it_is_back(tmp_path, reference):
    db = f"sqlite:///{tmp_path / 'radar.db'}"
    token = create_api_key(db)
    inbox = tmp_path / "inbox"
    env = service_env(tmp_path, OUTAGE_RADAR_WATCH_DIR=str(inbox))
    server = ServerProcess(db, tmp_path / "server.log", env=env)
    opened = reference.events[0]
    with server.running(), keyed(server.url, token) as api:
        with reserved_port() as port:  # bound, not listening: connections are refused
            receiver = Receiver(port=port)
            hook = create_hook(
                api, url=receiver.url, services=["tesla"], event_types=["incident.opened"]
            )
            receiver.secret = hook["secret"]
            drop(FORUM, inbox)  # this time through the watched folder
            (failed,) = wait_for(
                "a failed attempt",
                lambda: [d for d in deliveries(api, hook["id"]) if d["attempts"] >= 1],
                timeout=DELIVERY_TIMEOUT,
            )
        assert failed["event_id"] == opened.id
        assert failed["status"] == "pending"
        assert failed["last_status_code"] is None and failed["last_error"]
        assert failed["delivered_at"] is None
        assert failed["next_attempt_at"] > failed["last_attempt_at"]

        with receiver.running():
            wait_for("the retry", lambda: receiver.received, timeout=DELIVERY_TIMEOUT)
            (done,) = wait_for(
                "the delivery recorded",
                lambda: [d for d in deliveries(api, hook["id"]) if d["status"] == "delivered"],
                timeout=10,
            )
    (got,) = receiver.received
    assert got.verified, got.error
    assert got.body["id"] == opened.id and got.body["type"] == "incident.opened"
    assert done["attempts"] >= 2 and done["last_status_code"] == 204
    assert done["last_error"] is None
    assert done["first_attempt_at"] == failed["first_attempt_at"]


# --- 3. a server killed mid-run loses nothing and sends nothing twice -------------------------


ENDPOINTS: dict[str, dict[str, Any]] = {
    "everything": {},
    "opened": {"event_types": ["incident.opened"]},
    "critical": {
        "min_severity": "critical",
        "event_types": ["incident.updated", "incident.resolved"],
    },
    "discord": {"services": ["discord"]},
}


class Pusher(threading.Thread):
    """Pushes batches in order until one fails (the server died); counts the acknowledged."""

    def __init__(self, url: str, token: str, batches: list[list[dict[str, Any]]]) -> None:
        super().__init__(name="pusher", daemon=True)
        self.url, self.token, self.batches = url, token, batches
        self.acknowledged = 0

    def run(self) -> None:
        with keyed(self.url, self.token) as api:
            for batch in self.batches:
                try:
                    response = api.post("/v1/posts", json={"posts": batch})
                except httpx.TransportError:
                    return
                if response.status_code != 200:
                    return
                self.acknowledged += 1


@pytest.mark.slow
def test_a_server_killed_mid_run_and_restarted_loses_and_repeats_nothing(tmp_path, reference):
    db = f"sqlite:///{tmp_path / 'radar.db'}"
    token = create_api_key(db)
    # A long timeout: the send to the endpoint that never answers is still waiting at the kill.
    env = service_env(tmp_path, OUTAGE_RADAR_WEBHOOK_TIMEOUT_SECONDS="120")
    server = ServerProcess(db, tmp_path / "server.log", env=env)
    receivers = {name: Receiver() for name in ENDPOINTS}
    records = reference.records
    evening = [r for r in records if r["created_at"] < "2021-11-19T22:00"]  # the opening
    night = [r for r in records if "2021-11-19T22:00" <= r["created_at"] < "2021-11-20T01:00"]
    rest = records[len(evening) + len(night) :]
    batches = [rest[i : i + 5] for i in range(0, len(rest), 5)]
    hooks: dict[str, str] = {}
    engine = create_engine(db)
    try:
        with ExitStack() as up, ExitStack() as down:
            for receiver in receivers.values():
                up.enter_context(receiver.running())
            with server.running(), keyed(server.url, token) as api:
                for name, filters in ENDPOINTS.items():
                    hook = create_hook(api, url=receivers[name].url, **filters)
                    hooks[name], receivers[name].secret = hook["id"], hook["secret"]
                # Delivery visits endpoints oldest first: "everything" is tried (and refused,
                # below) before "critical" hangs and holds the delivery job.
                assert [w.id for w in list_webhooks(engine)] == list(hooks.values())
                push(api, evening)
                wait_for(
                    "the opening at two endpoints",
                    lambda: receivers["everything"].received and receivers["opened"].received,
                    timeout=30,
                )
                # Every request a receiver answered is recorded: none can be sent again.
                for name, hook_id in hooks.items():
                    answered = [got.body["id"] for got in list(receivers[name].received)]
                    wait_for(
                        f"{name} recorded", partial(delivered, api, hook_id, answered), timeout=10
                    )
                # The receivers go down: connections are refused, except by the critical
                # one's port, which takes them and never answers.
                up.close()
                down.enter_context(reserved_port(receivers["critical"].port, listen=True))

                push(api, night)
                held = f"webhook:{hooks['critical']}"
                wait_for("a refused send", lambda: attempted(api, hooks["everything"]), timeout=30)
                wait_for("a send that hangs", lambda: held in lease_names(engine), timeout=30)
                # Crash while posts arrive, detection runs and a send waits for its answer.
                pusher = Pusher(server.url, token, batches)
                pusher.start()
                wait_for(
                    "two acknowledged pushes",
                    lambda: pusher.acknowledged >= 2,
                    timeout=30,
                    every=0.002,  # the third is on its way
                )
                server.kill()
                pusher.join(30)
                assert not pusher.is_alive()
        assert server.process is not None and server.process.returncode == -signal.SIGKILL
        assert pusher.acknowledged < len(batches), "the server was killed too late"

        # The dead server still holds the endpoint it was sending to (for two more minutes);
        # its successor on this host sees it is gone and releases that at once.
        dead = f"{socket.gethostname()}:{server.pid}"
        assert held in lease_names(engine, owner=dead)

        with ExitStack() as up:
            for receiver in receivers.values():
                up.enter_context(receiver.running())  # back on the same ports
            with server.running(), keyed(server.url, token) as api:
                assert lease_names(engine, owner=dead) == set()
                # A collector resumes after its last acknowledged push.
                push(api, [r for b in batches[pusher.acknowledged :] for r in b], batch=5)
                ids = [e.id for e in reference.events]
                wait_for(
                    "detection to catch up",
                    lambda: [e.id for e in stored_events(engine)] == ids,
                    timeout=30,
                )
                expected = stored_events(engine)
                # The same events, figures and all, as a run that was never interrupted.
                assert expected == reference.events
                webhooks = {w.id: w for w in list_webhooks(engine)}
                wanted = {
                    name: [e.id for e in expected if wants(webhooks[h], e.type, e.incident)]
                    for name, h in hooks.items()
                }
                for name, hook_id in hooks.items():
                    wait_for(
                        f"every event delivered to {name}",
                        partial(delivered, api, hook_id, wanted[name]),
                        timeout=DELIVERY_TIMEOUT,
                    )
        assert server.stopped_cleanly, server.log()
        store = SqlStore(db)
        try:
            assert store.stats().posts == reference.posts  # every acknowledged post kept
        finally:
            store.close()
    finally:
        engine.dispose()

    assert wanted["everything"] == [e.id for e in reference.events]
    assert len(wanted["critical"]) > 1 and wanted["discord"] == []
    for name, receiver in receivers.items():
        assert all(got.verified for got in receiver.received), name
        # Exactly once each, in order: nothing lost, nothing sent twice.
        assert receiver.ids() == [message_id(event_id) for event_id in wanted[name]], name
        assert [got.body["id"] for got in receiver.received] == wanted[name], name


def attempted(api: httpx.Client, webhook_id: str) -> bool:
    """Whether a delivery to the endpoint failed and waits for its retry."""
    return any(d["status"] == "pending" and d["attempts"] for d in deliveries(api, webhook_id))


def lease_names(engine: Engine, owner: str | None = None) -> set[str]:
    query = select(leases.c.name)
    if owner is not None:
        query = query.where(leases.c.owner == owner)
    with engine.connect() as conn:
        return set(conn.scalars(query))


# --- 4. the keyed endpoints over HTTP ------------------------------------------------------------


@dataclass
class Api:
    """An in-thread server and the store under it (for minting keys)."""

    server: LiveServer
    store: SqlStore

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, name: str = "test") -> httpx.Client:
        """A client with a fresh key of its own."""
        _, token = new_key(self.store.engine, name, datetime.now(UTC))
        return keyed(self.url, token)


def _serve(tmp_path: Path, analyzer: Analyzer, **values: Any) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    settings = _settings(
        database_url=url,
        jobs_enabled=False,
        quarantine_path=tmp_path / "quarantine.jsonl",
        **values,
    )
    store = SqlStore(url)
    try:
        with serve_app(create_app(settings, store=store, analyzer=analyzer)) as server:
            yield Api(server, store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def lan(tmp_path_factory, analyzer) -> Iterator[Api]:
    """A server that may deliver to loopback and private addresses."""
    yield from _serve(tmp_path_factory.mktemp("lan"), analyzer, allow_private_webhooks=True)


@pytest.fixture(scope="module")
def strict(tmp_path_factory, analyzer) -> Iterator[Api]:
    """A server with public webhooks only, small bodies and three writes a minute."""
    yield from _serve(
        tmp_path_factory.mktemp("strict"),
        analyzer,
        allow_private_webhooks=False,
        max_body_bytes=4096,
        write_rate_per_minute=3,
    )


@pytest.fixture
def api(lan) -> Iterator[httpx.Client]:
    with lan.client() as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def field_errors(response: httpx.Response) -> list[list[Any]]:
    body = assert_problem(response, 422)
    assert body["type"].endswith(":invalid-parameters")
    return [error["loc"] for error in body["errors"]]


POST = {"id": "p1", "text": "tesla app down again", "created_at": "2021-11-19T21:05:00Z"}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            {"posts": [{"id": "p1", "created_at": "2021-11-19T21:05:00Z"}]},
            ["body", "posts", 0, "text"],
        ),
        ({"posts": [POST | {"text": 5}]}, ["body", "posts", 0, "text"]),
        ({"posts": [POST | {"text": "   "}]}, ["body", "posts", 0, "text"]),
        ({"posts": [POST | {"created_at": "yesterday"}]}, ["body", "posts", 0, "created_at"]),
        ({"posts": [POST | {"latitude": 91.0}]}, ["body", "posts", 0, "latitude"]),
        ({"posts": [POST | {"id": ["p1"]}]}, ["body", "posts", 0, "id"]),
        ({"posts": [POST, POST | {"author_id": 42}]}, ["body", "posts", 1, "author_id"]),
        ({"posts": []}, ["body", "posts"]),
        ({"posts": "p1"}, ["body", "posts"]),
        ({}, ["body", "posts"]),
    ],
)
def test_malformed_posts_are_422_with_field_errors_and_store_nothing(api, body, loc):
    assert loc in field_errors(api.post("/v1/posts", json=body))
    assert api.get("/v1/posts", params={"q": "tesla app down again"}).json()["items"] == []


def test_a_body_that_is_not_json_is_a_422(api):
    response = api.post(
        "/v1/posts", content=b"{posts", headers={"content-type": "application/json"}
    )
    assert field_errors(response)


def test_posts_pushed_twice_are_stored_once(api):
    first = {"id": "twice-1", "text": "Tesla app is down, cannot unlock", "author_id": "a1"}
    second = {"id": "twice-2", "text": "tesla app not working for me either", "author_id": "a2"}
    batch = [p | {"created_at": "2021-11-19T21:05:00Z"} for p in (first, second)]
    counts = api.post("/v1/posts", json={"posts": batch}).json()
    assert counts["received"] == counts["stored"] == 2 and counts["outage_posts"] >= 1
    again = api.post("/v1/posts", json={"posts": batch}).json()
    assert again == {"received": 2, "stored": 0, "outage_posts": 0, "counted": 0}
    third = batch[0] | {"id": "twice-3", "author_id": "a3"}
    mixed = api.post("/v1/posts", json={"posts": [*batch, third]}).json()
    assert (mixed["received"], mixed["stored"]) == (3, 1)
    found = api.get("/v1/posts", params={"q": "Tesla app is down, cannot unlock"}).json()
    assert sorted(item["id"] for item in found["items"]) == [
        "generic:api:twice-1",
        "generic:api:twice-3",
    ]


def test_a_read_answered_from_memory_shows_a_push_at_once(api):
    query = {"q": "cache-check: tesla app shows 500 server error"}
    assert api.get("/v1/posts", params=query).json()["items"] == []
    assert api.get("/v1/posts", params=query).json()["items"] == []  # now from memory
    post = POST | {"id": "cache-1", "text": "cache-check: tesla app shows 500 server error"}
    assert api.post("/v1/posts", json={"posts": [post]}).json()["stored"] == 1
    found = api.get("/v1/posts", params=query).json()["items"]
    assert [item["id"] for item in found] == ["generic:api:cache-1"]


def test_reads_from_memory_are_counted_under_their_route(api):
    def requests_to_incidents() -> float:
        text = api.get("/metrics").text
        prefix = 'outage_radar_http_requests_total{method="GET",route="/v1/incidents",status="200"}'
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))

    before = requests_to_incidents()
    first = api.get("/v1/incidents", params={"status": "open"})
    second = api.get("/v1/incidents", params={"status": "open"})
    assert second.json() == first.json() and second.headers["etag"] == first.headers["etag"]
    assert requests_to_incidents() == before + 2
    assert 'outage_radar_read_cache_total{result="hit"}' in api.get("/metrics").text
    unchanged = api.get(
        "/v1/incidents", params={"status": "open"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert unchanged.status_code == 304


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"url": "not a url"}, ["body", "url"]),
        ({"url": "ftp://example.com/hook"}, ["body", "url"]),
        (
            {"url": "https://example.com/h", "event_types": ["incident.exploded"]},
            ["body", "event_types", 0],
        ),
        ({"url": "https://example.com/h", "event_types": []}, ["body", "event_types"]),
        ({"url": "https://example.com/h", "colour": "red"}, ["body", "colour"]),
        ({"url": "https://example.com/h", "min_severity": "huge"}, ["body", "min_severity"]),
        ({"url": "https://example.com/h", "services": ["no spaces"]}, ["body", "services", 0]),
        ({"url": "https://example.com/h", "countries": ["USA"]}, ["body", "countries", 0]),
        ({"url": "https://example.com/h", "format": "teams"}, ["body", "format"]),
        ({}, ["body", "url"]),
    ],
)
def test_malformed_webhooks_are_422_with_field_errors(api, body, loc):
    assert loc in field_errors(api.post("/v1/webhooks", json=body))
    assert api.get("/v1/webhooks").json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/posts", {"posts": [POST]}),
        ("POST", "/v1/webhooks", {"url": "https://example.com/h"}),
        ("GET", "/v1/webhooks", None),
        ("GET", "/v1/webhooks/abc123/deliveries", None),
        ("POST", "/v1/webhooks/abc123/test", None),
        ("DELETE", "/v1/webhooks/abc123", None),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer ora_not-a-key"},
        {"X-API-Key": "ora_not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["missing", "unknown-bearer", "unknown-header", "basic"],
)
def test_a_missing_or_unknown_key_is_a_401(lan, method, path, body, headers):
    response = httpx.request(method, lan.url + path, json=body, headers=headers, timeout=30)
    assert assert_problem(response, 401)["detail"].startswith("a valid API key is required")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_key_is_a_401(lan):
    key, token = new_key(lan.store.engine, "leaver", datetime.now(UTC))
    with keyed(lan.url, token) as client:
        assert client.get("/v1/webhooks").status_code == 200
        assert revoke_api_key(lan.store.engine, key.id, datetime.now(UTC))
        assert_problem(client.get("/v1/webhooks"), 401)
        assert_problem(client.post("/v1/posts", json={"posts": [POST]}), 401)


def test_a_body_over_the_limit_is_a_413(strict):
    with strict.client() as client:
        big = {"posts": [POST | {"text": "x" * 5000}]}
        assert_problem(client.post("/v1/posts", json=big), 413)
        assert client.post("/v1/posts", json={"posts": [POST]}).status_code == 200


def test_writes_over_the_rate_get_429_with_retry_after(strict):
    with strict.client("busy") as busy, strict.client("calm") as calm:
        for _ in range(3):
            assert busy.post("/v1/posts", json={"posts": [POST]}).status_code == 200
        refused = busy.post("/v1/posts", json={"posts": [POST]})
        assert_problem(refused, 429)
        assert 1 <= int(refused.headers["retry-after"]) <= 20  # a token every 20 s
        assert busy.delete("/v1/webhooks/abc123").status_code == 429  # every write counts
        assert busy.get("/v1/webhooks").status_code == 200  # reads do not
        assert calm.post("/v1/posts", json={"posts": [POST]}).status_code == 200  # per key


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:8080/hook",
        "http://10.0.0.7/hook",
        "http://[::1]/hook",
        METADATA_URL,
    ],
)
def test_private_webhook_urls_are_refused_unless_allowed(strict, url):
    with strict.client() as client:
        body = assert_problem(client.post("/v1/webhooks", json={"url": url}), 422)
        assert body["type"].endswith(":unsafe-url")
        assert client.get("/v1/webhooks").json()["items"] == []


def test_the_metadata_address_is_refused_even_when_private_urls_are_allowed(api):
    body = assert_problem(api.post("/v1/webhooks", json={"url": METADATA_URL}), 422)
    assert body["type"].endswith(":unsafe-url")
    hook = create_hook(api, url="http://127.0.0.1:9/hook")  # loopback is allowed here
    patched = api.patch(f"/v1/webhooks/{hook['id']}", json={"url": METADATA_URL})
    assert assert_problem(patched, 422)["type"].endswith(":unsafe-url")
    assert api.get(f"/v1/webhooks/{hook['id']}").json()["url"] == "http://127.0.0.1:9/hook"


def test_the_secret_is_shown_only_at_creation(api):
    created = create_hook(api, url="http://127.0.0.1:9/hook", services=["tesla"])
    secret = created["secret"]
    assert secret.startswith("whsec_")
    hook_id = created["id"]
    answers = [
        api.get(f"/v1/webhooks/{hook_id}"),
        api.get("/v1/webhooks"),
        api.patch(f"/v1/webhooks/{hook_id}", json={"description": "pager"}),
        api.get(f"/v1/webhooks/{hook_id}/deliveries"),
    ]
    for response in answers:
        assert response.status_code == 200, response.text
        assert secret not in response.text and '"secret"' not in response.text


def test_another_keys_webhooks_are_invisible(lan):
    with lan.client("alice") as alice, lan.client("bob") as bob:
        hook = create_hook(alice, url="http://127.0.0.1:9/hook")
        path = f"/v1/webhooks/{hook['id']}"
        assert bob.get("/v1/webhooks").json()["items"] == []
        for response in (
            bob.get(path),
            bob.patch(path, json={"enabled": False}),
            bob.delete(path),
            bob.get(f"{path}/deliveries"),
            bob.post(f"{path}/test"),
        ):
            assert assert_problem(response, 404)["detail"] == f"no webhook with id {hook['id']!r}"
        mine = alice.get(path).json()
        assert mine["enabled"] and mine["updated_at"] == hook["updated_at"]
        assert [item["id"] for item in alice.get("/v1/webhooks").json()["items"]] == [hook["id"]]


def test_a_webhook_can_be_changed_and_deleted(api):
    hook = create_hook(api, url="http://127.0.0.1:9/hook", services=["tesla"])
    path = f"/v1/webhooks/{hook['id']}"
    changes = {"services": ["tesla", "discord"], "min_severity": "major", "enabled": False}
    patched = api.patch(path, json=changes)
    assert patched.status_code == 200, patched.text
    assert {name: patched.json()[name] for name in changes} == changes
    assert api.get(path).json() == patched.json()
    cleared = api.patch(path, json={"services": None, "enabled": True}).json()
    assert cleared["services"] is None and cleared["enabled"]
    assert cleared["min_severity"] == "major"  # left alone
    assert ["body", "colour"] in field_errors(api.patch(path, json={"colour": "red"}))
    assert ["body", "url"] in field_errors(api.patch(path, json={"url": "ftp://example.com/h"}))
    assert api.delete(path).status_code == 204
    assert_problem(api.get(path), 404)
    assert_problem(api.delete(path), 404)
    assert_problem(api.patch(path, json={"enabled": True}), 404)
    assert ["path", "webhook_id"] in field_errors(api.get("/v1/webhooks/NOT-HEX"))


def test_a_test_ping_reaches_a_live_receiver_and_reports_a_dead_one(api):
    with Receiver().running() as receiver:
        live = create_hook(api, url=receiver.url)
        receiver.secret = live["secret"]
        answer = api.post(f"/v1/webhooks/{live['id']}/test").json()
        assert answer["delivered"] and answer["status_code"] == 204
        (got,) = receiver.received
        assert got.verified, got.error
        assert got.body["type"] == "webhook.test"
        receiver.status = 500
        failing = api.post(f"/v1/webhooks/{live['id']}/test").json()
        assert (failing["delivered"], failing["status_code"]) == (False, 500)
    with reserved_port() as port:
        dead = create_hook(api, url=f"http://127.0.0.1:{port}/hook")
        answer = api.post(f"/v1/webhooks/{dead['id']}/test").json()
    assert not answer["delivered"] and answer["status_code"] is None and answer["reason"]
    assert deliveries(api, live["id"]) == [] == deliveries(api, dead["id"])  # pings not queued
