"""The Jetstream source against a WebSocket server on loopback replaying recorded frames."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from detector.ingest.base import Quarantined
from detector.ingest.bluesky import BlueskyParser
from detector.ingest.live.jetstream import JetstreamSource
from detector.ingest.live.settings import JetstreamSettings
from tests.ingest.live.jetstream_server import Frame, ReplayServer, Step
from tests.ingest.live.sinks import ListSink, wait_until

FRAMES = Path(__file__).parent / "frames" / "jetstream.jsonl"
POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"
TIMEOUT = 10.0  # every wait of these tests gives up after this long


def recorded() -> list[Frame]:
    """The recorded frames, in the order Jetstream sent them."""
    frames = []
    for line in FRAMES.read_text(encoding="utf-8").splitlines():
        event = orjson.loads(line)
        collection = event["commit"]["collection"] if event["kind"] == "commit" else None
        frames.append(Frame(line, event["time_us"], collection))
    return frames


def sent(collections: Sequence[str] = (POST,)) -> list[dict[str, Any]]:
    """The recorded events Jetstream sends a client asking for ``collections``."""
    return [orjson.loads(f.payload) for f in recorded() if f.wanted(set(collections), None)]


def expected_ids(collections: Sequence[str] = (POST,)) -> list[str]:
    """The post ids those events hold, in order (an update repeats its post's id)."""
    parser = BlueskyParser()
    ids: list[str] = []
    for event in sent(collections):
        result = parser.parse(event)
        if isinstance(result, list):
            ids.extend(post.id for post in result)
    return ids


Servers = Callable[..., ReplayServer]
Sources = Callable[..., JetstreamSource]


@pytest.fixture
def servers() -> Iterator[Callable[..., ReplayServer]]:
    """Starts replay servers, and closes them after the test."""
    started: list[ReplayServer] = []

    def start(frames: Sequence[Frame] | None = None, plan: Sequence[Step] = ()) -> ReplayServer:
        server = ReplayServer(recorded() if frames is None else frames, plan)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def sources() -> Iterator[Callable[..., JetstreamSource]]:
    """Builds sources with quick reconnection, and stops them after the test."""
    built: list[JetstreamSource] = []

    def build(url: str, **options: Any) -> JetstreamSource:
        batching = {k: options.pop(k) for k in ("batch_size", "batch_seconds") if k in options}
        settings = JetstreamSettings(
            name="bluesky",
            url=url,
            backoff_seconds=0.05,
            max_backoff_seconds=0.2,
            timeout_seconds=options.pop("timeout_seconds", 5.0),
            **options,
        )
        source = JetstreamSource(settings, seed=7, **batching)
        built.append(source)
        return source

    yield build
    for source in built:
        source.stop(timeout=TIMEOUT)


def ids(sink: ListSink) -> list[str]:
    """The ids of the posts handed to ``sink``, in order."""
    return [post.id for post in sink.posts]


@pytest.mark.parametrize(
    ("collections", "skipped"),
    [
        ([POST], 4),  # two identity events, an account event, a delete
        ([POST, LIKE], 6),  # and the two likes
    ],
)
def test_reads_posts_of_the_wanted_collections(
    servers: Servers, sources: Sources, collections: list[str], skipped: int
) -> None:
    server = servers()
    source = sources(server.url, collections=collections)
    sink = ListSink()
    source.start(sink)

    posts = sink.wait_for_posts(len(expected_ids()), timeout=TIMEOUT)
    last = str(sent(collections)[-1]["time_us"])
    assert wait_until(lambda: source.checkpoint() == last)

    assert [post.id for post in posts] == expected_ids()
    first, reply = posts[0], posts[1]
    assert (
        first.id == "bluesky:at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l3qo2vuowo2b"
    )
    assert first.text == "is bluesky down? feed won't load"
    assert first.created_at == datetime(2024, 9, 9, 19, 46, 2, 102000, tzinfo=UTC)
    assert first.lang == "en"
    assert first.author_id == "did:plc:z72i7hdynmk6r22z27h6tvur"
    assert reply.reply_to == first.id
    assert posts[3].text.endswith("(edit: back now)")  # the update, under the same id
    assert posts[3].id == first.id
    assert {post.lang for post in posts} == {"en", "de", "ja"}
    [query] = server.queries()
    assert query == {"wantedCollections": collections}  # no cursor: a first start reads from now
    health = source.health()
    assert (health.posts_total, health.skipped, health.quarantined) == (10, skipped, 0)
    assert health.connected and health.status == "ok" and health.errors == 0
    assert health.last_post_at == max(post.created_at for post in posts)


@pytest.mark.parametrize("rewind_seconds", [5.0, 0.0])
@pytest.mark.parametrize("batch_size", [1, 100])
@pytest.mark.parametrize(
    "plan",
    [
        [("drop", 5)],  # between two events of the same microsecond
        [("drop", 3), ("drop", 4), ("drop", 0), ("drop", 6)],  # again and again
        [("drop", 9)],  # after a delete and before a post
    ],
    ids=["same-microsecond", "repeated", "after-delete"],
)
def test_reconnects_and_resumes_without_gaps_or_duplicates(
    servers: Servers, sources: Sources, plan: list[Step], batch_size: int, rewind_seconds: float
) -> None:
    server = servers(plan=plan)
    source = sources(server.url, rewind_seconds=rewind_seconds, batch_size=batch_size)
    sink = ListSink()
    source.start(sink)

    sink.wait_for_posts(len(expected_ids()), timeout=TIMEOUT)
    assert wait_until(lambda: len(server.paths) == len(plan) + 1)
    assert wait_until(lambda: source.checkpoint() == str(sent()[-1]["time_us"]))

    assert ids(sink) == expected_ids()
    # Each reconnection asks for the rewound cursor of the last event handed over.
    assert [query.get("cursor") for query in server.queries()] == _cursors(plan, rewind_seconds)
    health = source.health()
    assert health.errors == len(plan)
    assert health.last_error is not None and "ConnectionClosed" in health.last_error
    assert health.connected and health.consecutive_errors == 0 and health.status == "ok"
    assert health.posts_total == len(expected_ids())


def _cursors(plan: Sequence[Step], rewind_seconds: float) -> list[list[str] | None]:
    """The cursor each connection should ask for, following the server's ``plan``."""
    events, handed, cursors = sent(), 0, []
    for _, count in [*plan, ("drop", len(events))]:
        cursor = events[handed - 1]["time_us"] - round(rewind_seconds * 1e6) if handed else None
        cursors.append(None if cursor is None else [str(cursor)])
        first = 0 if cursor is None else [e["time_us"] >= cursor for e in events].index(True)
        handed = max(handed, first + count)
    return cursors


@pytest.mark.parametrize(
    ("same_source", "first_frames"),
    [
        (False, 7),  # a new process: the checkpoint is all it knows
        (True, 5),  # the same source restarted remembers the microsecond it stopped in
    ],
)
def test_restart_resumes_from_the_checkpoint(
    servers: Servers, sources: Sources, same_source: bool, first_frames: int
) -> None:
    server = servers(plan=[("pause", first_frames)])
    first = sources(server.url)
    before = ListSink()
    first.start(before)
    last = str(sent()[first_frames - 1]["time_us"])
    assert wait_until(lambda: first.checkpoint() == last)
    first.stop()
    checkpoint = first.checkpoint()

    second = first if same_source else sources(server.url)
    after = ListSink()
    second.start(after, checkpoint=checkpoint)
    sink_total = len(expected_ids())
    assert wait_until(lambda: len(before.posts) + len(after.posts) >= sink_total)
    assert wait_until(lambda: second.checkpoint() == str(sent()[-1]["time_us"]))

    assert ids(before) + ids(after) == expected_ids()
    assert server.queries()[1]["cursor"] == [str(int(last) - 5_000_000)]


def test_malformed_frames_are_quarantined_and_the_stream_goes_on(
    servers: Servers, sources: Sources
) -> None:
    no_text: dict[str, Any] = {
        "did": "did:plc:oky5czdrnfjpqslsw2a5iclo",
        "time_us": 1725911168000000,
        "kind": "commit",
        "commit": {
            "rev": "3l3qo31zzzz2m",
            "operation": "create",
            "collection": POST,
            "rkey": "3l3qo31yyyy2m",
            "record": {"$type": POST, "createdAt": "2024-09-09T19:46:07.900Z", "langs": ["en"]},
            "cid": "bafyreinotext",
        },
    }
    broken = [
        Frame('{"did":"did:plc:oky5czdrnfjpqslsw2a5iclo","time_us":17259111'),
        Frame(b"(\xb5/\xfd\x00X\x11\x00\x00"),  # a zstd frame nobody asked for
        Frame("[1725911166000000]"),
        Frame('{"did":"did:plc:oky5czdrnfjpqslsw2a5iclo","kind":"identity","identity":{}}'),
        Frame(orjson.dumps(no_text).decode(), no_text["time_us"], POST),
    ]
    frames = recorded()
    server = servers(frames[:4] + broken + frames[4:])
    source = sources(server.url)
    refused: list[Quarantined] = []
    sink = ListSink()
    source.start(sink, quarantine=refused.append)

    sink.wait_for_posts(len(expected_ids()), timeout=TIMEOUT)
    assert wait_until(lambda: source.checkpoint() == str(sent()[-1]["time_us"]))

    assert ids(sink) == expected_ids()
    assert [(q.reason, q.field) for q in refused] == [
        ("invalid_json", None),
        ("binary_frame", None),
        ("invalid_record", None),
        ("invalid_cursor", "time_us"),
        ("missing_text", "record.text"),
    ]
    assert [q.line for q in refused] == [4, 5, 6, 7, 8]  # frame numbers
    assert {q.file for q in refused} == {"bluesky"}
    assert refused[0].raw == broken[0].payload
    health = source.health()
    assert health.quarantined == 5 and health.errors == 0 and health.connected


def test_checkpoint_moves_when_only_other_events_arrive(servers: Servers, sources: Sources) -> None:
    others = [f for f in recorded() if f.collection is None or f.collection == LIKE]
    server = servers(others)
    source = sources(server.url)
    sink = ListSink()
    source.start(sink)

    # Not the like: it is not among the wanted collections.
    last = str(others[-2].time_us)
    assert wait_until(lambda: source.checkpoint() == last)
    assert sink.posts == [] and sink.batches
    assert source.health().skipped == 3


def test_posts_are_handed_over_in_batches(servers: Servers, sources: Sources) -> None:
    server = servers()
    source = sources(server.url, batch_size=4, batch_seconds=0.2)
    sink = ListSink()
    source.start(sink)

    sink.wait_for_posts(len(expected_ids()), timeout=TIMEOUT)
    assert wait_until(lambda: source.checkpoint() == str(sent()[-1]["time_us"]))

    # 14 events, at most 4 a batch; each batch's checkpoint is its newest event.
    assert len(sink.batches) >= 4
    assert all(len(batch.posts) <= 4 for batch in sink.batches)
    checkpoints = [int(batch.checkpoint or 0) for batch in sink.batches]
    assert checkpoints == sorted(checkpoints)
    assert ids(sink) == expected_ids()


def test_stop_returns_promptly_while_the_server_is_silent(
    servers: Servers, sources: Sources
) -> None:
    server = servers(plan=[("pause", 0)])
    source = sources(server.url, timeout_seconds=30.0)
    source.start(ListSink())
    assert wait_until(lambda: source.health().connected)

    began = time.monotonic()
    source.stop(timeout=TIMEOUT)

    assert time.monotonic() - began < 3.0
    health = source.health()
    assert health.status == "stopped" and not health.connected and health.errors == 0
    assert not any(t.name == "source-bluesky" for t in threading.enumerate())


def test_a_silent_server_is_noticed_and_left(servers: Servers, sources: Sources) -> None:
    server = servers(plan=[("pause", 0)] * 50)  # every connection stays silent
    source = sources(server.url, timeout_seconds=0.2)
    source.start(ListSink())

    assert wait_until(lambda: source.health().consecutive_errors >= 3)
    health = source.health()
    assert health.last_error == "TimeoutError: no frame from Jetstream for 0.2 s"
    assert health.status == "failing"
    assert len(server.paths) >= 3  # it reconnected each time


def test_an_unreachable_server_is_retried_and_flagged(sources: Sources) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = sources(f"ws://127.0.0.1:{port}/subscribe")
    source.start(ListSink())

    assert wait_until(lambda: source.health().consecutive_errors >= 3)
    health = source.health()
    assert health.status == "failing" and not health.connected


def test_subscribe_url_keeps_the_endpoint_query(sources: Sources) -> None:
    source = sources("wss://jetstream.example/subscribe?requireHello=false", rewind_seconds=1.5)

    url = source.subscribe_url("1725911162329308")

    assert url == (
        "wss://jetstream.example/subscribe?requireHello=false"
        "&wantedCollections=app.bsky.feed.post&cursor=1725911160829308"
    )


@pytest.mark.parametrize("checkpoint", ["", "latest", "-5", "1.5e15"])
def test_a_checkpoint_that_is_no_time_us_is_refused(sources: Sources, checkpoint: str) -> None:
    source = sources("ws://127.0.0.1:9/subscribe")

    with pytest.raises(ValueError, match="checkpoint is a time_us"):
        source.start(ListSink(), checkpoint=checkpoint)


@pytest.mark.parametrize(
    ("batch_size", "batch_seconds", "message"),
    [(0, 0.5, "batch_size must be at least 1, got: 0"), (10, 0.0, "batch_seconds must be")],
)
def test_batching_options_are_validated(
    batch_size: int, batch_seconds: float, message: str
) -> None:
    settings = JetstreamSettings.model_validate({"name": "bluesky"})

    with pytest.raises(ValueError, match=message):
        JetstreamSource(settings, batch_size=batch_size, batch_seconds=batch_seconds)
