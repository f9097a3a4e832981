"""Scoring count series from CSV files: reading, causal scores and states, the CLI."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from detector.cli_spikes import spikes
from detector.errors import ConfigError, InvalidSeries, SourceNotFound
from detector.spikes.detectors import SeasonalNegBinDetector
from detector.spikes.engine import DetectorConfig, State
from detector.spikes.scoring import (
    OUTPUT_COLUMNS,
    Point,
    ScoredRow,
    read_series,
    score_series,
    write_scores,
)

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
app = typer.Typer()
app.add_typer(spikes, name="spikes")
runner = CliRunner()


def poisson(n: int, rate: float = 3.0, seed: int = 7) -> list[int]:
    return np.random.default_rng(seed).poisson(rate, n).tolist()


def write_series(path, values, *, step=1, start=START, skip=(), header="timestamp,value"):
    """Write ``values`` at ``step`` minutes, leaving out the row indexes in ``skip``."""
    lines = [header]
    for i, value in enumerate(values):
        if i not in skip:
            at = start + timedelta(minutes=i * step)
            lines.append(f"{at.isoformat()},{value}")
    path.write_text("\n".join(lines) + "\n")
    return path


def score_file(path, **kwargs):
    return list(score_series(read_series(path), **kwargs))


# --- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "step", "first"),
    [
        ("timestamp,value\n2024-01-01T00:00:00,1\n2024-01-01T00:01:00,2\n", 1, "00:00:00"),
        ("TIMESTAMP;Value\n2024-01-01T01:00:00+01:00;1\n2024-01-01T01:05:00+01:00;2\n", 5, "00:00"),
        ("value,timestamp,note\n1,1704067200,a\n2,1704070800,b\n", 60, "00:00:00"),
        ("\ufefftimestamp,value\n2024-01-01T00:00Z,1.5\n2024-01-01T00:30Z,0\n", 30, "00:00:00"),
    ],
    ids=["naive-is-utc", "zone-semicolon-any-case", "epoch-extra-column", "bom-z-fraction"],
)
def test_reads_timestamps_in_any_spelling_and_infers_the_step(tmp_path, text, step, first):
    path = tmp_path / "s.csv"
    path.write_text(text)
    series = read_series(path)
    points = list(series)
    assert series.step_minutes == step
    assert series.step_inferred
    assert points[0].at == datetime(2024, 1, 1, tzinfo=UTC)
    assert points[0].at.isoformat().startswith(f"2024-01-01T{first}")
    assert [p.line for p in points] == [2, 3]


def test_reads_compressed_files(tmp_path):
    path = tmp_path / "s.csv.gz"
    path.write_bytes(gzip.compress(b"timestamp,value\n2024-01-01T00:00,1\n2024-01-01T00:10,2\n"))
    assert read_series(path).step_minutes == 10


def test_gaps_that_are_whole_steps_are_empty_buckets(tmp_path):
    path = write_series(tmp_path / "s.csv", [2] * 30, step=5, skip={3, 4, 10})
    series = read_series(path)
    assert (series.step_minutes, series.rows) == (5, 27)
    rows = score_file(path, warmup=5)
    assert len(rows) == 27
    assert rows[3].at - rows[2].at == timedelta(minutes=15)


def test_the_step_can_be_given_when_most_rows_are_left_out(tmp_path):
    # Only busy buckets are written: most gaps are 10 minutes but one is 5.
    path = write_series(tmp_path / "s.csv", [4, 0, 5, 0, 6, 7, 0, 3], step=5, skip={1, 3, 6})
    with pytest.raises(InvalidSeries, match="not a whole number of steps of 10 minutes"):
        read_series(path)
    series = read_series(path, step_minutes=5)
    assert (series.step_minutes, series.step_inferred) == (5, False)


def test_a_bad_value_is_reported_and_skipped(tmp_path):
    path = tmp_path / "s.csv"
    values: list[object] = [3] * 10
    values[4], values[6], values[8] = "lots", -1, ""
    write_series(path, values)
    path.write_text(path.read_text() + "nonsense,2\n2024-03-04T09:10:00\n")
    series = read_series(path)
    assert (series.rows, series.skipped) == (7, 5)
    reported = [(q.line, q.field, q.reason) for q in series.skipped_sample]
    assert reported == [
        (6, "value", "bad_value"),
        (8, "value", "bad_value"),
        (10, "value", "bad_value"),
        (12, "timestamp", "bad_timestamp"),
        (13, None, "missing_field"),
    ]
    assert series.skipped_sample[0].detail == "not a number: 'lots'"
    assert [p.line for p in series] == [2, 3, 4, 5, 7, 9, 11]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ["09:00,1", "09:01,1", "09:01,2"],
            "line 4, field 'timestamp': 2024-03-04T09:01:00+00:00 "
            "is the same time as the row before (line 3)",
        ),
        (
            ["09:00,1", "09:02,1", "09:01,2"],
            "line 4, field 'timestamp': 2024-03-04T09:01:00+00:00 "
            "is earlier than the row before (line 3); rows must be in increasing time order",
        ),
        (
            ["09:00,1", "09:05,1", "09:10,1", "09:13,1", "09:15,1"],
            "line 5, field 'timestamp': "
            "2024-03-04T09:13:00+00:00 is 3 minutes after the row before (line 4), not a whole "
            "number of steps of 5 minutes (the most common gap)",
        ),
        (
            ["09:00:00,1", "09:00:30,1", "09:01:00,1"],
            "the most common gap between rows, 30 seconds, is not a whole number of minutes",
        ),
        (["09:00,1"], "one row only: give the step"),
        (["09:00,x", "09:01,"], "no usable rows; first problem: line 2: not a number: 'x'"),
    ],
    ids=["duplicate", "decreasing", "irregular", "seconds", "one-row", "no-usable-row"],
)
def test_fatal_problems_name_file_line_and_field(tmp_path, rows, message):
    path = tmp_path / "series.csv"
    path.write_text("timestamp,value\n" + "".join(f"2024-03-04T{r}\n" for r in rows))
    with pytest.raises(InvalidSeries) as caught:
        read_series(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize("header", ["time,count", "", "timestamp"])
def test_the_header_must_name_timestamp_and_value(tmp_path, header):
    path = tmp_path / "s.csv"
    path.write_text(f"{header}\n" if header else "")
    with pytest.raises(InvalidSeries, match="line 1: the header must name the columns"):
        read_series(path)


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(SourceNotFound):
        read_series(tmp_path / "nope.csv")


def test_a_step_must_be_positive(tmp_path):
    path = write_series(tmp_path / "s.csv", [1, 2])
    with pytest.raises(ConfigError, match="got: 0"):
        read_series(path, step_minutes=0)


# --- scoring -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "step", "n"), [(3.0, 1, 900), (200.0, 5, 600)])
def test_a_flat_poisson_series_never_reaches_problems(tmp_path, rate, step, n):
    # Without the warm-up the busy one would: the detector's priors expect a few reports an hour.
    rows = score_file(write_series(tmp_path / "s.csv", poisson(n, rate), step=step))
    states = [row.state for row in rows]
    assert State.PROBLEMS not in states
    # p ~ 1e-3 per row is "possible problems": pure chance reaches it about once in 2,000 rows.
    assert states.count(State.POSSIBLE) <= 3
    assert all(0.0 <= row.score <= 1.0 for row in rows)
    assert max(row.score for row in rows) < 0.45


@pytest.mark.parametrize("rate", [3.0, 10.0, 500.0])
def test_a_tenfold_burst_is_problems_within_a_few_rows(tmp_path, rate):
    # 5-minute buckets, the burst on the second day: the detector has seen that hour of the day
    # (on the first day, an hour not seen yet has a wide baseline and needs a stronger burst).
    values = poisson(420, rate)
    values[400:410] = poisson(10, 10 * rate, seed=8)
    rows = score_file(write_series(tmp_path / "s.csv", values, step=5))
    before = max(row.score for row in rows[300:400])
    assert all(row.state == State.OK for row in rows[300:400])
    first_problem = next(i for i, row in enumerate(rows) if row.state == State.PROBLEMS)
    assert 400 <= first_problem <= 403
    assert max(row.score for row in rows[400:404]) > max(0.6, before + 0.3)


def test_scores_are_causal(tmp_path):
    values = poisson(410)
    values[400:405] = [40] * 5
    full = score_file(write_series(tmp_path / "full.csv", values, step=5), warmup=30)
    assert full[402].state != State.OK
    for n in (20, 31, 403):  # inside the warm-up, just after it, inside the burst
        cut = score_file(write_series(tmp_path / f"first{n}.csv", values[:n], step=5), warmup=30)
        assert cut == full[:n]


def test_warmup_rows_are_ok_and_teach_the_level(tmp_path):
    path = write_series(tmp_path / "s.csv", poisson(120, rate=50.0))
    rows = score_file(path, warmup=60)
    assert all(row.score == 0.0 and row.state == State.OK for row in rows[:60])
    assert all(row.state == State.OK for row in rows[60:])
    assert any(row.score > 0.0 for row in rows[60:])


def test_scores_are_the_detectors_score_one_before_learning():
    values = poisson(150)
    values[100:104] = [30, 35, 40, 2]
    points = [Point(i, START + timedelta(minutes=i), v) for i, v in enumerate(values)]
    config = DetectorConfig(step_minutes=1)
    rows = list(score_series(points, config, warmup=0))
    detector = SeasonalNegBinDetector(config)
    for point, row in zip(points, rows, strict=True):
        assert detector.score_one(point.at, point.value) == row.score
        detector.learn_one(point.at, point.value)
        assert detector.state == row.state


def test_the_config_must_match_the_series(tmp_path):
    series = read_series(write_series(tmp_path / "s.csv", [1, 2, 3], step=5))
    with pytest.raises(ConfigError, match="not the series' \\(5 min\\)"):
        list(score_series(series, DetectorConfig(step_minutes=1)))
    with pytest.raises(ConfigError, match="warmup"):
        list(score_series(series, warmup=-1))


def test_write_scores_writes_the_documented_columns():
    rows = [
        score_row(0, 3.0, 0.123456, State.OK),
        score_row(1, 2.5, 0.99999, State.POSSIBLE),
        score_row(2, 40.0, 1.0, State.PROBLEMS),
    ]
    out = io.StringIO()
    states = write_scores(rows, out)
    assert out.getvalue().splitlines() == [
        "timestamp,value,anomaly_score,state",
        "2024-03-04T09:00:00+00:00,3,0.1235,ok",
        "2024-03-04T09:01:00+00:00,2.5,1.0000,possible problems",
        "2024-03-04T09:02:00+00:00,40,1.0000,problems",
    ]
    assert states == {State.OK: 1, State.POSSIBLE: 1, State.PROBLEMS: 1}


def score_row(i, value, score, state):
    return ScoredRow(START + timedelta(minutes=i), value, score, state)


# --- command line --------------------------------------------------------------------------------


def test_cli_writes_scores_to_a_file(tmp_path):
    values = poisson(420)
    values[400:405] = [40] * 5
    series = write_series(tmp_path / "s.csv", values, step=5, skip={20})
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["spikes", "score", str(series), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "scored 419 rows (step 5 min, inferred): " in result.stderr
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == OUTPUT_COLUMNS
    assert len(rows) == 419
    assert {row["state"] for row in rows} >= {"ok", "problems"}
    assert rows[0] == {
        "timestamp": "2024-03-04T09:00:00+00:00",
        "value": str(values[0]),
        "anomaly_score": "0.0000",
        "state": "ok",
    }


def test_cli_writes_to_stdout_and_warns_about_skipped_rows(tmp_path):
    series = write_series(tmp_path / "s.csv", [1, 2, "n/a", 3, 4])
    result = runner.invoke(app, ["spikes", "score", str(series), "--warmup", "0"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "timestamp,value,anomaly_score,state"
    assert len(lines) == 5
    assert f"warning: {series}: line 4, field 'value': not a number: 'n/a'; row skipped" in (
        result.stderr
    )
    assert "; skipped 1 bad row\n" in result.stderr


def test_cli_fails_with_one_clear_line(tmp_path):
    series = tmp_path / "s.csv"
    series.write_text("timestamp,value\n2024-03-04T09:00,1\n2024-03-04T09:00,2\n")
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["spikes", "score", str(series), "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {series}: line 3, field 'timestamp': ")
    assert result.stderr.count("\n") == 1
    assert not out.exists()  # nothing is written when the input is refused


def test_cli_step_override(tmp_path):
    series = write_series(tmp_path / "s.csv", [1, 0, 2, 0, 3], step=5, skip={1, 3})
    result = runner.invoke(app, ["spikes", "score", str(series), "--step-minutes", "5"])
    assert result.exit_code == 0, result.output
    assert "(step 5 min)" in result.stderr


def test_cli_reports_the_first_skipped_rows_then_counts_the_rest(tmp_path):
    series = write_series(tmp_path / "s.csv", [1, 2] + ["x"] * 25 + [3, 4])
    result = runner.invoke(app, ["spikes", "score", str(series)])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("row skipped") == 20
    assert "warning: 5 more rows skipped" in result.stderr
    assert "; skipped 25 bad rows" in result.stderr
