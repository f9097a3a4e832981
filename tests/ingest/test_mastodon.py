"""Mastodon statuses (REST / streaming API)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from detector.errors import RecordError
from detector.ingest.mastodon import MastodonParser
from tests.factories import read_items, write_jsonl
from tests.ingest import payloads as P


@pytest.fixture
def parser() -> MastodonParser:
    return MastodonParser()


def test_local_status(parser):
    [post] = parser.parse(P.MASTODON_STATUS)
    assert post.id == "mastodon:https://mastodon.social/users/alice/statuses/109372844412345678"
    assert post.source_name == "mastodon.social"
    assert post.created_at == datetime(2022, 11, 19, 21, 3, 12, tzinfo=UTC)
    assert post.text == "Is @github down?\nPushes fail with 503 & the UI is slow\nsince 21:00 UTC"
    assert post.lang == "en"
    assert post.author_handle == "alice@mastodon.social"  # local acct qualified with its host
    assert post.author_id == "https://mastodon.social/@alice"
    assert post.url == "https://mastodon.social/@alice/109372844412345678"
    assert post.title is None  # empty spoiler_text
    assert post.extra["visibility"] == "public"


def test_remote_status_with_content_warning(parser):
    [post] = parser.parse(P.MASTODON_REMOTE)
    assert post.author_handle == "bob@fosstodon.org"
    assert post.source_name == "fosstodon.org"
    assert post.title == "github outage"
    assert post.text == "Bei mir auch, git push hängt"


def test_boost_is_a_repost_and_emits_the_original(parser):
    boost, original = parser.parse(P.MASTODON_BOOST)
    assert original.id == "mastodon:https://fosstodon.org/users/bob/statuses/109372800000000000"
    assert boost.repost_of == original.id
    assert boost.is_repost and not original.is_repost
    assert boost.text == original.text
    assert boost.author_handle == "carol@mastodon.social"
    assert boost.url == P.MASTODON_BOOST["uri"]  # url is null on boosts


def test_same_status_from_two_instances_has_one_id(parser):
    seen_elsewhere = {
        **P.MASTODON_REMOTE,
        "id": "1",
        "url": "https://mastodon.social/@bob@fosstodon.org/1",
    }
    assert parser.parse(seen_elsewhere)[0].id == parser.parse(P.MASTODON_REMOTE)[0].id


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: r.pop("created_at"), "missing_timestamp"),
        (lambda r: (r.pop("uri"), r.pop("url")), "missing_id"),
        (lambda r: r.update(content="<p> </p>"), "missing_text"),
    ],
)
def test_malformed_status(parser, mutate, reason):
    record = copy.deepcopy(P.MASTODON_STATUS)
    mutate(record)
    with pytest.raises(RecordError) as info:
        parser.parse(record)
    assert info.value.reason == reason


def test_sniff_and_end_to_end(tmp_path):
    assert MastodonParser.sniff(P.MASTODON_STATUS)
    assert not MastodonParser.sniff(P.TWEET_V1)
    path = write_jsonl(tmp_path / "timeline.jsonl", P.MASTODON_STATUS, P.MASTODON_BOOST)
    posts, skipped, quarantined = read_items(path)
    assert len(posts) == 3 and skipped == [] and quarantined == []
