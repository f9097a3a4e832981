"""Synthetic complaint streams: determinism, ground truth, rates, profiles and injected outages."""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

from detector.spikes.synthetic import (
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    CountStreams,
    Outage,
    SyntheticConfig,
    generate,
)

SLOT = timedelta(days=2)
GAP = timedelta(hours=6)
# Tolerance of the statistical checks, in standard errors: the seeds are fixed so they are
# deterministic, but a change of the generator must not make them fail by bad luck alone.
Z = 4.5

# Many short outages of every shape and size, on few services: exercises placement and truth.
BUSY = SyntheticConfig(
    services=120,
    weeks=3,
    outages_per_week=3.0,
    duration_range=(5, 30),
    multiplier_range=(2.0, 20.0),
)


@pytest.fixture(scope="module")
def busy() -> CountStreams:
    return generate(BUSY, seed=11)


def quiet(**overrides: Any) -> SyntheticConfig:
    """A config without outages, day-to-day wander or extra noise, overridable."""
    fields: dict[str, Any] = {
        "services": 40,
        "weeks": 2,
        "outages_per_week": 0.0,
        "day_level_sd": 0.0,
        "dispersion": None,
    }
    fields.update(overrides)
    return SyntheticConfig(**fields)


def sum_by(values: NDArray[np.int64], groups: NDArray[np.int64], size: int) -> NDArray[np.float64]:
    return np.asarray(np.bincount(groups, weights=values, minlength=size), dtype=np.float64)


