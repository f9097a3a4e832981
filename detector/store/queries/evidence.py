"""What a service's complaints said over a span: symptoms with shares, error messages, broken
features, countries and representative posts, as an incident's evidence says it for its own
span (``detector.spikes.evidence``), for any span: a service page's "last 24 hours"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from detector.errors import QueryError
from detector.spikes.evidence import summarize_evidence
from detector.store.detection import complaint_evidence
from detector.store.queries._common import (
    SERVICE_KNOWN_AND_NEWEST,
    at_minute,
    aware,
    minute_of,
    reading,
)

__all__ = ["ServiceEvidence", "service_evidence"]

_DAY = timedelta(hours=24)
_MAX_SPAN = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class ServiceEvidence:
    """A service's counted complaints from ``since`` to ``until`` (exclusive), summarised
    (``summarize_evidence``'s keys)."""

    service: str
    since: datetime
    until: datetime
    evidence: dict[str, Any]


def service_evidence(
    engine: Engine,
    service: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime,
) -> ServiceEvidence | None:
    """Summarise ``service``'s counted complaints from ``since`` to ``until``; None when the
    service has no complaints or incidents at all.

    ``until`` defaults to the end of the newest stored post's minute (``now`` when nothing is
    stored), as a timeseries' does, and ``since`` to 24 hours before it; at most 31 days.

    Examples
    --------
    >>> from datetime import UTC
    >>> from detector.store.sql import SqlStore
    >>> service_evidence(SqlStore("sqlite://").engine, "tesla", now=datetime.now(UTC)) is None
    True
    """
    with reading(engine, "summarise a service's complaints") as conn:
        known, newest = conn.execute(SERVICE_KNOWN_AND_NEWEST, {"service": service}).one()
        if not known:
            return None
        if until is None:
            until = at_minute(minute_of(aware(newest)) + 1) if newest is not None else now
        since = since if since is not None else until - _DAY
        if since >= until:
            raise QueryError("since", "must be before until")
        if until - since > _MAX_SPAN:
            raise QueryError("since", "the span may be at most 31 days")
        rows = complaint_evidence(conn, service, since, until)
    return ServiceEvidence(service, since, until, summarize_evidence(rows))
