"""Read queries behind the REST API (and anything else that wants them): pages of incidents and
posts, the state of every service, a service's counts against its baseline, and the detector's
progress.

Pure functions of an ``Engine``, portable between SQLite and PostgreSQL. Lists are paged by
keyset (``WHERE (start, id) < (last start, last id)``) rather than offset, so a page costs the
same however deep it is and rows added meanwhile neither repeat nor vanish; the cursor handed
back is opaque (base64url of the last row's sort key) and only meaningful to the same list.
Database failures surface as ``StoreError``; bad parameters as ``QueryError``.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import numpy as np
import orjson
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError

from detector.errors import QueryError, StoreError
from detector.spikes.engine import State
from detector.spikes.incidents import Incident
from detector.store.schema import (
    bucket_scores,
    complaints,
    detector_state,
    incidents,
    post_annotations,
    posts,
)

__all__ = [
    "BUCKET_MINUTES",
    "MAX_BUCKETS",
    "MAX_LIMIT",
    "AnnotationSummary",
    "DetectorStatus",
    "IncidentRecord",
    "Page",
    "PostRecord",
    "SeriesBucket",
    "ServiceStatus",
    "ServicesOverview",
    "Timeseries",
    "check_database",
    "detector_status",
    "incident_page",
    "incident_record",
    "open_incident_counts",
    "post_page",
    "service_statuses",
    "service_timeseries",
]

T = TypeVar("T")

#: Largest page a list query returns.
MAX_LIMIT = 500
#: Bucket sizes a timeseries can be cut into, in minutes.
BUCKET_MINUTES = (1, 5, 15, 60)
#: Most buckets one timeseries answer holds (3.5 days of minutes, 208 days of hours).
MAX_BUCKETS = 5000
#: How long a service's last stored baseline stands in for minutes with none (see
#: ``service_timeseries``): the baseline is an hour-of-week profile, so it holds within an hour.
CARRY_EXPECTED_MINUTES = 60

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
_POST_COLUMNS = [
    posts.c[name]
    for name in "id source_kind source_name created_at text lang author_handle url reply_to "
    "quote_of repost_of".split()
]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; ``next_cursor`` fetches the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None = None


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
class AnnotationSummary:
    """What the analyzer found in a post, short: service slugs, symptom categories, normalized
    error messages and feature names."""

    outage_probability: float
    is_outage: bool
    services: list[str]
    symptoms: list[str]
    errors: list[str]
    features: list[str]
    recovered: bool
    country: str | None


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A stored post and its annotation (None when the classifier found it too unlikely to be a
    complaint to look further: those are not kept)."""

    id: str
    source_kind: str
    source_name: str
    created_at: datetime
    text: str
    lang: str | None
    author_handle: str | None
    url: str | None
    reply_to: str | None
    quote_of: str | None
    repost_of: str | None
    annotation: AnnotationSummary | None


@dataclass(frozen=True, slots=True)
class DetectorStatus:
    """How far the detector has got.

    ``watermark`` is the end of the last minute it scored, ``newest_post`` when the newest
    stored post was written (both in data time), ``updated_at`` when it last saved its state
    (wall time).
    """

    watermark: datetime | None
    newest_post: datetime | None
    updated_at: datetime | None

    @property
    def lag(self) -> timedelta | None:
        """How much stored data the detector has not scored yet (zero when it has caught up;
        None before it first ran or while nothing is stored)."""
        if self.newest_post is None or self.watermark is None:
            return None
        return max(timedelta(0), self.newest_post - self.watermark)


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


@dataclass(frozen=True, slots=True)
class SeriesBucket:
    """Counted complaints in one bucket and the baseline's expectation for them.

    ``expected`` sums the per-minute baseline over the ``expected_minutes`` minutes that have
    one (None when none has); ``state`` is the worst state scored in the bucket.
    """

    start: datetime
    reports: int
    expected: float | None
    expected_minutes: int
    state: State


@dataclass(frozen=True, slots=True)
class Timeseries:
    """A service's buckets from ``since`` (inclusive) to ``until`` (exclusive)."""

    service: str
    bucket_minutes: int
    since: datetime
    until: datetime
    buckets: list[SeriesBucket]


def check_database(engine: Engine) -> None:
    """Run a trivial query; raise ``StoreError`` when the database does not answer."""
    with _reading(engine, "reach the database") as conn:
        conn.execute(select(literal(1))).one()


