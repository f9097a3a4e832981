"""Any CSV / JSON lines / Parquet read through a column mapping."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from detector.errors import ConfigError, RecordError
from detector.ingest.generic import ColumnMapping, GenericParser
from detector.models import GeoPoint, SourceKind
from tests.factories import read_items, write_jsonl

ROWS = [
    {
        "tweet_id": "1",
        "body": "bank app down",
        "date": "2024-03-01 09:15:00",
        "user": "ann",
        "city": "Berlin",
        "lat": "52.52",
        "lon": "13.40",
        "likes": "3",
    },
    {
        "tweet_id": "2",
        "body": "same, login fails",
        "date": "2024-03-01 09:20:00",
        "user": "ben",
        "city": "",
        "lat": "",
        "lon": "",
        "likes": "0",
    },
]
PAIRS = [
    "id=tweet_id",
    "text=body",
    "created_at=date",
    "author_handle=user",
    "author_location=city",
    "latitude=lat",
    "longitude=lon",
]


def _write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_mapping_from_pairs_reads_csv(tmp_path):
    path = _write_csv(tmp_path / "export.csv", ROWS)
    mapping = ColumnMapping.from_pairs(PAIRS)
    posts, _, quarantined = read_items(path, mapping=mapping, source_name="bank-export")
    assert quarantined == []
    first, second = posts
    assert first.id == "generic:bank-export:1"
    assert first.source_kind is SourceKind.GENERIC
    assert first.text == "bank app down"
    assert first.created_at == datetime(2024, 3, 1, 9, 15, tzinfo=UTC)  # naive = UTC
    assert first.author_handle == "ann" and first.author_location == "Berlin"
    assert first.coordinates == GeoPoint(lat=52.52, lon=13.40)
    assert first.extra == {"likes": "3"}
    assert second.coordinates is None and second.author_location is None


def test_naive_timestamps_in_mapping_timezone(tmp_path):
    path = _write_csv(tmp_path / "export.csv", ROWS)
    mapping = ColumnMapping.from_pairs(PAIRS, timezone="Europe/Berlin")
    posts, _, _ = read_items(path, format="generic", mapping=mapping)
    assert posts[0].created_at == datetime(2024, 3, 1, 8, 15, tzinfo=UTC)  # CET = UTC+1
    assert posts[0].source_name == "generic"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "map.yaml",
            "columns:\n  text: message.body\n  created_at: ts\n"
            "  author_handle: message.user.name\n  id: message.id\n"
            "timezone: Asia/Tokyo\n",
        ),
        (
            "map.json",
            json.dumps(
                {
                    "columns": {
                        "text": "message.body",
                        "created_at": "ts",
                        "author_handle": "message.user.name",
                        "id": "message.id",
                    },
                    "timezone": "Asia/Tokyo",
                }
            ),
        ),
        (
            "map.toml",
            'timezone = "Asia/Tokyo"\n[columns]\ntext = "message.body"\n'
            'created_at = "ts"\nauthor_handle = "message.user.name"\nid = "message.id"\n',
        ),
    ],
)
def test_mapping_file_with_nested_paths(tmp_path, name, content):
    mapping_path = tmp_path / name
    mapping_path.write_text(content, encoding="utf-8")
    mapping = ColumnMapping.from_file(mapping_path)
    assert mapping.timezone == "Asia/Tokyo"
    record = {
        "ts": "2024-03-01T18:00:00",
        "message": {"id": 77, "body": "line down", "user": {"name": "kenji"}},
    }
    path = write_jsonl(tmp_path / "msgs.jsonl", record)
    [post], _, _ = read_items(path, mapping=mapping)
    assert post.id == "generic:generic:77"
    assert post.text == "line down"
    assert post.author_handle == "kenji"
    assert post.created_at == datetime(2024, 3, 1, 9, tzinfo=UTC)


def test_dotted_column_name_taken_literally_first():
    mapping = ColumnMapping.from_pairs(["text=author.text", "created_at=t"])
    assert mapping.value({"author.text": "flat", "author": {"text": "nested"}}, "text") == "flat"
    assert mapping.value({"author": {"text": "nested"}}, "text") == "nested"
    assert mapping.value({"author": "not an object"}, "text") is None


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        (1709284500, datetime(2024, 3, 1, 9, 15, tzinfo=UTC)),
        (1709284500000, datetime(2024, 3, 1, 9, 15, tzinfo=UTC)),
        ("1709284500000", datetime(2024, 3, 1, 9, 15, tzinfo=UTC)),
        ("Fri Mar 01 09:15:00 +0000 2024", datetime(2024, 3, 1, 9, 15, tzinfo=UTC)),
        ("2024-03-01T10:15:00+01:00", datetime(2024, 3, 1, 9, 15, tzinfo=UTC)),
    ],
)
def test_timestamp_spellings(stamp, expected):
    parser = GenericParser(mapping=ColumnMapping.from_pairs(["text=t", "created_at=c"]))
    [post] = parser.parse({"t": "down", "c": stamp})
    assert post.created_at == expected


def test_content_derived_ids_are_stable_and_distinct():
    parser = GenericParser(
        mapping=ColumnMapping.from_pairs(["text=t", "created_at=c", "author_handle=a"])
    )
    one = parser.parse({"t": "down", "c": "2024-03-01T09:15:00Z", "a": "x"})[0].id
    again = parser.parse({"t": "down", "c": "2024-03-01T09:15:00Z", "a": "x"})[0].id
    other_author = parser.parse({"t": "down", "c": "2024-03-01T09:15:00Z", "a": "y"})[0].id
    other_time = parser.parse({"t": "down", "c": "2024-03-01T09:15:01Z", "a": "x"})[0].id
    assert one == again
    assert len({one, other_author, other_time}) == 3
    assert one.startswith("generic:generic:h")


def test_links_are_qualified_with_source():
    parser = GenericParser(
        mapping=ColumnMapping.from_pairs(["text=t", "created_at=c", "reply_to=r", "id=i"]),
        source_name="s",
    )
    [post] = parser.parse({"t": "down", "c": 1709284500, "r": 5, "i": 6})
    assert post.reply_to == "generic:s:5"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"c": 1709284500}, "missing_text"),
        ({"t": "down"}, "missing_timestamp"),
        ({"t": "down", "c": ""}, "missing_timestamp"),
        ({"t": "down", "c": "someday"}, "bad_timestamp"),
        ({"t": "down", "c": 1709284500, "lat": "91", "lon": "0"}, "bad_coordinates"),
        ({"t": "down", "c": 1709284500, "lat": "north", "lon": "0"}, "bad_coordinates"),
    ],
)
def test_malformed_records(record, reason):
    parser = GenericParser(
        mapping=ColumnMapping.from_pairs(
            ["text=t", "created_at=c", "latitude=lat", "longitude=lon"]
        )
    )
    with pytest.raises(RecordError) as info:
        parser.parse(record)
    assert info.value.reason == reason


def test_parquet(tmp_path):
    path = tmp_path / "posts.parquet"
    table = pa.table(
        {
            "message": ["app down", "login fails", None],
            "ts": pa.array(
                [
                    datetime(2024, 3, 1, 9, 15, tzinfo=UTC),
                    datetime(2024, 3, 1, 9, 16, tzinfo=UTC),
                    datetime(2024, 3, 1, 9, 17, tzinfo=UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "naive": pa.array([datetime(2024, 3, 1, 10, 15)] * 3, pa.timestamp("ms")),
            "meta": [{"user": "ann"}, {"user": "ben"}, {"user": "cid"}],
        }
    )
    pq.write_table(table, path)
    mapping = ColumnMapping.from_pairs(["text=message", "created_at=ts", "author_handle=meta.user"])
    posts, _, quarantined = read_items(path, mapping=mapping)
    assert [p.text for p in posts] == ["app down", "login fails"]
    assert posts[0].created_at == datetime(2024, 3, 1, 9, 15, tzinfo=UTC)
    assert posts[1].author_handle == "ben"
    assert [(q.line, q.reason) for q in quarantined] == [(3, "missing_text")]
    naive = ColumnMapping.from_pairs(["text=message", "created_at=naive"], timezone="Europe/Paris")
    posts, _, _ = read_items(path, mapping=naive)
    assert posts[0].created_at == datetime(2024, 3, 1, 9, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ColumnMapping.from_pairs(["text=body"]),  # no created_at
        lambda: ColumnMapping.from_pairs(["text=body", "created_at=d", "colour=c"]),
        lambda: ColumnMapping.from_pairs(["text", "created_at=d"]),
        lambda: ColumnMapping.from_pairs(["text=b", "created_at=d"], timezone="Mars/Olympus"),
    ],
)
def test_invalid_mappings(build):
    with pytest.raises(ConfigError):
        build()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bad.yaml", "columns: [a, b]\n"),
        ("bad.json", "{not json"),
        ("bad.toml", "= x"),
        ("latin1.yaml", b"columns:\n  text: k\xf6rper\n"),
    ],
)
def test_invalid_mapping_files(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError, match=name):
        ColumnMapping.from_file(path)


def test_missing_mapping_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        ColumnMapping.from_file(tmp_path / "nope.yaml")
