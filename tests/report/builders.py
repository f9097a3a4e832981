"""Builders for small stores written by hand: incidents and per-minute scores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from detector.spikes.incidents import Incident
from detector.store import detection

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
START = datetime(2021, 11, 19, 21, 0, tzinfo=UTC)


def put_incident(engine: Engine, incident: Incident, *, updated_at: datetime) -> None:
    """Store ``incident`` as the pipeline does."""
    with engine.begin() as conn:
        detection.upsert_incident(
            conn,
            {
                "id": incident.id,
                "service": incident.service,
                "status": incident.status,
                "severity": incident.severity,
                "start": incident.start,
                "detected_at": incident.detected_at,
                "end": incident.end,
                "updated_at": updated_at,
                "data": incident.as_dict(now=updated_at),
            },
        )


def put_scores(
    engine: Engine, service: str, rows: Sequence[tuple[datetime, float, float, int]]
) -> None:
    """Store per-minute scores ``(minute, observed, expected, state)`` of ``service``."""
    with engine.begin() as conn:
        detection.add_bucket_scores(
            conn,
            [
                {
                    "service": service,
                    "minute": minute_of(at),
                    "observed": observed,
                    "expected": expected,
                    "score": 0.0,
                    "state": state,
                }
                for at, observed, expected, state in rows
            ],
        )


def minute_of(at: datetime) -> int:
    """Minutes since 1970-01-01 UTC."""
    return int((at - EPOCH) // timedelta(minutes=1))


def make_incident(**overrides: Any) -> Incident:
    """A resolved Tesla-like incident; any field can be overridden."""
    start = START
    fields: dict[str, Any] = {
        "id": "tesla:20211119T2100Z",
        "service": "tesla",
        "start": start,
        "detected_at": start + timedelta(minutes=6),
        "status": "resolved",
        "end": start + timedelta(hours=2),
        "severity": "critical",
        "peak_severity": "critical",
        "peak_at": start + timedelta(minutes=40),
        "peak_observed": 240.0,
        "peak_expected": 0.3,
        "peak_window_minutes": 15,
        "min_p_value": 1e-100,
        "max_score": 1.0,
        "observed_total": 900.0,
        "expected_total": 4.0,
        "evidence": {
            "reports": 900,
            "symptoms": [{"name": "error_message", "count": 400, "share": 0.444}],
            "errors": [{"name": "500 server error", "count": 300, "share": 0.333}],
            "features": [{"name": "phone key", "count": 100, "share": 0.111}],
            "countries": [{"country": "US", "count": 500, "share": 0.8}],
            "located": 625,
            "sources": [{"source": "twitter", "count": 900}],
            "posts": [],
        },
    }
    fields.update(overrides)
    return Incident(**fields)
