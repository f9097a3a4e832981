"""Backtest scoring on hand-built alarms, and the product's detector on synthetic streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.spikes.backtest import (
    PRODUCT,
    alarms_from_states,
    evaluate,
    run_synthetic_backtest,
)
from detector.spikes.synthetic import SyntheticConfig
from detector.spikes.truth import Alarm, Truth

T0 = datetime(2021, 11, 8, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
WEEK = timedelta(weeks=1)


def at(minutes: int) -> datetime:
    return T0 + minutes * MINUTE


def test_evaluate_counts_detections_delays_and_false_alarms():
    truth = [
        Truth("a", at(100), at(130), goal=True, band="busy"),
        Truth("a", at(1000), at(1010), goal=True, band="busy"),  # missed
        Truth("b", at(200), at(300), goal=False, band="quiet"),
    ]
    alarms = [
        Alarm("a", at(101), at(140), at(104)),  # 4 minutes late: on time
        Alarm("a", at(5000), at(5010), at(5002)),  # matches nothing
        Alarm("b", at(210), None, at(220)),  # still open: lasts to the end
        Alarm("c", at(10), at(20), at(15)),  # a service outside the slice: ignored
        Alarm("a", at(-50), at(-40), at(-45)),  # detected in the warm-up: ignored
    ]
    bands = {"a": "busy", "b": "quiet"}
    cards = evaluate(truth, alarms, service_bands=bands, scored_from=T0, scored_until=T0 + WEEK)
    everything = cards["all"]
    assert (everything.outages, everything.detected) == (3, 2)
    assert (everything.goal, everything.goal_on_time) == (2, 1)
    assert everything.delays == (4.0,)
    assert everything.false_alarms == 1
    assert everything.false_alarms_per_service_week == pytest.approx(0.5)
    assert everything.services_over_budget == 1  # one false alarm in a week: over 1 per 4
    assert cards["quiet"].goal == 0 and cards["quiet"].detected == 1
    assert cards["busy"].on_time_rate == pytest.approx(0.5)


def test_a_late_detection_is_detected_but_not_on_time():
    truth = [Truth("a", at(0), at(60)), Truth("a", at(100), at(160), goal_from=at(105))]
    alarms = [Alarm("a", at(3), at(50), at(9)), Alarm("a", at(104), at(150), at(109))]
    card = evaluate(
        truth, alarms, service_bands={"a": "x"}, scored_from=T0, scored_until=T0 + WEEK
    )["all"]
    assert (card.detected, card.goal_on_time, card.delays) == (2, 0, (9.0, 9.0))
    # the ramp reached goal size 5 minutes in: detected 4 minutes after that
    assert card.goal_on_time_from_size == 1


def test_state_runs_become_alarms_and_close_runs_merge():
    states = [0, 2, 2, 0, 0, 1, 2, 2, 0] + [0] * 200 + [1, 1, 0]
    alarms = alarms_from_states("s", T0, states, merge_minutes=5)
    # the second run starts 2 minutes after the first ends: merged; the last never reaches
    # problems: no alarm
    assert [(a.start, a.detected_at, a.end) for a in alarms] == [(at(1), at(2), at(8))]


def test_the_product_detector_finds_big_outages_fast_without_false_alarms():
    """Services busy enough for 5x to show within minutes, outages of 10x or more."""
    config = SyntheticConfig(
        services=6,
        weeks=2,
        rate_range=(2.0, 8.0),
        multiplier_range=(10.0, 30.0),
        duration_range=(20, 120),
        outages_per_week=2.0,
    )
    result = run_synthetic_backtest(config, seed=5, compare=0, comparators={})
    card = result.product["all"]
    assert card.goal >= 3
    assert card.goal_on_time == card.goal
    assert card.delay_median <= 3
    assert card.false_alarms == 0


def test_backtest_command_writes_its_results_section(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    outcome = CliRunner().invoke(
        app,
        [
            "backtest",
            *("--services", "4", "--weeks", "2", "--compare", "2", "--seed", "3"),
            *("--no-sample", "--results", str(results)),
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    text = results.read_text()
    assert "## Other\n\nkept" in text
    assert "## Spike detection backtest" in text
    assert "--services 4 --weeks 2" in text
    for name in (PRODUCT, "ewma", "kleinberg"):
        assert f"| {name} |" in text


def test_backtest_command_rejects_a_bad_configuration():
    outcome = CliRunner().invoke(
        app, ["backtest", "--weeks", "2", "--services", "1", "--no-sample", "--results", ""]
    )
    assert outcome.exit_code != 0
