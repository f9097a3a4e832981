"""What a report shows, read from the store into plain values: the incidents (with when the
detector last wrote each, which dates the explanation of one still open) and each incident's
complaints against the baseline around it, rolled up to chart buckets.

The detector stores scores (``bucket_scores``) only for minutes in which a service was *hot*
(had reports within its longest window); a minute without a row was quiet. So within the range
the detector scored, a missing minute counts zero reports, and its baseline is the service's last
stored one for up to ``CARRY_EXPECTED_MINUTES`` (the baseline is an hour-of-week profile), after
which it is unknown (a gap in the line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, func, select

from detector.spikes.incidents import Incident
from detector.store.schema import bucket_scores, incidents

__all__ = [
    "BUCKET_MINUTES",
    "CARRY_EXPECTED_MINUTES",
    "CONTEXT",
    "ChartSeries",
    "ReportInputs",
    "StoredIncident",
    "chart_series",
    "read_incidents",
    "scored_range",
]

#: Minutes per chart bucket.
BUCKET_MINUTES = 5
#: How long a service's last stored baseline stands in for quiet minutes.
CARRY_EXPECTED_MINUTES = 60
#: How much of the surrounding day a chart shows on each side of an incident.
CONTEXT = timedelta(hours=12)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """What was analysed, for the report's header; every field is optional.

    Parameters
    ----------
    paths
        The files and folders read.
    posts_read
        Posts read from them.
    outage_posts
        Posts the classifier took for outage reports.
    quarantined
        Malformed records set aside.
    first, last
        The time range of the posts (aware datetimes).
    seconds
        How long the analysis took.
    generated_at
        When the report was made; left out of the page when ``None`` (so the same store gives
        the same bytes).

    Examples
    --------
    >>> ReportInputs(posts_read=45_571, seconds=18.5).posts_read
    45571
    >>> ReportInputs(first=datetime(2021, 11, 19))
    Traceback (most recent call last):
    ...
    ValueError: first must be timezone-aware, got: datetime.datetime(2021, 11, 19, 0, 0)
    """

    paths: tuple[Path, ...] = ()
    posts_read: int | None = None
    outage_posts: int | None = None
    quarantined: int | None = None
    first: datetime | None = None
    last: datetime | None = None
    seconds: float | None = None
    generated_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("first", "last", "generated_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware, got: {value!r}")
        for name in ("posts_read", "outage_posts", "quarantined", "seconds"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got: {value}")
        if self.first is not None and self.last is not None and self.last < self.first:
            raise ValueError(f"last must not be before first, got: {self.first} .. {self.last}")


@dataclass(frozen=True, slots=True)
class StoredIncident:
    """An incident as stored, and when the detector last wrote it (detector time)."""

    incident: Incident
    updated_at: datetime

    @property
    def explanation(self) -> str:
        """Why it fired, as of the last write (what the API and webhooks say)."""
        return self.incident.explanation(self.updated_at)

    @property
    def last_seen(self) -> datetime:
        """Its end, or for one still open when the data ended, the last write."""
        return self.incident.end or self.updated_at


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """A service's counted reports and baseline per bucket, as columns.

    Bucket ``i`` starts ``i`` buckets after ``since``; ``expected`` is NaN where no baseline is
    known; ``states`` is the worst state scored in the bucket (0 ok, 1 possible problems,
    2 problems).
    """

    service: str
    since: datetime
    bucket_minutes: int
    observed: FloatArray
    expected: FloatArray
    states: IntArray = field(repr=False)

    @property
    def starts(self) -> npt.NDArray[np.datetime64]:
        """When each bucket starts, as naive UTC ``datetime64[m]``."""
        first = np.datetime64(self.since.replace(tzinfo=None), "m")
        steps = np.arange(len(self.observed), dtype=np.int64) * self.bucket_minutes
        return first + steps.astype("timedelta64[m]")

    @property
    def until(self) -> datetime:
        """The end of the last bucket."""
        return self.since + len(self.observed) * self.bucket_minutes * _MINUTE


def read_incidents(engine: Engine) -> list[StoredIncident]:
    """Every stored incident, earliest start first (then by id)."""
    query = select(incidents.c.data, incidents.c.updated_at).order_by(
        incidents.c.start, incidents.c.id
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [StoredIncident(Incident.from_dict(data), updated_at) for data, updated_at in rows]


def scored_range(engine: Engine) -> tuple[datetime, datetime] | None:
    """The first minute the detector scored and the end of the last one; None before any."""
    with engine.connect() as conn:
        first, last = conn.execute(
            select(func.min(bucket_scores.c.minute), func.max(bucket_scores.c.minute))
        ).one()
    if first is None:
        return None
    return _at(int(first)), _at(int(last) + 1)


def chart_series(
    engine: Engine,
    stored: StoredIncident,
    data_range: tuple[datetime, datetime] | None,
    *,
    bucket_minutes: int = BUCKET_MINUTES,
) -> ChartSeries:
    """The incident's service from ``CONTEXT`` before its start to ``CONTEXT`` after its end,
    clipped to ``data_range`` (what the detector scored), per bucket of ``bucket_minutes``.

    Without scores for the service there (a store written by hand, or pruned by retention),
    the incident's own series stands in (it covers its span and two hours before it).
    """
    incident = stored.incident
    since, until = incident.start - CONTEXT, stored.last_seen + CONTEXT
    if data_range is not None:
        since, until = max(since, data_range[0]), min(until, data_range[1])
    first = _minute(since) // bucket_minutes * bucket_minutes
    last = max(-(-_minute(until) // bucket_minutes) * bucket_minutes, first + bucket_minutes)
    minutes = last - first
    observed = np.zeros(minutes)
    expected = np.full(minutes, np.nan)
    states = np.zeros(minutes, dtype=np.int64)
    rows = _score_rows(engine, incident.service, first, last)
    if not any(minute >= first for minute, *_ in rows):
        rows = [
            (_minute(p.at), p.observed, p.expected, 0)
            for p in incident.series
            if first <= _minute(p.at) < last
        ]
    for minute, seen, baseline, state in rows:
        offset = minute - first
        if offset >= 0:
            observed[offset], states[offset] = seen, state
        # Fill this minute and the quiet ones after it (up to CARRY_EXPECTED_MINUTES); the
        # next row overwrites what it covers.
        start = max(offset, 0)
        stop = min(offset + CARRY_EXPECTED_MINUTES + 1, minutes)
        if stop > start:
            expected[start:stop] = baseline
    return ChartSeries(
        service=incident.service,
        since=_at(first),
        bucket_minutes=bucket_minutes,
        observed=observed.reshape(-1, bucket_minutes).sum(axis=1),
        expected=_bucket_expected(expected.reshape(-1, bucket_minutes)),
        states=states.reshape(-1, bucket_minutes).max(axis=1),
    )


def _score_rows(
    engine: Engine, service: str, first: int, last: int
) -> Sequence[tuple[int, float, float, int]]:
    """Score rows of ``service`` from ``first - CARRY_EXPECTED_MINUTES`` (for the carry) to
    ``last``, in minute order."""
    query = (
        select(
            bucket_scores.c.minute,
            bucket_scores.c.observed,
            bucket_scores.c.expected,
            bucket_scores.c.state,
        )
        .where(
            bucket_scores.c.service == service,
            bucket_scores.c.minute >= first - CARRY_EXPECTED_MINUTES,
            bucket_scores.c.minute < last,
        )
        .order_by(bucket_scores.c.minute)
    )
    with engine.connect() as conn:
        return [(int(m), float(o), float(e), int(s)) for m, o, e, s in conn.execute(query)]


def _bucket_expected(minutes: FloatArray) -> FloatArray:
    """Expected reports per bucket: the mean over the minutes with a baseline, times the bucket
    size (a bucket half-covered is not half as likely to see reports); NaN with none."""
    known = ~np.isnan(minutes)
    counts = known.sum(axis=1)
    sums = np.where(known, minutes, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    return np.where(counts > 0, mean * minutes.shape[1], np.nan)


def _minute(at: datetime) -> int:
    return int((at - _EPOCH) // _MINUTE)


def _at(minute: int) -> datetime:
    return _EPOCH + minute * _MINUTE
