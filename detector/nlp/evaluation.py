"""How well the location extractor finds and places locations, on public annotated tweets.

:func:`evaluate_locations` runs the extractor over the dev splits under a data directory
(normally ``../shared/data``, see its README):

- ``wnut17/emerging.dev.conll`` (WNUT 2017, ``location`` entities),
- ``btc/btc.dev`` (Broad Twitter Corpus, ``LOC`` entities),
- ``idrisi/LMR/<event>/dev.jsonl`` (IDRISI-R location mentions of disaster tweets),
- ``idrisi/LMD/<event>/dev.jsonl`` (IDRISI-D: the mentions resolved to coordinates).

Spans are scored micro-averaged, by exact offsets and by overlap. Geocoding is scored on
IDRISI-D: for each gold mention the extractor also found (an overlapping span with a point),
the great-circle distance between the two points. A dataset whose files are absent is reported
as ``{"found": False}``, so this runs without the shared data.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from detector.nlp.eval_readers import GoldDoc, GoldSpan, read_conll, read_idrisi
from detector.nlp.locations import LocationMention

__all__ = [
    "SpanScores",
    "evaluate_locations",
    "geocoding_errors",
    "haversine_km",
    "percentile",
    "score_spans",
]

log = logging.getLogger(__name__)

_EARTH_RADIUS_KM = 6371.0088


class TextLocator(Protocol):
    """Anything with ``from_text`` like :class:`~detector.nlp.locations.LocationExtractor`."""

    def from_text(self, text: str) -> list[LocationMention]: ...  # pragma: no cover


@dataclass(frozen=True, slots=True)
class SpanScores:
    """Micro-averaged span counts and scores.

    Examples
    --------
    >>> s = SpanScores(tp=1, gold=2, predicted=1)
    >>> (s.precision, s.recall, round(s.f1, 3))
    (1.0, 0.5, 0.667)
    """

    tp: int
    gold: int
    predicted: int

    @property
    def precision(self) -> float:
        """Matched predictions over predictions (0 when nothing was predicted)."""
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        """Matched gold spans over gold spans (0 when there are none)."""
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Counts and rounded scores, JSON-able."""
        return {
            "tp": self.tp,
            "gold": self.gold,
            "predicted": self.predicted,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


Span = tuple[int, int]


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _match(gold: Sequence[Span], predicted: Sequence[Span], *, exact: bool) -> list[int | None]:
    """For each gold span, the index of the prediction it is paired with (one-to-one)."""
    taken: set[int] = set()
    pairs: list[int | None] = []
    for g in gold:
        hit = next(
            (
                i
                for i, p in enumerate(predicted)
                if i not in taken and (p == g if exact else _overlaps(p, g))
            ),
            None,
        )
        if hit is not None:
            taken.add(hit)
        pairs.append(hit)
    return pairs


def score_spans(
    pairs: Iterable[tuple[Sequence[Span], Sequence[Span]]], *, exact: bool
) -> SpanScores:
    """Micro-averaged P/R/F1 over documents' ``(gold, predicted)`` span lists.

    Parameters
    ----------
    pairs
        Per document, the gold and the predicted ``(start, end)`` spans.
    exact
        True: a prediction matches only identical offsets. False: any overlap matches. Either
        way each gold span pairs with at most one prediction and vice versa.

    Examples
    --------
    >>> docs = [([(0, 5), (10, 20)], [(0, 5), (12, 15), (30, 33)])]
    >>> score_spans(docs, exact=True)
    SpanScores(tp=1, gold=2, predicted=3)
    >>> score_spans(docs, exact=False)
    SpanScores(tp=2, gold=2, predicted=3)
    """
    tp = gold_n = pred_n = 0
    for gold, predicted in pairs:
        gold_n += len(gold)
        pred_n += len(predicted)
        tp += sum(hit is not None for hit in _match(gold, predicted, exact=exact))
    return SpanScores(tp=tp, gold=gold_n, predicted=pred_n)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees.

    Examples
    --------
    >>> round(haversine_km(48.8566, 2.3522, 51.5074, -0.1278))
    344
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation; None for no values.

    Examples
    --------
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    >>> percentile([], 90) is None
    True
    """
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got: {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def geocoding_errors(
    gold: Sequence[GoldSpan], predicted: Sequence[LocationMention]
) -> list[float | None]:
    """Per gold span with coordinates, the km to the overlapping prediction's point.

    ``None`` where the extractor found no overlapping span with a point. Gold spans without
    coordinates are skipped.

    Examples
    --------
    >>> paris = GoldSpan(0, 5, "Paris", "City/town", 48.8566, 2.3522)
    >>> geocoding_errors([paris], [])
    [None]
    """
    located = [m for m in predicted if m.lat is not None and m.start is not None]
    with_point = [g for g in gold if g.lat is not None and g.lon is not None]
    spans = [(m.start or 0, m.end or 0) for m in located]
    hits = _match([(g.start, g.end) for g in with_point], spans, exact=False)
    errors: list[float | None] = []
    for g, hit in zip(with_point, hits, strict=True):
        m = located[hit] if hit is not None else None
        if m is None or m.lat is None or m.lon is None or g.lat is None or g.lon is None:
            errors.append(None)
        else:
            errors.append(haversine_km(g.lat, g.lon, m.lat, m.lon))
    return errors


def _subsample(docs: list[GoldDoc], limit: int) -> list[GoldDoc]:
    """Every k-th document, so the same subset comes back on every run."""
    if len(docs) <= limit:
        return docs
    step = len(docs) / limit
    return [docs[int(i * step)] for i in range(limit)]


def _spans_report(docs: list[GoldDoc], predictions: list[list[LocationMention]]) -> dict[str, Any]:
    pairs = [
        ([(s.start, s.end) for s in doc.spans], [(m.start or 0, m.end or 0) for m in mentions])
        for doc, mentions in zip(docs, predictions, strict=True)
    ]
    by_type: Counter[str] = Counter()
    found_by_type: Counter[str] = Counter()
    for doc, (gold, predicted) in zip(docs, pairs, strict=True):
        for span, hit in zip(doc.spans, _match(gold, predicted, exact=False), strict=True):
            by_type[span.type] += 1
            found_by_type[span.type] += hit is not None
    return {
        "found": True,
        "documents": len(docs),
        "exact": score_spans(pairs, exact=True).as_dict(),
        "partial": score_spans(pairs, exact=False).as_dict(),
        "recall_by_type": {
            kind: {"gold": n, "recall": round(found_by_type[kind] / n, 4)}
            for kind, n in by_type.most_common()
        },
    }


def _geocoding_report(
    docs: list[GoldDoc], predictions: list[list[LocationMention]]
) -> dict[str, Any]:
    errors: list[float | None] = []
    by_type: dict[str, list[float]] = {}
    for doc, mentions in zip(docs, predictions, strict=True):
        located = [s for s in doc.spans if s.lat is not None]
        for span, km in zip(located, geocoding_errors(doc.spans, mentions), strict=True):
            errors.append(km)
            if km is not None:
                by_type.setdefault(span.type, []).append(km)
    distances = [km for km in errors if km is not None]

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "gold_mentions": len(errors),
        "geocoded": len(distances),
        "coverage": round(len(distances) / len(errors), 4) if errors else 0.0,
        "median_km": rounded(percentile(distances, 50)),
        "p90_km": rounded(percentile(distances, 90)),
        "within_25km": round(sum(d <= 25 for d in distances) / len(distances), 4)
        if distances
        else 0.0,
        "median_km_by_type": {
            kind: {"n": len(kms), "median_km": rounded(percentile(kms, 50))}
            for kind, kms in sorted(by_type.items(), key=lambda kv: -len(kv[1]))
        },
    }


_Reader = Callable[[list[Path]], list[GoldDoc]]
# name -> (glob under the data directory, reader of the matching files)
_DATASETS: dict[str, tuple[str, _Reader]] = {
    "wnut17_dev": ("wnut17/emerging.dev.conll", lambda ps: read_conll(ps[0], {"location"})),
    "btc_dev": ("btc/btc.dev", lambda ps: read_conll(ps[0], {"LOC"})),
    "idrisi_lmr_dev": ("idrisi/LMR/*/dev.jsonl", read_idrisi),
    "idrisi_lmd_dev": ("idrisi/LMD/*/dev.jsonl", read_idrisi),
}


def evaluate_locations(
    extractor: TextLocator, data_dir: Path, *, max_docs: int = 5000
) -> dict[str, Any]:
    """Span and geocoding scores of ``extractor`` on the datasets found under ``data_dir``.

    Parameters
    ----------
    extractor
        Typically a :class:`~detector.nlp.locations.LocationExtractor`.
    data_dir
        The shared data directory (``wnut17/``, ``btc/``, ``idrisi/``); missing datasets are
        reported as ``{"found": False, "expected": "<path pattern>"}``.
    max_docs
        Per dataset, at most this many documents (an evenly spaced, deterministic subset).

    Returns
    -------
    dict
        JSON-able: ``{"data_dir", "seconds", "datasets": {name: report}}``. Span reports hold
        ``exact`` and ``partial`` P/R/F1 and recall by gold type; ``idrisi_lmd_dev`` also holds
        ``geocoding`` (coverage, median and p90 km).

    Examples
    --------
    >>> from pathlib import Path
    >>> from detector.nlp.gazetteer import Gazetteer
    >>> from detector.nlp.locations import LocationExtractor
    >>> result = evaluate_locations(LocationExtractor(Gazetteer.load()), Path("/nonexistent"))
    >>> result["datasets"]["btc_dev"]["found"]
    False
    """
    if max_docs < 1:
        raise ValueError(f"max_docs must be positive, got: {max_docs}")
    began = time.perf_counter()
    reports: dict[str, Any] = {}
    for name, (pattern, read) in _DATASETS.items():
        paths = sorted(p for p in data_dir.glob(pattern) if p.is_file())
        if not paths:
            log.info("location evaluation: %s not found under %s", name, data_dir)
            reports[name] = {"found": False, "expected": str(data_dir / pattern)}
            continue
        docs = _subsample(read(paths), max_docs)
        predictions = [extractor.from_text(doc.text) for doc in docs]
        report = _spans_report(docs, predictions)
        if name == "idrisi_lmd_dev":
            report["geocoding"] = _geocoding_report(docs, predictions)
        reports[name] = report
        log.info("location evaluation: %s on %d documents", name, len(docs))
    return {
        "data_dir": str(data_dir),
        "seconds": round(time.perf_counter() - began, 2),
        "datasets": reports,
    }
