"""Score any count series from a CSV file with the product's spike detector.

The input is ``timestamp,value`` rows at a regular step (users' own metrics, Downdetector
exports...); the output is the same rows with the causal anomaly score and the state after each
one. Reading takes two passes over the file so that nothing but counters is held in memory: the
first infers the step and checks the order and spacing of the rows (so a fatal problem is found
before anything is written), the second streams the rows into the detector.

What is fatal and what is skipped:

* fatal (:class:`~detector.errors.InvalidSeries`): no ``timestamp`` and ``value`` columns in the
  header, rows not in increasing time order (a duplicate or a step back), a gap between rows that
  is not a whole number of steps, a step that is not a whole number of minutes, no usable row;
* skipped, counted and reported (:class:`~detector.ingest.base.Quarantined`): a row whose value is
  not a non-negative number or whose timestamp cannot be read. Its bucket counts as empty, like a
  bucket with no row at all, and it is left out of the output.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from detector.errors import ConfigError, InvalidSeries, RecordError
from detector.ingest.archive import open_input
from detector.ingest.base import Quarantined
from detector.ingest.timestamps import parse_timestamp
from detector.spikes.baseline import BaselineConfig
from detector.spikes.detectors import SeasonalNegBinDetector
from detector.spikes.engine import DetectorConfig, State

__all__ = [
    "OUTPUT_COLUMNS",
    "Point",
    "ScoredRow",
    "Series",
    "read_series",
    "score_series",
    "write_scores",
]

log = logging.getLogger(__name__)

#: Columns of the CSV that :func:`write_scores` writes.
OUTPUT_COLUMNS = ("timestamp", "value", "anomaly_score", "state")

_DELIMITERS = ",;\t|"
_MINUTE = timedelta(minutes=1)
# A regular series has a handful of different gaps (the step and a few multiples); this many
# means the file holds events or jittery samples, and tracking more would cost memory per row.
_MAX_DISTINCT_GAPS = 10_000
_SKIPPED_SAMPLE = 20


@dataclass(frozen=True, slots=True)
class Point:
    """One usable row of a series: its line in the file, its time (aware UTC) and value."""

    line: int
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class ScoredRow:
    """One row of the output: the input row, its anomaly score in [0, 1] and the state after it."""

    at: datetime
    value: float
    score: float
    state: State


@dataclass(frozen=True, slots=True)
class Series:
    """A count series in a CSV file, checked by :func:`read_series`.

    Iterating reads the file again and yields its usable rows as :class:`Point`, in time order.

    Parameters
    ----------
    path
        The file (plain or compressed).
    step_minutes
        The step between buckets, inferred (the most common gap) or given.
    rows
        Usable rows.
    skipped
        Rows skipped because their value or timestamp is bad.
    skipped_sample
        The first of those (up to 20), with line, field and what was wrong.
    step_inferred
        Whether the step was inferred from the rows rather than given.
    """

    path: Path
    step_minutes: int
    rows: int
    skipped: int
    skipped_sample: tuple[Quarantined, ...]
    step_inferred: bool

    def __iter__(self) -> Iterator[Point]:
        previous: Point | None = None
        for item in _read_rows(self.path):
            if isinstance(item, Quarantined):
                continue
            if previous is not None and item.at <= previous.at:
                raise InvalidSeries(
                    self.path, "rows changed while being read", line=item.line, field="timestamp"
                )
            previous = item
            yield item


def read_series(path: Path, *, step_minutes: int | None = None) -> Series:
    """Check the count series in ``path`` and infer its step.

    Parameters
    ----------
    path
        CSV with a header naming ``timestamp`` and ``value`` (any case; other columns are
        ignored). Timestamps are ISO 8601 (naive means UTC) or epoch seconds; values are
        non-negative numbers; rows come in increasing time order.
    step_minutes
        The step, when the most common gap between rows is not it (a series that leaves out most
        empty buckets).

    Returns
    -------
    Series
        The checked series, to iterate or to pass to :func:`score_series`.

    Raises
    ------
    SourceNotFound
        When ``path`` does not exist.
    InvalidSeries
        On a missing header, rows out of order, an irregular gap or no usable row.
    ConfigError
        When ``step_minutes`` is not positive.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "s.csv"
    ...     _ = path.write_text(
    ...         "Timestamp,Value\\n2024-01-01T00:00,3\\n2024-01-01T00:05,4\\n"
    ...         "2024-01-01T00:15,x\\n2024-01-01T00:20,2\\n"
    ...     )
    ...     series = read_series(path)
    >>> series.step_minutes, series.rows, series.skipped
    (5, 3, 1)
    >>> series.skipped_sample[0].detail
    "not a number: 'x'"
    """
    if step_minutes is not None and step_minutes < 1:
        raise ConfigError(f"step must be a positive number of minutes, got: {step_minutes}")
    rows = skipped = 0
    sample: list[Quarantined] = []
    gaps: Counter[timedelta] = Counter()
    first_of_gap: dict[timedelta, tuple[Point, Point]] = {}  # the first row after each gap
    previous: Point | None = None
    for item in _read_rows(path):
        if isinstance(item, Quarantined):
            skipped += 1
            if len(sample) < _SKIPPED_SAMPLE:
                sample.append(item)
            continue
        if previous is not None:
            gap = item.at - previous.at
            if gap <= timedelta(0):
                raise InvalidSeries(
                    path, _order_message(item, previous), line=item.line, field="timestamp"
                )
            if gap not in gaps:
                if len(gaps) >= _MAX_DISTINCT_GAPS:
                    raise InvalidSeries(
                        path,
                        f"not a regular series: more than {_MAX_DISTINCT_GAPS:,} different gaps "
                        "between rows",
                        line=item.line,
                        field="timestamp",
                    )
                first_of_gap[gap] = (item, previous)
            gaps[gap] += 1
        previous = item
        rows += 1
    if rows == 0:
        first = f"; first problem: line {sample[0].line}: {sample[0].detail}" if sample else ""
        raise InvalidSeries(path, f"no usable rows{first}")
    step = _step(path, gaps, step_minutes)
    irregular = [first_of_gap[gap] for gap in gaps if gap % step]
    if irregular:
        row, before = min(irregular, key=lambda pair: pair[0].line)
        origin = "given" if step_minutes else "the most common gap"
        raise InvalidSeries(
            path,
            f"{row.at.isoformat()} is {_span(row.at - before.at)} after the row before "
            f"(line {before.line}), not a whole number of steps of {_span(step)} ({origin}); "
            "rows must be evenly spaced (leaving rows out is fine)",
            line=row.line,
            field="timestamp",
        )
    log.debug("%s: %d rows, step %s, %d skipped", path, rows, step, skipped)
    return Series(
        path=path,
        step_minutes=step // _MINUTE,
        rows=rows,
        skipped=skipped,
        skipped_sample=tuple(sample),
        step_inferred=step_minutes is None,
    )


def score_series(
    series: Iterable[Point] | Series, config: DetectorConfig | None = None, *, warmup: int = 60
) -> Iterator[ScoredRow]:
    """Score each row of ``series`` causally (from that row and the ones before it only).

    The first ``warmup`` rows only teach the detector the series' level: they are given score 0
    and state ``ok``. The detector's priors are set for complaint counts (a few an hour), so
    without this a busier series would start, and stay, in ``problems``.

    Parameters
    ----------
    series
        Rows in time order, e.g. from :func:`read_series`.
    config
        Detector thresholds [default: ``DetectorConfig(step_minutes=series.step_minutes)``].
    warmup
        Rows learned before scoring starts (0: score from the first row with the default priors).

    Yields
    ------
    ScoredRow
        One per row, as soon as the row is scored.

    Examples
    --------
    >>> from datetime import UTC
    >>> start = datetime(2024, 1, 1, tzinfo=UTC)
    >>> counts = [3, 2, 4, 3] * 100 + [30, 35, 3]  # 5-minute buckets, a burst on day two
    >>> points = [Point(i + 2, start + timedelta(minutes=5 * i), c) for i, c in enumerate(counts)]
    >>> rows = list(score_series(points, DetectorConfig(step_minutes=5)))
    >>> [r.state.label for r in rows[-4:]]
    ['ok', 'possible problems', 'problems', 'problems']
    >>> [r.score > 0.6 for r in rows[-4:]]
    [False, True, True, True]
    """
    if config is None:
        if not isinstance(series, Series):
            raise ConfigError("give a DetectorConfig with the step of the series")
        config = DetectorConfig(step_minutes=series.step_minutes)
    elif isinstance(series, Series) and config.step_minutes != series.step_minutes:
        raise ConfigError(
            f"the detector's step ({config.step_minutes} min) is not the series' "
            f"({series.step_minutes} min)"
        )
    if warmup < 0:
        raise ConfigError(f"warmup must be zero or more rows, got: {warmup}")
    detector = SeasonalNegBinDetector(config) if warmup == 0 else None
    learning: list[Point] = []
    for point in series:
        if detector is None:
            learning.append(point)
            yield ScoredRow(point.at, point.value, 0.0, State.OK)
            if len(learning) == warmup:
                detector = _warmed_up(config, learning)
                learning = []
            continue
        # learn_one tests the bucket against the baseline before taking it in, and keeps that
        # test in ``last``: the score score_one would give, without score_one's copy of the
        # whole engine (a third of the time per row).
        detector.learn_one(point.at, point.value)
        score = detector.last.score if detector.last is not None else 0.0
        yield ScoredRow(point.at, point.value, score, detector.state)


def write_scores(rows: Iterable[ScoredRow], out: TextIO) -> Counter[State]:
    """Write ``rows`` to ``out`` as CSV ``timestamp,value,anomaly_score,state``.

    Timestamps are ISO 8601 in UTC, scores have 4 decimals, states are ``ok``,
    ``possible problems`` or ``problems``. Returns how many rows ended in each state.

    Examples
    --------
    >>> import sys
    >>> from datetime import UTC
    >>> row = ScoredRow(datetime(2024, 1, 1, tzinfo=UTC), 12.0, 0.734512, State.POSSIBLE)
    >>> _ = write_scores([row], sys.stdout)
    timestamp,value,anomaly_score,state
    2024-01-01T00:00:00+00:00,12,0.7345,possible problems
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    states: Counter[State] = Counter()
    for row in rows:
        writer.writerow(
            (row.at.isoformat(), _number(row.value), f"{row.score:.4f}", row.state.label)
        )
        states[row.state] += 1
    return states


