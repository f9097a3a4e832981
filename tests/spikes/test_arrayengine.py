"""ArrayEngine gives SpikeEngine's states, state for state, on a stream with injected outages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import pytest

from detector.spikes.arrayengine import ArrayEngine
from detector.spikes.engine import DetectorConfig, SpikeEngine, State
from detector.spikes.synthetic import MINUTES_PER_DAY, SyntheticConfig, generate

SEED = 20211119
MINUTE = timedelta(minutes=1)
DAYS = 4  # ~6 s for both engines (SpikeEngine is most of it)
LATE = {3: 1, 7: 2, 11: 3, 19: 3}  # service -> day of its first report (after a gap)
GAP = (90, 215)  # minutes of each day without any report: hour ends fall inside


@dataclass(frozen=True)
class Bucket:
    """One non-empty minute: when, and the keys, groups and counts reported in it."""

    at: datetime
    keys: list[str]
    groups: list[str]
    counts: np.ndarray


@cache
def _buckets(days: int = DAYS) -> tuple[Bucket, ...]:
    """The first ``days`` of 30 services x 1 week with outages from the start, with gaps, late
    services and fractional counts for every other service."""
    config = SyntheticConfig(
        services=30, weeks=1, warmup_weeks=0, outages_per_week=3.0, rate_range=(0.02, 10.0)
    )
    streams = generate(config, seed=SEED)
    minute, service = streams.minute, streams.service
    keep = (minute < days * MINUTES_PER_DAY) & ~(
        (minute % MINUTES_PER_DAY >= GAP[0]) & (minute % MINUTES_PER_DAY < GAP[1])
    )
    for s, day in LATE.items():
        keep &= (service != s) | (minute >= day * MINUTES_PER_DAY + GAP[1])
    # weighted reports (a retweet worth 0.3 of a post, say), non-dyadic so sums round
    weight = np.where(service % 2 == 1, 0.7, 1.0)
    counts = (streams.count * weight)[keep]
    minute, service = minute[keep], service[keep]
    # late services get groups of their own: their prior comes from nobody's history
    groups = [f"late-{s % 2}" if s in LATE else g for s, g in enumerate(streams.groups)]
    bounds = np.flatnonzero(np.diff(minute)) + 1
    return tuple(
        Bucket(
            at=streams.start + int(minute[chunk[0]]) * MINUTE,
            keys=[streams.keys[s] for s in service[chunk].tolist()],
            groups=[groups[s] for s in service[chunk].tolist()],
            counts=counts[chunk],
        )
        for chunk in np.split(np.arange(len(minute)), bounds)
    )


def test_the_stream_exercises_gaps_late_services_and_fractions() -> None:
    buckets = _buckets()
    minutes = [(b.at - buckets[0].at) // MINUTE for b in buckets]
    assert max(np.diff(minutes)) >= GAP[1] - GAP[0]
    first_seen: dict[str, datetime] = {}
    for b in buckets:
        for key in b.keys:
            first_seen.setdefault(key, b.at)
    late = {k: LATE[int(k.split("-")[1])] for k in first_seen if int(k.split("-")[1]) in LATE}
    assert len(late) == len(LATE)
    start = buckets[0].at - buckets[0].at.hour * timedelta(hours=1)  # the first day, midnight
    for key, day in late.items():
        # first seen after a gap: hours closed in the gap while the service did not exist
        assert first_seen[key] >= start + timedelta(days=day, minutes=GAP[1])
    fractional = np.concatenate([b.counts for b in buckets]) % 1
    assert (fractional > 0).any()


States = list[tuple[int, int]]  # (series index, state) of a bucket's hot series


def _step_reference(engine: SpikeEngine, b: Bucket) -> States:
    """SpikeEngine.step on a bucket, as production calls it."""
    counts = dict(zip(b.keys, b.counts.tolist(), strict=True))
    scores = engine.step(b.at, counts, dict(zip(b.keys, b.groups, strict=True)))
    return [(engine.keys[s.key], int(s.state)) for s in scores]


def _step_arrays(engine: ArrayEngine, b: Bucket) -> States:
    """ArrayEngine.step_arrays on a bucket, adding new series as SpikeEngine.step does."""
    engine.advance_to(b.at)  # series first seen here are added after the empty buckets
    series = np.array([engine.series(k, g) for k, g in zip(b.keys, b.groups, strict=True)])
    out = engine.step_arrays(b.at, series, b.counts)
    return list(zip(out.hot.tolist(), out.state.tolist(), strict=True))


def _run_both(
    config: DetectorConfig, days: int = DAYS
) -> tuple[SpikeEngine, ArrayEngine, list[int]]:
    """Step both engines over the buckets of ``days``; assert they agree after every bucket;
    return them with how many hot series were in each state, summed over the buckets."""
    reference, engine = SpikeEngine(config), ArrayEngine(config)
    seen = [0, 0, 0]
    for b in _buckets(days):
        got = _step_arrays(engine, b)
        assert got == _step_reference(reference, b), f"states differ at {b.at.isoformat()}"
        for _, state in got:
            seen[state] += 1
    return reference, engine, seen


def test_array_engine_gives_the_spike_engines_states_bucket_by_bucket() -> None:
    reference, engine, seen = _run_both(DetectorConfig())
    assert engine.keys == reference.keys
    # the comparison means something: outages were found, and some reached only "possible"
    assert seen[State.PROBLEMS] > 50 and seen[State.POSSIBLE] > 50
    # and both learned the same baselines
    for name in ("counts", "minutes", "pending"):
        assert np.array_equal(getattr(engine.baseline, name), getattr(reference.baseline, name))


@pytest.mark.parametrize(
    "config",
    [
        DetectorConfig(grace_minutes=0, windows=(5,), persistence=1),
        # nothing required of a window's counts: every hot series can alert, so all are scored
        DetectorConfig(grace_minutes=0, min_count_possible=0, min_ratio_possible=0.0),
    ],
    ids=["no-warm-up-one-window", "no-count-rules"],
)
def test_array_engine_matches_with_other_settings(config: DetectorConfig) -> None:
    # two days, no warm-up: baselines are still the groups' priors, so much alerts
    _, _, seen = _run_both(config, days=2)
    assert seen[State.PROBLEMS] > 0 and seen[State.POSSIBLE] > 0


def test_a_restored_array_engine_carries_on_with_the_same_states() -> None:
    buckets = _buckets(2)
    reference, engine = SpikeEngine(), ArrayEngine()
    for b in buckets[: len(buckets) // 2]:
        assert _step_arrays(engine, b) == _step_reference(reference, b)
    saved = engine.to_state()
    restored = ArrayEngine.from_state(saved)
    assert isinstance(restored, ArrayEngine)
    # the saved hot set is SpikeEngine's, so SpikeEngine carries on from it as well
    spike = SpikeEngine.from_state(saved)
    for b in buckets[len(buckets) // 2 :]:
        expected = _step_reference(reference, b)
        assert _step_arrays(restored, b) == expected, f"states differ at {b.at.isoformat()}"
        assert _step_reference(spike, b) == expected, f"states differ at {b.at.isoformat()}"


def test_step_arrays_rejects_buckets_out_of_order() -> None:
    engine = ArrayEngine()
    a = engine.series("a")
    start = datetime(2021, 11, 19, 20, 0, tzinfo=UTC)
    engine.step_arrays(start, np.array([a]), np.array([2.0]))
    with pytest.raises(ValueError, match="time order"):
        engine.step_arrays(start, np.array([a]), np.array([1.0]))
    with pytest.raises(ValueError, match="time order"):
        engine.step_arrays(start - MINUTE, np.array([a]), np.array([1.0]))
    with pytest.raises(ValueError, match="time order"):
        engine.advance_to(start)
    assert engine.last_step == engine.step_index(start)
