"""Any CSV / JSON lines / Parquet of posts, read through a column mapping.

A mapping names, for each post field, the column (or dotted path into nested JSON) that holds it::

    outage-radar ingest export.csv --format generic --map text=body --map created_at=date

or, in a YAML/JSON/TOML file passed with ``--mapping``::

    columns: {text: body, created_at: date, id: tweet_id, author_handle: user.screen_name}
    timezone: Europe/Berlin     # for timestamps written without a zone (default UTC)
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from detector.errors import ConfigError, RecordError
from detector.ingest.base import RecordParser, Skipped, optional_str, require_text
from detector.ingest.timestamps import parse_timestamp
from detector.models import GeoPoint, Post, SourceKind
from detector.yamlio import load_yaml

__all__ = ["MAPPABLE_FIELDS", "ColumnMapping", "GenericParser"]

MAPPABLE_FIELDS = (
    "id",
    "text",
    "created_at",
    "author_id",
    "author_handle",
    "author_location",
    "lang",
    "url",
    "title",
    "latitude",
    "longitude",
    "reply_to",
    "quote_of",
    "repost_of",
    "source_name",
)
_REQUIRED = ("text", "created_at")


@dataclass(frozen=True)
class ColumnMapping:
    """Which column holds each post field, and the zone of naive timestamps.

    Examples
    --------
    >>> ColumnMapping.from_pairs(["text=body", "created_at=date"]).columns["text"]
    'body'
    """

    columns: Mapping[str, str]
    timezone: str | None = None
    undated: datetime | None = None
    """Time given to every record when no column holds one (annotating plain text)."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(MAPPABLE_FIELDS))
        if unknown:
            raise ConfigError(
                f"unknown post field(s) in mapping: {', '.join(unknown)}; "
                f"known: {', '.join(MAPPABLE_FIELDS)}"
            )
        required = _REQUIRED if self.undated is None else ("text",)
        missing = [f for f in required if f not in self.columns]
        if missing:
            raise ConfigError(f"mapping needs a column for: {', '.join(missing)}")
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"unknown timezone in mapping: {self.timezone!r}") from None

    @classmethod
    def from_pairs(cls, pairs: Iterable[str], *, timezone: str | None = None) -> ColumnMapping:
        """Build a mapping from ``field=column`` strings, as given on the command line."""
        columns: dict[str, str] = {}
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise ConfigError(f"column mapping must look like field=column, got: {pair!r}")
            columns[name.strip()] = column.strip()
        return cls(columns=columns, timezone=timezone)

    @classmethod
    def from_file(cls, path: Path) -> ColumnMapping:
        """Load a mapping from a YAML, JSON or TOML file with ``columns`` and ``timezone``."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read mapping file: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: mapping file is not UTF-8: {exc}") from None
        try:
            if path.suffix == ".toml":
                data: Any = tomllib.loads(text)
            elif path.suffix == ".json":
                data = json.loads(text)
            else:
                data = load_yaml(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: invalid mapping file: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            raise ConfigError(f"{path}: mapping file needs a 'columns' table of field: column")
        columns = {str(k): str(v) for k, v in data["columns"].items()}
        timezone = data.get("timezone")
        return cls(columns=columns, timezone=str(timezone) if timezone else None)

    def value(self, record: Mapping[str, Any], name: str) -> Any:
        """Return the value of post field ``name`` in ``record`` (None when absent)."""
        column = self.columns.get(name)
        if column is None:
            return None
        if column in record:
            return record[column]
        current: Any = record
        for part in column.split("."):
            if not isinstance(current, dict):
                return None
            current = current.get(part)
        return current


class GenericParser(RecordParser):
    """Parses records of any layout through a ``ColumnMapping``."""

    format = "generic"
    kind = SourceKind.GENERIC

    def __init__(self, *, mapping: ColumnMapping, source_name: str | None = None) -> None:
        tz = ZoneInfo(mapping.timezone) if mapping.timezone else None
        if tz is None:
            super().__init__(source_name=source_name)
        else:
            super().__init__(source_name=source_name, naive_tz=tz)
        self.mapping = mapping

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:  # noqa: ARG003 - interface
        """Generic never claims a file on its own: it needs a mapping."""
        return False

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the mapped post; records without an id get a stable content-derived one."""
        get = self.mapping.value
        text = require_text(get(record, "text"), field=self.mapping.columns["text"])
        column = self.mapping.columns.get("created_at")
        stamp: Any = self.mapping.undated if column is None else get(record, "created_at")
        if stamp is None or stamp == "":
            raise RecordError("missing_timestamp", "no timestamp", field=column)
        created = parse_timestamp(stamp, naive_tz=self.naive_tz, field=column or "created_at")
        source = self.source_name or optional_str(get(record, "source_name")) or "generic"
        author = optional_str(get(record, "author_id")) or optional_str(
            get(record, "author_handle")
        )
        native = optional_str(get(record, "id")) or _content_id(created.isoformat(), author, text)
        used = set(self.mapping.columns.values())
        return [
            Post(
                id=f"generic:{source}:{native}",
                source_kind=SourceKind.GENERIC,
                source_name=source,
                created_at=created,
                text=text,
                lang=optional_str(get(record, "lang")),
                author_id=optional_str(get(record, "author_id")),
                author_handle=optional_str(get(record, "author_handle")),
                author_location=optional_str(get(record, "author_location")),
                coordinates=_point(get(record, "latitude"), get(record, "longitude")),
                url=optional_str(get(record, "url")),
                title=optional_str(get(record, "title")),
                reply_to=_link(source, get(record, "reply_to")),
                quote_of=_link(source, get(record, "quote_of")),
                repost_of=_link(source, get(record, "repost_of")),
                extra={k: v for k, v in record.items() if k not in used and v not in (None, "")},
            )
        ]


def _content_id(created: str, author: str | None, text: str) -> str:
    # Same record, same id: re-ingesting a file without ids must not store it twice.
    key = f"{created}|{author or ''}|{text}".encode()
    return "h" + hashlib.blake2b(key, digest_size=12).hexdigest()


def _link(source: str, value: object) -> str | None:
    native = optional_str(value)
    return f"generic:{source}:{native}" if native else None


def _point(lat: object, lon: object) -> GeoPoint | None:
    if lat in (None, "") or lon in (None, ""):
        return None
    try:
        return GeoPoint(lat=float(str(lat)), lon=float(str(lon)))
    except ValueError as exc:
        raise RecordError("bad_coordinates", str(exc), field="latitude") from None
