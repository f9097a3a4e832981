"""What an incident's complaints say: symptoms with shares, error messages, broken features,
countries, sources and a few representative posts. Pure aggregation over stored rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["summarize_evidence"]

_TOP = 8
_REPRESENTATIVE = 5


def summarize_evidence(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Summarise complaint rows (as returned by ``store.detection.complaint_evidence``).

    Returns
    -------
    dict
        JSON-able: ``reports``, ``symptoms`` / ``errors`` / ``features`` (each a list of
        ``{name, count, share}``, share of reports, most common first), ``countries``
        (``{country, count, share}`` of reports whose writer was located), ``located``,
        ``sources`` and ``posts`` (representative: the most confident, distinct texts).

    Examples
    --------
    >>> rows = [
    ...     {"post_id": "t:1", "country": "US", "source_kind": "twitter", "source_name": "twitter",
    ...      "probability": 0.9, "text": "app down, 500 error", "url": None, "created_at": None,
    ...      "data": {"symptoms": ["error_message"], "errors": [{"normalized": "500 server error"}],
    ...               "features": []}},
    ...     {"post_id": "t:2", "country": None, "source_kind": "forum", "source_name": "tmc",
    ...      "probability": 0.8, "text": "can't unlock", "url": None, "created_at": None,
    ...      "data": {"symptoms": ["feature_broken"], "errors": [],
    ...               "features": [{"feature": "unlock"}]}},
    ... ]
    >>> summary = summarize_evidence(rows)
    >>> summary["errors"]
    [{'name': '500 server error', 'count': 1, 'share': 0.5}]
    >>> summary["countries"]
    [{'country': 'US', 'count': 1, 'share': 1.0}]
    """
    reports = len(rows)
    symptoms: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    features: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for row in rows:
        data = row.get("data") or {}
        symptoms.update(set(data.get("symptoms", ())))
        errors.update({e["normalized"] for e in data.get("errors", ()) if e.get("normalized")})
        features.update({f["feature"] for f in data.get("features", ()) if f.get("feature")})
        if row.get("country"):
            countries[row["country"]] += 1
        sources[row["source_name"]] += 1
    located = sum(countries.values())
    return {
        "reports": reports,
        "symptoms": _ranked(symptoms, reports),
        "errors": _ranked(errors, reports),
        "features": _ranked(features, reports),
        "countries": [
            {"country": c, "count": n, "share": round(n / located, 3)}
            for c, n in countries.most_common()
        ],
        "located": located,
        "sources": [{"source": s, "count": n} for s, n in sources.most_common()],
        "posts": _representative(rows),
    }


def _ranked(counter: Counter[str], total: int) -> list[dict[str, Any]]:
    return [
        {"name": name, "count": n, "share": round(n / max(total, 1), 3)}
        for name, n in counter.most_common(_TOP)
    ]


def _representative(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The most confident posts with distinct texts, earliest first among equals."""
    seen: set[str] = set()
    chosen = []
    ranked = sorted(rows, key=lambda r: -float(r.get("probability") or 0.0))
    for row in ranked:
        key = " ".join(str(row.get("text", "")).casefold().split())[:120]
        if key in seen:
            continue
        seen.add(key)
        created = row.get("created_at")
        chosen.append(
            {
                "id": row["post_id"],
                "text": row.get("text"),
                "created_at": created.isoformat() if created is not None else None,
                "country": row.get("country"),
                "source": row.get("source_name"),
                "url": row.get("url"),
            }
        )
        if len(chosen) == _REPRESENTATIVE:
            break
    return chosen
