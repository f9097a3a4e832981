"""The spike engine with arrays in and out: the same states as :class:`SpikeEngine`, faster.

:class:`SpikeEngine` builds a :class:`BucketScore` for every hot series every step and computes
negative-binomial tails for all of them. This engine takes series indices and counts as arrays,
returns states as arrays, and does per step only what can change a state:

* A series' expectation and dispersion change only when an hour closes or a series is added,
  so the baseline computes them for every series once per such *epoch* and steps gather from
  those arrays; expected counts, tail shapes and thresholds per window are kept for the epoch.
* Running window sums against per-window floors pick the few series some window of which can
  pass the count and ratio rules (plus those not ``ok`` yet, which may calm down); any other
  would be scored ``ok`` and stay so.
* Within an epoch a window's tail depends on nothing but its whole count, and falls as the
  count grows. Per level, window and series the engine keeps the least count known to pass
  the level's score and the count below which all are known to fail it, and computes a tail
  only for counts in between. Most are ruled out without one: P(X = k) bounds the tail from
  below, checked for a few counts ahead at once, and the window's floor moves past them.

Learning and closing hours run :class:`SpikeEngine`'s own code. The scoring rules are restated
here (``_rules``, ``_compute_scores`` and ``_rebuild``): a change to ``SpikeEngine._score`` needs
the same change here, which ``tests/spikes/test_arrayengine.py`` (states and learned baselines
compared bucket by bucket) insists on. The engine exists for backtests and benchmarks (tuning
runs, 10,000 services x 4 weeks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from detector.spikes.baseline import BaselineConfig, SeasonalBaseline
from detector.spikes.engine import DetectorConfig, SpikeEngine, State
from detector.spikes.significance import (
    _LOG10_P_AT_SCORE_ONE,
    combined_shape,
    score_from_p,
    tail_probability,
)

__all__ = ["ArrayEngine", "StepStates"]

# plain ints: comparing an array with an IntEnum member is several times slower
_OK, _POSSIBLE, _PROBLEMS = int(State.OK), int(State.POSSIBLE), int(State.PROBLEMS)
# how far above a count the probability bound looks for counts that surely fail
_AHEAD = np.arange(8.0)
# score_from_p is -log10(p) / _LOG10_P_AT_SCORE_ONE: a score s needs ln p <= -s * this
_LOG_P_AT_SCORE_ONE = _LOG10_P_AT_SCORE_ONE * np.log(10.0)


@dataclass(frozen=True, slots=True)
class StepStates:
    """The hot series of one step (sorted indices) and their states after it."""

    index: int
    hot: NDArray[np.int64]
    state: NDArray[np.int8]


class _EpochBaseline(SeasonalBaseline):
    """A :class:`SeasonalBaseline` that computes expectations and dispersions for every series
    at once and keeps them until they can change (an hour closes or a series is added).

    Every step asks for the few hundred series with reports; computing those from the cached
    arrays costs a gather instead of the whole estimate (the same numbers: it is elementwise).
    """

    def __init__(self, config: BaselineConfig | None = None) -> None:
        super().__init__(config)
        self._expected_slot: int | None = None
        self._expected_all = (np.zeros(0), np.zeros(0))
        self._dispersion_all: NDArray[np.float64] | None = None

    def expected(
        self, series: NDArray[np.int64], slot: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`SeasonalBaseline.expected`, from arrays kept for the slot."""
        if self._expected_slot != slot:
            self._expected_all = super().expected(np.arange(self.size), slot)
            self._expected_slot = slot
        per_minute, shape = self._expected_all
        return per_minute[series], shape[series]

    def dispersion(self, series: NDArray[np.int64]) -> NDArray[np.float64]:
        """:meth:`SeasonalBaseline.dispersion`, from an array kept until the next change."""
        if self._dispersion_all is None:
            self._dispersion_all = super().dispersion(np.arange(self.size))
        return self._dispersion_all[series]

    def add_series(self, group: str) -> int:
        """:meth:`SeasonalBaseline.add_series`, forgetting the kept arrays."""
        index = super().add_series(group)
        self._forget()
        return index

    def close_hour(self, *args: Any, **kwargs: Any) -> None:
        """:meth:`SeasonalBaseline.close_hour` (whatever it takes), forgetting the kept arrays."""
        super().close_hour(*args, **kwargs)
        self._forget()

    def _forget(self) -> None:
        self._expected_slot = None
        self._dispersion_all = None


