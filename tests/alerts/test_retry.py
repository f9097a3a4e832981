"""Delivery retry policy: the backoff schedule, the 24 h horizon, Retry-After, outcomes."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from detector.alerts.retry import (
    DEFAULT_POLICY,
    Decision,
    Outcome,
    RetryPolicy,
    classify_error,
    classify_response,
    next_attempt,
    parse_retry_after,
)
from detector.errors import HostResolutionError, UnsafeURLError

FIRST = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def schedule(seed: int, policy: RetryPolicy = DEFAULT_POLICY) -> list[datetime]:
    """Attempt times of a delivery that always fails, until it is dead-lettered."""
    rng = random.Random(seed)
    attempts = [FIRST]
    while True:
        later = policy.next_attempt(len(attempts), FIRST, attempts[-1], rng)
        if later is None:
            return attempts
        attempts.append(later)


@pytest.mark.parametrize("seed", range(20))
def test_schedule_spans_a_day_and_is_bounded(seed: int) -> None:
    attempts = schedule(seed)
    delays = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(DEFAULT_POLICY.floor <= d <= DEFAULT_POLICY.cap for d in delays)
    # Dead-lettered only once a day has passed since the first attempt, and not much later.
    assert DAY <= attempts[-1] - FIRST < DAY + DEFAULT_POLICY.cap
    assert attempts[-2] - FIRST < DAY
    assert 20 < len(attempts) < 150  # hourly-ish once capped: a dead endpoint is not hammered


def test_schedule_is_deterministic_with_a_seed() -> None:
    assert schedule(7) == schedule(7)
    assert schedule(7) != schedule(8)


def test_delays_grow_until_the_cap() -> None:
    ceilings = [DEFAULT_POLICY.ceiling(n) for n in range(1, 20)]
    assert ceilings == sorted(ceilings)
    assert ceilings[0] == DEFAULT_POLICY.base and ceilings[-1] == DEFAULT_POLICY.cap
    # Jitter makes single delays random; their medians still grow with the attempt number.
    medians = []
    for attempt in range(1, 10):  # below the cap, where the ceiling doubles each time
        rng = random.Random(attempt)
        delays = [(next_attempt(attempt, FIRST, FIRST, rng) or FIRST) - FIRST for _ in range(300)]
        medians.append(statistics.median(d.total_seconds() for d in delays))
    assert medians == sorted(medians)
    assert medians[-1] > 100 * medians[0]


def test_jitter_spreads_simultaneous_failures() -> None:
    """Events that failed together (the receiver was down) come back at different times."""
    times = {next_attempt(6, FIRST, FIRST, random.Random(seed)) for seed in range(50)}
    assert len(times) == 50


def test_never_dead_letters_before_a_day() -> None:
    rng = random.Random(0)
    almost = FIRST + DAY - timedelta(seconds=1)
    for attempt in (1, 50, 10_000):
        later = next_attempt(attempt, FIRST, almost, rng)
        assert later is not None and later > almost
    assert next_attempt(1, FIRST, FIRST + DAY, rng) is None
    assert next_attempt(1, FIRST, FIRST + 3 * DAY, rng) is None


def test_retry_after_is_honoured_up_to_a_limit() -> None:
    rng = random.Random(0)
    later = next_attempt(1, FIRST, FIRST, rng, retry_after=timedelta(minutes=10))
    assert later == FIRST + timedelta(minutes=10)
    capped = next_attempt(1, FIRST, FIRST, rng, retry_after=timedelta(days=30))
    assert capped == FIRST + DEFAULT_POLICY.max_retry_after
    # A short Retry-After does not make the backoff shorter.
    late_attempt = next_attempt(15, FIRST, FIRST, random.Random(3), retry_after=timedelta(0))
    assert late_attempt == next_attempt(15, FIRST, FIRST, random.Random(3))


def test_custom_policy() -> None:
    policy = RetryPolicy(
        base=timedelta(minutes=1), cap=timedelta(hours=4), horizon=timedelta(hours=72)
    )
    attempts = schedule(1, policy)
    assert timedelta(hours=72) <= attempts[-1] - FIRST
    assert next_attempt(1, FIRST, FIRST + DAY, random.Random(0), policy=policy) is not None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"horizon": timedelta(hours=23)},
        {"base": timedelta(0), "floor": timedelta(0)},
        {"base": timedelta(hours=2), "cap": timedelta(hours=1)},
        {"floor": timedelta(minutes=1), "base": timedelta(seconds=10)},
        {"max_retry_after": timedelta(seconds=-1)},
    ],
)
def test_policy_invariants(kwargs: dict[str, timedelta]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_bad_arguments() -> None:
    rng = random.Random(0)
    with pytest.raises(ValueError, match="start at 1"):
        next_attempt(0, FIRST, FIRST, rng)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_attempt(1, datetime(2026, 3, 1), FIRST, rng)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_attempt(1, FIRST, datetime(2026, 3, 1), rng)
    with pytest.raises(ValueError, match="before the first attempt"):
        next_attempt(1, FIRST, FIRST - timedelta(seconds=1), rng)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (301, Outcome.FAILED),
        (302, Outcome.FAILED),
        (307, Outcome.FAILED),
        (308, Outcome.FAILED),
        (400, Outcome.FAILED),
        (401, Outcome.FAILED),
        (403, Outcome.FAILED),
        (404, Outcome.FAILED),
        (405, Outcome.FAILED),
        (413, Outcome.FAILED),
        (422, Outcome.FAILED),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (504, Outcome.RETRY),
        (410, Outcome.GONE),
        (101, Outcome.FAILED),
    ],
)
def test_classify_response(status: int, outcome: Outcome) -> None:
    decision = classify_response(status, httpx.Headers(), now=FIRST)
    assert decision.outcome == outcome
    assert str(status) in decision.reason
    assert decision.retry_after is None


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", timedelta(seconds=120)),
        (503, "Sun, 01 Mar 2026 12:05:00 GMT", timedelta(minutes=5)),
        (503, "Sun, 01 Mar 2026 11:00:00 GMT", timedelta(0)),  # already past
        (429, "soon", None),
        (404, "120", None),  # not retried at all
    ],
)
def test_classify_response_retry_after(
    status: int, retry_after: str, expected: timedelta | None
) -> None:
    decision = classify_response(status, httpx.Headers({"Retry-After": retry_after}), now=FIRST)
    assert decision.retry_after == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", timedelta(0)),
        ("120", timedelta(seconds=120)),
        (" 30 ", timedelta(seconds=30)),
        ("Sun, 01 Mar 2026 12:01:00 GMT", timedelta(minutes=1)),  # IMF-fixdate
        ("Sunday, 01-Mar-26 12:01:00 GMT", timedelta(minutes=1)),  # RFC 850
        ("Sun Mar  1 12:01:00 2026", timedelta(minutes=1)),  # asctime, GMT by definition
        ("Sun, 01 Mar 2026 13:01:00 +0100", timedelta(minutes=1)),
        ("Sat, 28 Feb 2026 12:00:00 GMT", timedelta(0)),
        ("-5", None),
        ("1.5", None),
        ("", None),
        ("tomorrow", None),
    ],
)
def test_parse_retry_after(value: str, expected: timedelta | None) -> None:
    assert parse_retry_after(value, now=FIRST) == expected


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ConnectError("refused"), Outcome.RETRY),
        (httpx.ConnectTimeout("slow"), Outcome.RETRY),
        (httpx.ReadTimeout("slow"), Outcome.RETRY),
        (httpx.WriteError("reset"), Outcome.RETRY),
        (httpx.RemoteProtocolError("bad response"), Outcome.RETRY),
        (httpx.PoolTimeout("busy"), Outcome.RETRY),
        (ConnectionResetError("reset"), Outcome.RETRY),
        (HostResolutionError("https://x.example/", "x.example", "no such host"), Outcome.RETRY),
        (UnsafeURLError("http://10.0.0.1/", "10.0.0.1 is private"), Outcome.FAILED),
        (httpx.UnsupportedProtocol("ftp"), Outcome.FAILED),
        (httpx.LocalProtocolError("bad header"), Outcome.FAILED),
        (httpx.InvalidURL("bad"), Outcome.FAILED),
        (ValueError("a bug"), Outcome.FAILED),
    ],
)
def test_classify_error(error: BaseException, outcome: Outcome) -> None:
    decision = classify_error(error)
    assert decision == Decision(outcome, decision.reason)
    assert decision.reason