def detector_status(engine: Engine, *, name: str = "default") -> DetectorStatus:
    """Where detector ``name`` stands; see ``DetectorStatus``.

    Examples
    --------
    >>> from detector.store.sql import SqlStore
    >>> detector_status(SqlStore("sqlite://").engine)
    DetectorStatus(watermark=None, newest_post=None, updated_at=None)
    """
    with _reading(engine, "read the detector state") as conn:
        row = conn.execute(
            select(detector_state.c.engine, detector_state.c.updated_at).where(
                detector_state.c.name == name
            )
        ).first()
        newest = conn.scalar(select(func.max(posts.c.created_at)))
    watermark = None
    if row is not None:
        minute = _last_scored_minute(bytes(row.engine))
        watermark = None if minute is None else _at(minute + 1)
    return DetectorStatus(
        watermark=watermark,
        newest_post=_aware(newest) if newest is not None else None,
        updated_at=row.updated_at if row is not None else None,
    )


def open_incident_counts(engine: Engine) -> dict[str, int]:
    """Open incidents by severity (``minor``, ``major``, ``critical``; absent ones are 0)."""
    counts = dict.fromkeys(("minor", "major", "critical"), 0)
    with _reading(engine, "count open incidents") as conn:
        rows = conn.execute(
            select(incidents.c.severity, func.count())
            .where(incidents.c.status == "open")
            .group_by(incidents.c.severity)
        )
        counts.update({str(severity): int(n) for severity, n in rows})
    return counts


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
) -> Page[IncidentRecord]:
    """Incidents newest start first (ties by id), one page at a time.

    ``since``/``until`` keep incidents that overlap that span (still open, or ended after
    ``since``; started before ``until``). ``country`` keeps incidents with at least one counted
    report from a writer located there (the same reports as the evidence's countries).

    Examples
    --------
    >>> from detector.store.sql import SqlStore
    >>> incident_page(SqlStore("sqlite://").engine, status="open")
    Page(items=[], next_cursor=None)
    """
    _check_limit(limit)
    query = select(incidents.c.data, incidents.c.updated_at, incidents.c.start, incidents.c.id)
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
        start, last_id = _decode_cursor(cursor, "incidents")
        query = query.where(
            or_(
                incidents.c.start < start,
                and_(incidents.c.start == start, incidents.c.id > last_id),
            )
        )
    query = query.order_by(incidents.c.start.desc(), incidents.c.id).limit(limit + 1)
    with _reading(engine, "list incidents") as conn:
        rows = conn.execute(query).all()
    items = [IncidentRecord(Incident.from_dict(r.data), r.updated_at) for r in rows[:limit]]
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return Page(items, _encode_cursor("incidents", last.start, last.id) if last else None)


def incident_record(engine: Engine, incident_id: str) -> IncidentRecord | None:
    """One stored incident by id, or None."""
    with _reading(engine, "read an incident") as conn:
        row = conn.execute(
            select(incidents.c.data, incidents.c.updated_at).where(incidents.c.id == incident_id)
        ).first()
    return None if row is None else IncidentRecord(Incident.from_dict(row.data), row.updated_at)


def service_statuses(engine: Engine, *, name: str = "default") -> ServicesOverview:
    """Every service that has complaints or incidents, worst first.

    A service's state is the worse of what the detector scored at its latest minute (a service
    without a score there is quiet: ``ok``) and its open incident's severity (``minor`` is
    ``possible problems``, else ``problems``): an incident stays open through its calm-down, and
    the page should not say ``ok`` while it does. Last-hour counts are of the 60 minutes up to
    ``as_of``: counted reports (first per author and service) and all complaints.
    """
    status = detector_status(engine, name=name)
    as_of = status.watermark
    if as_of is None and status.newest_post is not None:
        as_of = _at(_minute(status.newest_post) + 1)
    with _reading(engine, "list services") as conn:
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
            latest = _minute(as_of) - 1
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
                last_report_at=_at(last) if last is not None else None,
                open_incident=incident[0] if incident else None,
            )
        )
    services.sort(key=lambda s: (-s.state, -s.reports_last_hour, s.service))
    return ServicesOverview(as_of=as_of, services=services)


