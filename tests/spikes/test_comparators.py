"""The Kleinberg burst detector: grace period, false alarms, bursts, monotonicity, protocol."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detector.spikes.comparators import KleinbergDetector
from detector.spikes.detectors import ScoreThresholds, SpikeDetector
from detector.spikes.engine import State

START = datetime(2021, 11, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
THRESHOLDS = ScoreThresholds()
TWO_DAYS = 2 * 1440


def feed(detector: SpikeDetector, values: Iterable[float], start: datetime = START) -> list[float]:
    """Score then learn each bucket, as a backtest does; return the scores."""
    scores = []
    for i, value in enumerate(values):
        at = start + i * MINUTE
        scores.append(detector.score_one(at, float(value)))
        detector.learn_one(at, float(value))
    return scores


def poisson(rate: float, n: int, seed: int) -> NDArray[np.int64]:
    return np.random.default_rng(seed).poisson(rate, n)


def test_conforms_to_the_spike_detector_protocol() -> None:
    detector: SpikeDetector = KleinbergDetector()  # checked by mypy on the tests
    for name in ("score_one", "learn_one"):
        ours = inspect.signature(getattr(KleinbergDetector, name))
        protocol = inspect.signature(getattr(SpikeDetector, name))
        assert ours == protocol, name
    detector.learn_one(START, 1.0)
    assert isinstance(detector.score_one(START + MINUTE, 1.0), float)


@pytest.mark.parametrize("grace_period", [1, 10, 60])
def test_scores_zero_during_the_grace_period_whatever_the_counts(grace_period: int) -> None:
    values = [0, 1000, 0, 500] * 20
    scores = feed(KleinbergDetector(grace_period=grace_period), values)
    assert scores[:grace_period] == [0.0] * grace_period
    assert max(scores[grace_period:]) > 0  # the same counts are scored once it has learned


@pytest.mark.parametrize("rate", [0.05, 0.5, 3.0, 20.0])
@pytest.mark.parametrize("seed", [1, 2])
def test_stays_below_problems_on_a_stationary_poisson_series(rate: float, seed: int) -> None:
    scores = feed(KleinbergDetector(), poisson(rate, TWO_DAYS, seed))
    assert max(scores) < THRESHOLDS.problems
    assert State.PROBLEMS not in THRESHOLDS.states(scores)


@pytest.mark.parametrize("rate", [5.0, 20.0, 50.0])
def test_the_first_bucket_does_not_skew_the_learned_rate(rate: float) -> None:
    """A series that starts with an empty bucket (a quiet night, a new service) at a steady rate:
    the grace period's mean is the rate, so scoring starts without false bursts."""
    values = poisson(rate, 600, seed=4)
    values[0] = 0
    scores = feed(KleinbergDetector(), values)
    assert max(scores) < THRESHOLDS.possible


def test_score_is_the_bursts_likelihood_ratio_in_nats_less_the_cost_of_entering_it() -> None:
    """On a steady history the base rate is known exactly, so the score is too: the first
    bucket of a burst pays ``transition_cost``, the next ones (already in the burst) do not."""
    rate, count = 2.0, 20.0
    detector = KleinbergDetector(grace_period=30, transition_cost=5.0, nats_at_one=20.0)
    feed(detector, [rate] * 100)
    # -log Poisson(count | 3 rate) + log Poisson(count | rate), the log(count!) cancelling
    ratio = (rate - 3 * rate) + count * np.log(3.0)
    first, second = feed(detector, [count, count], START + 100 * MINUTE)
    assert first == pytest.approx((ratio - 5.0) / 20.0)
    assert second == pytest.approx(ratio / 20.0)


def burst_series(rate: float, burst: float, seed: int) -> tuple[NDArray[np.int64], slice]:
    """``rate`` for 10 hours, ``burst`` x ``rate`` for 30 minutes, ``rate`` for 10 hours."""
    before, during, after = 600, 30, 600
    values = np.concatenate(
        [
            poisson(rate, before, seed),
            poisson(burst * rate, during, seed + 1),
            poisson(rate, after, seed + 2),
        ]
    )
    return values, slice(before, before + during)


def test_a_tenfold_burst_reaches_problems_within_a_few_buckets_and_then_returns_to_ok() -> None:
    values, burst = burst_series(3.0, 10.0, seed=5)
    scores = feed(KleinbergDetector(), values)
    states = THRESHOLDS.states(scores)
    assert max(scores[: burst.start]) < THRESHOLDS.possible
    first = states.index(State.PROBLEMS)
    assert burst.start <= first < burst.start + 3
    assert np.mean(np.array(scores[burst]) >= THRESHOLDS.problems) > 0.9  # held through it
    assert states[burst.stop + 2 :] == [State.OK] * (len(states) - burst.stop - 2)
    assert max(scores[burst.stop :]) < THRESHOLDS.possible


def test_a_long_burst_does_not_become_the_baseline() -> None:
    """Two hours at 10x (two half-lives of the base rate): the end scores as high as the start,
    as the rate is not learned from buckets the burst state explains better."""
    values = np.concatenate([poisson(3.0, 600, seed=6), poisson(30.0, 120, seed=7)])
    scores = feed(KleinbergDetector(), values)
    early, late = np.mean(scores[601:631]), np.mean(scores[-30:])
    assert early >= THRESHOLDS.problems
    assert late >= early - 0.05


@pytest.mark.parametrize("rate", [0.2, 3.0])
def test_score_never_falls_as_the_count_grows(rate: float) -> None:
    detector = KleinbergDetector()
    feed(detector, poisson(rate, 300, seed=7))
    at = START + 300 * MINUTE
    scores = [detector.score_one(at, float(v)) for v in range(200)]
    assert scores == sorted(scores)
    assert scores[0] == 0.0 and scores[-1] == 1.0
    assert detector.score_one(at, 5.0) == scores[5]  # scoring learned nothing


@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.generate])
@given(
    history=st.lists(st.integers(0, 8), min_size=0, max_size=150),
    burst=st.lists(st.integers(0, 60), min_size=1, max_size=6),
)
def test_doubling_a_count_never_lowers_its_score(history: list[int], burst: list[int]) -> None:
    """At a fixed history (including burst buckets already seen), for any current count."""
    detector = KleinbergDetector(grace_period=20)
    feed(detector, [*history, *burst[:-1]])
    at = START + (len(history) + len(burst) - 1) * MINUTE
    count = burst[-1]
    assert detector.score_one(at, 2.0 * count) >= detector.score_one(at, float(count))
