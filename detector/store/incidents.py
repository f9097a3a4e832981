"""Reading incidents and their events back (CLI, API, reports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from detector.spikes.incidents import Incident
from detector.store.schema import incident_events, incidents

__all__ = ["get_incident", "list_events", "list_incidents"]


def list_incidents(
    engine: Engine,
    *,
    service: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[Incident]:
    """Incidents matching the filters, newest start first."""
    query = select(incidents.c.data).order_by(incidents.c.start.desc(), incidents.c.id)
    if service is not None:
        query = query.where(incidents.c.service == service)
    if status is not None:
        query = query.where(incidents.c.status == status)
    if since is not None:
        query = query.where(incidents.c.start >= since)
    if until is not None:
        query = query.where(incidents.c.start < until)
    with engine.connect() as conn:
        return [Incident.from_dict(data) for data in conn.scalars(query.limit(limit))]


def get_incident(engine: Engine, incident_id: str) -> Incident | None:
    """One incident by id, or None."""
    with engine.connect() as conn:
        data = conn.scalar(select(incidents.c.data).where(incidents.c.id == incident_id))
    return None if data is None else Incident.from_dict(data)


def list_events(engine: Engine, *, after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    """Outbox events in the order they were written, after sequence number ``after_seq``."""
    query = (
        select(incident_events)
        .where(incident_events.c.seq > after_seq)
        .order_by(incident_events.c.seq)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
