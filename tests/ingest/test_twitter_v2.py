"""Twitter API v2 responses (data + includes), stream lines and twarc2-flattened tweets."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from detector.errors import RecordError
from detector.ingest.twitter_v2 import TwitterV2Parser
from detector.models import GeoPoint
from tests.factories import read_items, write_jsonl
from tests.ingest import payloads as P


def _posts(document):
    parser = TwitterV2Parser()
    out = []
    for record in parser.expand(document):
        out.extend(parser.parse(record))
    return out


def test_response_joins_authors_places_and_emits_included_tweets():
    posts = _posts(P.V2_RESPONSE)
    assert [p.id for p in posts] == [
        "twitter:1593015346234220544",
        "twitter:1593015999999999999",
        "twitter:1593000000000000000",  # from includes.tweets; the duplicate is dropped
    ]
    tweet = posts[0]
    assert tweet.text == "@AskPlayStation can't sign in & store won't load"
    assert tweet.created_at == datetime(2022, 11, 16, 23, 59, 59, tzinfo=UTC)
    assert tweet.author_id == "783214"
    assert tweet.author_handle == "Twitter"
    assert tweet.author_location == "everywhere"
    assert tweet.coordinates == GeoPoint(lat=40.73, lon=-73.99)
    assert tweet.place is not None and tweet.place.full_name == "Manhattan, NY"
    assert tweet.quote_of == "twitter:1593000000000000000"
    assert tweet.url == "https://twitter.com/Twitter/status/1593015346234220544"
    assert tweet.extra["edit_history_tweet_ids"] == ["1593015346234220544"]
    quoted = posts[2]
    assert quoted.author_handle == "TwitterDev"


def test_note_tweet_gives_full_text_of_long_posts():
    posts = _posts(P.V2_RESPONSE)
    long = posts[1]
    assert long.text == "Long post about the outage, with the full text after 280 characters"
    assert long.reply_to == "twitter:1593015346234220544"


def test_stream_line_retweet():
    [post] = _posts(P.V2_STREAM_LINE)
    assert post.repost_of == "twitter:1593000000000000000"
    assert post.author_handle == "streamer"


def test_lookup_without_expansions_is_recognised(tmp_path):
    assert TwitterV2Parser.sniff(P.V2_LOOKUP_NO_EXPANSIONS)
    path = tmp_path / "lookup.json"
    path.write_text(json.dumps(P.V2_LOOKUP_NO_EXPANSIONS, indent=2))
    posts, _, quarantined = read_items(path)
    assert [p.id for p in posts] == ["twitter:1610000000000000000"]
    assert posts[0].author_id is None and posts[0].url.endswith("/i/web/status/1610000000000000000")
    assert quarantined == []


def test_twarc2_flattened_tweet():
    flat, quoted = TwitterV2Parser().parse(P.TWEET_V2_FLAT)
    assert flat.author_handle == "gamer_gal"
    assert flat.author_location == "Leeds, UK"
    assert flat.place is not None
    assert flat.place.full_name == "Leeds, England" and flat.place.country_code == "GB"
    assert flat.quote_of == "twitter:1619999999999999999"
    # The inlined original is a post of its own.
    assert quoted.id == "twitter:1619999999999999999"
    assert quoted.text == "Xbox Live down? Can't sign in"
    assert quoted.author_handle == "xfan"


def test_sniff():
    assert TwitterV2Parser.sniff(P.V2_RESPONSE)
    assert TwitterV2Parser.sniff(P.V2_STREAM_LINE)
    assert TwitterV2Parser.sniff(P.TWEET_V2)
    assert TwitterV2Parser.sniff(P.TWEET_V2_FLAT)
    assert not TwitterV2Parser.sniff(P.TWEET_V1)
    assert not TwitterV2Parser.sniff({"data": {"name": "x"}})


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: (r.pop("created_at"), r.update(id="12345")), "missing_timestamp"),
        (lambda r: r.pop("id"), "missing_id"),
        (lambda r: r.update(text=""), "missing_text"),
        (lambda r: r.update(created_at="2022-13-01T00:00:00Z"), "bad_timestamp"),
    ],
)
def test_malformed_tweet(mutate, reason):
    record = copy.deepcopy(P.TWEET_V2)
    mutate(record)
    with pytest.raises(RecordError) as info:
        TwitterV2Parser().parse(record)
    assert info.value.reason == reason


def test_missing_created_at_is_read_from_the_snowflake_id():
    record = copy.deepcopy(P.TWEET_V2)
    record.pop("created_at")
    record["id"] = "1462079183914618882"
    (post,) = TwitterV2Parser().parse(record)
    assert post.created_at.isoformat() == "2021-11-20T15:23:36.219000+00:00"


def test_response_lines_end_to_end(tmp_path):
    empty_page = {"meta": {"result_count": 0}, "data": []}
    path = write_jsonl(tmp_path / "twarc2.jsonl", P.V2_RESPONSE, empty_page, P.V2_STREAM_LINE)
    posts, skipped, quarantined = read_items(path)
    assert len(posts) == 4
    assert [s.reason for s in skipped] == ["no_records"]
    assert quarantined == []


def test_pretty_printed_response_document(tmp_path):
    path = tmp_path / "page.json"
    path.write_text(json.dumps(P.V2_RESPONSE, indent=2))
    posts, _, quarantined = read_items(path)
    assert [p.id for p in posts][:2] == [
        "twitter:1593015346234220544",
        "twitter:1593015999999999999",
    ]
    assert quarantined == []
