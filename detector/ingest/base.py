"""The reader interface: a ``RecordParser`` turns one decoded record into posts.

Containers (JSON lines, JSON documents, CSV, Parquet) and compression are handled once, in
``detector.ingest.files``; a parser only knows its network's field names and quirks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, ClassVar

from detector.errors import RecordError
from detector.models import Post, SourceKind

__all__ = ["Quarantined", "RecordParser", "Skipped"]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A well-formed record that is not a post (a delete notice, a removed comment...)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A malformed record, kept with where it came from and why it was refused."""

    file: str
    line: int
    reason: str
    detail: str
    raw: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the quarantine entry as written to the quarantine JSONL file."""
        return {
            "file": self.file,
            "line": self.line,
            "reason": self.reason,
            "field": self.field,
            "detail": self.detail,
            "raw": self.raw,
        }


class RecordParser(ABC):
    """Parses records of one format into ``Post`` objects.

    Parameters
    ----------
    source_name
        Overrides the source name the format would infer (``--source-name``).
    naive_tz
        The zone assumed for timestamps written without one.
    """

    format: ClassVar[str]
    kind: ClassVar[SourceKind]

    def __init__(self, *, source_name: str | None = None, naive_tz: tzinfo = UTC) -> None:
        self.source_name = source_name
        self.naive_tz = naive_tz

    @classmethod
    @abstractmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """Return True when ``record`` looks like this format (used when no format is given)."""

    def expand(self, document: Any) -> Iterator[Any]:
        """Split one decoded JSON document into records.

        The default yields the items of a list, or the document itself. Formats whose documents
        bundle several posts with shared context (API responses, forum topics) override it.
        """
        if isinstance(document, list):
            yield from document
        else:
            yield document

    @abstractmethod
    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the posts in ``record`` (one, or more with embedded originals) or ``Skipped``.

        Raises
        ------
        RecordError
            When the record is malformed; the caller quarantines it and goes on.
        """


def require_text(value: object, *, field: str = "text") -> str:
    """Return ``value`` as non-blank text or raise ``RecordError('missing_text')``."""
    if not isinstance(value, str) or not value.strip():
        raise RecordError("missing_text", "no post text", field=field)
    return value


def optional_str(value: object) -> str | None:
    """Return ``value`` as a stripped string, or None when it is empty or missing.

    Examples
    --------
    >>> optional_str(12), optional_str("  "), optional_str(None)
    ('12', None, None)
    """
    if type(value) is str:  # the common case, first: this runs ~10 times per post
        return value.strip() or None
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value).strip()
    return text or None


def remaining(record: Mapping[str, Any], consumed: frozenset[str]) -> dict[str, Any]:
    """Return the fields of ``record`` that no ``Post`` field took (copying is cheaper than
    filtering key by key when most fields remain).

    Examples
    --------
    >>> remaining({"id": 1, "text": "down", "source": "web"}, frozenset({"id", "text"}))
    {'source': 'web'}
    """
    rest = dict(record)
    for key in consumed:
        rest.pop(key, None)
    return rest


def dict_at(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """Return the sub-object at ``key``, or an empty mapping when it is missing or not an object."""
    value = record.get(key)
    return value if isinstance(value, dict) else {}
