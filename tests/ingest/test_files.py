"""Reading whole files: container and format detection, quarantine, and fatal input errors."""

from __future__ import annotations

import bz2
import copy
import gzip
import json
import lzma
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from detector.errors import ConfigError, InputError, UnknownFormat
from detector.ingest.base import Quarantined
from detector.ingest.files import ReadOptions, read_file
from detector.ingest.formats import FORMATS, make_parser, sniff_format
from detector.models import SourceKind
from tests.factories import jsonl, read_items, tweet_v1, write_jsonl
from tests.ingest import payloads as P

COMPRESS = {
    "plain": lambda b: b,
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}

# format name -> (records of that format, the kind and first id read from them)
SAMPLES = {
    "twitter-v1": ([P.TWEET_V1, P.DELETE_V1], SourceKind.TWITTER, "twitter:908829577473720320"),
    "twitter-v2": ([P.V2_RESPONSE], SourceKind.TWITTER, "twitter:1593015346234220544"),
    "reddit": ([P.REDDIT_SUBMISSION, P.REDDIT_COMMENT], SourceKind.REDDIT, "reddit:t3_qxyz12"),
    "mastodon": (
        [P.MASTODON_STATUS],
        SourceKind.MASTODON,
        "mastodon:https://mastodon.social/users/alice/statuses/109372844412345678",
    ),
    "bluesky": (
        [P.JETSTREAM_IDENTITY, P.JETSTREAM_POST],
        SourceKind.BLUESKY,
        f"bluesky:at://{P.DID}/app.bsky.feed.post/3l3qo2vuowo2b",
    ),
    "forum": ([P.FORUM_POST], SourceKind.FORUM, "forum:teslamotorsclub:6543210"),
    "discourse": ([P.DISCOURSE_TOPIC], SourceKind.FORUM, "forum:discourse:9001"),
}


def test_every_sniffable_format_has_a_sample():
    assert set(SAMPLES) == set(FORMATS) - {"generic"}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sniff_format(name):
    records, _, _ = SAMPLES[name]
    assert sniff_format(records) == name


@pytest.mark.parametrize("compression", sorted(COMPRESS))
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_jsonl_format_detected_from_content(tmp_path, name, compression):
    records, kind, first_id = SAMPLES[name]
    path = tmp_path / "input.bin"
    path.write_bytes(COMPRESS[compression](jsonl(*records)))
    posts, _, quarantined = read_items(path)
    assert quarantined == []
    assert posts[0].id == first_id
    assert posts[0].source_kind is kind


@pytest.mark.parametrize("layout", ["array", "array-pretty", "object-pretty", "object-compact"])
@pytest.mark.parametrize(
    "name", ["twitter-v1", "twitter-v2", "reddit", "mastodon", "bluesky", "forum", "discourse"]
)
def test_json_documents(tmp_path, name, layout):
    records, _, first_id = SAMPLES[name]
    record = records[-1] if name == "bluesky" else records[0]  # the one holding first_id
    document = {
        "array": records,
        "array-pretty": records,
        "object-pretty": record,
        "object-compact": record,
    }[layout]
    indent = 2 if layout.endswith("pretty") else None
    text = json.dumps(document, indent=indent)
    path = tmp_path / "doc.json"
    path.write_bytes(gzip.compress(("\ufeff\n" + text).encode()))  # BOM, blank line, gzip
    posts, _, quarantined = read_items(path)
    assert quarantined == []
    assert first_id in [p.id for p in posts]


def test_pretty_printed_array_with_compact_items(tmp_path):
    items = [tweet_v1(str(i), f"down {i}") for i in range(1, 4)]
    path = tmp_path / "a.json"
    path.write_text("[\n" + ",\n".join(json.dumps(i) for i in items) + "\n]\n")
    posts, _, quarantined = read_items(path)
    assert [p.id for p in posts] == ["twitter:1", "twitter:2", "twitter:3"]
    assert quarantined == []


