"""Readers for the public location-annotated tweet sets used by :mod:`detector.nlp.evaluation`.

Each reader returns :class:`GoldDoc` records: a text and its gold location spans as character
offsets into that text. CoNLL files (WNUT17, BTC) are rebuilt as tokens joined by single spaces;
IDRISI JSONL files carry the original text and offsets, and IDRISI-D adds the coordinates of the
OpenStreetMap entry each mention was resolved to.

Examples
--------
>>> docs = conll_documents(["Flooding\\tO", "in\\tO", "New\\tB-LOC", "York\\tI-LOC"], {"LOC"})
>>> [(d.text, [(s.start, s.end, s.text) for s in d.spans]) for d in docs]
[('Flooding in New York', [(12, 20, 'New York')])]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "GoldDoc",
    "GoldSpan",
    "conll_documents",
    "idrisi_documents",
    "read_conll",
    "read_idrisi",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """One annotated location: ``text[start:end]``, its dataset ``type`` and, for IDRISI-D,
    the coordinates of the place it refers to."""

    start: int
    end: int
    text: str
    type: str = "location"
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"span must satisfy 0 <= start < end, got: {self.start}..{self.end}")


@dataclass(frozen=True, slots=True)
class GoldDoc:
    """A text with its gold location spans (sorted by start)."""

    text: str
    spans: tuple[GoldSpan, ...]


def conll_documents(lines: Iterable[str], labels: frozenset[str] | set[str]) -> list[GoldDoc]:
    """Documents from CoNLL BIO lines (``token<TAB>tag``, blank line between documents).

    Parameters
    ----------
    lines
        The file's lines, with or without trailing newlines.
    labels
        Entity labels that count as locations (``{"location"}`` for WNUT17, ``{"LOC"}`` for BTC).

    Returns
    -------
    list[GoldDoc]
        One per non-empty block; the text is the tokens joined by single spaces. An ``I-`` tag
        without a preceding entity of the same label starts a new one.

    Examples
    --------
    >>> lines = ["at\\tO", "Redondo\\tB-location", "Beach\\tI-location", "", "hi\\tO"]
    >>> [d.spans for d in conll_documents(lines, {"location"})]
    [(GoldSpan(start=3, end=16, text='Redondo Beach', type='location', lat=None, lon=None),), ()]
    """
    docs: list[GoldDoc] = []
    block: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            if block:
                docs.append(_conll_doc(block, labels))
                block = []
            continue
        token, _, tag = line.partition("\t")
        block.append((token, tag.strip() or "O"))
    if block:
        docs.append(_conll_doc(block, labels))
    return docs


def _conll_doc(block: list[tuple[str, str]], labels: frozenset[str] | set[str]) -> GoldDoc:
    spans: list[tuple[int, int, str]] = []
    offset = 0
    current: tuple[int, int, str] | None = None
    for token, tag in block:
        start, end = offset, offset + len(token)
        offset = end + 1
        prefix, _, label = tag.partition("-")
        inside = prefix == "I" and current is not None and current[2] == label
        if current is not None and not inside:
            spans.append(current)
            current = None
        if label in labels and prefix in ("B", "I"):
            current = (current[0], end, label) if inside and current else (start, end, label)
    if current is not None:
        spans.append(current)
    text = " ".join(token for token, _ in block)
    return GoldDoc(text, tuple(GoldSpan(s, e, text[s:e], label) for s, e, label in spans))


def read_conll(path: Path, labels: frozenset[str] | set[str]) -> list[GoldDoc]:
    """:func:`conll_documents` of the file at ``path`` (UTF-8)."""
    with path.open(encoding="utf-8") as handle:
        return conll_documents(handle, labels)


def idrisi_documents(records: Iterable[dict[str, Any]]) -> Iterator[GoldDoc]:
    """Documents from IDRISI-R or IDRISI-D records (``text``, ``location_mentions``).

    Each mention has ``text``, ``type``, ``start_offset``, ``end_offset``; IDRISI-D mentions
    also have ``osm_json`` with ``lat``/``lon`` strings. A few released offsets are one
    character off; a mention whose offsets do not cover its text is moved to the nearest
    occurrence of that text, and dropped (with a debug log) if there is none.

    Examples
    --------
    >>> record = {"text": "Fires near Athens", "location_mentions": [
    ...     {"text": "Athens", "type": "City/town", "start_offset": 10, "end_offset": 16,
    ...      "osm_json": {"lat": "37.98", "lon": "23.73"}}]}
    >>> next(idrisi_documents([record])).spans
    (GoldSpan(start=11, end=17, text='Athens', type='City/town', lat=37.98, lon=23.73),)
    """
    for record in records:
        text: str = record["text"]
        spans = []
        for mention in record.get("location_mentions") or ():
            span = _idrisi_span(text, mention)
            if span is None:
                log.debug("dropping misaligned mention %r in %r", mention.get("text"), text)
            else:
                spans.append(span)
        yield GoldDoc(text, tuple(sorted(spans, key=lambda s: (s.start, s.end))))


def _idrisi_span(text: str, mention: dict[str, Any]) -> GoldSpan | None:
    surface: str = mention["text"]
    start = int(mention["start_offset"])
    if text[start : start + len(surface)] != surface:
        found = [i for i in range(len(text)) if text.startswith(surface, i)]
        if not surface or not found:
            return None
        start = min(found, key=lambda i: abs(i - start))
    osm = mention.get("osm_json") or {}
    lat, lon = osm.get("lat"), osm.get("lon")
    return GoldSpan(
        start,
        start + len(surface),
        surface,
        str(mention.get("type", "location")),
        float(lat) if lat is not None else None,
        float(lon) if lon is not None else None,
    )


def read_idrisi(paths: Iterable[Path]) -> list[GoldDoc]:
    """:func:`idrisi_documents` of JSONL files (one record per line), in the order given."""
    docs: list[GoldDoc] = []
    for path in paths:
        with path.open("rb") as handle:
            records = (orjson.loads(line) for line in handle if line.strip())
            docs.extend(idrisi_documents(records))
    return docs
