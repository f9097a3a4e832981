"""Ingesting files into a store: counts, dedup, quarantine, and files that fail."""

from __future__ import annotations

import gzip
import json
import random
from datetime import timedelta

import orjson
import pytest

from detector.ingest.files import ReadOptions
from detector.ingest.quarantine import QuarantineWriter
from detector.ingest.service import expand_paths, ingest_paths
from tests.factories import tweet_v1

DAY = timedelta(days=1)


def _lines(*records: object) -> bytes:
    return b"".join(
        (r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records
    )


def _ingest(paths, store, quarantine_path=None, clock=None, batch_size=2):
    with QuarantineWriter(quarantine_path) as writer:
        return ingest_paths(
            paths=paths,
            store=store,
            options=ReadOptions(),
            quarantine=writer,
            batch_size=batch_size,
            collapse_window=DAY,
            clock=clock,
        )


@pytest.fixture
def dump(tmp_path):
    original = tweet_v1("100", "@TeslaSupport 500 server error, cant unlock 😡", user="kim")
    retweet = tweet_v1(
        "101", "RT @kim: @TeslaSupport 500 server error", user="lee", retweeted_status=original
    )
    repeat = tweet_v1(
        "102",
        "@TeslaSupport 500 server error, cant unlock 😡",
        user="kim",
        when="Fri Nov 19 21:05:00 +0000 2021",
    )
    no_text = {k: v for k, v in tweet_v1("103", "x").items() if k != "text"}
    bad_date = tweet_v1("104", "app down", when="Wed Nov 31 10:00:00 +0000 2021")
    path = tmp_path / "dump.jsonl.gz"
    path.write_bytes(
        gzip.compress(
            _lines(
                original,
                retweet,
                {"delete": {"status": {"id": 5, "id_str": "5"}}},
                b'{"created_at": "Fri Nov 19',
                repeat,
                no_text,
                bad_date,
                b"\xff\xfe{}",
            )
        )
    )
    return path


def test_summary_counts_everything_exactly(dump, sqlite_store, tmp_path, clock):
    quarantine = tmp_path / "q" / "quarantine.jsonl"
    summary = _ingest([dump], sqlite_store, quarantine, clock)
    # The retweet carries its original, which is already in the file: one duplicate.
    assert summary.posts == 4
    assert (summary.stored, summary.duplicates, summary.collapsed) == (2, 1, 1)
    assert summary.reposts == 1
    assert dict(summary.skipped) == {"delete_notice": 1}
    assert dict(summary.quarantined) == {
        "invalid_json": 1,
        "missing_text": 1,
        "bad_timestamp": 1,
        "bad_encoding": 1,
    }
    assert summary.read == 4 + 1 + 4
    assert summary.ok
    assert sqlite_store.count_posts() == 2
    assert sqlite_store.get_post("twitter:101").repost_of == "twitter:100"

    entries = [orjson.loads(line) for line in quarantine.read_bytes().splitlines()]
    assert [(e["line"], e["reason"]) for e in entries] == [
        (4, "invalid_json"),
        (6, "missing_text"),
        (7, "bad_timestamp"),
        (8, "bad_encoding"),
    ]
    assert all(e["file"] == str(dump) for e in entries)
    assert entries[0]["raw"] == '{"created_at": "Fri Nov 19'
    assert entries[1]["field"] == "text"
    assert "Nov 31" in entries[2]["detail"]


def test_reingesting_the_same_file_stores_nothing_twice(dump, sqlite_store, clock):
    _ingest([dump], sqlite_store, clock=clock)
    again = _ingest([dump], sqlite_store, clock=clock)
    assert (again.stored, again.duplicates + again.collapsed) == (0, again.posts)
    assert sqlite_store.count_posts() == 2


def test_corrupt_archive_keeps_what_was_read_and_goes_on(tmp_path, store, clock):
    rng = random.Random(7)
    records = [
        tweet_v1(str(200 + i), f"discord down {rng.getrandbits(256):x}", user=f"u{i}")
        for i in range(3000)
    ]
    data = gzip.compress(_lines(*records))
    broken = tmp_path / "a-broken.jsonl.gz"
    broken.write_bytes(data[: len(data) * 2 // 3])
    fine = tmp_path / "b-fine.jsonl"
    fine.write_bytes(_lines(tweet_v1("9", "steam down", user="z")))
    summary = _ingest([broken, fine], store, clock=clock, batch_size=500)
    assert [f.path for f in summary.failures] == [str(broken)]
    assert "corrupt gzip" in summary.failures[0].message
    assert 0 < summary.stored - 1 < 3000
    assert store.count_posts() == summary.stored
    assert store.get_post("twitter:9") is not None


def test_missing_and_unknown_files_are_reported_by_name(tmp_path, sqlite_store, clock):
    unknown = tmp_path / "weird.jsonl"
    unknown.write_text('{"foo": 1}\n')
    missing = tmp_path / "nope.jsonl"
    summary = _ingest([missing, unknown], sqlite_store, clock=clock)
    messages = {f.path: f.message for f in summary.failures}
    assert messages[str(missing)] == "no such file or directory"
    assert "unknown format" in messages[str(unknown)]
    assert "--format" in messages[str(unknown)]
    assert not summary.ok


def test_runs_are_recorded(dump, sqlite_store, clock):
    _ingest([dump], sqlite_store, clock=clock)
    (run,) = sqlite_store.stats().runs
    assert run.paths == [str(dump)]
    assert run.summary["stored"] == 2
    assert run.summary["quarantined"]["bad_encoding"] == 1


def test_folders_are_walked_in_order_without_hidden_files(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.jsonl").write_text("")
    (tmp_path / "a.jsonl").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.jsonl").write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in expand_paths([tmp_path])] == [
        "a.jsonl",
        "b/2.jsonl",
    ]