def test_empty_and_blank_files_yield_nothing(tmp_path):
    for content in (b"", b"\n\n  \n", b"\xef\xbb\xbf", gzip.compress(b"")):
        path = tmp_path / "empty"
        path.write_bytes(content)
        assert list(read_file(path, ReadOptions())) == []


def test_unknown_format_names_file_and_suggests_format(tmp_path):
    path = tmp_path / "mystery.jsonl"
    write_jsonl(path, {"msg": "down?", "when": 1})
    with pytest.raises(UnknownFormat) as info:
        list(read_file(path, ReadOptions()))
    message = str(info.value)
    assert str(path) in message
    assert "--format" in message
    assert "msg, when" in message  # shows what it saw
    assert isinstance(info.value, InputError)


def test_unknown_csv_format(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(UnknownFormat, match=r"export\.csv.*--format generic --map"):
        list(read_file(path, ReadOptions()))


def test_explicit_format_skips_sniffing(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", P.REDDIT_COMMENT)
    posts, _, _ = read_items(path, format="reddit")
    assert posts[0].id == "reddit:t1_hm1abcd"
    with pytest.raises(ConfigError):
        ReadOptions(format="myspace")
    with pytest.raises(ConfigError):
        ReadOptions(format="generic")  # needs a mapping
    with pytest.raises(ConfigError):
        make_parser("generic")


def test_naive_not_after_is_a_config_error():
    with pytest.raises(ConfigError, match="timezone-aware"):
        ReadOptions(not_after=datetime(2022, 1, 1))


def _bad(record, **change):
    record = copy.deepcopy(record)
    for key, value in change.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record


def test_quarantine_reasons_with_exact_counts(tmp_path):
    good = [tweet_v1(str(i), f"app down {i}") for i in range(1, 6)]
    lines = [
        good[0],
        b'{"id_str": "9", "text": "cut off',  # 2 invalid_json
        good[1],
        b'{"id_str": "10", "text": "caf\xe9 down", "user": {}}',  # 4 bad_encoding
        _bad(good[2], id_str="11", id=11, text=None),  # 5 missing_text
        _bad(good[2], id_str="12", id=12, created_at=None),  # 6 missing_ts
        _bad(good[2], id_str="13", id=13, created_at="Wed Nov 31 10:00:00 +0000 2021"),  # 7
        _bad(good[2], id_str="14", id=14, created_at="Mon Jan 01 10:00:00 +0000 2024"),  # 8
        b"42",  # 9 invalid_record
        b'[{"a": 1}, {"b": 2}]',  # 10 invalid_record
        b"",
        b"   ",
        good[3],
        b'"just a string"',  # 14 invalid_record
        good[4],
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(jsonl(*lines))
    not_after = datetime(2023, 1, 1, tzinfo=UTC)
    posts, skipped, quarantined = read_items(path, not_after=not_after)
    assert [p.id for p in posts] == ["twitter:1", "twitter:2", "twitter:4", "twitter:5"]
    assert skipped == []
    assert [(q.line, q.reason) for q in quarantined] == [
        (2, "invalid_json"),
        (4, "bad_encoding"),
        (5, "missing_text"),
        (6, "missing_timestamp"),
        (7, "bad_timestamp"),
        (8, "bad_timestamp"),
        (9, "invalid_record"),
        (10, "invalid_record"),
        (14, "invalid_record"),
    ]
    by_line = {q.line: q for q in quarantined}
    assert all(q.file == str(path) for q in quarantined)
    assert by_line[2].raw == '{"id_str": "9", "text": "cut off'
    assert by_line[4].raw == '{"id_str": "10", "text": "caf\ufffd down", "user": {}}'
    assert by_line[6].field == "created_at"
    assert "day is out of range" in by_line[7].detail
    assert "future" in by_line[8].detail and by_line[8].field == "created_at"
    assert by_line[9].raw == "42"
    assert by_line[10].detail == "expected an object, got list"
    assert by_line[7].as_dict()["reason"] == "bad_timestamp"


def test_damaged_first_line_of_json_lines(tmp_path):
    good = [tweet_v1(str(i), f"app down {i}") for i in range(1, 4)]
    path = tmp_path / "cut.jsonl"
    path.write_bytes(jsonl(b'{"created_at": "Fri Nov 19", "entities": {', *good))
    posts, _, quarantined = read_items(path)
    assert [p.id for p in posts] == ["twitter:1", "twitter:2", "twitter:3"]
    assert [(q.line, q.reason) for q in quarantined] == [(1, "invalid_json")]


def test_array_on_first_line_of_json_lines(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(jsonl([1, 2], tweet_v1("1", "down")))
    posts, _, quarantined = read_items(path, format="twitter-v1")
    assert [p.id for p in posts] == ["twitter:1"]
    assert [(q.line, q.reason) for q in quarantined] == [(1, "invalid_record")]


def test_truncated_json_document_is_one_quarantine(tmp_path):
    path = tmp_path / "page.json"
    path.write_text(json.dumps(P.V2_RESPONSE, indent=2)[:-30])
    posts, _, quarantined = read_items(path, format="twitter-v2")
    assert posts == []
    assert [(q.line, q.reason) for q in quarantined] == [(1, "invalid_json")]


def test_document_records_are_numbered_in_detail(tmp_path):
    items = [tweet_v1("1", "down"), {"id_str": "2", "user": {}, "created_at": "x", "text": "t"}]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(items))
    posts, _, [q] = read_items(path)
    assert [p.id for p in posts] == ["twitter:1"]
    assert q.reason == "bad_timestamp" and q.detail.startswith("record 1: ")


def test_broken_document_layout_is_quarantined_not_raised(tmp_path):
    path = write_jsonl(
        tmp_path / "d.jsonl",
        {"latest_posts": 5, "post_stream": {"posts": 7}},
        {"cooked": "<p>ok</p>", "topic_id": 1, "id": 2, "created_at": 1637355792},
    )
    posts, skipped, quarantined = read_items(path, format="discourse")
    assert [p.id for p in posts] == ["forum:discourse:2"]
    assert [s.reason for s in skipped] == ["no_records"]
    assert quarantined == []


def test_csv_bad_encoding_and_bom(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(
        b"\xef\xbb\xbfforum,post_id,timestamp,body\n"
        b"tmc,1,2021-11-19T21:00:00Z,down\n"
        b"tmc,2,2021-11-19T21:00:00Z,caf\xe9 down\n"
        b"tmc,3,2021-11-19T21:00:00Z,\n"
        b"tmc,4,2021-11-19T21:00:00Z,still down\n"
    )
    posts, _, quarantined = read_items(path)
    assert [p.id for p in posts] == ["forum:tmc:1", "forum:tmc:4"]
    assert [(q.line, q.reason) for q in quarantined] == [(3, "bad_encoding"), (4, "missing_text")]


def test_parquet_format_detected(tmp_path):
    path = tmp_path / "reddit.parquet"
    pq.write_table(pa.Table.from_pylist([P.REDDIT_COMMENT_NO_NAME, P.REDDIT_REMOVED]), path)
    posts, skipped, _ = read_items(path)
    assert [p.id for p in posts] == ["reddit:t1_c0ffee1"]
    assert [s.reason for s in skipped] == ["removed"]


def test_damaged_parquet_is_an_input_error(tmp_path):
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"body": ["x" * 1000] * 100, "created_utc": list(range(100))}), path)
    data = bytearray(path.read_bytes())
    data[4:200] = b"\xff" * 196  # column data, footer intact
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="Parquet"):
        list(read_file(path, ReadOptions(format="reddit")))
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=str(path)):
        list(read_file(path, ReadOptions()))


def test_quarantined_raw_is_bounded(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"text": "' + b"x" * 200_000 + b"\n")
    [q] = [
        i for i in read_file(path, ReadOptions(format="twitter-v1")) if isinstance(i, Quarantined)
    ]
    assert len(q.raw) == 65536
