"""Read posts from files: containers (JSON lines, JSON documents, CSV, Parquet) and formats.

Memory stays flat in file size for JSON lines, CSV and Parquet, which are read record by
record. A JSON document (an API response, a Discourse topic, a JSON array) is loaded whole:
such files are pages of an API, not archives.
"""

from __future__ import annotations

import csv
import io
import itertools
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from detector.errors import ConfigError, InputError, RecordError, UnknownFormat
from detector.ingest.archive import PARQUET_MAGIC, open_input
from detector.ingest.base import Quarantined, RecordParser, Skipped
from detector.ingest.formats import FORMATS, make_parser, sniff_format
from detector.ingest.generic import ColumnMapping
from detector.models import Post

__all__ = ["ReadItem", "ReadOptions", "parse_record", "read_file"]

ReadItem = Post | Skipped | Quarantined
_SNIFF_BYTES = 1 << 16
_SNIFF_RECORDS = 200
_RAW_LIMIT = 65536
_CSV_DELIMITERS = ",;\t|"
_BOM = b"\xef\xbb\xbf"
# Malformed records are data errors, not bugs; anything a parser raises on odd input is caught
# at the record boundary, quarantined with its message, and the run goes on.
_RECORD_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class ReadOptions:
    """How to read input files.

    Parameters
    ----------
    format
        A name from ``FORMATS``; None detects it from the content.
    source_name
        Overrides the source name each format infers.
    mapping
        Column mapping for the ``generic`` format (implies it when no format is given).
    not_after
        Posts dated after this moment are quarantined as ``bad_timestamp`` (clock skew or junk).
    """

    format: str | None = None
    source_name: str | None = None
    mapping: ColumnMapping | None = None
    not_after: datetime | None = None

    def __post_init__(self) -> None:
        if self.not_after is not None and self.not_after.utcoffset() is None:
            raise ConfigError(f"not_after must be timezone-aware, got: {self.not_after!r}")
        if self.format is not None:
            make_parser(self.format, mapping=self.mapping)  # fail fast on a bad combination


def read_file(path: Path, options: ReadOptions) -> Iterator[ReadItem]:
    """Yield every post, skipped record and quarantined record of one file, in file order.

    Raises
    ------
    SourceNotFound, InputError, CorruptArchive, UnknownFormat
        When the file as a whole cannot be read; records already yielded stay valid.
    """
    if _is_parquet(path):
        yield from _parquet(path, options)
        return
    with open_input(path) as stream:
        head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
        first = head.lstrip(_BOM + b" \t\r\n")[:1]
        if not first:
            return
        if first in (b"{", b"["):
            yield from _json(path, stream, head, options)
        else:
            yield from _csv(path, stream, head, options)


