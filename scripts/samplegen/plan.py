"""When posts happen: the sample window, daily seasonality and the injected incident curves.

Background posts follow each writer's waking hours (local time from the region's UTC offset).
Incidents are piecewise-linear rates in posts per minute, sampled minute by minute (Poisson).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "INCIDENTS",
    "TESLA_CURVE",
    "WINDOW_END",
    "WINDOW_START",
    "Incident",
    "poisson",
    "sample_curve",
    "waking_time",
]

WINDOW_START = datetime(2021, 11, 18, tzinfo=UTC)
WINDOW_END = datetime(2021, 11, 22, tzinfo=UTC)  # exclusive; last post before 23:59:59

# Relative activity by local hour (0..23): quiet at night, busiest in the evening.
_HOURLY = (
    0.42,
    0.28,
    0.18,
    0.12,
    0.10,
    0.12,
    0.24,
    0.44,
    0.62,
    0.72,
    0.78,
    0.82,
    0.88,
    0.88,
    0.86,
    0.86,
    0.88,
    0.94,
    1.00,
    1.00,
    0.98,
    0.92,
    0.80,
    0.60,
)


@dataclass(frozen=True, slots=True)
class Incident:
    """An injected outage: a row of truth.csv plus the rate curve that drives it."""

    service: str
    start: datetime
    end: datetime
    scope: str
    note: str
    knots: tuple[tuple[float, float], ...]  # (minutes after start, posts per minute)


def _t(day: int, hour: int, minute: int) -> datetime:
    return datetime(2021, 11, day, hour, minute, tzinfo=UTC)


# Tesla: original outage tweets per minute, minutes after 20:58 UTC on Nov 19.
TESLA_CURVE: tuple[tuple[float, float], ...] = (
    (0, 0.3),
    (2, 1.0),
    (5, 2.5),
    (10, 6.0),
    (17, 11.0),
    (25, 17.0),
    (32, 22.0),
    (40, 26.0),
    (47, 28.0),
    (62, 28.5),
    (77, 28.5),
    (92, 28.5),
    (107, 26.0),
    (122, 18.0),
    (137, 12.5),
    (152, 9.0),
    (167, 6.5),
    (182, 4.8),
    (212, 2.6),
    (242, 1.3),
    (272, 0.6),
    (302, 0.2),
    (320, 0.0),
)

INCIDENTS: tuple[Incident, ...] = (
    Incident(
        "tesla",
        _t(19, 20, 58),
        _t(20, 2, 0),
        "global",
        "Tesla app/API outage: '500 Server Error', phone key not working, car shown offline or at "
        "the wrong place; reports from US, CA, GB, DE, NO, NL, KR, AU; @elonmusk 'Checking...' "
        "21:24Z and 'back online' ~21:50Z; reports continue for hours",
        TESLA_CURVE,
    ),
    Incident(
        "discord",
        _t(18, 15, 10),
        _t(18, 15, 52),
        "global",
        "Discord messages failing to send / app down, about 40 minutes",
        ((0, 0.5), (4, 4.0), (8, 8.0), (25, 8.5), (32, 4.0), (38, 1.2), (42, 0.0)),
    ),
    Incident(
        "coinbase",
        _t(20, 14, 5),
        _t(20, 14, 42),
        "global",
        "Coinbase login failures and failing buys/withdrawals, about 35 minutes",
        ((0, 0.4), (5, 3.0), (9, 3.8), (22, 3.6), (30, 1.2), (37, 0.0)),
    ),
    Incident(
        "psn",
        _t(20, 19, 40),
        _t(20, 21, 12),
        "global",
        "PlayStation Network sign-in outage (WS-37397-9 / NP-40833-8), about 90 minutes",
        ((0, 0.4), (8, 3.5), (16, 7.5), (60, 7.8), (75, 3.5), (85, 1.0), (92, 0.0)),
    ),
    Incident(
        "verizon",
        _t(21, 13, 30),
        _t(21, 16, 35),
        "US-GA",
        "Regional Verizon Wireless outage in Georgia (no service / SOS only), about 3 hours",
        ((0, 0.3), (15, 2.5), (35, 4.6), (135, 4.4), (160, 2.0), (185, 0.0)),
    ),
)


def rate_at(knots: tuple[tuple[float, float], ...], minute: float) -> float:
    """Linear interpolation of a knot curve (zero outside it)."""
    if minute < knots[0][0] or minute > knots[-1][0]:
        return 0.0
    for (m0, r0), (m1, r1) in zip(knots, knots[1:], strict=False):
        if m0 <= minute <= m1:
            return r0 + (r1 - r0) * (minute - m0) / (m1 - m0 or 1)
    return 0.0


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, normal approximation for large ones)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def sample_curve(
    rng: random.Random, start: datetime, knots: tuple[tuple[float, float], ...], scale: float = 1.0
) -> list[datetime]:
    """Moments of posts following ``knots`` (minutes after ``start``), sorted."""
    out: list[datetime] = []
    for minute in range(int(knots[-1][0]) + 1):
        lam = rate_at(knots, minute + 0.5) * scale
        for _ in range(poisson(rng, lam)):
            out.append(start + timedelta(minutes=minute, seconds=rng.uniform(0, 60)))
    out.sort()
    return out


def waking_time(
    rng: random.Random,
    utc_offset: float,
    start: datetime = WINDOW_START,
    end: datetime = WINDOW_END,
) -> datetime:
    """A moment in [start, end) weighted by the local hour's activity (rejection sampling)."""
    span = (end - start).total_seconds()
    while True:
        moment = start + timedelta(seconds=rng.uniform(0, span))
        local = (moment.hour + moment.minute / 60 + utc_offset) % 24
        if rng.random() < _HOURLY[int(local)]:
            return moment
