"""Reddit dumps (Pushshift / Arctic Shift): submissions and comments."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from detector.errors import RecordError
from detector.ingest.base import Skipped
from detector.ingest.reddit import RedditParser
from tests.factories import read_items, write_jsonl
from tests.ingest import payloads as P


@pytest.fixture
def parser() -> RedditParser:
    return RedditParser()


def test_submission(parser):
    [post] = parser.parse(P.REDDIT_SUBMISSION)
    assert post.id == "reddit:t3_qxyz12"
    assert post.source_name == "r/teslamotors"
    assert post.created_at == datetime(2021, 11, 19, 21, 3, 12, tzinfo=UTC)
    assert post.title == "App down & car won't unlock?"
    # Title, then the body with its HTML escaping undone and the quoted line dropped.
    assert post.text == (
        "App down & car won't unlock?\n\nGetting a 500 error since 9pm.\n\nEdit: back"
    )
    assert post.author_handle == "model3owner"
    assert post.author_id == "t2_abc123"
    assert (
        post.url == "https://www.reddit.com/r/teslamotors/comments/qxyz12/app_down_car_wont_unlock/"
    )
    assert post.reply_to is None and post.repost_of is None
    assert post.extra["score"] == 57


def test_comment_with_string_created_utc(parser):
    [post] = parser.parse(P.REDDIT_COMMENT)
    assert post.id == "reddit:t1_hm1abcd"
    assert post.created_at == datetime(2021, 11, 19, 21, 6, 40, tzinfo=UTC)
    assert post.text == "Same here in Oslo, phone key not working"
    assert post.reply_to == "reddit:t3_qxyz12"
    assert post.title is None


def test_comment_without_name_gets_t1_fullname(parser):
    [post] = parser.parse(P.REDDIT_COMMENT_NO_NAME)
    assert post.id == "reddit:t1_c0ffee1"
    assert post.reply_to == "reddit:t1_beef"
    assert post.created_at == datetime(2010, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("record", "reason"),
    [(P.REDDIT_REMOVED, "removed"), (P.REDDIT_DELETED, "deleted")],
)
def test_removed_and_deleted_comments_are_skipped(parser, record, reason):
    assert parser.parse(record) == Skipped(reason)


def test_comment_that_only_quotes_is_skipped_as_quote_only(parser):
    record = {**P.REDDIT_COMMENT, "body": "&gt; car won't unlock?"}
    assert parser.parse(record) == Skipped("quote_only")


def test_removed_submission_keeps_its_title(parser):
    [post] = parser.parse(P.REDDIT_REMOVED_SUBMISSION)
    assert post.text == "Servers down?"
    assert post.author_handle is None  # "[deleted]"


def test_crosspost_links_to_parent(parser):
    [post] = parser.parse(P.REDDIT_CROSSPOST)
    assert post.repost_of == "reddit:t3_qxyz12"
    assert post.source_name == "r/electricvehicles"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: r.pop("created_utc"), "missing_timestamp"),
        (lambda r: r.update(created_utc=""), "missing_timestamp"),
        (lambda r: r.update(created_utc="not a time"), "bad_timestamp"),
        (lambda r: (r.pop("id"), r.pop("name")), "missing_id"),
        (lambda r: r.update(title="", selftext=""), "missing_text"),
    ],
)
def test_malformed_submission(parser, mutate, reason):
    record = copy.deepcopy(P.REDDIT_SUBMISSION)
    mutate(record)
    with pytest.raises(RecordError) as info:
        parser.parse(record)
    assert info.value.reason == reason


def test_sniff():
    assert RedditParser.sniff(P.REDDIT_SUBMISSION)
    assert RedditParser.sniff(P.REDDIT_COMMENT)
    assert not RedditParser.sniff(P.FORUM_POST)


def test_dump_end_to_end_with_source_name(tmp_path):
    path = write_jsonl(
        tmp_path / "RC_2021-11.jsonl", P.REDDIT_SUBMISSION, P.REDDIT_COMMENT, P.REDDIT_REMOVED
    )
    posts, skipped, quarantined = read_items(path, source_name="reddit-dump")
    assert [p.id for p in posts] == ["reddit:t3_qxyz12", "reddit:t1_hm1abcd"]
    assert {p.source_name for p in posts} == {"reddit-dump"}
    assert skipped == [Skipped("removed")]
    assert quarantined == []
