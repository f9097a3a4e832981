"""Live sources in the store: where each resumes (checkpoints), when each was down (gaps), and
their health as the reading process last reported it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, and_, or_, select, update

from detector.store.schema import source_checkpoints, source_gaps, source_health

__all__ = [
    "ReportedHealth",
    "SourceGap",
    "close_gap",
    "gaps_between",
    "load_checkpoints",
    "load_health",
    "open_gap",
    "open_gaps",
    "save_checkpoints",
    "save_health",
]


@dataclass(frozen=True, slots=True)
class SourceGap:
    """A span in which a live source was ``silent`` or ``failing`` (``ended_at`` None: still)."""

    source: str
    kind: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    detail: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (incident evidence, the API)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ReportedHealth:
    """One source's health (a JSON object) as process ``reader`` reported it at ``reported_at``."""

    reader: str
    reported_at: datetime
    health: dict[str, Any]


def load_checkpoints(engine: Engine) -> dict[str, str | None]:
    """Every source's stored checkpoint, by source name."""
    with engine.connect() as conn:
        rows = conn.execute(select(source_checkpoints.c.name, source_checkpoints.c.checkpoint))
        return {row.name: row.checkpoint for row in rows}


def save_checkpoints(
    conn: Connection, checkpoints: Mapping[str, tuple[str, str | None]], now: datetime
) -> None:
    """Store each source's checkpoint (``{name: (kind, checkpoint)}``), replacing the last."""
    for name, (kind, checkpoint) in checkpoints.items():
        values = {"kind": kind, "checkpoint": checkpoint, "updated_at": now}
        _replace(conn, source_checkpoints, name, values)


def open_gap(
    engine: Engine, source: str, kind: str, status: str, started_at: datetime, detail: str | None
) -> None:
    """Record that ``source`` went ``status`` (silent or failing) at ``started_at``, ending
    the gap it may have had open with another status."""
    with engine.begin() as conn:
        _close(conn, source, started_at)
        conn.execute(
            source_gaps.insert().values(
                source=source,
                kind=kind,
                status=status,
                started_at=started_at,
                ended_at=None,
                detail=detail,
            )
        )


def close_gap(engine: Engine, source: str, ended_at: datetime) -> None:
    """Record that ``source`` is reporting again (or was stopped) at ``ended_at``."""
    with engine.begin() as conn:
        _close(conn, source, ended_at)


def open_gaps(engine: Engine) -> list[SourceGap]:
    """The gaps that have not ended, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(source_gaps)
            .where(source_gaps.c.ended_at.is_(None))
            .order_by(source_gaps.c.started_at, source_gaps.c.id)
        )
        return [_gap(row) for row in rows]


def gaps_between(conn: Connection, start: datetime, end: datetime) -> list[SourceGap]:
    """The gaps overlapping ``[start, end]``, oldest first."""
    rows = conn.execute(
        select(source_gaps)
        .where(
            and_(
                source_gaps.c.started_at <= end,
                or_(source_gaps.c.ended_at.is_(None), source_gaps.c.ended_at >= start),
            )
        )
        .order_by(source_gaps.c.started_at, source_gaps.c.id)
    )
    return [_gap(row) for row in rows]


def _replace(conn: Connection, table: Table, name: str, values: Mapping[str, Any]) -> None:
    """Write the row of source ``name`` in ``table`` (keyed by ``name``), over the last one."""
    changed = conn.execute(update(table).where(table.c.name == name).values(**values)).rowcount
    if not changed:
        conn.execute(table.insert().values(name=name, **values))


def _close(conn: Connection, source: str, ended_at: datetime) -> None:
    conn.execute(
        update(source_gaps)
        .where(source_gaps.c.source == source, source_gaps.c.ended_at.is_(None))
        .values(ended_at=ended_at)
    )


def _gap(row: Any) -> SourceGap:
    return SourceGap(
        source=row.source,
        kind=row.kind,
        status=row.status,
        started_at=row.started_at,
        ended_at=row.ended_at,
        detail=row.detail,
    )


def save_health(
    engine: Engine, reader: str, healths: Mapping[str, tuple[str, Mapping[str, Any]]], now: datetime
) -> None:
    """Replace the reported health of sources (``{name: (kind, health)}``) with ``reader``'s,
    as of ``now``."""
    with engine.begin() as conn:
        for name, (kind, health) in healths.items():
            values = {
                "kind": kind,
                "reader": reader,
                "reported_at": now,
                "health": orjson.dumps(health).decode(),
            }
            _replace(conn, source_health, name, values)


def load_health(engine: Engine) -> dict[str, ReportedHealth]:
    """Every source's last reported health, by source name."""
    with engine.connect() as conn:
        rows = conn.execute(select(source_health)).all()
    return {
        row.name: ReportedHealth(row.reader, row.reported_at, orjson.loads(row.health))
        for row in rows
    }
