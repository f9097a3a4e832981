"""The feed source against a forum on loopback serving recorded RSS, Atom and Discourse JSON."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from detector.ingest.base import Quarantined
from detector.ingest.live.base import SourceContext
from detector.ingest.live.feeds import FeedSource
from detector.ingest.live.settings import FeedSettings
from tests.ingest.live.forum_server import (
    LAST_MODIFIED,
    Forum,
    frame,
    rss_without,
)
from tests.ingest.live.sinks import ListSink, wait_until


@pytest.fixture
def forum() -> Iterator[Forum]:
    with Forum().running() as running:
        yield running


def make_source(forum: Forum, path: str, **overrides: Any) -> FeedSource:
    settings: dict[str, Any] = {
        "name": "evowners",
        "url": forum.base + path,
        "interval_seconds": 0.1,
        "backoff_seconds": 0.05,
        "max_backoff_seconds": 0.4,
        "silent_after_seconds": 3600,
        **overrides,
    }
    return FeedSource(FeedSettings(**settings), seed=7)


@contextmanager
def reading(
    source: FeedSource,
    sink: ListSink,
    *,
    checkpoint: str | None = None,
    quarantine: Callable[[Quarantined], None] | None = None,
) -> Iterator[FeedSource]:
    source.start(sink, checkpoint=checkpoint, quarantine=quarantine)
    try:
        yield source
    finally:
        source.stop(timeout=5)


def native_ids(posts: list[Any]) -> list[str]:
    return [post.id.rsplit(":", 1)[-1].rsplit("-", 1)[-1] for post in posts]


# --- RSS and Atom ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_name", "expected"), [(None, "127.0.0.1"), ("evowners-forum", "evowners-forum")]
)
def test_rss_items_become_forum_posts_oldest_first(
    forum: Forum, source_name: str | None, expected: str
) -> None:
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml; charset=utf-8")
    sink = ListSink()
    with reading(make_source(forum, "/posts.rss", source_name=source_name), sink):
        posts = sink.wait_for_posts(4)
    assert len(sink.batches) == 1  # one batch per poll
    assert [p.id for p in posts] == [
        f"forum:{expected}:community.evowners.example-post-{n}"
        for n in (20902, 20941, 20944, 20950)
    ]
    assert {p.source_name for p in posts} == {expected}
    newest = posts[-1]
    # the quoted post and Discourse's "Read full topic" trailer are not the author's words
    assert newest.text == (
        "Same here in Denver, app has been spinning for 20 minutes. Phone key still works."
    )
    assert newest.title == "App says vehicle unavailable"
    assert newest.author_handle == "sparky_ev"
    assert newest.url == "https://community.evowners.example/t/app-says-vehicle-unavailable/4821/7"
    assert newest.created_at == datetime(2024, 3, 2, 9, 16, 40, tzinfo=UTC)
    # "Sat, 02 Mar 2024 10:13:05 +0100" read as UTC
    assert posts[2].created_at == datetime(2024, 3, 2, 9, 13, 5, tzinfo=UTC)
    assert posts[2].text.startswith("Tried three stalls in Leeds, all say payment method declined")


def test_atom_entries_become_forum_posts(forum: Forum) -> None:
    forum.serve("/app.php/feed", frame("feed_atom.xml"), "application/atom+xml")
    sink = ListSink()
    with reading(make_source(forum, "/app.php/feed", format="atom", source_name="ioniq"), sink):
        posts = sink.wait_for_posts(3)
    link = "https://forum.ioniqowners.example/viewtopic.php?p={0}#p{0}"
    assert [p.id for p in posts] == [f"forum:ioniq:{link.format(n)}" for n in (98431, 98760, 98765)]
    maintenance, question, reply = posts
    # published, not the later edit, dates an entry; +01:00 is converted to UTC
    assert maintenance.created_at == datetime(2024, 2, 28, 12, 0, tzinfo=UTC)
    assert reply.created_at == datetime(2024, 3, 2, 9, 20, 11, tzinfo=UTC)
    assert reply.created_at.tzinfo is UTC
    assert reply.title == "Connected services • Re: Bluelink app login failing"  # type="html"
    assert reply.text == (
        "Yes, login fails with error 1001 since about nine. Remote climate does nothing."
    )
    assert (
        question.text
        == 'Is Bluelink down for anyone else? The app says "server error" after login.'
    )
    assert (reply.author_handle, reply.url, reply.lang) == ("kwatts", link.format(98765), "en-gb")
    assert reply.extra["tags"] == ["Connected services"]


def test_the_second_poll_is_conditional_and_a_304_hands_over_nothing(forum: Forum) -> None:
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
    sink = ListSink()
    with reading(make_source(forum, "/posts.rss"), sink) as source:
        sink.wait_for_posts(4)
        assert wait_until(lambda: len(forum.requests) >= 3)
        first_answered = source.health().last_received_at
        assert wait_until(lambda: len(forum.requests) >= 4)
        health = source.health()
    assert "if-none-match" not in forum.headers(0)
    assert forum.headers(1)["if-none-match"].startswith('"')
    assert forum.headers(1)["if-modified-since"] == LAST_MODIFIED
    assert len(sink.batches) == 1 and len(sink.posts) == 4
    assert health.last_received_at is not None and first_answered is not None
    assert health.last_received_at >= first_answered  # a 304 still shows the forum alive
    assert health.errors == 0 and health.posts_total == 4
    assert orjson.loads(health.checkpoint or "")["modified"] == LAST_MODIFIED


def test_repeated_entries_are_handed_over_once_and_new_ones_in_the_next_poll(forum: Forum) -> None:
    recorded = frame("feed_rss.xml")
    forum.serve("/posts.rss", rss_without(recorded, 0), "application/rss+xml")
    sink = ListSink()
    with reading(make_source(forum, "/posts.rss"), sink):
        sink.wait_for_posts(3)
        forum.serve("/posts.rss", recorded, "application/rss+xml")  # one new, three repeated
        sink.wait_for_posts(4)
        polls = len(forum.requests)
        assert wait_until(lambda: len(forum.requests) >= polls + 2)
    assert [native_ids(list(batch.posts)) for batch in sink.batches] == [
        ["20902", "20941", "20944"],
        ["20950"],
    ]


def test_resuming_from_a_checkpoint_neither_repeats_nor_skips(forum: Forum) -> None:
    recorded = frame("feed_rss.xml")
    forum.serve("/posts.rss", rss_without(recorded, 0), "application/rss+xml")
    first = ListSink()
    with reading(make_source(forum, "/posts.rss"), first) as source:
        first.wait_for_posts(3)
    checkpoint = source.checkpoint()
    assert checkpoint is not None and len(checkpoint) < 1000  # compact: ids kept as digests

    # While the source was stopped the forum gained a post.
    forum.serve("/posts.rss", recorded, "application/rss+xml")
    second = ListSink()
    before = len(forum.requests)
    with reading(make_source(forum, "/posts.rss"), second, checkpoint=checkpoint) as resumed:
        second.wait_for_posts(1)
        assert wait_until(lambda: len(forum.requests) >= before + 3)
    assert native_ids(second.posts) == ["20950"]
    assert forum.headers(before)["if-none-match"]  # the validators were restored too

    # Nothing changed since: the restarted source is answered 304 and hands over nothing.
    third = ListSink()
    before = len(forum.requests)
    with reading(make_source(forum, "/posts.rss"), third, checkpoint=resumed.checkpoint()) as last:
        assert wait_until(lambda: len(forum.requests) >= before + 3)
        assert last.health().last_received_at is not None
    assert third.posts == []


def test_a_malformed_entry_is_quarantined_once_while_the_others_go_on(forum: Forum) -> None:
    recorded = frame("feed_rss.xml")
    undated = re.sub(rb"<pubDate>Sat, 02 Mar 2024 09:11:18 \+0000</pubDate>", b"", recorded)
    forum.serve("/posts.rss", rss_without(undated, 0), "application/rss+xml")
    refused: list[Quarantined] = []
    sink = ListSink()
    with reading(make_source(forum, "/posts.rss"), sink, quarantine=refused.append) as source:
        sink.wait_for_posts(2)
        forum.serve("/posts.rss", undated, "application/rss+xml")  # the feed repeats it
        sink.wait_for_posts(3)
        polls = len(forum.requests)
        assert wait_until(lambda: len(forum.requests) >= polls + 2)
        health = source.health()
    assert native_ids(sink.posts) == ["20902", "20944", "20950"]
    assert [(q.file, q.reason, q.field) for q in refused] == [
        ("evowners", "missing_timestamp", "published")
    ]
    assert "community.evowners.example-post-20941" in refused[0].raw
    assert (health.quarantined, health.errors) == (1, 0)


def test_an_answer_that_is_not_a_feed_is_quarantined_and_counted_as_failing(forum: Forum) -> None:
    login = b"<!DOCTYPE html><html><body><form action='/login'>Sign in</form></body></html>"
    forum.serve("/posts.rss", login, "text/html")
    refused: list[Quarantined] = []
    sink = ListSink()
    with reading(make_source(forum, "/posts.rss"), sink, quarantine=refused.append) as source:
        assert wait_until(lambda: source.health().status == "failing")
        failing = source.health()
        forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
        sink.wait_for_posts(4)
        recovered = source.health()
    assert {q.reason for q in refused} == {"invalid_feed"}
    assert "Sign in" in refused[0].raw
    assert failing.consecutive_errors >= 3 and failing.last_error is not None
    assert recovered.status == "ok" and recovered.consecutive_errors == 0


def test_a_server_error_is_counted_and_backed_off_until_the_forum_is_back(forum: Forum) -> None:
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
    forum.status = 503
    sink = ListSink()
    with reading(make_source(forum, "/posts.rss"), sink) as source:
        assert wait_until(lambda: len(forum.requests) >= 5)
        failing = source.health()
        forum.status = 200
        sink.wait_for_posts(4)
        recovered = source.health()
    gaps = [b - a for a, b in zip(forum.times(), forum.times()[1:], strict=False)][:4]
    assert failing.status == "failing" and failing.errors >= 4
    assert failing.last_error is not None and "503" in failing.last_error
    assert not failing.connected
    # The waits double (with jitter of at most half): the fourth is at least 0.5 * 0.4 s,
    # twice the 0.1 s poll interval, and longer than the first.
    assert gaps[3] >= 0.19 > gaps[0]
    assert recovered.status == "ok" and recovered.consecutive_errors == 0
    assert len(sink.posts) == 4


def test_ids_forgotten_past_the_limit_still_keep_old_entries_out(forum: Forum) -> None:
    """Driven poll by poll through a context built around the sink, without the thread."""

    def feed(items: list[tuple[str, datetime]]) -> bytes:
        rows = "".join(
            f'<item><guid isPermaLink="false">{guid}</guid>'
            f"<title>t</title><description>power out</description>"
            f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
            for guid, when in items
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel>{rows}</channel></rss>'.encode()

    start = datetime(2024, 3, 1, tzinfo=UTC)
    many = [(f"p{n}", start + timedelta(minutes=n)) for n in range(510)]
    source = make_source(forum, "/posts.rss")
    sink = ListSink()
    ctx = SourceContext(source, sink)
    source.resume(None)
    with source.http_client() as client:
        forum.serve("/posts.rss", feed(many), "application/rss+xml")
        source.poll(ctx, client)
        late = [("late-but-old", start + timedelta(minutes=3)), ("new", start + timedelta(days=1))]
        forum.serve("/posts.rss", feed(late + many[:2]), "application/rss+xml")
        source.poll(ctx, client)
    assert len(sink.batches[0].posts) == 510
    # p0 and p1 were forgotten, yet they and an unknown entry older than them stay out.
    assert native_ids(list(sink.batches[1].posts)) == ["new"]
    assert len(orjson.loads(source.checkpoint() or "")["seen"]) == 500


def test_stop_ends_a_poll_waiting_for_a_hung_server_at_once(forum: Forum) -> None:
    """A poll blocked on a server that does not answer ends when the source is stopped, not
    when its 30-second timeout runs out: ``listen`` exits promptly on Ctrl-C."""
    forum.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml; charset=utf-8")
    sink = ListSink()
    source = make_source(forum, "/posts.rss", timeout_seconds=30)
    source.start(sink)
    try:
        sink.wait_for_posts(4)
        forum.stall()
        polled = len(forum.paths())
        assert wait_until(lambda: len(forum.paths()) > polled)  # a poll is waiting
        began = time.monotonic()
        source.stop(timeout=5)
        took = time.monotonic() - began
    finally:
        source.stop(timeout=5)
        forum.resume()
    assert source.health().status == "stopped"
    assert took < 2.0
    assert source.health().errors == 0  # being stopped is not a failure of the feed


# --- Discourse -------------------------------------------------------------------------------


def discourse_listing_before() -> dict[str, Any]:
    """The recorded listing as it stood before topic 4830 was opened and 4821 got two posts."""
    listing: dict[str, Any] = orjson.loads(frame("discourse_latest.json"))
    topics = listing["topic_list"]["topics"]
    topics[:] = [t for t in topics if t["id"] != 4830]
    bumped = topics[0]
    assert bumped["id"] == 4821
    bumped.update(
        posts_count=5,
        highest_post_number=5,
        last_posted_at="2024-03-02T09:02:44.310Z",
        bumped_at="2024-03-02T09:02:44.310Z",
    )
    return listing


def test_discourse_hands_over_only_the_new_posts_of_bumped_topics(forum: Forum) -> None:
    forum.serve("/latest.json", orjson.dumps(discourse_listing_before()), "application/json")
    for topic in (4821, 4830):
        forum.serve(f"/t/{topic}", frame(f"discourse_topic_{topic}.json"), "application/json")
    sink = ListSink()
    with reading(make_source(forum, "/latest.json", source_name="evowners"), sink) as source:
        assert wait_until(
            lambda: len(sink.batches) >= 1
        )  # the first listing only sets the baseline
        baseline = list(sink.batches)
        forum.serve("/latest.json", frame("discourse_latest.json"), "application/json")
        posts = sink.wait_for_posts(4)
        polls = len(forum.requests)
        assert wait_until(lambda: len(forum.requests) >= polls + 2)
        health = source.health()
    assert baseline[0].posts == () and baseline[0].checkpoint is not None
    fetched = [path for path in forum.paths() if path.startswith("/t/")]
    # 4821 from the post after the five read before; 4830 is new: all of it; 4790 untouched
    assert fetched == [
        "/t/app-says-vehicle-unavailable/4821/6.json",
        "/t/supercharger-payment-declined-at-every-stall/4830/1.json",
    ]
    assert [p.id for p in posts] == [
        "forum:evowners:20941",
        "forum:evowners:20944",
        "forum:evowners:20950",
        "forum:evowners:20957",
    ]
    reply = posts[2]
    assert reply.text == (
        "Same here in Denver, app has been spinning for 20 minutes. Phone key still works."
    )
    assert reply.title == "App says vehicle unavailable"
    assert reply.author_handle == "sparky_ev" and reply.reply_to == "forum:evowners:20914"
    assert reply.created_at == datetime(2024, 3, 2, 9, 16, 40, 907000, tzinfo=UTC)
    assert reply.url == f"{forum.base}/t/app-says-vehicle-unavailable/4821/7"
    assert len(sink.posts) == 4 and health.errors == 0
    topics = orjson.loads(health.checkpoint or "")["topics"]
    assert sorted(map(tuple, topics)) == [(4790, 12), (4821, 7), (4830, 2)]
