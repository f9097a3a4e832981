"""Stored incidents for the API: pages of summaries, one whole incident, open ones by severity.

An incident's stored record is mostly its minute-by-minute series (hundreds of points); a list
does not show it, so pages are read without it: the database cuts it out of the JSON before
sending it, and no series is decoded or rebuilt per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Engine,
    Text,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB

from detector.spikes.incidents import Incident
from detector.store.queries._common import (
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    reading,
)
from detector.store.schema import complaints, incidents

__all__ = [
    "IncidentRecord",
    "IncidentSummaryRecord",
    "incident_page",
    "incident_record",
    "open_incident_counts",
]


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """A stored incident and when the detector last wrote it (detector time, not wall time)."""

    incident: Incident
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The record as the detector wrote it (``Incident.as_dict`` with its explanation as of
        ``updated_at``), plus ``updated_at``."""
        return {**self.incident.as_dict(now=self.updated_at), "updated_at": self.updated_at}


@dataclass(frozen=True, slots=True)
class IncidentSummaryRecord:
    """A stored incident as a list shows it, read without its series.

    ``data`` is what ``IncidentRecord.as_dict`` gives for the same incident, without the keys
    ``series`` and ``evidence``; from the evidence, ``reports`` is its count of reports (0
    without one) and ``countries`` its countries, most reports first.
    """

    id: str
    updated_at: datetime
    data: dict[str, Any]
    reports: int
    countries: list[str]


def incident_page(
    engine: Engine,
    *,
    status: str | None = None,
    service: str | None = None,
    country: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[IncidentSummaryRecord]:
    """Incident summaries newest start first (ties by id), one page at a time.

    ``since``/``until`` keep incidents that overlap that span (still open, or ended after
    ``since``; started before ``until``). ``country`` keeps incidents with at least one counted
    report from a writer located there (the same reports as the evidence's countries).

    Examples
    --------
    >>> from detector.store.sql import SqlStore
    >>> incident_page(SqlStore("sqlite://").engine, status="open")
    Page(items=[], next_cursor=None)
    """
    check_limit(limit)
    query = select(
        _without_series(engine.dialect.name).label("light"),
        incidents.c.updated_at,
        incidents.c.start,
        incidents.c.id,
    )
    if status is not None:
        query = query.where(incidents.c.status == status)
    if service is not None:
        query = query.where(incidents.c.service == service)
    if since is not None:
        query = query.where(or_(incidents.c.end.is_(None), incidents.c.end > since))
    if until is not None:
        query = query.where(incidents.c.start < until)
    if country is not None:
        query = query.where(
            exists().where(
                complaints.c.service == incidents.c.service,
                complaints.c.country == country,
                complaints.c.counted.is_(True),
                complaints.c.created_at >= incidents.c.start,
                or_(incidents.c.end.is_(None), complaints.c.created_at < incidents.c.end),
            )
        )
    if cursor is not None:
        start, last_id = decode_cursor(cursor, "incidents")
        query = query.where(
            or_(
                incidents.c.start < start,
                and_(incidents.c.start == start, incidents.c.id > last_id),
            )
        )
    query = query.order_by(incidents.c.start.desc(), incidents.c.id).limit(limit + 1)
    with reading(engine, "list incidents") as conn:
        rows = conn.execute(query).all()
    items = [_summary(r.light, r.updated_at) for r in rows[:limit]]
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return Page(items, encode_cursor("incidents", last.start, last.id) if last else None)


def incident_record(engine: Engine, incident_id: str) -> IncidentRecord | None:
    """One stored incident by id, or None."""
    with reading(engine, "read an incident") as conn:
        row = conn.execute(
            select(incidents.c.data, incidents.c.updated_at).where(incidents.c.id == incident_id)
        ).first()
    return None if row is None else IncidentRecord(Incident.from_dict(row.data), row.updated_at)


def open_incident_counts(engine: Engine) -> dict[str, int]:
    """Open incidents by severity (``minor``, ``major``, ``critical``; absent ones are 0)."""
    counts = dict.fromkeys(("minor", "major", "critical"), 0)
    with reading(engine, "count open incidents") as conn:
        rows = conn.execute(
            select(incidents.c.severity, func.count())
            .where(incidents.c.status == "open")
            .group_by(incidents.c.severity)
        )
        counts.update({str(severity): int(n) for severity, n in rows})
    return counts


def _without_series(dialect: str) -> ColumnElement[Any]:
    """The stored record without its series, cut by the database: the ``-`` operator of JSONB
    on PostgreSQL, ``json_remove`` on SQLite."""
    data = incidents.c.data
    if dialect == "postgresql":
        return type_coerce(data, JSONB).op("-", return_type=JSONB)(literal("series", Text))
    return func.json_remove(data, "$.series", type_=JSON)


def _summary(light: dict[str, Any], updated_at: datetime) -> IncidentSummaryRecord:
    # Rebuilt through ``Incident`` rather than read as stored: ``as_dict`` recomputes the peak
    # ratio and the explanation (as of ``updated_at``) from the stored values, and a list must
    # say exactly what the incident's own page says. Without a series this costs microseconds.
    data = Incident.from_dict({**light, "series": []}).as_dict(now=updated_at)
    del data["series"]
    evidence = data.pop("evidence")
    data["updated_at"] = updated_at
    return IncidentSummaryRecord(
        id=data["id"],
        updated_at=updated_at,
        data=data,
        reports=evidence.get("reports", 0),
        countries=[c["country"] for c in evidence.get("countries", [])],
    )