# --- determinism ---------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_streams_and_truth_and_another_seed_does_not() -> None:
    config = SyntheticConfig(services=30, weeks=2, outages_per_week=2.0)
    first, again, other = generate(config, 5), generate(config, 5), generate(config, 6)
    for name in ("minute", "service", "count", "base_rate"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert (first.keys, first.groups, first.truth) == (again.keys, again.groups, again.truth)
    assert first.truth
    assert not np.array_equal(first.base_rate, other.base_rate)
    assert first.count.shape != other.count.shape or not np.array_equal(first.count, other.count)
    assert first.truth != other.truth


# --- shape of the streams ------------------------------------------------------------------------


def test_streams_cover_the_configured_weeks_and_warm_up(busy: CountStreams) -> None:
    assert busy.minutes == BUSY.weeks * MINUTES_PER_WEEK
    assert busy.scored_from == BUSY.warmup_weeks * MINUTES_PER_WEEK
    assert busy.start == BUSY.start
    assert busy.scored_start == BUSY.start + timedelta(weeks=BUSY.warmup_weeks)
    assert busy.end == BUSY.start + timedelta(weeks=BUSY.weeks)
    assert len(busy.keys) == len(set(busy.keys)) == len(busy.groups) == BUSY.services
    assert len(set(busy.groups)) <= BUSY.groups
    assert busy.base_rate.shape == (BUSY.services,)


def test_counts_are_sparse_and_sorted_by_minute_then_service(busy: CountStreams) -> None:
    assert busy.minute.dtype == busy.service.dtype == busy.count.dtype == np.int64
    assert len(busy.minute) == len(busy.service) == len(busy.count) > 0
    assert (busy.count > 0).all()
    assert 0 <= busy.minute.min() and busy.minute.max() < busy.minutes
    assert 0 <= busy.service.min() and busy.service.max() < BUSY.services
    order = np.lexsort((busy.service, busy.minute))
    np.testing.assert_array_equal(order, np.arange(len(order)))
    same_minute = np.diff(busy.minute) == 0
    assert (np.diff(busy.service)[same_minute] > 0).all()  # one cell per (minute, service)


def test_dense_agrees_with_by_minute(busy: CountStreams) -> None:
    services = np.array([7, 0, 42, 119], dtype=np.int64)  # any order
    dense = busy.dense(services)
    assert dense.shape == (len(services), busy.minutes)
    expected = np.zeros_like(dense)
    row = {int(s): i for i, s in enumerate(services)}
    minutes = 0
    for minute, who, counts in busy.by_minute():
        assert minute == minutes
        minutes += 1
        for s, c in zip(who.tolist(), counts.tolist(), strict=True):
            if s in row:
                expected[row[s], minute] = c
    assert minutes == busy.minutes  # empty minutes are yielded too
    np.testing.assert_array_equal(dense, expected)
    everyone = busy.dense(np.arange(BUSY.services, dtype=np.int64))
    assert everyone.sum() == busy.count.sum()
    np.testing.assert_array_equal(
        everyone.sum(axis=1), sum_by(busy.count, busy.service, BUSY.services)
    )


# --- ground truth --------------------------------------------------------------------------------


def test_outages_fall_after_the_warm_up_within_the_streams(busy: CountStreams) -> None:
    assert len(busy.truth) > BUSY.services  # several per service: the checks below bite
    for outage in busy.truth:
        assert busy.scored_start <= outage.start < outage.end <= busy.end
        assert busy.keys[outage.index] == outage.service
    assert {outage.shape for outage in busy.truth} == {"step", "ramp", "decay"}


def test_at_most_one_outage_per_service_per_two_day_slot(busy: CountStreams) -> None:
    slots: defaultdict[tuple[str, int], list[Outage]] = defaultdict(list)
    for outage in busy.truth:
        slot = (outage.start - busy.scored_start) // SLOT
        slots[outage.service, slot].append(outage)
        assert outage.end + GAP <= busy.scored_start + (slot + 1) * SLOT
    assert all(len(outages) == 1 for outages in slots.values())


def test_outage_durations_stay_within_duration_range(busy: CountStreams) -> None:
    lo, hi = BUSY.duration_range
    durations = [outage.minutes for outage in busy.truth]
    assert all(lo <= d <= hi for d in durations)
    assert min(durations) < 8 and max(durations) > 20  # the range is used, not one value
    for outage in busy.truth:
        assert outage.start + timedelta(minutes=outage.minutes) == outage.end


def test_ratio_and_minutes_at_5x_follow_multiplier_and_floor(busy: CountStreams) -> None:
    lo, hi = BUSY.multiplier_range
    for outage in busy.truth:
        assert lo <= outage.multiplier <= hi
        assert 0 <= outage.minutes_at_5x <= outage.minutes
        if outage.floor == 0.0:
            # purely relative: the rate is multiplier x expected wherever the shape is at 1
            assert outage.ratio <= outage.multiplier * (1 + 1e-12)
            if outage.shape == "step":
                assert outage.ratio == pytest.approx(outage.multiplier)
                full = outage.minutes if outage.multiplier >= 5 else 0
                assert outage.minutes_at_5x == full
            # the rate reaches 5x somewhere exactly when its peak ratio does (short ramps too)
            assert (outage.ratio >= 5) == (outage.minutes_at_5x > 0)
        else:
            f_lo, f_hi = BUSY.floor_range
            assert f_lo <= outage.floor <= f_hi
            if outage.shape != "ramp":
                assert outage.ratio >= outage.multiplier * (1 - 1e-12)
            if outage.shape == "step" and outage.multiplier >= 5:
                assert outage.minutes_at_5x == outage.minutes
    shares = [outage.floor > 0 for outage in busy.truth]
    assert 0 < sum(shares) < len(shares)  # both kinds are present


def test_a_step_outage_multiplies_the_counts_in_its_window() -> None:
    """Against the same minutes a week earlier (warm-up): the weekly profile repeats exactly."""
    config = quiet(
        services=100,
        outages_per_week=3.0,
        rate_range=(3.0, 8.0),
        multiplier_range=(2.0, 8.0),
        floor_share=0.0,
        duration_range=(30, 60),
    )
    streams = generate(config, seed=3)
    steps = [o for o in streams.truth if o.shape == "step"]
    assert len(steps) >= 20
    services = sorted({o.index for o in steps})
    counts = streams.dense(np.array(services, dtype=np.int64))
    row = {index: i for i, index in enumerate(services)}
    for outage in steps:
        first = (outage.start - streams.start) // timedelta(minutes=1)
        window = slice(first, first + outage.minutes)
        before = slice(first - MINUTES_PER_WEEK, first - MINUTES_PER_WEEK + outage.minutes)
        during, usual = (
            counts[row[outage.index], window].sum(),
            counts[row[outage.index], before].sum(),
        )
        # Poisson counts: the log of their ratio has standard error sqrt(1/a + 1/b)
        error = math.sqrt(1 / during + 1 / usual)
        assert abs(math.log(during / usual) - math.log(outage.multiplier)) < Z * error


# --- rates and profiles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dispersion", "day_level_sd"), [(None, 0.0), (30.0, 0.1)], ids=["poisson", "default-noise"]
)
def test_mean_rate_of_a_service_without_outages_is_its_base_rate(
    dispersion: float | None, day_level_sd: float
) -> None:
    config = quiet(rate_range=(0.05, 5.0), dispersion=dispersion, day_level_sd=day_level_sd)
    streams = generate(config, seed=21)
    assert streams.truth == ()
    n = streams.minutes
    days = n // MINUTES_PER_DAY
    mean = sum_by(streams.count, streams.service, config.services) / n
    rate = streams.base_rate
    # Variance of the mean of n minutes: Poisson (rate / n), Gamma mixing (c rate**2 / (k n),
    # where c = E[mu**2] / E[mu]**2 <= 1.5 for the profile's amplitudes up to 1), and the days'
    # log-normal levels (about sd**2 / days, relative).
    mixing = 0.0 if dispersion is None else 1.5 / dispersion
    variance = rate / n + mixing * rate**2 / n + (day_level_sd * rate) ** 2 / days
    z = (mean - rate) / np.sqrt(variance)
    assert np.abs(z).max() < Z, f"worst service: {np.abs(z).argmax()}, z={np.abs(z).max():.2f}"


