"""The files an analysis writes next to its work store: ``incidents.json``, ``incidents.csv``
and ``counts.parquet``.

``counts.parquet`` has a row per service, country and bucket with reports or a baseline:
``country`` is empty for the service as a whole; a country's ``expected`` is the service's
times that country's share of the service's located reports over the whole archive (the
detector learns one baseline per service, so this is how many of the expected reports that
country usually sends); ``state`` is the service's.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select

from detector.spikes.engine import State
from detector.spikes.incidents import Incident
from detector.store.queries import MAX_BUCKETS, Timeseries, service_timeseries
from detector.store.schema import bucket_scores, complaints

if TYPE_CHECKING:
    from detector.analysis.runner import AnalysisResult

__all__ = [
    "COUNT_COLUMNS",
    "INCIDENT_COLUMNS",
    "counts_frame",
    "service_count_frames",
    "write_outputs",
]

INCIDENT_COLUMNS = (
    "id",
    "service",
    "status",
    "severity",
    "peak_severity",
    "start",
    "detected_at",
    "end",
    "duration_minutes",
    "peak_at",
    "peak_observed",
    "peak_expected",
    "peak_ratio",
    "observed_total",
    "expected_total",
    "min_p_value",
    "confidence",
    "reports",
    "top_symptoms",
    "top_errors",
    "top_features",
    "countries",
    "sources",
    "explanation",
)
COUNT_COLUMNS = ("service", "country", "bucket_start", "observed", "expected", "state")
_TOP = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def write_outputs(engine: Engine, result: AnalysisResult, *, bucket_minutes: int) -> None:
    """Write the incidents (JSON and CSV) and the counts (Parquet) into ``result.out``."""
    end = result.last or datetime.min
    _write_json(result.out / "incidents.json", result.incidents, end)
    _write_csv(result.out / "incidents.csv", result.incidents, end)
    frames = service_count_frames(engine, result.first, result.last, bucket_minutes)
    _write_counts(result.out / "counts.parquet", frames)


def _write_json(path: Path, incidents: Sequence[Incident], end: datetime) -> None:
    data = [incident.as_dict(now=incident.end or end) for incident in incidents]
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def _write_csv(path: Path, incidents: Sequence[Incident], end: datetime) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=INCIDENT_COLUMNS)
        writer.writeheader()
        for incident in incidents:
            writer.writerow(_csv_row(incident, incident.end or end))


def _csv_row(incident: Incident, now: datetime) -> dict[str, Any]:
    """One incident flattened: lists become ``name (share%)`` joined with ``; ``."""
    evidence = incident.evidence

    def top(key: str, name: str = "name") -> str:
        return "; ".join(
            f"{item[name]} ({item['share']:.0%})" for item in evidence.get(key, [])[:_TOP]
        )

    return {
        "id": incident.id,
        "service": incident.service,
        "status": incident.status,
        "severity": incident.severity,
        "peak_severity": incident.peak_severity,
        "start": incident.start.isoformat(),
        "detected_at": incident.detected_at.isoformat(),
        "end": incident.end.isoformat() if incident.end else "",
        "duration_minutes": int(incident.duration(now).total_seconds() // 60),
        "peak_at": incident.peak_at.isoformat() if incident.peak_at else "",
        "peak_observed": incident.peak_observed,
        "peak_expected": round(incident.peak_expected, 3),
        "peak_ratio": round(incident.peak_ratio, 2),
        "observed_total": incident.observed_total,
        "expected_total": round(incident.expected_total, 3),
        "min_p_value": incident.min_p_value,
        "confidence": round(incident.max_score, 3),
        "reports": evidence.get("reports", 0),
        "top_symptoms": top("symptoms"),
        "top_errors": top("errors"),
        "top_features": top("features"),
        "countries": "; ".join(
            f"{c['country']} ({c['share']:.0%})" for c in evidence.get("countries", [])
        ),
        "sources": "; ".join(f"{s['source']} ({s['count']})" for s in evidence.get("sources", [])),
        "explanation": incident.explanation(now),
    }


def counts_frame(
    engine: Engine, first: datetime | None, last: datetime | None, bucket: int
) -> pd.DataFrame:
    """Reports against the baseline per service, country and bucket (see the module), as one
    frame sorted by service, country and bucket start."""
    frames = list(service_count_frames(engine, first, last, bucket))
    if not frames:
        return _frame([])
    return pd.concat(frames, ignore_index=True)


def service_count_frames(
    engine: Engine, first: datetime | None, last: datetime | None, bucket: int
) -> Iterator[pd.DataFrame]:
    """``counts_frame`` one service at a time, services in name order: the counts of a long
    archive over many services never have to be in memory at once."""
    if first is None or last is None:
        return
    shares = _country_shares(engine)
    for service in _services(engine):
        rows: list[tuple[str, str, datetime, int, float | None, str]] = []
        countries = shares.get(service, {})
        by_country = _country_counts(engine, service, bucket) if countries else {}
        for series in _windows(engine, service, first, last, bucket):
            for start, observed, expected, state in zip(
                series.starts, series.reports, series.expected, series.states, strict=True
            ):
                label = state.label
                if observed or expected is not None or state is not State.OK:
                    rows.append((service, "", start, observed, expected, label))
                for country, share in countries.items():
                    seen = by_country.get((country, start), 0)
                    if seen or (expected is not None and expected * share >= 0.001):
                        scaled = None if expected is None else round(expected * share, 4)
                        rows.append((service, country, start, seen, scaled, label))
        if rows:
            yield _frame(rows)


def _frame(rows: list[tuple[str, str, datetime, int, float | None, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
    frame["bucket_start"] = pd.to_datetime(frame["bucket_start"], utc=True)
    frame["observed"] = frame["observed"].astype("int64")
    frame["expected"] = frame["expected"].astype("float64")
    return frame.sort_values(["country", "bucket_start"], ignore_index=True)


def _write_counts(path: Path, frames: Iterator[pd.DataFrame]) -> None:
    """``frames`` into one Parquet file, a row group each, written as they come."""
    schema = pa.schema(
        [
            ("service", pa.string()),
            ("country", pa.string()),
            ("bucket_start", pa.timestamp("ns", tz="UTC")),
            ("observed", pa.int64()),
            ("expected", pa.float64()),
            ("state", pa.string()),
        ]
    )
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for frame in frames:
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))


def _services(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        counted = set(conn.scalars(select(complaints.c.service).distinct()))
        scored = set(conn.scalars(select(bucket_scores.c.service).distinct()))
    return sorted(counted | scored)


def _windows(
    engine: Engine, service: str, first: datetime, last: datetime, bucket: int
) -> Iterator[Timeseries]:
    """The service's series from ``first`` to ``last``, in the longest windows a query allows."""
    span = timedelta(minutes=bucket * MAX_BUCKETS)
    # On a bucket boundary, so a window is never rounded out to one bucket more than allowed.
    since = first - (first - _EPOCH) % timedelta(minutes=bucket)
    while since <= last:
        until = min(since + span, last + timedelta(minutes=1))
        series = service_timeseries(
            engine, service, since=since, until=until, bucket=bucket, now=until
        )
        if series is not None:
            yield series
            since = series.until
        else:
            since = until


def _country_shares(engine: Engine) -> dict[str, dict[str, float]]:
    """Each service's located reports by country, as shares of its located reports."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(complaints.c.service, complaints.c.country, func.count())
            .where(complaints.c.counted.is_(True), complaints.c.country.is_not(None))
            .group_by(complaints.c.service, complaints.c.country)
        ).all()
    totals: dict[str, int] = {}
    for service, _country, count in rows:
        totals[service] = totals.get(service, 0) + count
    shares: dict[str, dict[str, float]] = {}
    for service, country, count in sorted(rows):
        shares.setdefault(service, {})[country] = count / totals[service]
    return shares


def _country_counts(engine: Engine, service: str, bucket: int) -> dict[tuple[str, datetime], int]:
    """Counted reports about ``service`` per country and bucket start."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                complaints.c.country,
                (complaints.c.minute - complaints.c.minute % bucket).label("start"),
                func.count(),
            )
            .where(
                complaints.c.service == service,
                complaints.c.counted.is_(True),
                complaints.c.country.is_not(None),
            )
            .group_by("country", "start")
        ).all()
    return {(c, _EPOCH + timedelta(minutes=int(m))): int(n) for c, m, n in rows}
