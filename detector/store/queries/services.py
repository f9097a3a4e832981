"""Every service with complaints or incidents, and its state as a status page shows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, case, func, select

from detector.errors import QueryError
from detector.spikes.engine import State
from detector.store.queries._common import at_minute, minute_ceil, minute_of, reading
from detector.store.queries.status import detector_status
from detector.store.schema import bucket_scores, complaints, incidents

__all__ = ["ServiceStatus", "ServicesOverview", "service_sparklines", "service_statuses"]


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service as a status page shows it."""

    service: str
    state: State
    reports_last_hour: int
    complaints_last_hour: int
    last_report_at: datetime | None
    open_incident: str | None


@dataclass(frozen=True, slots=True)
class ServicesOverview:
    """Every service with complaints or incidents, as of the end of the last scored minute
    (``as_of``; the newest post's minute when the detector has not run)."""

    as_of: datetime | None
    services: list[ServiceStatus] = field(default_factory=list)


def service_statuses(engine: Engine, *, name: str = "default") -> ServicesOverview:
    """Every service that has complaints or incidents, worst first.

    A service's state is the worse of what the detector scored at its latest minute (a service
    without a score there is quiet: ``ok``) and its open incident's severity (``minor`` is
    ``possible problems``, else ``problems``): an incident stays open through its calm-down, and
    the page should not say ``ok`` while it does. Last-hour counts are of the 60 minutes up to
    ``as_of``: counted reports (first per author and service) and all complaints.

    Examples
    --------
    >>> from detector.store.sql import SqlStore
    >>> service_statuses(SqlStore("sqlite://").engine)
    ServicesOverview(as_of=None, services=[])
    """
    status = detector_status(engine, name=name)
    as_of = status.watermark
    if as_of is None and status.newest_post is not None:
        as_of = at_minute(minute_of(status.newest_post) + 1)
    with reading(engine, "list services") as conn:
        last_report = {
            str(s): int(m)
            for s, m in conn.execute(
                select(complaints.c.service, func.max(complaints.c.minute)).group_by(
                    complaints.c.service
                )
            )
        }
        names = set(last_report) | set(conn.scalars(select(incidents.c.service).distinct()))
        opened = {
            str(r.service): (str(r.id), str(r.severity))
            for r in conn.execute(
                select(incidents.c.service, incidents.c.id, incidents.c.severity)
                .where(incidents.c.status == "open")
                .order_by(incidents.c.start)
            )
        }
        scored: dict[str, int] = {}
        hour: dict[str, tuple[int, int]] = {}
        if as_of is not None:
            latest = minute_of(as_of) - 1
            scored = {
                str(s): int(v)
                for s, v in conn.execute(
                    select(bucket_scores.c.service, bucket_scores.c.state).where(
                        bucket_scores.c.minute == latest
                    )
                )
            }
            counted = func.sum(case((complaints.c.counted.is_(True), 1), else_=0))
            hour = {
                str(s): (int(c or 0), int(n))
                for s, c, n in conn.execute(
                    select(complaints.c.service, counted, func.count())
                    .where(complaints.c.minute > latest - 60, complaints.c.minute <= latest)
                    .group_by(complaints.c.service)
                )
            }
    services = []
    for service in sorted(names):
        incident = opened.get(service)
        state = State(scored.get(service, State.OK))
        if incident is not None:
            state = max(state, State.POSSIBLE if incident[1] == "minor" else State.PROBLEMS)
        reports, total = hour.get(service, (0, 0))
        last = last_report.get(service)
        services.append(
            ServiceStatus(
                service=service,
                state=state,
                reports_last_hour=reports,
                complaints_last_hour=total,
                last_report_at=at_minute(last) if last is not None else None,
                open_incident=incident[0] if incident else None,
            )
        )
    services.sort(key=lambda s: (-s.state, -s.reports_last_hour, s.service))
    return ServicesOverview(as_of=as_of, services=services)


def service_sparklines(
    engine: Engine, services: Sequence[str], *, end: datetime, hours: int
) -> dict[str, list[int]]:
    """Counted reports per hour about each of ``services``, over the ``hours`` hours that end
    at ``end`` (rounded up to a minute), oldest hour first: a status page's sparklines.

    Examples
    --------
    >>> from datetime import UTC
    >>> from detector.store.sql import SqlStore
    >>> service_sparklines(
    ...     SqlStore("sqlite://").engine, ["tesla"], end=datetime(2021, 11, 20, tzinfo=UTC), hours=3
    ... )
    {'tesla': [0, 0, 0]}
    """
    if hours < 1:
        raise QueryError("hours", "must be at least 1")
    last = minute_ceil(end)  # exclusive
    first = last - hours * 60
    lines = {service: [0] * hours for service in services}
    if not lines:
        return lines
    hour = ((complaints.c.minute - first) // 60).label("hour")
    with reading(engine, "count reports per hour") as conn:
        rows = conn.execute(
            select(complaints.c.service, hour, func.count())
            .where(
                complaints.c.counted.is_(True),
                complaints.c.minute >= first,
                complaints.c.minute < last,
                complaints.c.service.in_(sorted(lines)),
            )
            .group_by(complaints.c.service, hour)
        )
        for service, index, count in rows:
            lines[str(service)][int(index)] += int(count)
    return lines
