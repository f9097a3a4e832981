"""The Reddit source against a real HTTP server on loopback replaying recorded JSON listings."""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from detector.clock import Clock, FixedClock
from detector.errors import FeedError
from detector.ingest.base import Quarantined
from detector.ingest.live.base import SourceContext, SourceHealth
from detector.ingest.live.reddit import RedditSource
from detector.ingest.live.settings import RedditSettings
from detector.models import Post
from tests.ingest.live.sinks import ListSink, wait_until

FRAMES = Path(__file__).parent / "frames"
NEW = "/r/sysadmin/new.json"
COMMENTS = "/r/sysadmin/comments.json"
TESLA = "/r/teslamotors/new.json"
USER_AGENT = "outage-radar-tests/1.0 (by /u/outage_radar_ci)"


def frame(name: str) -> list[dict[str, Any]]:
    """The children of a recorded listing, newest first as Reddit lists them."""
    document = orjson.loads((FRAMES / f"reddit_{name}.json").read_bytes())
    children: list[dict[str, Any]] = document["data"]["children"]
    return children


def fullname(child: dict[str, Any]) -> str:
    return f"reddit:{child['data']['name']}"


def _name(child: dict[str, Any]) -> str | None:
    data = child.get("data")
    return data.get("name") if isinstance(data, dict) else None


