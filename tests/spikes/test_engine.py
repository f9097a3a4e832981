"""The spike engine: states from counts, causality, persistence across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from detector.spikes.detectors import SeasonalNegBinDetector
from detector.spikes.engine import DetectorConfig, SpikeEngine, State

START = datetime(2021, 11, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def poisson_stream(rate: float, minutes: int, seed: int) -> np.ndarray:
    """A daily-seasonal Poisson count stream (per minute)."""
    hours = (np.arange(minutes) // 60) % 24
    lam = rate * (1 + 0.8 * np.sin((hours - 6) / 24 * 2 * np.pi))
    return np.random.default_rng(seed).poisson(lam)


def run(engine: SpikeEngine, counts: dict[str, np.ndarray], start: datetime = START):
    """Step every minute; return {key: [(at, state)]} for non-ok states."""
    alarms: dict[str, list[tuple[datetime, State]]] = {}
    minutes = len(next(iter(counts.values())))
    for m in range(minutes):
        at = start + m * MINUTE
        now = {k: float(v[m]) for k, v in counts.items() if v[m]}
        for score in engine.step(at, now):
            if score.state != State.OK:
                alarms.setdefault(score.key, []).append((at, score.state))
    return alarms


def test_a_burst_is_problems_within_minutes_and_quiet_series_stay_ok():
    days = 8
    base = poisson_stream(0.5, days * 1440, seed=1)
    burst = base.copy()
    spike = (days - 1) * 1440 + 20 * 60  # day 8, 20:00
    burst[spike : spike + 60] += np.random.default_rng(2).poisson(6.0, 60)
    alarms = run(SpikeEngine(), {"quiet": base, "burst": burst})
    problems = [at for at, state in alarms.get("burst", []) if state == State.PROBLEMS]
    first = START + spike * MINUTE
    assert problems and first <= problems[0] <= first + 5 * MINUTE
    assert all(state != State.PROBLEMS for _, state in alarms.get("quiet", []))


@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.generate])
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([0.05, 0.5, 3.0]))
def test_stationary_poisson_at_baseline_never_reaches_problems(seed, rate):
    counts = poisson_stream(rate, 3 * 1440, seed)
    engine = SpikeEngine()
    alarms = run(engine, {"s": counts})
    assert [at for at, state in alarms.get("s", []) if state == State.PROBLEMS] == []


@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.generate])
@given(
    history=st.lists(st.integers(0, 6), min_size=30, max_size=120),
    last=st.integers(0, 40),
)
def test_more_reports_never_lower_the_score(history, last):
    """Monotone in the current count, and doubling every count never lowers a score."""
    scores = []
    for factor, final in ((1, last), (1, last + 5), (2, 2 * last)):
        detector = SeasonalNegBinDetector()
        at = START
        for value in history:
            detector.learn_one(at, factor * value)
            at += MINUTE
        scores.append(detector.score_one(at, final))
    assert scores[1] >= scores[0]
    assert scores[2] >= scores[0] - 1e-12


def causal_scores(counts) -> list[float]:
    detector, scores = SeasonalNegBinDetector(), []
    for m, value in enumerate(counts):
        scores.append(detector.score_one(START + m * MINUTE, value))
        detector.learn_one(START + m * MINUTE, value)
    return scores


def test_scores_are_causal():
    counts = poisson_stream(1.0, 600, seed=3)
    counts[400:420] += 20
    assert causal_scores(counts)[:410] == causal_scores(counts[:410])


def test_restart_from_saved_state_continues_identically():
    counts = {"a": poisson_stream(1.0, 2 * 1440, 4), "b": poisson_stream(0.2, 2 * 1440, 5)}
    counts["a"][2000:2060] += 10
    straight = run(SpikeEngine(), counts)

    first = SpikeEngine()
    half = {k: v[:1500] for k, v in counts.items()}
    before = run(first, half)
    restored = SpikeEngine.from_state(first.to_state())
    rest = {k: v[1500:] for k, v in counts.items()}
    after = run(restored, rest, start=START + 1500 * MINUTE)
    merged = {k: before.get(k, []) + after.get(k, []) for k in set(before) | set(after)}
    assert {k: v for k, v in merged.items() if v} == straight


def test_skipped_buckets_are_stepped_as_empty():
    counts = poisson_stream(2.0, 300, 6)
    every, sparse = SpikeEngine(), SpikeEngine()
    a, b = [], []
    for m, c in enumerate(counts):
        at = START + m * MINUTE
        a += every.step(at, {"s": float(c)} if c else {})
        if c:
            b += sparse.step(at, {"s": float(c)})
    assert [x for x in a if x.observed] == b


def test_buckets_must_come_in_order():
    engine = SpikeEngine()
    engine.step(START, {"s": 1})
    with pytest.raises(ValueError, match="time order"):
        engine.step(START, {"s": 1})


def test_five_minute_buckets():
    engine = SpikeEngine(DetectorConfig(step_minutes=5))
    counts = poisson_stream(1.0, 2 * 288, 7) * 5
    counts[500:510] += 80
    alarms = [
        (m, s.state)
        for m, c in enumerate(counts)
        for s in engine.step(START + m * 5 * MINUTE, {"s": float(c)} if c else {})
        if s.state == State.PROBLEMS
    ]
    assert alarms and 500 <= alarms[0][0] <= 502
