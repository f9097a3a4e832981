"""Seeded synthetic complaint streams with injected outages, for backtesting spike detectors.

Each service complains at a base rate (complaints per minute, averaged over the week) shaped by a
weekly profile in the service's own time zone: a diurnal curve (``exp(a cos(2 pi (h - peak) /
24))``, evening peak, night trough 3-7x lower), a weekend factor (work tools quieter, games
busier) and a day-to-day level that wanders (log-normal). Counts are negative-binomial around
that rate (Poisson mixed with a Gamma of shape ``dispersion``; Poisson when it is ``None``).

Outages add an excess to the rate: ``max((multiplier - 1) * rate, floor)`` times a shape in
[0, 1] (``step``; ``ramp``, rising linearly over 2-10 minutes; ``decay``, jumping up then fading
to a third by the end). The floor stands for the few people who always notice, so a tiny service
can have a 20x outage; half the outages have none (purely relative). Outages land only after the
warm-up weeks, at most one per service in any two days, six hours apart at least.

Streams are sparse (most minutes of most services are empty): one cell per non-zero
(minute, service), sorted by minute, made a day at a time so 10,000 services x 4 weeks fit in
memory.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

__all__ = ["CountStreams", "Outage", "SyntheticConfig", "generate"]

log = logging.getLogger(__name__)

MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
Shape = Literal["step", "ramp", "decay"]
SHAPES: tuple[Shape, ...] = ("step", "ramp", "decay")
_SLOT_DAYS = 2  # at most one outage per service per slot of this many days
_GAP_MINUTES = 360  # quiet time kept after each outage within its slot


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """What to generate (every range is sampled per service or per outage).

    Parameters
    ----------
    services, weeks
        Size of the streams (one-minute buckets).
    warmup_weeks
        Leading weeks without outages, for the detector to learn baselines; not scored.
    start
        The first minute (timezone-aware; a Monday 00:00 UTC by default). Profiles follow the
        calendar, so weekends fall on the services' local Saturdays and Sundays whatever the
        start.
    rate_range
        Base rates in complaints per minute (weekly mean), lowest and highest.
    rate_spread
        ``log-uniform`` (as many services per decade; for backtests) or ``zipf`` (the i-th
        busiest service has a rate proportional to a power of i: most services are quiet, as in
        a real catalogue; for the speed benchmark).
    diurnal_amplitude, peak_hour, weekend_factor, utc_offset_hours
        Profile ranges: log-amplitude ``a`` of the daily curve, local hour of the peak, weekend
        rate relative to weekdays, time zone of the service's users.
    day_level_sd
        Standard deviation of the log of each day's level (the day-to-day wander).
    dispersion
        Gamma shape of the per-minute noise (variance ``mu + mu**2 / dispersion``); ``None``
        for Poisson.
    outages_per_week
        Mean outages per service per week after the warm-up.
    multiplier_range, floor_share, floor_range
        Outage size: rate multiplier (log-uniform), the share of outages with an additive
        floor, and the floor's range in complaints per minute (log-uniform).
    duration_range
        Outage length in minutes (log-uniform, so short ones are common).
    groups
        Number of service groups (the baseline's prior for a new service is its group's rate).
    """

    services: int = 1000
    weeks: int = 5
    warmup_weeks: int = 1
    start: datetime = datetime(2021, 11, 1, tzinfo=UTC)
    rate_range: tuple[float, float] = (0.05, 20.0)
    rate_spread: Literal["log-uniform", "zipf"] = "log-uniform"
    diurnal_amplitude: tuple[float, float] = (0.6, 1.0)
    peak_hour: tuple[float, float] = (18.0, 22.0)
    weekend_factor: tuple[float, float] = (0.6, 1.4)
    utc_offset_hours: tuple[int, int] = (-10, 10)
    day_level_sd: float = 0.1
    dispersion: float | None = 30.0
    outages_per_week: float = 0.5
    multiplier_range: tuple[float, float] = (2.0, 50.0)
    floor_share: float = 0.5
    floor_range: tuple[float, float] = (0.2, 2.0)
    duration_range: tuple[int, int] = (5, 240)
    groups: int = 8


@dataclass(frozen=True, slots=True)
class Outage:
    """One injected outage (ground truth).

    ``ratio`` is the peak rate over the rate expected at the start (floor included);
    ``minutes_at_5x`` counts the minutes whose rate is at least five times the expected one,
    ``first_at_5x`` is the first of them (``None`` when there is none).
    """

    service: str
    index: int
    start: datetime
    end: datetime
    shape: Shape
    multiplier: float
    floor: float
    ratio: float
    minutes_at_5x: int
    first_at_5x: datetime | None = None

    @property
    def minutes(self) -> int:
        """Duration in minutes."""
        return int((self.end - self.start) // timedelta(minutes=1))


@dataclass(frozen=True, slots=True)
class CountStreams:
    """Sparse per-minute counts of many services, with the outages injected into them.

    ``minute``, ``service`` and ``count`` hold one non-zero cell each, sorted by minute then
    service; ``base_rate`` is each service's weekly mean rate without outages.
    """

    start: datetime
    minutes: int
    scored_from: int
    keys: tuple[str, ...]
    groups: tuple[str, ...]
    base_rate: NDArray[np.float64]
    minute: NDArray[np.int64]
    service: NDArray[np.int64]
    count: NDArray[np.int64]
    truth: tuple[Outage, ...]

    @property
    def scored_start(self) -> datetime:
        """The first minute after the warm-up."""
        return self.start + timedelta(minutes=self.scored_from)

    @property
    def end(self) -> datetime:
        """Just after the last minute."""
        return self.start + timedelta(minutes=self.minutes)

    def by_minute(self) -> Iterator[tuple[int, NDArray[np.int64], NDArray[np.int64]]]:
        """``(minute, services, counts)`` for every minute, empty ones included."""
        bounds = np.searchsorted(self.minute, np.arange(self.minutes + 1))
        for m in range(self.minutes):
            lo, hi = bounds[m], bounds[m + 1]
            yield m, self.service[lo:hi], self.count[lo:hi]

    def dense(self, services: NDArray[np.int64]) -> NDArray[np.int64]:
        """The full ``(len(services), minutes)`` count matrix of some services."""
        row = np.full(len(self.keys), -1, dtype=np.int64)
        row[services] = np.arange(len(services))
        keep = row[self.service] >= 0
        out = np.zeros((len(services), self.minutes), dtype=np.int64)
        np.add.at(out, (row[self.service[keep]], self.minute[keep]), self.count[keep])
        return out


def generate(config: SyntheticConfig, seed: int) -> CountStreams:
    """Generate streams and ground truth; the same ``config`` and ``seed`` give the same data.

    Examples
    --------
    >>> streams = generate(SyntheticConfig(services=20, weeks=2), seed=1)
    >>> streams.minutes, len(streams.keys), streams.scored_from
    (20160, 20, 10080)
    >>> all(o.start >= streams.scored_start for o in streams.truth)
    True
    >>> again = generate(SyntheticConfig(services=20, weeks=2), seed=1)
    >>> bool((again.count == streams.count).all()), again.truth == streams.truth
    (True, True)
    """
    _check(config)
    rng = np.random.default_rng(seed)
    n = config.services
    profiles = _Profiles.draw(config, rng)
    excesses = _outages(config, profiles, rng)
    minute_parts, service_parts, count_parts = [], [], []
    everyone = np.arange(n, dtype=np.int64)
    daily = profiles.daily(everyone, np.arange(MINUTES_PER_DAY, dtype=np.int64))
    for day in range(config.weeks * 7):
        first = day * MINUTES_PER_DAY
        minutes = np.arange(first, first + MINUTES_PER_DAY, dtype=np.int64)
        lam = daily * profiles.day_factor(everyone, minutes)
        for excess in excesses:
            excess.add_to(lam, first)
        if config.dispersion is not None:
            lam *= rng.gamma(config.dispersion, 1.0 / config.dispersion, lam.shape)
        counts = rng.poisson(lam.T)  # minutes x services: nonzero() comes out sorted by minute
        m, s = np.nonzero(counts)
        minute_parts.append(m.astype(np.int64) + first)
        service_parts.append(s.astype(np.int64))
        count_parts.append(counts[m, s].astype(np.int64))
    log.debug("generated %s services x %s weeks, %s outages", n, config.weeks, len(excesses))
    return CountStreams(
        start=config.start,
        minutes=config.weeks * MINUTES_PER_WEEK,
        scored_from=config.warmup_weeks * MINUTES_PER_WEEK,
        keys=profiles.keys,
        groups=profiles.groups,
        base_rate=profiles.base,
        minute=np.concatenate(minute_parts),
        service=np.concatenate(service_parts),
        count=np.concatenate(count_parts),
        truth=tuple(e.outage for e in excesses),
    )


@dataclass(frozen=True, slots=True)
class _Profiles:
    """Per-service rate parameters; ``rate`` gives expected counts without outages or noise."""

    keys: tuple[str, ...]
    groups: tuple[str, ...]
    base: NDArray[np.float64]
    amplitude: NDArray[np.float64]
    peak: NDArray[np.float64]
    weekend: NDArray[np.float64]
    offset: NDArray[np.int64]  # minutes ahead of UTC
    origin: int  # minutes from the Monday 00:00 UTC at or before the start to the start
    norm: NDArray[np.float64]
    level: NDArray[np.float64]  # services x days

    @classmethod
    def draw(cls, config: SyntheticConfig, rng: np.random.Generator) -> _Profiles:
        n = config.services
        amplitude = rng.uniform(*config.diurnal_amplitude, n)
        weekend = rng.uniform(*config.weekend_factor, n)
        lo, hi = config.utc_offset_hours
        start = config.start.astimezone(UTC)
        return cls(
            keys=tuple(f"svc-{i:05d}" for i in range(n)),
            groups=tuple(f"group-{g}" for g in rng.integers(0, config.groups, n).tolist()),
            base=_base_rates(config, n, rng),
            amplitude=amplitude,
            peak=rng.uniform(*config.peak_hour, n),
            weekend=weekend,
            offset=rng.integers(lo, hi + 1, n) * 60,
            origin=(start.weekday() * 24 + start.hour) * 60 + start.minute,
            # exp(a cos x) averages I0(a) over a day; weekends are 2 days in 7
            norm=np.asarray(special.i0(amplitude) * (5.0 + 2.0 * weekend) / 7.0),
            level=np.exp(rng.normal(0.0, config.day_level_sd, (n, config.weeks * 7))),
        )

    def rate(self, services: NDArray[np.int64], minutes: NDArray[np.int64]) -> NDArray[np.float64]:
        """Expected complaints per minute, ``len(services) x len(minutes)``."""
        return self.daily(services, minutes) * self.day_factor(services, minutes)

    def daily(self, services: NDArray[np.int64], minutes: NDArray[np.int64]) -> NDArray[np.float64]:
        """The part of the rate that repeats every day (base rate and diurnal curve)."""
        local = minutes[None, :] + self.origin + self.offset[services, None]
        hour = (local % MINUTES_PER_DAY) / 60.0
        phase = 2 * np.pi * (hour - self.peak[services, None]) / 24
        scale = self.base[services] / self.norm[services]
        return np.asarray(
            np.exp(self.amplitude[services, None] * np.cos(phase)) * scale[:, None],
            dtype=np.float64,
        )

    def day_factor(
        self, services: NDArray[np.int64], minutes: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """The part that changes from day to day: weekend factor and the day's level."""
        local = minutes[None, :] + self.origin + self.offset[services, None]
        weekend = (local // MINUTES_PER_DAY) % 7 >= 5  # local minutes count from a Monday
        day = np.minimum(minutes // MINUTES_PER_DAY, self.level.shape[1] - 1)
        level = self.level[services][:, day]
        return np.asarray(np.where(weekend, self.weekend[services, None], 1.0) * level)


def _check(config: SyntheticConfig) -> None:
    """Raise ``ValueError`` naming the first field that cannot generate sensible streams."""
    for name, value, low in (("services", config.services, 1), ("weeks", config.weeks, 1)):
        if value < low:
            raise ValueError(f"{name} must be at least {low}, got: {value}")
    if not 0 <= config.warmup_weeks < config.weeks:
        raise ValueError(f"warmup_weeks must be in [0, weeks), got: {config.warmup_weeks}")
    if config.start.utcoffset() is None:
        raise ValueError(f"start must be timezone-aware, got: {config.start!r}")
    if config.rate_spread not in ("log-uniform", "zipf"):
        raise ValueError(f"rate_spread must be log-uniform or zipf, got: {config.rate_spread!r}")
    # the rate-like ranges are sampled log-uniformly, so both ends must be above 0
    ranges: tuple[tuple[str, tuple[float, float], float, float, str], ...] = (
        ("rate_range", config.rate_range, 0.0, math.inf, "positive"),
        ("multiplier_range", config.multiplier_range, 1.0, math.inf, "at least 1"),
        ("floor_range", config.floor_range, 0.0, math.inf, "positive"),
        ("duration_range", config.duration_range, 1.0, MINUTES_PER_DAY, "within 1..1440"),
    )
    for name, (lo, hi), least, most, bounds in ranges:
        if not (least <= lo <= hi <= most and lo > 0):
            raise ValueError(f"{name} must be ordered and {bounds}, got: {(lo, hi)}")
    if not 0 <= config.floor_share <= 1:
        raise ValueError(f"floor_share must be in [0, 1], got: {config.floor_share}")
    if config.dispersion is not None and not config.dispersion > 0:
        raise ValueError(f"dispersion must be positive or None, got: {config.dispersion}")
    if config.outages_per_week < 0:
        raise ValueError(f"outages_per_week must not be negative, got: {config.outages_per_week}")
    if config.groups < 1:
        raise ValueError(f"groups must be at least 1, got: {config.groups}")


def _base_rates(config: SyntheticConfig, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    low, high = np.log(config.rate_range[0]), np.log(config.rate_range[1])
    if config.rate_spread == "log-uniform":
        return np.exp(rng.uniform(low, high, n))
    # Zipf: rank i (1..n) gets high * i**-s, with s chosen so the last rank gets the lowest rate
    exponent = (high - low) / max(np.log(n), 1e-9)
    ranks = rng.permutation(n) + 1.0
    return np.asarray(np.exp(high - exponent * np.log(ranks)), dtype=np.float64)


def _place_outages(
    config: SyntheticConfig, rng: np.random.Generator
) -> list[tuple[int, int, int, Shape, float, float]]:
    """(service, start minute, duration, shape, multiplier, floor) for each outage."""
    slot = _SLOT_DAYS * MINUTES_PER_DAY
    first = config.warmup_weeks * MINUTES_PER_WEEK
    slots = (config.weeks * MINUTES_PER_WEEK - first) // slot
    chance = min(1.0, config.outages_per_week * _SLOT_DAYS / 7.0)
    hit = rng.random((config.services, slots)) < chance
    service, which = np.nonzero(hit)
    count = len(service)
    lo, hi = config.duration_range
    duration = np.round(np.exp(rng.uniform(np.log(lo), np.log(hi), count))).astype(np.int64)
    offset = (rng.random(count) * (slot - duration - _GAP_MINUTES)).astype(np.int64)
    start = first + which * slot + offset
    shape = rng.integers(0, len(SHAPES), count)
    m_lo, m_hi = config.multiplier_range
    multiplier = np.exp(rng.uniform(np.log(m_lo), np.log(m_hi), count))
    f_lo, f_hi = config.floor_range
    floor = np.where(
        rng.random(count) < config.floor_share,
        np.exp(rng.uniform(np.log(f_lo), np.log(f_hi), count)),
        0.0,
    )
    return [
        (int(s), int(t), int(d), SHAPES[int(k)], float(m), float(f))
        for s, t, d, k, m, f in zip(service, start, duration, shape, multiplier, floor, strict=True)
    ]


def _profile(shape: Shape, duration: int, ramp: int) -> NDArray[np.float64]:
    """The outage's excess over its duration, as a share of its peak."""
    t = np.arange(duration, dtype=np.float64)
    if shape == "ramp":
        return np.minimum(1.0, (t + 1.0) / ramp)
    if shape == "decay":  # fades to a third of the peak by the end
        return np.asarray(np.exp(-np.log(3.0) * t / max(duration - 1, 1)), dtype=np.float64)
    return np.ones(duration)


@dataclass(frozen=True, slots=True)
class _Excess:
    """An outage and the rate it adds, minute by minute from its start."""

    outage: Outage
    first: int
    extra: NDArray[np.float64]

    def add_to(self, lam: NDArray[np.float64], first: int) -> None:
        """Add the excess to a ``services x minutes`` rate block starting at minute ``first``."""
        lo = max(self.first, first)
        hi = min(self.first + len(self.extra), first + lam.shape[1])
        if lo < hi:
            lam[self.outage.index, lo - first : hi - first] += self.extra[
                lo - self.first : hi - self.first
            ]


def _outages(
    config: SyntheticConfig, profiles: _Profiles, rng: np.random.Generator
) -> list[_Excess]:
    out = []
    for service, start, duration, shape, multiplier, floor in _place_outages(config, rng):
        expected = profiles.rate(
            np.array([service]), np.arange(start, start + duration, dtype=np.int64)
        )[0]
        ramp = int(rng.integers(2, 11))
        profile = _profile(shape, duration, ramp)
        extra = profile * np.maximum((multiplier - 1.0) * expected, floor)
        at_5x = (expected + extra) >= 5.0 * expected
        at = config.start + timedelta(minutes=start)
        outage = Outage(
            service=profiles.keys[service],
            index=service,
            start=at,
            end=at + timedelta(minutes=duration),
            shape=shape,
            multiplier=multiplier,
            floor=floor,
            # a ramp shorter than its rise never reaches the full excess
            ratio=float(1.0 + profile.max() * max(multiplier - 1.0, floor / expected[0])),
            minutes_at_5x=int(at_5x.sum()),
            first_at_5x=at + timedelta(minutes=int(np.argmax(at_5x))) if at_5x.any() else None,
        )
        out.append(_Excess(outage, start, extra))
    return out
