"""A service's counted complaints per bucket against the detector's baseline.

A day of one-minute buckets is 1,440 of them, asked for on every refresh of a chart: the
buckets are computed with numpy over the minutes of the range and handed back as columns, so
nothing is made per bucket unless a caller asks for objects (``Timeseries.buckets``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, bindparam, func, select

from detector.errors import QueryError
from detector.spikes.engine import State
from detector.store.queries._common import (
    SERVICE_KNOWN,
    SERVICE_KNOWN_AND_NEWEST,
    at_minute,
    aware,
    minute_ceil,
    minute_of,
    reading,
)
from detector.store.schema import bucket_scores, complaints

__all__ = [
    "BUCKET_MINUTES",
    "CARRY_EXPECTED_MINUTES",
    "MAX_BUCKETS",
    "SeriesBucket",
    "Timeseries",
    "service_timeseries",
]

#: Bucket sizes a timeseries can be cut into, in minutes.
BUCKET_MINUTES = (1, 5, 15, 60)
#: Most buckets one timeseries answer holds (3.5 days of minutes, 208 days of hours).
MAX_BUCKETS = 5000
#: How long a service's last stored baseline stands in for minutes with none (see
#: ``service_timeseries``): the baseline is an hour-of-week profile, so it holds within an hour.
CARRY_EXPECTED_MINUTES = 60

_STATES = tuple(State)  # indexing is much cheaper than calling State() per bucket

# Built once with parameters: a statement built per request costs more to build and to key for
# SQLAlchemy's compiled cache than it takes to run.
_COUNTS = (
    select(complaints.c.minute, func.count())
    .where(
        complaints.c.service == bindparam("service"),
        complaints.c.counted.is_(True),
        complaints.c.minute >= bindparam("first"),
        complaints.c.minute < bindparam("last"),
    )
    .group_by(complaints.c.minute)
)
_SCORES = (
    select(bucket_scores.c.minute, bucket_scores.c.expected, bucket_scores.c.state)
    .where(
        bucket_scores.c.service == bindparam("service"),
        bucket_scores.c.minute >= bindparam("first"),
        bucket_scores.c.minute < bindparam("last"),
    )
    .order_by(bucket_scores.c.minute)
)


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
    """A service's buckets from ``since`` (inclusive) to ``until`` (exclusive), as columns.

    Bucket ``i`` starts at ``starts[i]`` (``since`` plus ``i`` buckets) and holds
    ``reports[i]``, ``expected[i]``, ``expected_minutes[i]`` and ``states[i]``, as described by
    ``SeriesBucket``.
    """

    service: str
    bucket_minutes: int
    since: datetime
    until: datetime
    reports: list[int]
    expected: list[float | None]
    expected_minutes: list[int]
    states: list[State]

    @property
    def starts(self) -> list[datetime]:
        """When each bucket starts."""
        step = timedelta(minutes=self.bucket_minutes)
        return [self.since + i * step for i in range(len(self.reports))]

    @property
    def buckets(self) -> list[SeriesBucket]:
        """The buckets as objects (made on each call; the columns are cheaper to walk)."""
        columns = (self.starts, self.reports, self.expected, self.expected_minutes, self.states)
        return [SeriesBucket(*bucket) for bucket in zip(*columns, strict=True)]


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

    Examples
    --------
    >>> from datetime import UTC
    >>> from detector.store.sql import SqlStore
    >>> service_timeseries(SqlStore("sqlite://").engine, "tesla", now=datetime.now(UTC)) is None
    True
    """
    if bucket not in BUCKET_MINUTES:
        raise QueryError("bucket", f"must be one of {BUCKET_MINUTES}, got: {bucket}")
    with reading(engine, "read the timeseries") as conn:
        # Whether the service is known and when the newest post is: one round trip for both.
        found = conn.execute(
            SERVICE_KNOWN if until is not None else SERVICE_KNOWN_AND_NEWEST, {"service": service}
        ).one()
        if not found[0]:
            return None
        if until is None:
            newest = found[1]
            until = at_minute(minute_of(aware(newest)) + 1) if newest is not None else now
        last = -(-minute_ceil(until) // bucket) * bucket  # exclusive, rounded up
        first = (minute_of(since) if since is not None else last - 24 * 60) // bucket * bucket
        if first >= last:
            raise QueryError("since", "must be before until")
        if (last - first) // bucket > MAX_BUCKETS:
            raise QueryError(
                "since", f"asks for {(last - first) // bucket} buckets; at most {MAX_BUCKETS}"
            )
        counts = conn.execute(_COUNTS, {"service": service, "first": first, "last": last}).all()
        scores = conn.execute(
            _SCORES, {"service": service, "first": first - CARRY_EXPECTED_MINUTES, "last": last}
        ).all()
    return Timeseries(
        service,
        bucket,
        at_minute(first),
        at_minute(last),
        *_columns(first, last, bucket, counts, scores),
    )


def _columns(
    first: int,
    last: int,
    size: int,
    counts: Sequence[Any],
    scores: Sequence[Any],
) -> tuple[list[int], list[float | None], list[int], list[State]]:
    """The columns of the buckets of ``size`` minutes over minutes ``[first, last)``, from
    ``(minute, count)`` rows of counted complaints and ``(minute, expected, state)`` rows of
    stored scores in minute order (from ``CARRY_EXPECTED_MINUTES`` before ``first`` on)."""
    n = (last - first) // size
    reports = np.zeros(n, dtype=np.int64)
    if counts:
        minutes, found = (np.array(column, dtype=np.int64) for column in zip(*counts, strict=True))
        np.add.at(reports, (minutes - first) // size, found)
    value = np.zeros(last - first)
    covered = np.zeros(last - first, dtype=bool)
    state = np.zeros(last - first, dtype=np.int64)
    if scores:
        stored_at, stored, stored_state = zip(*scores, strict=True)
        at = np.array(stored_at, dtype=np.int64)
        minute = np.arange(first, last)
        # For each minute, the last stored one at or before it (-1: none yet).
        latest = np.searchsorted(at, minute, side="right") - 1
        seen = latest >= 0
        latest = np.maximum(latest, 0)
        covered = seen & (minute - at[latest] <= CARRY_EXPECTED_MINUTES)
        value = np.where(covered, np.array(stored, dtype=np.float64)[latest], 0.0)
        exact = seen & (at[latest] == minute)  # states are scored, never carried
        state = np.where(exact, np.array(stored_state, dtype=np.int64)[latest], 0)
    # cumsum adds in minute order, as a loop would (sum() pairs them up, and its last bits
    # could then differ from the answers given so far).
    sums = np.cumsum(value.reshape(n, size), axis=1)[:, -1].tolist()
    minutes_covered = covered.reshape(n, size).sum(axis=1).tolist()
    return (
        reports.tolist(),
        [round(s, 4) if c else None for s, c in zip(sums, minutes_covered, strict=True)],
        minutes_covered,
        [_STATES[s] for s in state.reshape(n, size).max(axis=1).tolist()],
    )
