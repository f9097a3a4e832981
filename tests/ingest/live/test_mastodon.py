"""The Mastodon streaming source against a fake instance on loopback.

The instance replays recorded ``text/event-stream`` frames (``frames/mastodon*.sse``) chunk by
chunk over real HTTP, one script per stream connection, and serves the REST timeline that a
reconnecting source catches up through.
"""

from __future__ import annotations

import copy
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from detector.ingest.base import Quarantined
from detector.ingest.live.mastodon import MastodonStreamSource, _sse_events
from detector.ingest.live.settings import MastodonSettings
from tests.ingest.live.sinks import ListSink, wait_until

FRAMES = Path(__file__).parent / "frames"
RECORDED = (FRAMES / "mastodon.sse").read_bytes()
MALFORMED = (FRAMES / "mastodon-malformed.sse").read_bytes()

HOLD = object()  # script item: stay silent (connection open) until the instance closes
END = object()  # script item: end the body properly; a script without it drops the connection

ScriptItem = bytes | float | Callable[[], None] | object
Start = Callable[..., MastodonStreamSource]


@dataclass(frozen=True)
class Seen:
    """One request the instance answered."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


class Instance:
    """A Mastodon instance: streams replay one queued script per connection (silence once the
    queue is empty); ``/api/v1/timelines/...`` pages through ``timeline`` like ``min_id`` does.

    Script items are bytes (one chunk), a float (a pause), ``HOLD``, ``END`` or a callable run
    before the response starts (to publish a status as the stream opens).
    """

    def __init__(self) -> None:
        self.scripts: queue.Queue[list[ScriptItem]] = queue.Queue()
        self.timeline: list[dict[str, Any]] = []
        self.requests: list[Seen] = []
        self.stream_status = 200
        self.stream_type = "text/event-stream; charset=utf-8"
        self.redirect_streams_to: str | None = None
        self.closing = threading.Event()
        self.url = ""

    def stream_requests(self) -> list[Seen]:
        return [r for r in list(self.requests) if r.path.startswith("/api/v1/streaming")]

    def rest_requests(self) -> list[Seen]:
        return [r for r in list(self.requests) if r.path.startswith("/api/v1/timelines")]

    @contextmanager
    def running(self) -> Iterator[Instance]:
        instance = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # chunked bodies, as Mastodon's streaming server

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                instance.requests.append(Seen(parts.path, dict(parse_qsl(parts.query)), headers))
                self.close_connection = True
                try:
                    if parts.path.startswith("/api/v1/streaming"):
                        self._stream()
                    elif parts.path.startswith("/api/v1/timelines/"):
                        self._timeline(dict(parse_qsl(parts.query)))
                    else:
                        self._send(404, b'{"error":"Record not found"}')
                except OSError:
                    pass  # the source hung up (stop, read timeout)

            def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.send_header("connection", "close")
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _timeline(self, query: dict[str, str]) -> None:
                after = int(query.get("min_id", "0"))
                newer = sorted(
                    (s for s in instance.timeline if int(s["id"]) > after),
                    key=lambda s: int(s["id"]),
                )
                page = newer[: int(query.get("limit", "20"))]
                self._send(200, json.dumps(page[::-1]).encode())  # newest first, as Mastodon

            def _stream(self) -> None:
                if instance.redirect_streams_to is not None:
                    self._send(301, b"", {"location": instance.redirect_streams_to + self.path})
                    return
                if instance.stream_status != 200:
                    error = b'{"error":"This method requires an authenticated user"}'
                    self._send(instance.stream_status, error)
                    return
                try:
                    script = instance.scripts.get_nowait()
                except queue.Empty:
                    script = [b":)\n", HOLD]
                while script and callable(script[0]):
                    script.pop(0)()  # type: ignore[operator]
                self.send_response(200)
                self.send_header("content-type", instance.stream_type)
                self.send_header("transfer-encoding", "chunked")
                self.send_header("connection", "close")
                self.end_headers()
                for item in script:
                    if isinstance(item, bytes):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(item), item))
                        self.wfile.flush()
                    elif isinstance(item, float):
                        instance.closing.wait(item)
                    elif item is HOLD:
                        instance.closing.wait(10)
                    elif item is END:
                        self.wfile.write(b"0\r\n\r\n")
                # Returning without the final chunk drops the connection mid-stream.

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = False  # so server_close() joins the handler threads

        server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.closing.set()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


# --- building frames ------------------------------------------------------------------------

_BASE_MS = int(datetime(2024, 6, 12, 15, 0, tzinfo=UTC).timestamp() * 1000)
_TEMPLATE: dict[str, Any] = json.loads(
    next(e.data for e in _sse_events([RECORDED]) if e.event == "update")
)


def status_id(n: int) -> str:
    """The snowflake id of generated status ``n`` (one second after status ``n - 1``)."""
    return str((_BASE_MS + n * 1000) << 16)


def make_status(n: int) -> dict[str, Any]:
    """A local status like the recorded first one, numbered ``n``."""
    status: dict[str, Any] = copy.deepcopy(_TEMPLATE)
    ms = _BASE_MS + n * 1000
    status["id"] = status_id(n)
    status["created_at"] = f"{datetime.fromtimestamp(ms // 1000, UTC):%Y-%m-%dT%H:%M:%S}.000Z"
    status["uri"] = f"https://mastodon.social/users/alice/statuses/{status['id']}"
    status["url"] = f"https://mastodon.social/@alice/{status['id']}"
    status["content"] = f"<p>github still down, report #{n}</p>"
    return status


def frame(n: int, event: str = "update") -> bytes:
    """Status ``n`` as one server-sent event, as Mastodon writes it."""
    data = json.dumps(make_status(n), separators=(",", ":"))
    return f"event: {event}\ndata: {data}\n\n".encode()


def numbers(posts: list[Any]) -> list[int]:
    return [int(p.text.rsplit("#", 1)[1]) for p in posts]


# --- fixtures and helpers -------------------------------------------------------------------


def settings(instance: Instance, **overrides: Any) -> MastodonSettings:
    values: dict[str, Any] = {
        "name": "mastodon-test",
        "instance": instance.url,
        "token": "s3cret",
        "backoff_seconds": 0.05,
        "max_backoff_seconds": 0.2,
        "timeout_seconds": 5.0,
    }
    return MastodonSettings(**(values | overrides))


@pytest.fixture
def instance() -> Iterator[Instance]:
    with Instance().running() as running:
        yield running


@pytest.fixture
def started() -> Iterator[Start]:
    """Builds and starts sources; stops each one and checks its threads are gone."""
    sources: list[MastodonStreamSource] = []

    def start(
        config: MastodonSettings,
        sink: ListSink,
        *,
        checkpoint: str | None = None,
        quarantine: Callable[[Quarantined], None] | None = None,
        **kwargs: Any,
    ) -> MastodonStreamSource:
        source = MastodonStreamSource(config, seed=1, **kwargs)
        source.start(sink, checkpoint=checkpoint, quarantine=quarantine)
        sources.append(source)
        return source

    yield start
    for source in sources:
        source.stop(timeout=5)
    assert wait_until(lambda: not any(t.name.startswith("source-") for t in threading.enumerate()))


# --- the tests ------------------------------------------------------------------------------


def test_recorded_stream_is_parsed(instance: Instance, started: Start) -> None:
    instance.scripts.put([RECORDED, HOLD])
    sink = ListSink()
    source = started(settings(instance), sink)

    posts = sink.wait_for_posts(5)
    assert [p.author_handle for p in posts] == [
        "alice@mastodon.social",
        "bob@fosstodon.org",
        "carol@mastodon.social",  # the boost, then the boosted status
        "dave@hachyderm.io",
        "dave@hachyderm.io",  # status.update: an edited status
    ]
    alice, bob, boost, original, edited = posts
    assert alice.id == "mastodon:https://mastodon.social/users/alice/statuses/112604020211716242"
    assert alice.text == (
        "Is @github down? Pushes fail with 503 & the UI is slow\nsince 14:00 UTC #outage"
    )
    assert alice.created_at == datetime(2024, 6, 12, 14, 3, 12, tzinfo=UTC)
    assert alice.lang == "en"
    assert bob.text == "Bei mir auch, git push hängt seit 10 Minuten 😩"
    assert bob.title == "github outage" and bob.lang == "de"
    assert boost.repost_of == original.id and boost.text == original.text
    assert edited.text == "Edit: it is not just me, GitHub pages return 500 errors"

    [request] = instance.stream_requests()
    assert request.path == "/api/v1/streaming/public" and request.query == {}
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.headers["accept"] == "text/event-stream"
    assert instance.rest_requests() == []  # no checkpoint: nothing to catch up
    assert wait_until(lambda: source.health().skipped == 1)  # the delete
    health = source.health()
    assert health.connected and health.errors == 0 and health.posts_total == 5
    # The newest id handed over, not the last one (the edit is older than the boost).
    assert source.checkpoint() == "112604024668169001"
    assert sink.batches[-1].checkpoint == "112604024668169001"


@pytest.mark.parametrize(
    ("timeline", "hashtag", "stream", "rest"),
    [
        ("public", None, ("public", {}), ("public", {})),
        ("public:local", None, ("public/local", {}), ("public", {"local": "true"})),
        ("public:remote", None, ("public/remote", {}), ("public", {"remote": "true"})),
        ("hashtag", "outage", ("hashtag", {"tag": "outage"}), ("tag/outage", {})),
        (
            "hashtag:local",
            "outage",
            ("hashtag/local", {"tag": "outage"}),
            ("tag/outage", {"local": "true"}),
        ),
    ],
)
def test_timeline_decides_the_stream_and_the_catch_up(
    instance: Instance,
    started: Start,
    timeline: str,
    hashtag: str | None,
    stream: tuple[str, dict[str, str]],
    rest: tuple[str, dict[str, str]],
) -> None:
    source = started(
        settings(instance, timeline=timeline, hashtag=hashtag), ListSink(), checkpoint="7"
    )
    assert wait_until(lambda: source.health().connected)
    [opened] = instance.stream_requests()
    assert (opened.path, opened.query) == ("/api/v1/streaming/" + stream[0], stream[1])
    caught_up = instance.rest_requests()[0]
    assert caught_up.path == "/api/v1/timelines/" + rest[0]
    assert caught_up.query == rest[1] | {"min_id": "7", "limit": "40"}
    assert caught_up.headers["authorization"] == "Bearer s3cret"


def test_reconnect_catches_up_without_gaps_or_duplicates(
    instance: Instance, started: Start
) -> None:
    # Statuses 3-47 are published while the source is disconnected: two REST pages of 40.
    instance.timeline = [make_status(n) for n in range(1, 48)]
    instance.scripts.put([b":)\n", frame(1), frame(2) + b":thump\n"])  # then dropped
    # Status 48 appears as the stream reopens: the bridging page and the stream both have it.
    publish = lambda: instance.timeline.append(make_status(48))  # noqa: E731
    instance.scripts.put([publish, b":)\n", frame(48), frame(49), HOLD])
    sink = ListSink()
    source = started(settings(instance), sink)

    posts = sink.wait_for_posts(49)
    assert numbers(posts) == list(range(1, 50))
    assert wait_until(lambda: source.checkpoint() == status_id(49))
    assert len(instance.stream_requests()) == 2
    pages = [(r.query["min_id"], r.query["limit"]) for r in instance.rest_requests()]
    assert pages == [
        (status_id(2), "40"),
        (status_id(42), "40"),
        (status_id(47), "40"),  # empty: the bulk is done, the stream opens
        (status_id(47), "40"),  # the bridge, with the stream open: status 48
        (status_id(48), "40"),
    ]
    health = source.health()
    assert health.errors == 1 and "RemoteProtocolError" in (health.last_error or "")
    assert health.connected and health.consecutive_errors == 0


def test_a_stream_that_ends_is_reopened(instance: Instance, started: Start) -> None:
    instance.scripts.put([b":)\n", frame(1), END])
    instance.scripts.put([b":)\n", frame(2), HOLD])
    sink = ListSink()
    source = started(settings(instance), sink)
    assert numbers(sink.wait_for_posts(2)) == [1, 2]
    assert "the stream ended" in (source.health().last_error or "")
    assert len(instance.stream_requests()) == 2


def test_a_status_federated_late_is_not_taken_for_a_repeat(
    instance: Instance, started: Start
) -> None:
    # A remote status gets an id from its own created_at: below ids already handed over.
    instance.scripts.put([b":)\n", frame(10), frame(4), HOLD])
    sink = ListSink()
    source = started(settings(instance), sink)
    assert numbers(sink.wait_for_posts(2)) == [10, 4]
    assert wait_until(lambda: source.checkpoint() == status_id(10))


def test_restart_from_a_checkpoint(instance: Instance, started: Start) -> None:
    instance.timeline = [make_status(n) for n in range(1, 6)]
    instance.scripts.put([b":)\n", frame(5), frame(6), HOLD])
    first = ListSink()
    source = started(settings(instance), first, checkpoint=status_id(3))
    assert numbers(first.wait_for_posts(3)) == [4, 5, 6]
    assert wait_until(lambda: source.checkpoint() == status_id(6))
    source.stop(timeout=5)
    saved = source.checkpoint()

    instance.timeline.append(make_status(7))  # published while it was stopped
    instance.scripts.put([b":)\n", frame(8), HOLD])
    again = ListSink()
    started(settings(instance), again, checkpoint=saved)
    assert numbers(again.wait_for_posts(2)) == [7, 8]
    time.sleep(0.2)
    assert numbers(first.posts + again.posts) == [4, 5, 6, 7, 8]


def test_malformed_events_are_quarantined_and_the_stream_goes_on(
    instance: Instance, started: Start
) -> None:
    instance.scripts.put([MALFORMED, frame(1), HOLD])
    kept: list[Quarantined] = []
    sink = ListSink()
    source = started(settings(instance), sink, quarantine=kept.append)

    assert numbers(sink.wait_for_posts(2)[1:]) == [1]
    assert sink.posts[0].text == "GitHub is back for me 🎉"
    assert [(q.reason, q.field) for q in kept] == [
        ("invalid_json", None),
        ("invalid_record", None),  # valid JSON, but a string
        ("missing_timestamp", "created_at"),
    ]
    assert all(q.file == "mastodon-test" for q in kept)
    assert kept[0].raw.startswith('{"id":"112604027289600004"') and kept[0].line == 1
    health = source.health()
    assert health.quarantined == 3 and health.errors == 0 and health.connected
    assert len(instance.stream_requests()) == 1  # never reconnected


def test_batches_by_size_and_by_time(instance: Instance, started: Start) -> None:
    burst = b"".join(frame(n) for n in range(1, 251))
    instance.scripts.put([b":)\n", burst, 0.3, frame(251), HOLD])
    sink = ListSink()
    started(settings(instance), sink)

    assert numbers(sink.wait_for_posts(251)) == list(range(1, 252))
    sizes = [len(b.posts) for b in sink.batches]
    assert max(sizes) == 100 and sizes.count(100) >= 2
    # The last status came alone on a quiet stream: the timer handed it over.
    assert sink.batches[-1].checkpoint == status_id(251)


def test_stop_returns_promptly_while_the_server_is_silent(
    instance: Instance, started: Start
) -> None:
    source = started(settings(instance), ListSink())
    assert wait_until(lambda: source.health().connected)
    began = time.monotonic()
    source.stop(timeout=5)
    assert time.monotonic() - began < 1.0
    assert source.health().status == "stopped" and not source.health().connected


def test_heartbeats_keep_the_source_alive(instance: Instance, started: Start) -> None:
    instance.scripts.put([b":)\n"] + [0.2, b":thump\n"] * 10 + [HOLD])
    source = started(settings(instance), ListSink())
    assert wait_until(lambda: source.health().connected)
    first = source.health().last_received_at
    assert wait_until(lambda: source.health().last_received_at != first)
    health = source.health()
    assert health.posts_total == 0 and health.errors == 0
    assert health.last_received_at is not None and first is not None
    assert health.last_received_at > first


def test_a_stream_silent_past_the_heartbeat_timeout_is_reopened(
    instance: Instance, started: Start
) -> None:
    source = started(settings(instance), ListSink(), heartbeat_timeout=0.3)
    assert wait_until(lambda: len(instance.stream_requests()) >= 2)
    assert "ReadTimeout" in (source.health().last_error or "")


def test_unauthorized_fails_and_is_reported(instance: Instance, started: Start) -> None:
    instance.stream_status = 401
    source = started(settings(instance), ListSink())
    assert wait_until(lambda: source.health().consecutive_errors >= 3)
    health = source.health()
    assert health.status == "failing" and not health.connected
    assert "401" in (health.last_error or "") and health.posts_total == 0
    assert "s3cret" not in (health.last_error or "")


def test_not_an_event_stream_is_an_error(instance: Instance, started: Start) -> None:
    instance.stream_type = "text/html"
    source = started(settings(instance), ListSink())
    assert wait_until(lambda: source.health().errors >= 1)
    assert "not an event stream" in (source.health().last_error or "")


def test_redirect_to_the_streaming_host_keeps_the_token(instance: Instance, started: Start) -> None:
    with Instance().running() as streaming:
        streaming.scripts.put([b":)\n", frame(1), HOLD])
        instance.redirect_streams_to = streaming.url
        sink = ListSink()
        started(settings(instance), sink)
        assert numbers(sink.wait_for_posts(1)) == [1]
        [redirected] = streaming.stream_requests()
        assert redirected.headers["authorization"] == "Bearer s3cret"
        assert redirected.path == "/api/v1/streaming/public"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_event_stream_decoding_does_not_depend_on_chunking(newline: bytes) -> None:
    recorded = RECORDED.replace(b"\n", newline)
    whole = [(e.event, e.data) for e in _sse_events([recorded])]
    bytewise = [(e.event, e.data) for e in _sse_events(bytes([b]) for b in recorded)]
    assert whole == bytewise
    assert [name for name, _ in whole] == [
        "update",
        "update",
        "delete",
        "update",
        "status.update",
    ]
    assert whole[2][1] == "112604007563264100"
