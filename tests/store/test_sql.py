"""The store contract, run on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from detector.errors import StoreError
from detector.models import GeoPoint, Place, SourceKind
from detector.store.base import IngestRun
from detector.store.sql import SqlStore, database_url
from tests.factories import BASE_TIME, make_post

DAY = timedelta(days=1)


def test_round_trip_keeps_every_field(store):
    post = make_post(
        id="twitter:1461812345",
        created_at=datetime(2021, 11, 20, 6, 3, tzinfo=UTC),
        text="테슬라 앱 서버 오류 😡 500 server error",
        lang="ko",
        author_location="Seoul, Republic of Korea",
        coordinates=GeoPoint(lat=37.5665, lon=126.978),
        place=Place(
            name="Seoul",
            full_name="Seoul, Republic of Korea",
            country_code="KR",
            place_type="city",
            id="abc",
        ),
        url="https://twitter.com/owner/status/1461812345",
        title=None,
        reply_to="twitter:1",
        quote_of="twitter:2",
        repost_of=None,
        extra={"source": "<a href='x'>Twitter for iPhone</a>", "entities": {"hashtags": []}},
    )
    assert store.add_posts([post], collapse_window=DAY).stored == 1
    loaded = store.get_post(post.id)
    assert loaded == post
    assert loaded.created_at.tzinfo is UTC


def test_missing_post_is_none(store):
    assert store.get_post("twitter:404") is None


def test_get_posts_returns_the_stored_ones_by_id(store):
    batch = [make_post() for _ in range(3)]
    store.add_posts(batch, collapse_window=DAY)
    wanted = [batch[0].id, batch[2].id, "twitter:404"]
    assert store.get_posts(wanted) == {batch[0].id: batch[0], batch[2].id: batch[2]}
    assert store.get_posts([]) == {}


def test_reingesting_stores_nothing_twice(store):
    batch = [make_post() for _ in range(5)]
    first = store.add_posts(batch, collapse_window=DAY)
    second = store.add_posts(batch, collapse_window=DAY)
    assert (first.stored, first.duplicates) == (5, 0)
    assert (second.stored, second.duplicates, second.collapsed) == (0, 5, 0)
    assert store.count_posts() == 5


def test_duplicate_ids_within_one_batch(store):
    post = make_post()
    result = store.add_posts([post, post, make_post()], collapse_window=DAY)
    assert (result.stored, result.duplicates) == (2, 1)


def test_same_author_same_text_is_collapsed_within_the_window(store):
    text = "@Tesla app down again, 500 server error https://t.co/aaa"
    first = make_post(author_id="7", text=text, created_at=BASE_TIME)
    again = make_post(
        author_id="7", text=text.replace("aaa", "bbb"), created_at=BASE_TIME + timedelta(minutes=3)
    )
    other_author = make_post(author_id="8", text=text, created_at=BASE_TIME)
    store.add_posts([first], collapse_window=DAY)
    result = store.add_posts([again, other_author], collapse_window=DAY)
    assert (result.stored, result.collapsed) == (1, 1)
    assert store.get_post(again.id) is None
    assert store.get_post(other_author.id) is not None


def test_repeat_outside_the_window_is_a_new_report(store):
    first = make_post(author_id="7", text="tesla app down", created_at=BASE_TIME)
    later = make_post(author_id="7", text="tesla app down", created_at=BASE_TIME + 2 * DAY)
    result = store.add_posts([first, later], collapse_window=DAY)
    assert (result.stored, result.collapsed) == (2, 0)


def test_zero_window_never_collapses(store):
    posts = [make_post(author_id="7", text="same words") for _ in range(3)]
    assert store.add_posts(posts, collapse_window=timedelta(0)).stored == 3


def test_posts_without_author_are_never_collapsed(store):
    posts = [make_post(author_id=None, author_handle=None, text="same words") for _ in range(2)]
    assert store.add_posts(posts, collapse_window=DAY).stored == 2


def test_nul_characters_do_not_break_the_batch(store):
    post = make_post(text="bad\x00byte app down", extra={"odd": "x\x00y", "esc": "\\u0000"})
    assert store.add_posts([post], collapse_window=DAY).stored == 1
    loaded = store.get_post(post.id)
    assert loaded.text == "badbyte app down"
    assert loaded.extra == {"odd": "xy", "esc": "\\u0000"}


def test_stats_summarise_sources_days_hours_and_runs(store, clock):
    original = make_post(id="twitter:10", created_at=BASE_TIME, lang="en")
    retweet = make_post(
        id="twitter:11",
        created_at=BASE_TIME + timedelta(minutes=1),
        repost_of="twitter:10",
        lang="en",
    )
    forum = make_post(
        id="forum:teslamotorsclub:5",
        source_kind=SourceKind.FORUM,
        source_name="teslamotorsclub",
        lang=None,
        created_at=BASE_TIME - timedelta(hours=2),
    )
    store.add_posts([original, retweet, forum], collapse_window=DAY)
    store.record_ingest_run(
        IngestRun(
            started_at=clock.now(),
            finished_at=clock.now(),
            paths=["a.jsonl"],
            summary={"stored": 3, "files": 1},
        )
    )
    stats = store.stats()
    assert (stats.posts, stats.reposts) == (3, 1)
    assert stats.first == BASE_TIME - timedelta(hours=2)
    assert stats.last == BASE_TIME + timedelta(minutes=1)
    by_source = {s.source_name: (s.posts, s.reposts) for s in stats.sources}
    assert by_source == {"twitter": (2, 1), "teslamotorsclub": (1, 0)}
    assert dict(stats.languages) == {"en": 2, "unknown": 1}
    assert stats.per_day == [("2021-11-19", 2)]
    assert set(stats.busiest_hours) == {
        (datetime(2021, 11, 19, 21, tzinfo=UTC), 1),
        (datetime(2021, 11, 19, 19, tzinfo=UTC), 1),
    }
    assert [r.paths for r in stats.runs] == [["a.jsonl"]]
    assert stats.runs[0].finished_at.tzinfo is not None


def test_empty_store_stats(store):
    stats = store.stats()
    assert (stats.posts, stats.first, stats.sources) == (0, None, [])


def test_schema_is_created_by_migrations_and_reopening_is_harmless(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'sub' / 'radar.db'}"
    SqlStore(url, clock=clock).close()
    store = SqlStore(url, clock=clock)
    tables = set(inspect(store.engine).get_table_names())
    assert {"posts", "ingest_runs", "alembic_version"} <= tables
    store.close()


def test_unreachable_database_is_a_store_error():
    with pytest.raises(StoreError, match="cannot open database"):
        SqlStore("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_invalid_url_is_a_store_error():
    with pytest.raises(StoreError, match="invalid database URL"):
        SqlStore("not a url://")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("radar.db", "sqlite:///radar.db"),
        ("/var/lib/radar.db", "sqlite:////var/lib/radar.db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_database_url(given, expected):
    assert database_url(given) == expected