def service_timeseries(
    engine: Engine,
    service: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: int = 1,
    now: datetime,
) -> Timeseries | None:
    """Counted complaints about ``service`` per bucket against the baseline; None for a service
    with neither complaints nor incidents.

    Buckets start at multiples of ``bucket`` minutes since 1970-01-01 UTC (whole hours for 60);
    ``since`` is rounded down and ``until`` up to bucket starts. ``until`` defaults to the end of
    the minute of the newest stored post (``now`` when nothing is stored), ``since`` to 24 hours
    before ``until``.

    The baseline (``expected``) is stored only for minutes the detector scored the service
    (while it had recent reports). A minute without one takes the service's last stored value
    up to ``CARRY_EXPECTED_MINUTES`` later (the baseline changes by the hour); after that, and
    before any, the minute has no baseline. A bucket's ``expected`` is the sum over its minutes
    that have one (``expected_minutes`` says how many), None when none has.
    """
    if bucket not in BUCKET_MINUTES:
        raise QueryError("bucket", f"must be one of {BUCKET_MINUTES}, got: {bucket}")
    with _reading(engine, "read the timeseries") as conn:
        if not _service_known(conn, service):
            return None
        if until is None:
            newest = conn.scalar(select(func.max(posts.c.created_at)))
            until = _at(_minute(_aware(newest)) + 1) if newest is not None else now
        last = -(-_minute_ceil(until) // bucket) * bucket  # exclusive, rounded up
        first = (_minute(since) if since is not None else last - 24 * 60) // bucket * bucket
        if first >= last:
            raise QueryError("since", "must be before until")
        if (last - first) // bucket > MAX_BUCKETS:
            raise QueryError(
                "since", f"asks for {(last - first) // bucket} buckets; at most {MAX_BUCKETS}"
            )
        counts = {
            int(minute): int(n)
            for minute, n in conn.execute(
                select(complaints.c.minute, func.count())
                .where(
                    complaints.c.service == service,
                    complaints.c.counted.is_(True),
                    complaints.c.minute >= first,
                    complaints.c.minute < last,
                )
                .group_by(complaints.c.minute)
            )
        }
        scores = conn.execute(
            select(bucket_scores.c.minute, bucket_scores.c.expected, bucket_scores.c.state)
            .where(
                bucket_scores.c.service == service,
                bucket_scores.c.minute >= first - CARRY_EXPECTED_MINUTES,
                bucket_scores.c.minute < last,
            )
            .order_by(bucket_scores.c.minute)
        ).all()
    return Timeseries(
        service=service,
        bucket_minutes=bucket,
        since=_at(first),
        until=_at(last),
        buckets=_buckets(first, last, bucket, counts, scores),
    )


def post_page(
    engine: Engine,
    *,
    service: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    is_outage: bool | None = None,
    country: str | None = None,
    q: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[PostRecord]:
    """Stored posts newest first (ties by id), one page at a time.

    ``service`` keeps posts in which the analyzer found that service (only likely complaints
    are looked at for services); ``is_outage`` is the classifier's verdict (a post without an
    annotation is not an outage report); ``country`` is where the writer was located; ``q`` is
    a case-insensitive substring of the text (SQLite folds ASCII letters only).
    """
    _check_limit(limit)
    query = select(*_POST_COLUMNS, post_annotations.c.data.label("annotation")).select_from(
        posts.outerjoin(post_annotations, post_annotations.c.post_id == posts.c.id)
    )
    if since is not None:
        query = query.where(posts.c.created_at >= since)
    if until is not None:
        query = query.where(posts.c.created_at < until)
    if is_outage is True:
        query = query.where(post_annotations.c.is_outage.is_(True))
    elif is_outage is False:
        query = query.where(
            or_(post_annotations.c.is_outage.is_(None), post_annotations.c.is_outage.is_(False))
        )
    if country is not None:
        query = query.where(post_annotations.c.country == country)
    if q:
        query = query.where(posts.c.text.icontains(q, autoescape=True))
    if service is not None:
        query = query.where(_names_service(engine.dialect.name, service))
    if cursor is not None:
        created, last_id = _decode_cursor(cursor, "posts")
        query = query.where(
            or_(
                posts.c.created_at < created,
                and_(posts.c.created_at == created, posts.c.id < last_id),
            )
        )
    query = query.order_by(posts.c.created_at.desc(), posts.c.id.desc()).limit(limit + 1)
    with _reading(engine, "list posts") as conn:
        rows = conn.execute(query).mappings().all()
    items = [_post_record(row) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return Page(items, _encode_cursor("posts", last.created_at, last.id) if last else None)


# --- helpers -----------------------------------------------------------------------------------


@contextmanager
def _reading(engine: Engine, what: str) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        # The message can carry the URL (and so credentials); callers decide what to show.
        raise StoreError(f"cannot {what}: {type(exc).__name__}: {exc}") from exc


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be within [1, {MAX_LIMIT}], got: {limit}")


def _encode_cursor(kind: str, at: datetime, key: str) -> str:
    raw = orjson.dumps([kind, _aware(at).isoformat(), key])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode_cursor(cursor: str, kind: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, at, key = orjson.loads(raw)
        moment = datetime.fromisoformat(at)
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError):
        raise QueryError("cursor", "is not a cursor this API handed out") from None
    if found != kind or not isinstance(key, str) or moment.tzinfo is None:
        raise QueryError("cursor", f"is not a cursor of the {kind} list")
    return moment, key


def _last_scored_minute(engine_state: bytes) -> int | None:
    """The first minute of the last bucket the saved engine stepped, read from the metadata of
    ``SpikeEngine.to_state`` alone (npz members load lazily; the arrays are never decoded)."""
    with np.load(io.BytesIO(engine_state)) as arrays:
        meta = orjson.loads(arrays["meta"].tobytes())
    if meta["last_step"] is None:
        return None
    step = int(meta["config"]["step_minutes"])
    return int(meta["last_step"]) * step + step - 1


def _service_known(conn: Connection, service: str) -> bool:
    return bool(
        conn.scalar(select(exists().where(complaints.c.service == service)))
        or conn.scalar(select(exists().where(incidents.c.service == service)))
    )


def _buckets(
    first: int,
    last: int,
    size: int,
    counts: dict[int, int],
    scores: Sequence[Any],
) -> list[SeriesBucket]:
    stored = {int(m): (float(e), int(s)) for m, e, s in scores}
    known: tuple[int, float] | None = None  # the last stored (minute, expected)
    for minute in sorted(stored):
        if minute < first:
            known = (minute, stored[minute][0])
    out = []
    for start in range(first, last, size):
        expected, covered, worst = 0.0, 0, State.OK
        for minute in range(start, start + size):
            if minute in stored:
                value, state = stored[minute]
                known = (minute, value)
                worst = max(worst, State(state))
            elif known is not None and minute - known[0] <= CARRY_EXPECTED_MINUTES:
                value = known[1]
            else:
                continue
            expected += value
            covered += 1
        reports = sum(counts.get(m, 0) for m in range(start, start + size))
        out.append(
            SeriesBucket(
                start=_at(start),
                reports=int(reports),
                expected=round(expected, 4) if covered else None,
                expected_minutes=covered,
                state=worst,
            )
        )
    return out


def _names_service(dialect: str, service: str) -> Any:
    """The annotation names ``service``: JSONB containment on PostgreSQL, ``json_each`` on
    SQLite (the JSON functions differ; the meaning does not)."""
    data = post_annotations.c.data
    if dialect == "postgresql":
        return type_coerce(data, JSONB)["services"].contains([{"slug": service}])
    mentions = func.json_each(data, "$.services").table_valued("value").alias("mention")
    return exists(
        select(literal(1))
        .select_from(mentions)
        .where(func.json_extract(mentions.c.value, "$.slug") == service)
    )


def _post_record(row: Any) -> PostRecord:
    data = row["annotation"]
    note = None
    if data is not None:
        note = AnnotationSummary(
            outage_probability=float(data["outage_probability"]),
            is_outage=bool(data["is_outage"]),
            services=list(dict.fromkeys(m["slug"] for m in data.get("services", []))),
            symptoms=list(data.get("symptoms", [])),
            errors=list(dict.fromkeys(e["normalized"] for e in data.get("errors", []))),
            features=list(dict.fromkeys(f["feature"] for f in data.get("features", []))),
            recovered=bool(data.get("recovered", False)),
            country=data.get("country"),
        )
    return PostRecord(
        id=row["id"],
        source_kind=row["source_kind"],
        source_name=row["source_name"],
        created_at=row["created_at"],
        text=row["text"],
        lang=row["lang"],
        author_handle=row["author_handle"],
        url=row["url"],
        reply_to=row["reply_to"],
        quote_of=row["quote_of"],
        repost_of=row["repost_of"],
        annotation=note,
    )


def _aware(value: Any) -> datetime:
    # Aggregates (max) bypass the column type on SQLite and come back naive, or as text.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _minute(at: datetime) -> int:
    return int((at - _EPOCH) // _MINUTE)


def _minute_ceil(at: datetime) -> int:
    return -int(-(at - _EPOCH) // _MINUTE)


def _at(minute: int) -> datetime:
    return _EPOCH + minute * _MINUTE