@pytest.mark.parametrize("dispersion", [None, 5.0])
def test_counts_are_negative_binomial_with_the_dispersion(dispersion: float | None) -> None:
    """On flat profiles the variance of a minute's count is mu + mu**2 / dispersion."""
    rate = 4.0
    config = quiet(
        services=10,
        rate_range=(rate, rate),
        dispersion=dispersion,
        diurnal_amplitude=(0.0, 0.0),
        weekend_factor=(1.0, 1.0),
    )
    streams = generate(config, seed=9)
    counts = streams.dense(np.arange(config.services, dtype=np.int64))
    mixing = 0.0 if dispersion is None else 1.0 / dispersion
    expected = rate + mixing * rate**2
    # relative standard error of a sample variance: sqrt((2 + excess kurtosis) / n), where the
    # negative binomial's excess kurtosis is 6 / dispersion + 1 / variance
    n = counts.size
    error = math.sqrt((2 + 6 * mixing + 1 / expected) / n)
    assert abs(counts.var(axis=1).mean() / expected - 1) < Z * error
    assert abs(counts.mean() / rate - 1) < Z * math.sqrt(expected / n) / rate


@pytest.mark.parametrize("utc_offset", [-7, 0, 9])
def test_the_daily_curve_peaks_at_the_local_peak_hour(utc_offset: int) -> None:
    config = quiet(
        weeks=1,
        warmup_weeks=0,
        rate_range=(1.0, 2.0),
        diurnal_amplitude=(1.0, 1.0),
        peak_hour=(20.0, 20.0),
        utc_offset_hours=(utc_offset, utc_offset),
    )
    streams = generate(config, seed=2)
    of_day = streams.minute % MINUTES_PER_DAY
    # exp(a cos) is symmetric about its peak: the phase of the first harmonic is the peak
    phase = np.angle(np.sum(streams.count * np.exp(2j * np.pi * of_day / MINUTES_PER_DAY)))
    peak_utc = (phase / (2 * np.pi) * MINUTES_PER_DAY) % MINUTES_PER_DAY
    expected = ((20 - utc_offset) * 60) % MINUTES_PER_DAY
    off_by = (peak_utc - expected + MINUTES_PER_DAY / 2) % MINUTES_PER_DAY - MINUTES_PER_DAY / 2
    assert abs(off_by) < 20  # minutes
    by_hour = np.bincount(of_day // 60, weights=streams.count, minlength=24)
    trough = (expected // 60 + 12) % 24
    assert by_hour[expected // 60] > 4 * by_hour[trough]  # e**2 for a = 1


@pytest.mark.parametrize(
    "start",
    [datetime(2021, 11, 1, tzinfo=UTC), datetime(2021, 11, 3, 13, 30, tzinfo=UTC)],
    ids=["monday", "wednesday-afternoon"],
)
def test_weekends_fall_on_calendar_weekends_whatever_the_start(start: datetime) -> None:
    config = quiet(
        services=30,
        start=start,
        rate_range=(2.0, 4.0),
        weekend_factor=(0.5, 0.5),
        utc_offset_hours=(0, 0),
        diurnal_amplitude=(0.0, 0.0),
    )
    streams = generate(config, seed=8)
    hours = (streams.minute + start.hour * 60 + start.minute) // 60  # since the start's 00:00
    weekday = (start.weekday() + hours // 24) % 7
    per_day = np.bincount(weekday, weights=streams.count, minlength=7)
    weekend, weekdays = per_day[5:].sum(), per_day[:5].sum()
    # both sides are days of all services over the same number of weeks: 2 vs 5 days each
    ratio = (weekend / 2) / (weekdays / 5)
    assert abs(math.log(ratio / 0.5)) < Z * math.sqrt(1 / weekend + 1 / weekdays)


def test_log_uniform_rates_spread_evenly_over_decades() -> None:
    config = quiet(services=300, weeks=1, warmup_weeks=0, rate_range=(0.01, 10.0))
    rates = generate(config, seed=4).base_rate
    low, high = np.log(config.rate_range)
    assert (rates >= config.rate_range[0]).all() and (rates <= config.rate_range[1]).all()
    assert stats.kstest((np.log(rates) - low) / (high - low), "uniform").pvalue > 1e-3


def test_zipf_rates_fall_as_a_power_of_rank_from_highest_to_lowest() -> None:
    config = quiet(
        services=300, weeks=1, warmup_weeks=0, rate_range=(0.01, 10.0), rate_spread="zipf"
    )
    rates = np.sort(generate(config, seed=4).base_rate)[::-1]
    lo, hi = config.rate_range
    assert rates[0] == pytest.approx(hi) and rates[-1] == pytest.approx(lo)
    ranks = np.arange(1, len(rates) + 1)
    exponent = math.log(hi / lo) / math.log(len(rates))  # so that the last rank gets ``lo``
    np.testing.assert_allclose(rates, hi * ranks**-exponent, rtol=1e-9)
    # most services are quiet: only ranks up to sqrt(n) are above the geometric middle
    assert (rates > math.sqrt(lo * hi)).sum() == math.isqrt(len(rates))


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"services": 0}, "services"),
        ({"weeks": 0}, "weeks"),
        ({"weeks": 2, "warmup_weeks": 2}, "warmup_weeks"),
        ({"warmup_weeks": -1}, "warmup_weeks"),
        ({"start": datetime(2021, 11, 1)}, "start"),
        ({"rate_range": (0.0, 1.0)}, "rate_range"),
        ({"rate_range": (2.0, 1.0)}, "rate_range"),
        ({"rate_spread": "pareto"}, "rate_spread"),
        ({"duration_range": (0, 10)}, "duration_range"),
        ({"duration_range": (10, 1441)}, "duration_range"),
        ({"duration_range": (60, 10)}, "duration_range"),
        ({"multiplier_range": (0.5, 2.0)}, "multiplier_range"),
        ({"multiplier_range": (10.0, 2.0)}, "multiplier_range"),
        ({"floor_range": (0.0, 1.0)}, "floor_range"),
        ({"floor_share": 1.5}, "floor_share"),
        ({"dispersion": 0.0}, "dispersion"),
        ({"outages_per_week": -1.0}, "outages_per_week"),
        ({"groups": 0}, "groups"),
    ],
)
def test_invalid_config_raises_value_error_naming_field(
    overrides: dict[str, Any], field: str
) -> None:
    config = dataclasses.replace(SyntheticConfig(services=2, weeks=2), **overrides)
    with pytest.raises(ValueError, match=rf"^{field} must .*got: "):
        generate(config, seed=0)