def _is_parquet(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == PARQUET_MAGIC
    except OSError:
        return False  # open_input reports the problem with the right error


def _choose_parser(path: Path, options: ReadOptions, sample: Iterable[Any]) -> RecordParser:
    name = options.format
    if name is None:
        if options.mapping is not None:
            name = "generic"
        else:
            sample = list(sample)
            name = sniff_format(sample)
            if name is None:
                raise UnknownFormat(path, _unknown_format_message(sample))
    return make_parser(name, source_name=options.source_name, mapping=options.mapping)


def _unknown_format_message(sample: list[Any]) -> str:
    keys = next((sorted(r)[:12] for r in sample if isinstance(r, Mapping)), None)
    seen = f"first record's fields: {', '.join(map(str, keys))}" if keys else "no records found"
    known = ", ".join(name for name in FORMATS if name != "generic")
    return (
        f"unknown format ({seen}); pass --format ({known}), "
        "or --format generic --map text=COLUMN --map created_at=COLUMN"
    )


def _json(
    path: Path, stream: io.BufferedReader, head: bytes, options: ReadOptions
) -> Iterator[ReadItem]:
    if _is_document(head):
        yield from _json_document(path, stream, options)
        return
    sample = []
    for line in head.split(b"\n")[:_SNIFF_RECORDS]:
        try:
            sample.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    parser = _choose_parser(path, options, sample)
    for number, line in enumerate(stream, 1):
        if number == 1:
            line = line.removeprefix(_BOM)
        if not line.strip():
            continue
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield _quarantine_undecodable(path, number, line, exc)
            continue
        if not isinstance(document, dict):
            # One line is one record (or one API response): a bare array or scalar is neither.
            detail = f"expected an object, got {type(document).__name__}"
            yield Quarantined(str(path), number, "invalid_record", detail, _raw(line))
            continue
        records = _expand(parser, document, path, number, line)
        if isinstance(records, Quarantined):
            yield records
            continue
        if not records:
            yield Skipped("no_records")  # e.g. an API response page with an empty `data`
        for record in records:
            yield from parse_record(parser, record, path, number, line, options)


def _expand(
    parser: RecordParser, document: Any, path: Path, number: int, line: bytes | None
) -> list[Any] | Quarantined:
    """Split ``document`` into records, quarantining it whole when its layout is broken."""
    try:
        return list(parser.expand(document))
    except _RECORD_ERRORS as exc:
        raw = line if line is not None else document
        detail = f"cannot split into records: {exc}"
        return Quarantined(str(path), number, "invalid_record", detail, _raw(raw))


def _is_document(head: bytes) -> bool:
    """Tell one JSON document (an array, a pretty-printed object) from JSON lines.

    A first line that parses alone is a JSON line, unless it is an array and the only line. One
    that does not is the start of a document, unless most later lines parse alone: then it is a
    JSON lines file whose first record is damaged.
    """
    lines = [line for line in head.removeprefix(_BOM).split(b"\n") if line.strip()]
    if not lines:
        return False
    try:
        first = orjson.loads(lines[0])
    except orjson.JSONDecodeError:
        later = lines[1:_SNIFF_RECORDS]
        parsed = [_loads_or_none(line) for line in later]
        objects = sum(isinstance(value, dict) for value in parsed)
        return not (objects and 2 * sum(v is not None for v in parsed) >= len(later))
    return isinstance(first, list) and len(lines) == 1


def _loads_or_none(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return None


def _json_document(
    path: Path, stream: io.BufferedReader, options: ReadOptions
) -> Iterator[ReadItem]:
    raw = stream.read().removeprefix(_BOM)
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        yield _quarantine_undecodable(path, 1, raw, exc)
        return
    parser = _choose_parser(path, options, [document])
    records = _expand(parser, document, path, 1, None)
    if isinstance(records, Quarantined):
        yield records
        return
    for index, record in enumerate(records):
        for item in parse_record(parser, record, path, 1, None, options):
            if isinstance(item, Quarantined):
                item = Quarantined(
                    item.file,
                    item.line,
                    item.reason,
                    f"record {index}: {item.detail}",
                    item.raw,
                    item.field,
                )
            yield item


def _quarantine_undecodable(path: Path, number: int, line: bytes, exc: Exception) -> Quarantined:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        return Quarantined(str(path), number, "bad_encoding", f"not UTF-8: {bad}", _raw(line))
    return Quarantined(str(path), number, "invalid_json", str(exc), _raw(line))


def _raw(data: bytes | str | Any) -> str:
    if isinstance(data, bytes):
        text = data.decode("utf-8", errors="replace")
    elif isinstance(data, str):
        text = data
    else:
        text = orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    return text.rstrip("\r\n")[:_RAW_LIMIT]


def parse_record(
    parser: RecordParser,
    record: Any,
    path: Path | str,
    number: int,
    line: bytes | str | None,
    options: ReadOptions,
) -> Iterator[ReadItem]:
    """Parse one decoded record into posts, yielding a ``Skipped`` for a record that is not a
    post and a ``Quarantined`` (naming ``path`` and ``number``) for a malformed one; posts dated
    after ``options.not_after`` are quarantined too. Files and live sources both use it."""
    raw = line if line is not None else record
    if not isinstance(record, dict):
        detail = f"expected an object, got {type(record).__name__}"
        yield Quarantined(str(path), number, "invalid_record", detail, _raw(raw))
        return
    try:
        result = parser.parse(record)
    except RecordError as exc:
        yield Quarantined(str(path), number, exc.reason, exc.detail, _raw(raw), exc.field)
        return
    except _RECORD_ERRORS as exc:
        yield Quarantined(str(path), number, "invalid_record", str(exc), _raw(raw))
        return
    if isinstance(result, Skipped):
        yield result
        return
    for post in result:
        if options.not_after is not None and post.created_at > options.not_after:
            detail = f"post {post.id} is dated in the future: {post.created_at.isoformat()}"
            yield Quarantined(str(path), number, "bad_timestamp", detail, _raw(raw), "created_at")
        else:
            yield post


def _csv(
    path: Path, stream: io.BufferedReader, head: bytes, options: ReadOptions
) -> Iterator[ReadItem]:
    header = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    delimiter = max(_CSV_DELIMITERS, key=header.count)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.DictReader(text, delimiter=delimiter)
    try:
        fields = [_unescape_surrogates(name) for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise UnknownFormat(path, f"unreadable CSV header: {exc}") from None
    reader.fieldnames = fields  # a non-UTF-8 header byte becomes U+FFFD, not a lone surrogate
    parser = _choose_parser(path, options, [dict.fromkeys(fields, "")])
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Quarantined(str(path), reader.line_num, "invalid_csv", str(exc), "")
            continue
        number = reader.line_num
        values = list(row.values())
        if None in row or any(v is None for v in values):
            detail = f"row has {_width(row)} fields, header has {len(fields)}"
            yield Quarantined(str(path), number, "invalid_csv", detail, _csv_raw(values, delimiter))
            continue
        if any(_has_surrogates(v) for v in values if isinstance(v, str)):
            yield Quarantined(
                str(path), number, "bad_encoding", "not UTF-8", _csv_raw(values, delimiter)
            )
            continue
        record = {k: v for k, v in row.items() if v != ""}
        yield from parse_record(parser, record, path, number, None, options)


def _width(row: Mapping[Any, Any]) -> int:
    extra = row.get(None)
    present = sum(1 for k, v in row.items() if k is not None and v is not None)
    return present + (len(extra) if isinstance(extra, list) else 0)


def _csv_raw(values: list[Any], delimiter: str) -> str:
    flat: list[str] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(map(str, value))
        elif value is not None:
            flat.append(_unescape_surrogates(value))
    return delimiter.join(flat)[:_RAW_LIMIT]


def _unescape_surrogates(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _parquet(path: Path, options: ReadOptions) -> Iterator[ReadItem]:
    batches = _parquet_batches(path)
    rows = next(batches, None)
    if rows is None:
        return
    parser = _choose_parser(path, options, rows[:_SNIFF_RECORDS])
    number = 0
    for batch in itertools.chain([rows], batches):
        for row in batch:
            number += 1
            record = {k: v for k, v in row.items() if v is not None}
            yield from parse_record(parser, record, path, number, None, options)


def _parquet_batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of a Parquet file batch by batch; damage anywhere is an ``InputError``."""
    import pyarrow.parquet as pq  # imported here: pyarrow is slow to import and rarely needed

    try:
        table = pq.ParquetFile(path)
        for batch in table.iter_batches(batch_size=8192):
            rows: list[dict[str, Any]] = batch.to_pylist()
            yield rows
    except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError mix
        raise InputError(path, f"unreadable Parquet file: {exc}") from None