def _read_rows(path: Path) -> Iterator[Point | Quarantined]:
    with open_input(path) as stream:
        header = stream.peek(1 << 16).split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        delimiter = max(_DELIMITERS, key=header.count)
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        names = [name.strip().lower() for name in next(reader, [])]
        if "timestamp" not in names or "value" not in names:
            got = delimiter.join(names) if names else "an empty file"
            raise InvalidSeries(
                path, f"the header must name the columns timestamp and value, got: {got}", line=1
            )
        at_column, value_column = names.index("timestamp"), names.index("value")
        width = max(at_column, value_column) + 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Quarantined(str(path), reader.line_num, "invalid_csv", str(exc), "")
                continue
            if not fields:  # a blank line
                continue
            line = reader.line_num
            try:
                if len(fields) < width:
                    raise RecordError("missing_field", f"row has {len(fields)} fields")
                at = parse_timestamp(fields[at_column], field="timestamp")
                value = _value(fields[value_column])
            except RecordError as exc:
                raw = delimiter.join(fields)
                yield Quarantined(str(path), line, exc.reason, exc.detail, raw, exc.field)
                continue
            yield Point(line, at, value)


def _value(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RecordError("bad_value", f"not a number: {text!r}", field="value") from None
    if not math.isfinite(value) or value < 0:
        raise RecordError("bad_value", f"not a non-negative number: {text!r}", field="value")
    return value


def _step(path: Path, gaps: Counter[timedelta], given: int | None) -> timedelta:
    if given is not None:
        return given * _MINUTE
    if not gaps:
        raise InvalidSeries(path, "one row only: give the step, it cannot be inferred")
    # The most common gap; on a tie the smallest, as the others may be multiples of it.
    step = max(gaps, key=lambda gap: (gaps[gap], -gap))
    if step % _MINUTE:
        raise InvalidSeries(
            path,
            f"the most common gap between rows, {_span(step)}, is not a whole number of minutes",
        )
    return step


def _warmed_up(config: DetectorConfig, points: list[Point]) -> SeasonalNegBinDetector:
    """A detector whose prior rate is the mean rate of ``points``, having learned them."""
    minutes = (points[-1].at - points[0].at) / _MINUTE + config.step_minutes
    default = BaselineConfig().default_rate
    rate = max(sum(p.value for p in points) / minutes, default)
    detector = SeasonalNegBinDetector(config, BaselineConfig(default_rate=rate))
    for point in points:
        detector.learn_one(point.at, point.value)
    return detector


def _order_message(row: Point, previous: Point) -> str:
    what = "the same time as" if row.at == previous.at else "earlier than"
    return (
        f"{row.at.isoformat()} is {what} the row before (line {previous.line}); "
        "rows must be in increasing time order"
    )


def _span(gap: timedelta) -> str:
    seconds = gap.total_seconds()
    if seconds % 60:
        return f"{seconds:g} seconds"
    minutes = int(seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
