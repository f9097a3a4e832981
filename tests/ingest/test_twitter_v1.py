"""Twitter API v1.1 statuses from streaming dumps."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from detector.errors import RecordError
from detector.ingest.base import Skipped
from detector.ingest.twitter_v1 import TwitterV1Parser
from detector.models import GeoPoint, SourceKind
from tests.factories import read_items, tweet_v1, write_jsonl
from tests.ingest import payloads as P


@pytest.fixture
def parser() -> TwitterV1Parser:
    return TwitterV1Parser()


def test_plain_status_fields(parser):
    [post] = parser.parse(P.TWEET_V1)
    assert post.id == "twitter:908829577473720320"
    assert post.source_kind is SourceKind.TWITTER
    assert post.source_name == "twitter"
    assert post.created_at == datetime(2017, 9, 16, 0, 35, 29, tzinfo=UTC)
    assert post.text == "@TeslaSupport app down & can't unlock <again> https://t.co/abc"
    assert post.lang == "en"
    assert post.author_id == "17919972"
    assert post.author_handle == "ana_in_sydney"
    assert post.author_location == "Sydney, NSW"
    assert post.url == "https://twitter.com/ana_in_sydney/status/908829577473720320"
    assert post.reply_to == "twitter:908829000000000000"
    assert post.quote_of is None and post.repost_of is None


def test_geojson_coordinates_are_lon_lat(parser):
    [post] = parser.parse(P.TWEET_V1)
    assert post.coordinates == GeoPoint(lat=-33.87, lon=151.2)


def test_place(parser):
    [post] = parser.parse(P.TWEET_V1)
    assert post.place is not None
    assert post.place.full_name == "Sydney, New South Wales"
    assert post.place.country_code == "AU"
    assert post.place.place_type == "city"
    assert post.place.id == "0073b76548e5984f"


def test_unconsumed_fields_kept_in_extra(parser):
    [post] = parser.parse(P.TWEET_V1)
    assert post.extra["timestamp_ms"] == "1505522129000"
    assert post.extra["user"] == {"name": "Ana", "followers_count": 120, "verified": False}
    assert "text" not in post.extra and "coordinates" not in post.extra


def test_extended_tweet_full_text_wins_over_truncated_text(parser):
    [post] = parser.parse(P.TWEET_V1_EXTENDED)
    assert post.text.endswith("second time this week & support is not answering #TeslaDown")
    assert "…" not in post.text
    assert post.author_location is None
    assert post.coordinates is None and post.place is None


def test_rest_full_text_mode():
    record = tweet_v1("5", "", full_text="full text from tweet_mode=extended")
    del record["text"]
    [post] = TwitterV1Parser().parse(record)
    assert post.text == "full text from tweet_mode=extended"


def test_retweet_rebuilds_text_and_emits_original(parser):
    retweet, original = parser.parse(P.TWEET_V1_RETWEET)
    assert retweet.id == "twitter:1461814000000000000"
    assert retweet.repost_of == "twitter:1461812345678901248"
    assert retweet.is_repost
    assert retweet.text.startswith("RT @carl: Tesla app has been down")
    assert retweet.text.endswith("#TeslaDown")  # from the original's extended_tweet
    assert retweet.author_handle == "dora"
    assert original.id == "twitter:1461812345678901248"
    assert original.author_handle == "carl"
    assert not original.is_repost


def test_quote_links_and_emits_quoted(parser):
    quote, quoted = parser.parse(P.TWEET_V1_QUOTE)
    assert quote.quote_of == "twitter:1461812345678901248"
    assert quote.text == "Same here in Toronto https://t.co/q"
    assert quote.lang is None  # "und"
    assert quote.created_at == datetime(2021, 11, 20, 2, 20, tzinfo=UTC)  # -0500 -> UTC
    assert quoted.id == "twitter:1461812345678901248"


def test_broken_embedded_original_does_not_lose_the_status(parser):
    record = copy.deepcopy(P.TWEET_V1_QUOTE)
    record["quoted_status"]["created_at"] = "garbage"
    posts = parser.parse(record)
    assert [p.id for p in posts] == ["twitter:1461816000000000000"]


@pytest.mark.parametrize(
    ("notice", "reason"), [(P.DELETE_V1, "delete_notice"), (P.LIMIT_V1, "limit_notice")]
)
def test_stream_notices_are_skipped(parser, notice, reason):
    assert parser.parse(notice) == Skipped(reason)


def test_sniff():
    assert TwitterV1Parser.sniff(P.TWEET_V1)
    assert TwitterV1Parser.sniff(P.DELETE_V1)
    assert not TwitterV1Parser.sniff(P.TWEET_V2)
    assert not TwitterV1Parser.sniff(P.REDDIT_COMMENT)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: r.pop("created_at"), "missing_timestamp"),
        (lambda r: r.update(created_at="Wed Nov 31 10:00:00 +0000 2021"), "bad_timestamp"),
        (lambda r: (r.pop("id"), r.pop("id_str")), "missing_id"),
        (lambda r: r.update(text="   "), "missing_text"),
    ],
)
def test_malformed_status_raises_record_error(parser, mutate, reason):
    record = copy.deepcopy(P.TWEET_V1)
    mutate(record)
    with pytest.raises(RecordError) as info:
        parser.parse(record)
    assert info.value.reason == reason


def test_source_name_override():
    [post] = TwitterV1Parser(source_name="tesla-stream").parse(P.TWEET_V1)
    assert post.source_name == "tesla-stream"


def test_stream_dump_end_to_end(tmp_path):
    path = write_jsonl(
        tmp_path / "stream.jsonl",
        P.TWEET_V1,
        P.DELETE_V1,
        P.TWEET_V1_RETWEET,
        P.LIMIT_V1,
        P.TWEET_V1_QUOTE,
    )
    posts, skipped, quarantined = read_items(path)
    assert [p.id for p in posts] == [
        "twitter:908829577473720320",
        "twitter:1461814000000000000",
        "twitter:1461812345678901248",
        "twitter:1461816000000000000",
        "twitter:1461812345678901248",
    ]
    assert skipped == [Skipped("delete_notice"), Skipped("limit_notice")]
    assert quarantined == []
