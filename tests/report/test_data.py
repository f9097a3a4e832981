"""Reading a chart's series from the stored per-minute scores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from detector.report.data import (
    CARRY_EXPECTED_MINUTES,
    StoredIncident,
    chart_series,
    read_incidents,
    scored_range,
)
from detector.store.sql import SqlStore
from tests.report.builders import START, make_incident, put_incident, put_scores

MINUTE = timedelta(minutes=1)


def _stored(store: SqlStore, **overrides: Any) -> StoredIncident:
    put_incident(store.engine, make_incident(**overrides), updated_at=START + timedelta(hours=3))
    (stored,) = read_incidents(store.engine)
    return stored


def test_quiet_minutes_count_zero_and_buckets_sum_five_minutes(small_store: SqlStore) -> None:
    put_scores(
        small_store.engine,
        "tesla",
        [
            (START - 10 * MINUTE, 2.0, 0.5, 0),
            (START - 8 * MINUTE, 1.0, 0.5, 1),
            (START, 7.0, 0.5, 2),
            (START + 4 * MINUTE, 3.0, 0.5, 2),
        ],
    )
    stored = _stored(small_store)
    data_range = scored_range(small_store.engine)

    series = chart_series(small_store.engine, stored, data_range)

    assert data_range == (START - 10 * MINUTE, START + 5 * MINUTE)
    assert series.since == START - 10 * MINUTE  # clipped to what was scored
    assert series.until == START + 5 * MINUTE
    assert series.observed.tolist() == [3.0, 0.0, 10.0]
    assert series.states.tolist() == [1, 0, 2]
    # Every minute has a (carried) baseline: 5 minutes of 0.5 each.
    assert series.expected.tolist() == [2.5, 2.5, 2.5]
    assert series.starts[0] == np.datetime64("2021-11-19T20:50")


def test_the_baseline_is_carried_for_an_hour_then_unknown(small_store: SqlStore) -> None:
    put_scores(
        small_store.engine,
        "tesla",
        [(START, 5.0, 0.2, 2), (START + 3 * timedelta(hours=1), 1.0, 0.4, 0)],
    )
    stored = _stored(small_store, end=START + timedelta(minutes=10))

    series = chart_series(small_store.engine, stored, scored_range(small_store.engine))

    carried = (CARRY_EXPECTED_MINUTES + 1) // 5  # buckets fully covered by the carry
    assert np.allclose(series.expected[:carried], 1.0)
    assert np.isnan(series.expected[carried + 1 : -1]).all()
    assert series.expected[-1] == 2.0
    assert series.observed.sum() == 6.0


def test_a_chart_spans_twelve_hours_either_side_within_the_data(small_store: SqlStore) -> None:
    put_scores(
        small_store.engine,
        "other",
        [(START - timedelta(days=2), 1.0, 1.0, 0), (START + timedelta(days=2), 1.0, 1.0, 0)],
    )
    stored = _stored(small_store, end=START + timedelta(hours=2))

    series = chart_series(small_store.engine, stored, scored_range(small_store.engine))

    assert series.since == START - timedelta(hours=12)
    assert series.until == START + timedelta(hours=14)
    assert len(series.observed) == 26 * 12
    assert series.observed.sum() == 0.0  # nothing stored for tesla: quiet all along
    assert np.isnan(series.expected).all()
