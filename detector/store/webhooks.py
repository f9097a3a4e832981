"""Webhook endpoints and their deliveries (the rows; sending lives in ``detector.alerts``)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, select, update

from detector.store.detection import insert_ignore
from detector.store.schema import incident_events, webhook_deliveries, webhooks

__all__ = [
    "Delivery",
    "Webhook",
    "add_deliveries",
    "create_webhook",
    "delete_webhook",
    "events_after",
    "get_webhook",
    "head_delivery",
    "list_deliveries",
    "list_webhooks",
    "record_attempt",
    "set_after_seq",
    "update_webhook",
]


@dataclass(frozen=True, slots=True)
class Webhook:
    """An endpoint and what it wants: ``services``/``countries`` ``None`` mean all."""

    id: str
    owner: str
    url: str
    secret: str
    format: str
    services: tuple[str, ...] | None
    countries: tuple[str, ...] | None
    min_severity: str
    event_types: tuple[str, ...]
    description: str
    enabled: bool
    disabled_reason: str | None
    after_seq: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one endpoint: ``pending``, ``delivered`` or ``dead``."""

    id: str
    webhook_id: str
    event_id: str
    event_type: str
    seq: int
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None


def create_webhook(
    engine: Engine, owner: str, fields: Mapping[str, Any], secret: str, now: datetime
) -> Webhook:
    """Store a new endpoint (``fields``: url, format, services, countries, min_severity,
    event_types, description, enabled). It receives events from now on, not past ones."""
    webhook_id = secrets.token_hex(8)
    with engine.begin() as conn:
        newest = conn.scalar(select(func.coalesce(func.max(incident_events.c.seq), 0))) or 0
        conn.execute(
            webhooks.insert().values(
                id=webhook_id,
                owner=owner,
                secret=secret,
                after_seq=newest,
                created_at=now,
                updated_at=now,
                disabled_reason=None,
                **_columns(fields),
            )
        )
    found = get_webhook(engine, webhook_id)
    assert found is not None  # just written
    return found


def get_webhook(engine: Engine, webhook_id: str, owner: str | None = None) -> Webhook | None:
    """The endpoint with this id (only if ``owner`` owns it, when given)."""
    query = select(webhooks).where(webhooks.c.id == webhook_id)
    if owner is not None:
        query = query.where(webhooks.c.owner == owner)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else _webhook(row)


def list_webhooks(
    engine: Engine, *, owner: str | None = None, enabled_only: bool = False
) -> list[Webhook]:
    """Endpoints (of ``owner`` when given), oldest first."""
    query = select(webhooks).order_by(webhooks.c.created_at, webhooks.c.id)
    if owner is not None:
        query = query.where(webhooks.c.owner == owner)
    if enabled_only:
        query = query.where(webhooks.c.enabled.is_(True))
    with engine.connect() as conn:
        return [_webhook(row) for row in conn.execute(query)]


def update_webhook(
    engine: Engine,
    webhook_id: str,
    changes: Mapping[str, Any],
    now: datetime,
    *,
    owner: str | None = None,
) -> Webhook | None:
    """Change some fields (and ``disabled_reason``); ``None`` when there is no such endpoint.
    Re-enabling an endpoint clears its ``disabled_reason``."""
    values = _columns(changes)
    if "disabled_reason" in changes:
        values["disabled_reason"] = changes["disabled_reason"]
    elif values.get("enabled") is True:
        values["disabled_reason"] = None
    query = update(webhooks).where(webhooks.c.id == webhook_id)
    if owner is not None:
        query = query.where(webhooks.c.owner == owner)
    with engine.begin() as conn:
        if conn.execute(query.values(updated_at=now, **values)).rowcount != 1:
            return None
    return get_webhook(engine, webhook_id)


def delete_webhook(engine: Engine, webhook_id: str, *, owner: str | None = None) -> bool:
    """Delete an endpoint and its deliveries; ``False`` when there is no such endpoint."""
    query = delete(webhooks).where(webhooks.c.id == webhook_id)
    if owner is not None:
        query = query.where(webhooks.c.owner == owner)
    with engine.begin() as conn:
        if conn.execute(query).rowcount != 1:
            return False
        deliveries = webhook_deliveries.c.webhook_id == webhook_id
        conn.execute(delete(webhook_deliveries).where(deliveries))
    return True


def events_after(conn: Connection, seq: int, limit: int) -> list[Row[Any]]:
    """Incident events with ``seq`` above ``seq``, in order."""
    query = (
        select(incident_events)
        .where(incident_events.c.seq > seq)
        .order_by(incident_events.c.seq)
        .limit(limit)
    )
    return list(conn.execute(query))


def add_deliveries(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Queue deliveries; one already queued (same endpoint and event) is left as it is."""
    if rows:
        conn.execute(insert_ignore(conn, webhook_deliveries), list(rows))


def set_after_seq(conn: Connection, webhook_id: str, seq: int) -> None:
    """Note that events up to ``seq`` have been fanned out to this endpoint."""
    conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(after_seq=seq))


def head_delivery(conn: Connection, webhook_id: str) -> Delivery | None:
    """The endpoint's oldest pending delivery: the only one that may be sent (order is kept
    per endpoint)."""
    row = conn.execute(
        select(webhook_deliveries)
        .where(
            webhook_deliveries.c.webhook_id == webhook_id,
            webhook_deliveries.c.status == "pending",
        )
        .order_by(webhook_deliveries.c.seq)
        .limit(1)
    ).first()
    return None if row is None else _delivery(row)


def record_attempt(conn: Connection, delivery_id: str, values: Mapping[str, Any]) -> None:
    """Write the outcome of an attempt (status, attempts, times, last code and error)."""
    conn.execute(
        update(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id).values(**values)
    )


def list_deliveries(
    engine: Engine,
    webhook_id: str,
    *,
    status: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """An endpoint's deliveries, newest first (keyset pagination on ``seq``)."""
    query = select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
    if status is not None:
        query = query.where(webhook_deliveries.c.status == status)
    if before_seq is not None:
        query = query.where(webhook_deliveries.c.seq < before_seq)
    query = query.order_by(webhook_deliveries.c.seq.desc()).limit(limit)
    with engine.connect() as conn:
        return [_delivery(row) for row in conn.execute(query)]


_FIELDS = (
    "url",
    "format",
    "services",
    "countries",
    "min_severity",
    "event_types",
    "description",
    "enabled",
)


def _columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELDS:
        if name in fields:
            value = fields[name]
            out[name] = list(value) if isinstance(value, tuple | list) else value
    return out


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        id=row.id,
        owner=row.owner,
        url=row.url,
        secret=row.secret,
        format=row.format,
        services=None if row.services is None else tuple(row.services),
        countries=None if row.countries is None else tuple(row.countries),
        min_severity=row.min_severity,
        event_types=tuple(row.event_types),
        description=row.description,
        enabled=bool(row.enabled),
        disabled_reason=row.disabled_reason,
        after_seq=row.after_seq,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(**{name: getattr(row, name) for name in Delivery.__slots__})