@dataclass
class Answer:
    """One answer served instead of the listing (an error, a malformed body)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float


class FakeReddit:
    """Serves listings like Reddit: newest first, ``limit`` per page, paged with ``after``.

    Each listing shows only its oldest ``visible`` children, so a test makes posts "arrive" by
    raising it. ``faults`` answers in place of the listing, once each; ``limits`` replaces the
    ``X-Ratelimit-*`` headers of the next answers, once each.
    """

    def __init__(self) -> None:
        self.children = {NEW: frame("sysadmin_new"), COMMENTS: frame("sysadmin_comments")}
        self.children[TESLA] = frame("teslamotors_new")
        self.visible = {path: len(children) for path, children in self.children.items()}
        self.faults: dict[str, deque[Answer]] = {path: deque() for path in self.children}
        self.limits: deque[dict[str, str]] = deque()
        self.requests: list[Seen] = []
        self.lock = threading.Lock()

    def show(self, path: str, count: int) -> None:
        with self.lock:
            self.visible[path] = count

    def fail(self, path: str, *answers: Answer) -> None:
        with self.lock:
            self.faults[path].extend(answers)

    def seen(self, path: str | None = None) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def answer(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Answer:
        with self.lock:
            self.requests.append(Seen(path, query, headers, time.monotonic()))
            used = len(self.requests)
            limits = self.limits.popleft() if self.limits else {}
            rate = {
                "x-ratelimit-used": str(used),
                "x-ratelimit-remaining": f"{max(0, 100 - used)}.0",
                "x-ratelimit-reset": "300",
                **limits,
            }
            if path not in self.children:
                return Answer(404, b'{"message": "Not Found", "error": 404}', rate)
            if self.faults[path]:
                fault = self.faults[path].popleft()
                return Answer(fault.status, fault.body, {**rate, **fault.headers})
            shown = self.children[path][len(self.children[path]) - self.visible[path] :]
        limit = int(query.get("limit", ["25"])[0])
        after = query.get("after", [None])[0]
        names = [_name(child) for child in shown]
        start = names.index(after) + 1 if after is not None and after in names else 0
        page = shown[start : start + limit]
        more = start + limit < len(shown)
        body = {
            "kind": "Listing",
            "data": {
                "after": _name(page[-1]) if more and page else None,
                "dist": len(page),
                "modhash": "",
                "geo_filter": "",
                "children": page,
                "before": None,
            },
        }
        return Answer(200, orjson.dumps(body), {**rate, "content-type": "application/json"})

    @contextmanager
    def running(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = fake.answer(url.path, parse_qs(url.query), headers)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval keeps shutdown() quick.
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def make_settings(base_url: str, **overrides: Any) -> RedditSettings:
    values: dict[str, Any] = {
        "name": "reddit-test",
        "subreddits": ["sysadmin"],
        "base_url": base_url,
        "user_agent": USER_AGENT,
        "interval_seconds": 0.1,
        "backoff_seconds": 0.05,
        "max_backoff_seconds": 0.2,
        "timeout_seconds": 5.0,
        **overrides,
    }
    return RedditSettings(**values)


class Poller:
    """Drives a source's polls one by one on the test's thread (the order is the test's)."""

    def __init__(self, source: RedditSource, checkpoint: str | None = None) -> None:
        self.source = source
        self.sink = ListSink()
        self.quarantined: list[Quarantined] = []
        self.ctx = SourceContext(source, self.sink, quarantine=self.quarantined.append)
        source.resume(checkpoint)
        self.client = source.http_client()

    def poll(self) -> tuple[list[Post], float | None]:
        before = len(self.sink.batches)
        wait = self.source.poll(self.ctx, self.client)
        batches = self.sink.batches[before:]
        assert len(batches) <= 1  # one batch per poll
        return [post for batch in batches for post in batch.posts], wait

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def fake() -> Iterator[tuple[FakeReddit, str]]:
    reddit = FakeReddit()
    with reddit.running() as url:
        yield reddit, url


@pytest.fixture
def poller_for(fake: tuple[FakeReddit, str]) -> Iterator[Callable[..., Poller]]:
    pollers: list[Poller] = []

    def build(
        checkpoint: str | None = None, clock: Clock | None = None, **overrides: Any
    ) -> Poller:
        source = RedditSource(make_settings(fake[1], **overrides), clock=clock)
        poller = Poller(source, checkpoint)
        pollers.append(poller)
        return poller

    yield build
    for poller in pollers:
        poller.close()


@contextmanager
def started(source: RedditSource, sink: ListSink, checkpoint: str | None = None) -> Iterator[None]:
    source.start(sink, checkpoint=checkpoint)
    try:
        yield
    finally:
        source.stop(timeout=5)


# --- parsing ---------------------------------------------------------------------------------


def test_a_poll_hands_over_submissions_and_comments_parsed(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    poller = poller_for()
    posts, wait = poller.poll()

    assert wait is None
    submissions, comments = frame("sysadmin_new"), frame("sysadmin_comments")
    by_id = {post.id: post for post in posts}
    # 12 submissions, and the 6 comments but for the deleted and the removed one
    assert len(posts) == len(by_id) == 16
    assert poller.source.health().skipped == 2
    assert [p.created_at for p in posts] == sorted(p.created_at for p in posts)  # oldest first

    first = submissions[-1]["data"]
    post = by_id[f"reddit:t3_{first['id']}"]
    assert post.created_at == datetime.fromtimestamp(first["created_utc"], UTC)
    assert post.created_at.tzinfo is not None
    assert post.source_name == "r/sysadmin"
    assert post.title == first["title"]
    assert post.text == f"{first['title']}\n\n{first['selftext']}"
    assert post.author_handle == first["author"]
    assert post.url == f"https://www.reddit.com{first['permalink']}"
    no_body = next(c["data"] for c in submissions if not c["data"]["selftext"])
    assert by_id[f"reddit:t3_{no_body['id']}"].text == no_body["title"]

    reply = next(c["data"] for c in comments if c["data"]["parent_id"].startswith("t1_"))
    post = by_id[f"reddit:t1_{reply['id']}"]
    assert post.text == "We're in Australia & it's down for us too > 30 min now."
    assert post.reply_to == f"reddit:{reply['parent_id']}"
    assert post.title == reply["link_title"]

    requests = reddit.seen()
    assert [r.path for r in requests] == [NEW, COMMENTS]
    assert all(r.query == {"limit": ["100"], "raw_json": ["1"]} for r in requests)
    assert all(r.headers["user-agent"] == USER_AGENT for r in requests)
    assert orjson.loads(poller.source.checkpoint() or "") == {
        "r/sysadmin/comments": comments[0]["data"]["id"],
        "r/sysadmin/new": submissions[0]["data"]["id"],
    }
    health = poller.source.health()
    assert (health.posts_total, health.errors, health.quarantined) == (16, 0, 0)


def test_comments_can_be_left_out(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    posts, _ = poller_for(comments=False).poll()
    assert {post.id.split("_")[0] for post in posts} == {"reddit:t3"}
    assert [r.path for r in reddit.seen()] == [NEW]


def test_a_first_start_takes_only_the_current_page(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    posts, _ = poller_for(comments=False, limit=5).poll()
    assert [post.id for post in posts] == [fullname(c) for c in reversed(frame("sysadmin_new")[:5])]
    assert len(reddit.seen()) == 1


# --- only new items, paging back, resuming ----------------------------------------------------


def test_the_next_poll_hands_over_only_new_items_oldest_first(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    children = frame("sysadmin_new")
    reddit.show(NEW, 5)
    poller = poller_for(comments=False)

    first, _ = poller.poll()
    reddit.show(NEW, 8)
    second, _ = poller.poll()
    third, _ = poller.poll()  # nothing new: an empty batch that keeps the checkpoint

    oldest_first = [fullname(c) for c in reversed(children)]
    assert [p.id for p in first] == oldest_first[:5]
    assert [p.id for p in second] == oldest_first[5:8]
    assert third == []
    assert len(poller.sink.batches) == 3
    assert poller.sink.batches[2].checkpoint == poller.sink.batches[1].checkpoint
    assert orjson.loads(poller.sink.batches[2].checkpoint or "") == {
        "r/sysadmin/new": children[-8]["data"]["id"]
    }


def test_a_burst_between_polls_is_read_back_with_after(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    children = frame("sysadmin_new")
    reddit.show(NEW, 2)
    poller = poller_for(comments=False, limit=5)
    poller.poll()
    reddit.show(NEW, 12)  # ten new: two whole pages, then the page that reaches the old ones

    posts, _ = poller.poll()

    assert [p.id for p in posts] == [fullname(c) for c in reversed(children[:10])]
    burst = reddit.seen()[1:]
    assert [r.query.get("after") for r in burst] == [
        None,
        [children[4]["data"]["name"]],
        [children[9]["data"]["name"]],
    ]
    assert all(r.query["limit"] == ["5"] for r in burst)


def test_paging_back_is_bounded(
    fake: tuple[FakeReddit, str],
    poller_for: Callable[..., Poller],
    caplog: pytest.LogCaptureFixture,
) -> None:
    reddit, _ = fake
    children = frame("sysadmin_new")
    reddit.show(NEW, 1)
    poller = poller_for(comments=False, limit=1)
    poller.poll()
    reddit.show(NEW, 12)  # 11 new, one per page: more pages than it reads back

    posts, _ = poller.poll()

    assert len(reddit.seen()) == 1 + 10
    assert [p.id for p in posts] == [fullname(c) for c in reversed(children[:10])]
    assert "more than 10 pages" in caplog.text


def test_a_restart_resumes_from_the_checkpoint_without_gaps_or_duplicates(
    fake: tuple[FakeReddit, str],
) -> None:
    reddit, url = fake
    settings = make_settings(url)
    reddit.show(NEW, 4)
    reddit.show(COMMENTS, 2)
    first, second = ListSink(), ListSink()

    source = RedditSource(settings)
    with started(source, first):
        assert len(first.wait_for_posts(5)) == 5  # 4 submissions, 1 comment (1 deleted)
    checkpoint = source.checkpoint()
    assert checkpoint is not None
    reddit.show(NEW, 12)
    reddit.show(COMMENTS, 6)

    resumed = RedditSource(settings)
    with started(resumed, second, checkpoint):
        assert len(second.wait_for_posts(11)) == 11  # 8 submissions, 3 comments (1 removed)
        assert wait_until(lambda: len(second.batches) >= 2)  # and a poll after that

    ids = [post.id for post in first.posts + second.posts]
    assert len(ids) == len(set(ids)) == 16
    assert set(ids) == {
        fullname(c)
        for c in frame("sysadmin_new") + frame("sysadmin_comments")
        if c["data"]["body" if c["kind"] == "t1" else "title"] not in ("[deleted]", "[removed]")
    }


@pytest.mark.parametrize(
    "checkpoint",
    ["not json", "[1, 2]", '{"r/sysadmin/new": "t3_!!"}', '{"r/other/new": "1gz8s6p"}'],
)
def test_an_unusable_checkpoint_starts_afresh(
    poller_for: Callable[..., Poller], checkpoint: str
) -> None:
    posts, _ = poller_for(checkpoint, comments=False, limit=3).poll()
    assert [p.id for p in posts] == [fullname(c) for c in reversed(frame("sysadmin_new")[:3])]


# --- rate limits ------------------------------------------------------------------------------


def test_a_used_up_rate_limit_holds_every_request_until_the_reset(
    fake: tuple[FakeReddit, str],
) -> None:
    reddit, url = fake
    reddit.limits.append(
        {"x-ratelimit-remaining": "0.0", "x-ratelimit-used": "100", "x-ratelimit-reset": "1"}
    )
    settings = make_settings(url, subreddits=["sysadmin", "teslamotors"], comments=False)
    source = RedditSource(settings)
    sink = ListSink()

    with started(source, sink):
        assert wait_until(lambda: len(reddit.seen()) >= 4, timeout=5)

    requests = reddit.seen()
    # sysadmin answered but used the limit up; teslamotors waits for the reset, then goes first
    assert [r.path for r in requests[:3]] == [NEW, TESLA, NEW]
    assert requests[1].at - requests[0].at >= 0.95
    first, second = sink.batches[0].posts, sink.batches[1].posts
    assert {p.source_name for p in first} == {"r/sysadmin"}
    assert {p.source_name for p in second} == {"r/teslamotors"}
    assert source.health().errors == 0


def test_a_poll_returns_the_wait_until_the_reset(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    reddit.limits.append({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "2"})
    poller = poller_for(subreddits=["sysadmin", "teslamotors"], comments=False)

    _, wait = poller.poll()
    held, held_wait = poller.poll()  # too early: no request at all

    assert wait is not None and 1.5 < wait <= 2.0
    assert held == [] and held_wait is not None and 0 < held_wait <= 2.0
    assert [r.path for r in reddit.seen()] == [NEW]


@pytest.mark.parametrize("retry_after", ["1", "1.0"])
def test_429_honours_retry_after_and_counts_an_error(
    fake: tuple[FakeReddit, str], retry_after: str
) -> None:
    reddit, url = fake
    reddit.fail(
        NEW,
        Answer(
            429, b'{"message": "Too Many Requests", "error": 429}', {"retry-after": retry_after}
        ),
    )
    source = RedditSource(make_settings(url, comments=False))
    sink = ListSink()

    with started(source, sink):
        posts = sink.wait_for_posts(12, timeout=5)
        health = source.health()

    requests = reddit.seen()
    assert len(posts) == 12
    assert requests[1].at - requests[0].at >= 0.95  # not one request during the Retry-After
    assert health.errors == 1
    assert health.consecutive_errors == 0  # the answer after it reset the run
    assert health.last_error is not None and "429" in health.last_error


@pytest.mark.parametrize("retry_after", ["5", "Mon, 25 Nov 2024 09:00:05 GMT"])
def test_429_holds_back_the_other_listings_too(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller], retry_after: str
) -> None:
    reddit, _ = fake
    reddit.fail(NEW, Answer(429, b"", {"retry-after": retry_after}))
    poller = poller_for(clock=FixedClock(datetime(2024, 11, 25, 9, 0, tzinfo=UTC)))

    posts, wait = poller.poll()

    assert posts == []
    assert wait is not None and 4 < wait <= 5
    assert [r.path for r in reddit.seen()] == [NEW]  # comments.json waits as well
    assert poller.source.health().errors == 1


# --- errors and malformed answers --------------------------------------------------------------


def test_a_failing_server_is_counted_and_flagged_then_recovers(
    fake: tuple[FakeReddit, str],
) -> None:
    reddit, url = fake
    reddit.fail(NEW, *[Answer(503, b"<html>Service Unavailable</html>")] * 4)
    source = RedditSource(make_settings(url, comments=False, failing_after_errors=3))
    sink = ListSink()
    seen: list[SourceHealth] = []

    def failing() -> bool:
        seen.append(source.health())
        return seen[-1].status == "failing"

    with started(source, sink):
        assert wait_until(failing, timeout=5)
        assert len(sink.wait_for_posts(12, timeout=5)) == 12  # after the fourth 503
        recovered = source.health()

    flagged = seen[-1]
    assert flagged.errors >= 3 and flagged.consecutive_errors >= 3
    assert flagged.last_error is not None and "503" in flagged.last_error
    assert recovered.errors == 4
    assert recovered.consecutive_errors == 0
    assert recovered.status == "ok"


def test_one_failing_listing_does_not_stop_the_others(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    reddit.fail(NEW, Answer(500, b"Internal Server Error"))
    poller = poller_for(subreddits=["sysadmin", "teslamotors"], comments=False)

    posts, _ = poller.poll()
    again, _ = poller.poll()  # the failed listing is read again, from where it was

    assert {p.source_name for p in posts} == {"r/teslamotors"}
    assert len(again) == 12 and {p.source_name for p in again} == {"r/sysadmin"}
    health = poller.source.health()
    assert (health.errors, health.quarantined) == (1, 0)
    assert health.consecutive_errors == 0


def test_a_poll_where_every_listing_fails_raises(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    reddit.fail(NEW, Answer(502))
    reddit.fail(COMMENTS, Answer(504))
    poller = poller_for()

    with pytest.raises(FeedError, match="every listing failed") as raised:
        poller.poll()

    assert "502" in str(raised.value) and "504" in str(raised.value)
    assert poller.sink.batches == []
    assert poller.source.health().errors == 0  # the session loop counts the raised one


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!doctype html><html><title>reddit.com: over capacity</title></html>", "invalid_json"),
        (b'{"kind": "Listing", "data": {"children": "none"}}', "invalid_listing"),
        (b'{"message": "Forbidden", "reason": "private"}', "invalid_listing"),
        (b"[]", "invalid_listing"),
    ],
)
def test_a_malformed_listing_is_quarantined_while_the_other_subreddit_goes_on(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller], body: bytes, reason: str
) -> None:
    reddit, _ = fake
    reddit.fail(NEW, Answer(200, body))
    poller = poller_for(subreddits=["sysadmin", "teslamotors"], comments=False)

    posts, _ = poller.poll()

    assert [p.id for p in posts] == [fullname(c) for c in reversed(frame("teslamotors_new"))]
    [refused] = poller.quarantined
    assert (refused.file, refused.reason) == ("reddit-test", reason)
    assert refused.raw == body.decode()
    health = poller.source.health()
    assert (health.quarantined, health.errors) == (1, 0)
    assert orjson.loads(poller.source.checkpoint() or "") == {
        "r/teslamotors/new": frame("teslamotors_new")[0]["data"]["id"]
    }


def test_a_malformed_child_is_quarantined_and_the_others_handed_over(
    fake: tuple[FakeReddit, str], poller_for: Callable[..., Poller]
) -> None:
    reddit, _ = fake
    children = reddit.children[TESLA] = copy.deepcopy(frame("teslamotors_new"))
    del children[1]["data"]["created_utc"]
    children[2]["data"] = "not an object"
    poller = poller_for(subreddits=["teslamotors"], comments=False)

    posts, _ = poller.poll()

    assert [p.id for p in posts] == [fullname(children[3]), fullname(children[0])]
    assert sorted(q.reason for q in poller.quarantined) == ["invalid_record", "missing_timestamp"]
    assert poller.source.health().quarantined == 2
