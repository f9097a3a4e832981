"""Bluesky: Jetstream events and AppView post views."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from detector.errors import RecordError
from detector.ingest.base import Skipped
from detector.ingest.bluesky import BlueskyParser
from tests.factories import read_items, write_jsonl
from tests.ingest import payloads as P

POST_URI = f"at://{P.DID}/app.bsky.feed.post/3l3qo2vuowo2b"


@pytest.fixture
def parser() -> BlueskyParser:
    return BlueskyParser()


def test_jetstream_create(parser):
    [post] = parser.parse(P.JETSTREAM_POST)
    assert post.id == f"bluesky:{POST_URI}"
    assert post.created_at == datetime(2024, 9, 9, 19, 46, 2, 102000, tzinfo=UTC)
    assert post.text == "is bluesky down? feed won't load"
    assert post.lang == "en"
    assert post.author_id == P.DID
    assert post.author_handle is None  # Jetstream has no handles
    assert post.url == f"https://bsky.app/profile/{P.DID}/post/3l3qo2vuowo2b"
    assert post.reply_to is None and post.quote_of is None
    assert post.extra["time_us"] == 1725911162329308


def test_jetstream_reply(parser):
    [post] = parser.parse(P.JETSTREAM_REPLY)
    assert post.reply_to == f"bluesky:{POST_URI}"
    assert post.lang is None


@pytest.mark.parametrize("event", [P.JETSTREAM_QUOTE, P.JETSTREAM_QUOTE_WITH_MEDIA])
def test_jetstream_quotes(parser, event):
    [post] = parser.parse(event)
    assert post.quote_of == f"bluesky:{P.QUOTED_URI}"


def test_created_at_falls_back_to_time_us(parser):
    [post] = parser.parse(P.JETSTREAM_NO_CREATED_AT)
    assert post.created_at == datetime(2024, 9, 9, 19, 46, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (P.JETSTREAM_DELETE, "delete_operation"),
        (P.JETSTREAM_LIKE, "not_a_post"),
        (P.JETSTREAM_IDENTITY, "identity_event"),
        (P.JETSTREAM_ACCOUNT, "account_event"),
    ],
)
def test_non_post_events_are_skipped(parser, event, reason):
    assert parser.parse(event) == Skipped(reason)


def test_post_view_emits_the_quoted_post(parser):
    post, quoted = parser.parse(P.BSKY_POST_VIEW)
    assert post.id == f"bluesky:{P.BSKY_POST_VIEW['uri']}"
    assert post.author_handle == "bsky.app"
    assert post.lang == "en"
    assert post.created_at == datetime(2024, 2, 1, 10, tzinfo=UTC)
    assert post.quote_of == f"bluesky:{P.QUOTED_URI}"
    assert quoted.id == f"bluesky:{P.QUOTED_URI}"
    assert quoted.author_id == P.OTHER_DID
    assert quoted.author_handle == "jay.bsky.team"
    assert quoted.text == "feeds are not loading for me"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e["commit"]["record"].pop("text"), "missing_text"),
        (lambda e: e["commit"]["record"].update(createdAt="2024-02-30T00:00:00Z"), "bad_timestamp"),
        (lambda e: e["commit"].pop("rkey"), "missing_id"),
    ],
)
def test_malformed_events(parser, mutate, reason):
    event = copy.deepcopy(P.JETSTREAM_POST)
    mutate(event)
    with pytest.raises(RecordError) as info:
        parser.parse(event)
    assert info.value.reason == reason


def test_sniff():
    for record in (
        P.JETSTREAM_POST,
        P.JETSTREAM_IDENTITY,
        P.BSKY_POST_VIEW,
        P.BSKY_SEARCH_RESPONSE,
    ):
        assert BlueskyParser.sniff(record)
    assert not BlueskyParser.sniff(P.MASTODON_STATUS)


def test_jetstream_file_end_to_end(tmp_path):
    path = write_jsonl(
        tmp_path / "jetstream.jsonl",
        P.JETSTREAM_IDENTITY,
        P.JETSTREAM_POST,
        P.JETSTREAM_LIKE,
        P.JETSTREAM_REPLY,
        P.JETSTREAM_DELETE,
        P.JETSTREAM_ACCOUNT,
    )
    posts, skipped, quarantined = read_items(path)
    assert len(posts) == 2
    assert [s.reason for s in skipped] == [
        "identity_event",
        "not_a_post",
        "delete_operation",
        "account_event",
    ]
    assert quarantined == []


def test_search_posts_response_document(tmp_path):
    path = tmp_path / "search.json"
    path.write_text(json.dumps(P.BSKY_SEARCH_RESPONSE, indent=2))
    posts, _, quarantined = read_items(path)
    assert [p.text for p in posts] == [
        "We're investigating an outage affecting feeds",
        "feeds are not loading for me",
        "fixed now",
    ]
    assert quarantined == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kind": "sync"}, "unknown_event"),
        ({"kind": {"nested": 1}}, "unknown_event"),
        ({"kind": None}, "unknown_event"),
        (
            {"commit": {"operation": 7, "collection": "app.bsky.feed.post", "rkey": "x"}},
            "unknown_operation",
        ),
    ],
)
def test_skip_reasons_are_a_closed_set(parser, change, reason):
    # Skip reasons are counted per reason: data must never leak into them.
    assert parser.parse({**P.JETSTREAM_POST, **change}) == Skipped(reason)
