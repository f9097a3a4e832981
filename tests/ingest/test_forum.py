"""Forums: the scraped-forum schema (JSON lines, CSV) and Discourse topic JSON."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest

from detector.errors import RecordError
from detector.ingest.base import Skipped
from detector.ingest.forum import DiscourseParser, ForumParser
from tests.factories import read_items, write_jsonl
from tests.ingest import payloads as P


def test_scraped_post_with_xenforo_quote():
    [post] = ForumParser().parse(P.FORUM_POST)
    assert post.id == "forum:teslamotorsclub:6543210"
    assert post.source_name == "teslamotorsclub"
    assert post.created_at == datetime(2021, 11, 19, 21, 10, tzinfo=UTC)
    assert post.text == "Yes, 500 error here since 21:00"
    assert post.title == "App down again?"
    assert post.author_handle == "TMC_user" and post.author_id == "99"
    assert post.author_location == "Oslo, Norway"
    assert post.url == "https://teslamotorsclub.com/tmc/posts/6543210/"
    assert post.lang == "en"
    assert post.reply_to == "forum:teslamotorsclub:6543200"
    assert post.extra == {"thread_id": "245678", "post_number": 3, "likes": 4}


def test_nested_bbcode_quotes_and_thread_position_id():
    [post] = ForumParser().parse(P.FORUM_POST_BBCODE)
    assert post.text == "Still down in Bergen"
    assert post.id == "forum:teslamotorsclub:245678-4"  # thread_id + post_number
    assert post.created_at == datetime.fromtimestamp(1637360000, UTC)


def test_scraped_html_body_drops_blockquotes():
    record = {
        **P.FORUM_POST,
        "body": '<blockquote class="bbCodeBlock">app down?</blockquote>'
        "<p>yes &amp; it's <b>still</b> down</p>",
    }
    [post] = ForumParser().parse(record)
    assert post.text == "yes & it's still down"


def test_quoted_field_is_removed_from_body():
    record = {**P.FORUM_POST, "body": "is it down? -- yes, down", "quoted": "is it down? --"}
    [post] = ForumParser().parse(record)
    assert post.text == "yes, down"


def test_quote_only_post_is_skipped():
    record = {**P.FORUM_POST, "body": "[quote]app down?[/quote]"}
    assert ForumParser().parse(record) == Skipped("quote_only")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        ({"forum": None}, "missing_source"),
        ({"post_id": None, "post_number": None}, "missing_id"),
        ({"timestamp": ""}, "missing_timestamp"),
        ({"timestamp": "2021-02-29 10:00"}, "bad_timestamp"),
        ({"body": "  "}, "missing_text"),
    ],
)
def test_malformed_rows(mutate, reason):
    record = {k: v for k, v in {**P.FORUM_POST, **mutate}.items() if v is not None}
    with pytest.raises(RecordError) as info:
        ForumParser().parse(record)
    assert info.value.reason == reason


def test_source_name_replaces_missing_forum():
    record = {k: v for k, v in P.FORUM_POST.items() if k != "forum"}
    [post] = ForumParser(source_name="tmc").parse(record)
    assert post.id == "forum:tmc:6543210"


def test_scraped_jsonl_end_to_end(tmp_path):
    path = write_jsonl(tmp_path / "tmc.jsonl", P.FORUM_POST, P.FORUM_POST_BBCODE)
    posts, skipped, quarantined = read_items(path)
    assert [p.text for p in posts] == ["Yes, 500 error here since 21:00", "Still down in Bergen"]
    assert skipped == [] and quarantined == []


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_scraped_csv_end_to_end(tmp_path, delimiter):
    path = tmp_path / "tmc.csv"
    columns = ["forum", "thread_id", "thread_title", "post_id", "author", "timestamp", "body"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(P.FORUM_POST)
        writer.writerow(
            {
                **P.FORUM_POST,
                "post_id": "7",
                "timestamp": "2021-11-19 21:30:00",
                "body": "multi-line body,\nwith; delimiters\tinside",
            }
        )
    posts, skipped, quarantined = read_items(path)
    assert [p.id for p in posts] == ["forum:teslamotorsclub:6543210", "forum:teslamotorsclub:7"]
    assert posts[0].text == "Yes, 500 error here since 21:00"
    assert posts[1].text == "multi-line body,\nwith; delimiters inside"
    assert posts[1].created_at == datetime(2021, 11, 19, 21, 30, tzinfo=UTC)
    assert posts[0].extra == {"thread_id": "245678"}  # empty cells are not kept
    assert skipped == [] and quarantined == []


def test_csv_row_with_wrong_width_is_quarantined(tmp_path):
    path = tmp_path / "forum.csv"
    path.write_text(
        "forum,post_id,timestamp,body\n"
        "tmc,1,2021-11-19T21:00:00Z,down\n"
        "tmc,2,2021-11-19T21:00:00Z\n"
        "tmc,3,2021-11-19T21:00:00Z,down,extra\n"
        "tmc,4,2021-11-19T21:00:00Z,still down\n",
        encoding="utf-8",
    )
    posts, _, quarantined = read_items(path)
    assert [p.id for p in posts] == ["forum:tmc:1", "forum:tmc:4"]
    assert [(q.line, q.reason) for q in quarantined] == [(3, "invalid_csv"), (4, "invalid_csv")]


# ---------------------------------------------------------------------------------- Discourse


def test_discourse_topic_posts():
    parser = DiscourseParser(source_name="community.example")
    results = [parser.parse(r) for r in parser.expand(P.DISCOURSE_TOPIC)]
    first, second = results[0], results[1]
    assert isinstance(first, list) and isinstance(second, list)
    [opening], [reply] = first, second
    assert opening.id == "forum:community.example:9001"
    assert opening.title == "Login broken after update"
    assert opening.text == "Since this morning login fails with error 502.\nAnyone else?"
    assert opening.author_handle == "maria" and opening.author_id == "11"
    assert opening.created_at == datetime(2023, 5, 1, 10, tzinfo=UTC)
    assert opening.url == "/t/login-broken-after-update/1234/1"
    assert reply.text == "Same here, 502 from Frankfurt"  # <aside class="quote"> dropped
    assert reply.reply_to == "forum:community.example:9001"  # via reply_to_post_number
    assert results[2] == Skipped("small_action")
    assert results[3] == Skipped("deleted")


def test_discourse_raw_markdown_preferred():
    post = {
        **P.DISCOURSE_TOPIC["post_stream"]["posts"][1],
        "raw": '[quote="maria, post:1, topic:1234"]\nSince this morning\n[/quote]\n\nme too',
    }
    [parsed] = DiscourseParser().parse(post)
    assert parsed.text == "me too"
    assert parsed.source_name == "discourse"


def test_discourse_missing_text():
    post = {k: v for k, v in P.DISCOURSE_TOPIC["post_stream"]["posts"][0].items() if k != "cooked"}
    with pytest.raises(RecordError) as info:
        DiscourseParser().parse(post)
    assert info.value.reason == "missing_text"


def test_discourse_topic_file_end_to_end(tmp_path):
    path = tmp_path / "t-1234.json"
    path.write_text(json.dumps(P.DISCOURSE_TOPIC, indent=2))
    posts, skipped, quarantined = read_items(path, source_name="community.example")
    assert [p.id for p in posts] == ["forum:community.example:9001", "forum:community.example:9002"]
    assert [s.reason for s in skipped] == ["small_action", "deleted"]
    assert quarantined == []


def test_discourse_latest_posts_listing():
    listing = {
        "latest_posts": [
            {**P.DISCOURSE_TOPIC["post_stream"]["posts"][0], "topic_title": "Login broken"}
        ]
    }
    assert DiscourseParser.sniff(listing)
    [record] = list(DiscourseParser().expand(listing))
    [post] = DiscourseParser().parse(record)
    assert post.title == "Login broken"


def test_sniff():
    assert ForumParser.sniff(P.FORUM_POST)
    assert DiscourseParser.sniff(P.DISCOURSE_TOPIC)
    assert not ForumParser.sniff(P.REDDIT_COMMENT)