class ArrayEngine(SpikeEngine):
    """:class:`SpikeEngine` with ``step_arrays``: series by index (from ``series``), states out.

    Step it with ``step_arrays`` only: ``step`` is :class:`SpikeEngine`'s and skips the array
    bookkeeping (the hot set is kept as last-count steps and states, not as ``_hot``).

    Examples
    --------
    >>> from datetime import UTC, timedelta
    >>> engine = ArrayEngine(DetectorConfig(grace_minutes=0))
    >>> a = engine.series("a")
    >>> start = datetime(2021, 11, 19, 20, 0, tzinfo=UTC)
    >>> for minute in range(60):
    ...     count = 0.0 if minute < 50 else 40.0
    ...     out = engine.step_arrays(start + timedelta(minutes=minute), np.array([a]),
    ...                              np.array([count]))
    >>> out.hot.tolist(), [State(s).label for s in out.state]
    ([0], ['problems'])
    """

    def __init__(
        self, config: DetectorConfig | None = None, baseline: BaselineConfig | None = None
    ) -> None:
        super().__init__(config, baseline)
        self.baseline = _EpochBaseline(baseline)
        cfg = self.config
        windows, size = self._windows, self._windows[-1]
        self._least_count = min(cfg.min_count_possible, cfg.min_count_problems)
        self._least_ratio = min(cfg.min_ratio_possible, cfg.min_ratio_problems)
        # With no positive count or ratio required (or no persistence), a hot series without
        # reports can alert: score every hot series, as SpikeEngine does.
        self._score_all_hot = (
            self._least_count <= 0 and self._least_ratio <= 0
        ) or cfg.persistence <= 0
        # A score passes neither level when its p-value is above this (score_from_p inverted).
        least_score = min(cfg.possible_score, cfg.problems_score)
        self._log_p_limit = -least_score * _LOG_P_AT_SCORE_ONE if least_score > 0 else None
        self._steps = np.array(windows, dtype=np.float64)[:, None]
        self._window_ends = np.array(windows, dtype=np.int64) - 1
        # ring rows by the ring row of the current step: newest first, and leaving each window
        self._back = [np.array([(r - k) % size for k in range(size)]) for r in range(size)]
        self._leaving = [[(r - w) % size for w in windows] for r in range(size)]
        self._epoch: tuple[int, int] | None = None  # (hour, series) of the arrays below
        # per window and series, for the epoch: running sums of the window (loose, to choose
        # series), expected counts, negative-binomial shapes, ratio denominators, and the
        # least sum at which a window may pass a level (raised as tails rule counts out)
        empty = np.zeros((len(windows), 0))
        self._sums = self._expected = self._spread = self._denominator = self._floor = empty
        # per level (possible, problems), window and series, for the epoch: the least count
        # known to pass the level's score, and the count below which all are known to fail it
        self._passes_from = self._fails_below = np.zeros((2, len(windows), 0))
        self._alerting = np.zeros(0, dtype=np.int64)  # series not ok after the last step

    # --- stepping -----------------------------------------------------------------------------

    def step_arrays(
        self, at: datetime, series: NDArray[np.int64], counts: NDArray[np.float64]
    ) -> StepStates:
        """Score and learn the bucket starting at ``at``; ``series`` must be distinct indices.

        Empty buckets since the last call are stepped first, as ``step`` does.

        Raises
        ------
        ValueError
            When ``at`` is not after the last bucket stepped.
        """
        index = self._advance(at)
        if self.first_step is None:
            self.first_step = index
        result = self._step_arrays(
            index, np.asarray(series, np.int64), np.asarray(counts, np.float64), report=True
        )
        assert result is not None  # reported steps return their states
        return result

    def advance_to(self, at: datetime) -> None:
        """Step the empty buckets before ``at`` now (``step_arrays(at, ...)`` would first).

        ``SpikeEngine.step`` adds the series first seen in a bucket after stepping the empty
        buckets before it; call this before ``series`` for such series to do the same, so they
        are not charged the hours that closed before they existed.

        Raises
        ------
        ValueError
            When ``at`` is not after the last bucket stepped.
        """
        self._advance(at)

    def _advance(self, at: datetime) -> int:
        index = self.step_index(at)
        if self.last_step is not None and index <= self.last_step:
            raise ValueError(
                f"buckets must come in time order: {at.isoformat()} is not after "
                f"{self.bucket_start(self.last_step).isoformat()}"
            )
        if self.last_step is not None:
            empty, none = np.zeros(0, dtype=np.int64), np.zeros(0)
            for gap in range(self.last_step + 1, index):
                self._step_arrays(gap, empty, none, report=False)
        return index

    def _step_arrays(
        self,
        index: int,
        series: NDArray[np.int64],
        values: NDArray[np.float64],
        *,
        report: bool,
    ) -> StepStates | None:
        self._refresh_epoch(index)
        n = self.baseline.size
        ring, sums = self._ring, self._sums
        size = ring.shape[0]
        row = index % size
        for w, leaving in enumerate(self._leaving[row]):
            sums[w] -= ring[leaving, :n]
        ring[row] = 0.0
        if len(series):
            ring[row, series] = values
            for window_sums in sums:
                window_sums[series] += values
            self._last_count_step[series[values > 0]] = index
        before = self._alerting
        hot = None
        if report or self._score_all_hot:
            # SpikeEngine's hot set: reports within the longest window, or not ok yet
            recent = self._last_count_step[:n] >= index - size
            recent[before] = True
            hot = np.flatnonzero(recent)
        grace = self._in_grace(index)
        if hot is not None and self._score_all_hot:
            self._score_arrays(index, hot, grace=grace)
        elif grace:
            # every state is held at ok, which only series not ok yet need to be told
            self._streak[before] = 0
            self._state[before] = _OK
            self._alerting = before[:0]
        else:
            maybe = np.asarray((sums >= self._floor).any(axis=0))
            maybe[before] = True
            self._score_arrays(index, np.flatnonzero(maybe), grace=False)
        if len(series):
            self._learn(index, series, values)
        self._close_hours(index)
        self.last_step = index
        return StepStates(index, hot, self._state[hot]) if hot is not None and report else None

    def _score_arrays(self, index: int, todo: NDArray[np.int64], *, grace: bool) -> None:
        """Score series ``todo`` as :meth:`SpikeEngine._score` would (states and streaks)."""
        cfg = self.config
        possible = np.zeros(len(todo), dtype=bool)
        problems = np.zeros(len(todo), dtype=bool)
        if not grace and len(todo):
            self._rules(index, todo, possible, problems)
        streak = np.where(problems, self._streak[todo] + 1, 0)
        self._streak[todo] = streak
        state = np.where(
            streak >= cfg.persistence, _PROBLEMS, np.where(possible | problems, _POSSIBLE, _OK)
        )
        self._state[todo] = state
        self._alerting = todo[state != _OK]

    def _rules(
        self,
        index: int,
        todo: NDArray[np.int64],
        possible: NDArray[np.bool_],
        problems: NDArray[np.bool_],
    ) -> None:
        """Mark in ``possible`` and ``problems`` the series of ``todo`` some window of which
        passes that level's rules."""
        cfg = self.config
        rows = self._back[index % self._ring.shape[0]]
        # The running sums only chose the series; exact window sums add bucket by bucket,
        # newest first, as SpikeEngine's sums do (the same rounding for fractional counts).
        block = self._ring.take(todo, axis=1).take(rows, axis=0)
        observed = block.cumsum(axis=0).take(self._window_ends, axis=0)
        ratio = observed / self._denominator.take(todo, axis=1)
        window, column = np.nonzero(
            (observed >= self._floor.take(todo, axis=1))
            & (observed >= self._least_count)
            & (ratio >= self._least_ratio)
        )
        if not len(window):
            return
        obs, rat = observed[window, column], ratio[window, column]
        scores = self._score_rules(window, todo[column], obs)
        possible[
            column[scores[0] & (obs >= cfg.min_count_possible) & (rat >= cfg.min_ratio_possible)]
        ] = True
        problems[
            column[scores[1] & (obs >= cfg.min_count_problems) & (rat >= cfg.min_ratio_problems)]
        ] = True

    def _score_rules(
        self, window: NDArray[np.int64], series: NDArray[np.int64], observed: NDArray[np.float64]
    ) -> NDArray[np.bool_]:
        """Whether each (window, series, count) passes the score rule of possible problems (row
        0) and of problems (row 1).

        Within an epoch the tail depends on nothing but the count, through its whole part, and
        falls as the count grows: a count passes a level's score from the least count known to
        pass it on, and fails below the least count not known to fail it. Only counts between
        the two are computed (and move them).
        """
        whole = np.floor(observed)
        passes = whole >= self._passes_from[:, window, series]
        fails = whole < self._fails_below[:, window, series]
        unknown = np.flatnonzero(~(passes | fails).all(axis=0))
        if len(unknown):
            passes[:, unknown] = self._compute_scores(
                window[unknown], series[unknown], observed[unknown], whole[unknown]
            )
        return passes

    def _compute_scores(
        self,
        window: NDArray[np.int64],
        series: NDArray[np.int64],
        observed: NDArray[np.float64],
        whole: NDArray[np.float64],
    ) -> NDArray[np.bool_]:
        """:meth:`_score_rules` for counts not known yet; moves the known bounds.

        Most counts fail both levels, which P(X = k), a lower bound of the tail P(X >= k), shows
        without the tail. When it shows that for a count above this one (it looks a few ahead),
        every count up to that one fails: the window's floor moves there, and the series is not
        looked at again this epoch below it.
        """
        cfg = self.config
        expected, spread = self._expected[window, series], self._spread[window, series]
        fails_up_to = np.full(len(window), -1.0)
        if self._log_p_limit is not None:
            # as tail_probability bounds its arguments
            mu, r = np.maximum(expected, 1e-12), np.maximum(spread, 1e-9)
            # a margin far wider than the rounding of either computation
            limit = self._log_p_limit - np.log(len(self._windows)) + 1e-3
            # log P(X = k + d) for the next counts, by P(X = k + 1) / P(X = k) =
            # mu / (k + 1) * (k + r) / (r + mu) (Poisson as r grows)
            ahead = whole[:, None] + _AHEAD[:-1]
            log_pmf = np.empty((len(window), len(_AHEAD)))
            log_pmf[:, 0] = _log_pmf(whole, mu, r)
            log_pmf[:, 1:] = (
                np.log(mu)[:, None]
                - np.log1p(ahead)
                + np.log1p((ahead - mu[:, None]) / (r + mu)[:, None])
            )
            ruled_out = np.cumsum(log_pmf, axis=1) > limit
            last = len(_AHEAD) - 1 - np.argmax(ruled_out[:, ::-1], axis=1)
            fails_up_to = np.where(ruled_out.any(axis=1), whole + last, -1.0)
        passes = np.zeros((2, len(window)), dtype=bool)
        fails_below = np.broadcast_to(fails_up_to + 1.0, (2, len(window))).copy()
        tested = np.flatnonzero(fails_up_to < whole)
        if len(tested):
            tests = len(self._windows)
            tail = tail_probability(observed[tested], expected[tested], spread[tested])
            score = score_from_p(np.minimum(1.0, tail * tests))
            passes[:, tested] = (score >= cfg.possible_score, score >= cfg.problems_score)
            failed_below = np.where(passes[:, tested], 0.0, whole[tested] + 1.0)
            fails_below[:, tested] = np.maximum(fails_below[:, tested], failed_below)
        at = (slice(None), window, series)
        known = self._passes_from[at]
        self._passes_from[at] = np.where(passes, np.minimum(known, whole), known)
        self._fails_below[at] = np.maximum(self._fails_below[at], fails_below)
        # counts below both levels' bounds fail both: the window's floor for choosing series
        higher = self._fails_below[at].min(axis=0)
        floor = self._floor[window, series]
        self._floor[window, series] = np.maximum(floor, higher - 1e-6 * (1.0 + higher))
        return passes

    # --- epochs -------------------------------------------------------------------------------

    def _refresh_epoch(self, index: int) -> None:
        """Recompute the per-series arrays when the baseline may have changed since they were.

        The baseline changes when an hour closes (between the buckets of two hours) or a series
        is added. An engine from ``from_state`` has no epoch yet, so its running sums and the
        series not ok are rebuilt from the restored arrays too.
        """
        epoch = (index * self.config.step_minutes // 60, self.baseline.size)
        if epoch != self._epoch:
            self._rebuild(index, epoch)

    def _rebuild(self, index: int, epoch: tuple[int, int]) -> None:
        cfg = self.config
        n = self.baseline.size
        everyone = np.arange(n)
        per_minute, shape = self.baseline.expected(everyone, self._slot(index))
        # the same expressions as SpikeEngine._score, so the same numbers
        per_step = per_minute * cfg.step_minutes
        self._expected = per_step * self._steps
        self._spread = combined_shape(shape, self.baseline.dispersion(everyone), self._expected)
        self._denominator = np.maximum(self._expected, 1e-9)
        # A window can pass the count and ratio rules only from this sum on; the margin covers
        # the rounding of sums kept by adding and subtracting fractional counts.
        floor = np.maximum(self._least_count, self._least_ratio * self._denominator)
        self._floor = floor - 1e-6 * (1.0 + floor)
        rows = self._back[(index - 1) % self._ring.shape[0]]
        self._sums = np.stack([self._ring[rows[:w], :n].sum(axis=0) for w in self._windows])
        carried = self._fails_below.min(axis=0) if self._fails_below.shape[2] == n else None
        self._passes_from = np.full((2, len(self._windows), n), np.inf)
        self._fails_below = np.zeros((2, len(self._windows), n))
        if carried is not None:
            self._carry_floors(carried)
        self._alerting = np.flatnonzero(self._state[:n] != _OK)
        self._epoch = epoch

    def _carry_floors(self, last: NDArray[np.float64]) -> None:
        """Start the epoch's floors from the last epoch's (``last``, in counts), where the new
        expectations still rule them out.

        Expectations move little from one hour to the next, and without this every window
        that reached the count and ratio rules last hour would be ruled out again, one count at
        a time. A count a little below the old floor is checked once for all windows.
        """
        if self._log_p_limit is None:
            return
        guess = last - 1.0
        window, series = np.nonzero(guess >= np.maximum(self._floor, 0.0))
        if not len(window):
            return
        count = guess[window, series]
        mu = np.maximum(self._expected[window, series], 1e-12)
        r = np.maximum(self._spread[window, series], 1e-9)
        limit = self._log_p_limit - np.log(len(self._windows)) + 1e-3
        ruled_out = _log_pmf(count, mu, r) > limit
        window, series, higher = window[ruled_out], series[ruled_out], count[ruled_out] + 1.0
        self._fails_below[:, window, series] = higher
        self._floor[window, series] = np.maximum(
            self._floor[window, series], higher - 1e-6 * (1.0 + higher)
        )

    # --- persistence --------------------------------------------------------------------------

    def to_state(self) -> bytes:
        """As :meth:`SpikeEngine.to_state`, with the hot set rebuilt from the arrays."""
        if self.last_step is not None:
            n = self.baseline.size
            recent = self._last_count_step[:n] > self.last_step - self._windows[-1]
            self._hot = set(np.flatnonzero(recent | (self._state[:n] != _OK)).tolist())
        return super().to_state()


def _log_pmf(
    count: NDArray[np.float64], mean: NDArray[np.float64], shape: NDArray[np.float64]
) -> NDArray[np.float64]:
    """log P(X = count) for X negative binomial as in ``tail_probability`` (Poisson where the
    shape is infinite)."""
    out = np.asarray(count * np.log(mean) - mean - special.gammaln(count + 1.0), np.float64)
    finite = np.isfinite(shape)
    if finite.any():
        c, m, r = count[finite], mean[finite], shape[finite]
        out[finite] = (
            special.gammaln(c + r)
            - special.gammaln(r)
            - special.gammaln(c + 1.0)
            - r * np.log1p(m / r)
            + c * (np.log(m) - np.log(r + m))
        )
    return out
