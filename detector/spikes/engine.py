"""The spike engine: many count series, one time step at a time, scored against their baselines.

Each step it takes the complaint counts of the bucket that just closed, scores every series that
is *hot* (had complaints within the longest window, or is not ``ok``) with a negative-binomial
tail test over trailing windows (1, 5 and 15 minutes by default), turns scores into the three
states people know from Downdetector (ok, possible problems, problems) and then learns the
bucket into the baseline, capped, so a spike is not learned as normal. Series that are quiet
cost nothing per step, which is what makes 10,000 services x 4 weeks of minutes fast.

The same ``step`` serves a live stream (one bucket a minute) and a replayed archive, so both give
the same states. ``to_state``/``from_state`` carry everything across a restart.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detector.spikes.baseline import HOURS_PER_WEEK, BaselineConfig, SeasonalBaseline
from detector.spikes.significance import combined_shape, score_from_p, tail_probability

__all__ = ["BucketScore", "DetectorConfig", "SpikeEngine", "State", "hour_of_week"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# 1970-01-01 was a Thursday: 72 hours after the Monday 00:00 that starts its week.
_EPOCH_HOUR_OF_WEEK = 72


class State(IntEnum):
    """A series' state, as on Downdetector's service pages."""

    OK = 0
    POSSIBLE = 1
    PROBLEMS = 2

    @property
    def label(self) -> str:
        """``ok``, ``possible problems`` or ``problems``."""
        return ("ok", "possible problems", "problems")[self]


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Thresholds of the count detector (see ``docs`` in the README for how they were chosen).

    Parameters
    ----------
    step_minutes
        Bucket size.
    windows
        Trailing windows tested each step, in minutes (rounded to whole steps).
    possible_score, problems_score
        Score (``-log10 p / 10``, Bonferroni over the windows) from which a window counts.
    min_count_possible, min_count_problems
        Complaints a window must hold, whatever the score (three posts are never an outage).
    min_ratio_possible, min_ratio_problems
        Observed / expected a window must reach.
    persistence
        Consecutive steps at problems level before the state is ``problems``.
    learn_cap_sd
        Counts are learned capped at expected + this many standard deviations.
    grace_minutes
        Warm-up after the engine's first bucket: scores are computed but every state stays
        ``ok`` (with no history at all, every first report would look like a spike). Series
        that appear later start from their group's rate and may alert at once.
    """

    step_minutes: int = 1
    windows: tuple[int, ...] = (1, 5, 15)
    possible_score: float = 0.3
    problems_score: float = 0.6
    min_count_possible: int = 3
    min_count_problems: int = 8
    min_ratio_possible: float = 2.0
    min_ratio_problems: float = 3.0
    persistence: int = 2
    learn_cap_sd: float = 3.0
    grace_minutes: int = 360

    def window_steps(self) -> tuple[int, ...]:
        """The windows in whole steps, shortest first, without repeats."""
        return tuple(sorted({max(1, round(w / self.step_minutes)) for w in self.windows}))


@dataclass(frozen=True, slots=True)
class BucketScore:
    """One series in one bucket: what was seen, what was expected, and how surprising it is.

    ``window_*`` describe the trailing window with the strongest evidence.
    """

    key: str
    at: datetime
    observed: float
    expected: float
    window_minutes: int
    window_observed: float
    window_expected: float
    p_value: float
    score: float
    state: State

    @property
    def ratio(self) -> float:
        """Observed / expected over the window."""
        return self.window_observed / max(self.window_expected, 1e-9)


class SpikeEngine:
    """Scores many series step by step; ``step`` once per bucket, in time order."""

    def __init__(
        self, config: DetectorConfig | None = None, baseline: BaselineConfig | None = None
    ) -> None:
        self.config = config or DetectorConfig()
        self.baseline = SeasonalBaseline(baseline)
        self.keys: dict[str, int] = {}
        self._windows = self.config.window_steps()
        self._ring = np.zeros((self._windows[-1], 0))  # recent counts, one row per step
        self._streak = np.zeros(0, dtype=np.int64)
        self._state = np.zeros(0, dtype=np.int8)
        self._hot: set[int] = set()
        self._last_count_step = np.zeros(0, dtype=np.int64)
        self.last_step: int | None = None  # index of the last bucket stepped (epoch steps)
        self.first_step: int | None = None

    # --- series -------------------------------------------------------------------------------

    def series(self, key: str, group: str = "default") -> int:
        """The index of series ``key``, created in ``group`` (similar services) if new."""
        index = self.keys.get(key)
        if index is None:
            index = self.baseline.add_series(group)
            self.keys[key] = index
            if index == len(self._streak):  # grow by doubling: adding n series costs O(n)
                extra = max(16, index)
                self._ring = np.hstack([self._ring, np.zeros((self._ring.shape[0], extra))])
                self._streak = np.append(self._streak, np.zeros(extra, dtype=np.int64))
                self._state = np.append(self._state, np.zeros(extra, dtype=np.int8))
                self._last_count_step = np.append(
                    self._last_count_step, np.full(extra, -(2**40), dtype=np.int64)
                )
        return index

    def state_of(self, key: str) -> State:
        """The current state of series ``key`` (``ok`` when unknown)."""
        index = self.keys.get(key)
        return State.OK if index is None else State(int(self._state[index]))

    # --- time ---------------------------------------------------------------------------------

    def step_index(self, at: datetime) -> int:
        """The bucket index (steps since the epoch) of the bucket starting at ``at``."""
        minutes = (at - _EPOCH) // timedelta(minutes=1)
        return int(minutes // self.config.step_minutes)

    def bucket_start(self, index: int) -> datetime:
        """When bucket ``index`` starts (UTC)."""
        return _EPOCH + timedelta(minutes=index * self.config.step_minutes)

    def step(
        self,
        at: datetime,
        counts: Mapping[str, float],
        groups: Mapping[str, str] | None = None,
    ) -> list[BucketScore]:
        """Score and learn the bucket starting at ``at``; return the hot series' scores.

        Buckets skipped since the last call are stepped as empty first, so calling once a minute
        and calling once per non-empty bucket give the same result.

        Raises
        ------
        ValueError
            When ``at`` is not after the last bucket stepped.
        """
        index = self.step_index(at)
        if self.last_step is not None and index <= self.last_step:
            raise ValueError(
                f"buckets must come in time order: {at.isoformat()} is not after "
                f"{self.bucket_start(self.last_step).isoformat()}"
            )
        if self.last_step is not None:
            for empty in range(self.last_step + 1, index):
                self._step(empty, {})
        if self.first_step is None:
            self.first_step = index
        groups = groups or {}
        ids = {self.series(k, groups.get(k, "default")): float(v) for k, v in counts.items()}
        return self._step(index, ids)

    def _step(self, index: int, counts: Mapping[int, float]) -> list[BucketScore]:
        row = index % self._ring.shape[0]
        self._ring[row, :] = 0.0
        for position, value in counts.items():
            self._ring[row, position] = value
            if value > 0:
                self._last_count_step[position] = index
                self._hot.add(position)
        results: list[BucketScore] = []
        if self._hot:
            hot = np.fromiter(sorted(self._hot), dtype=np.int64)
            results = self._score(index, hot)
            cooled = (self._state[hot] == State.OK) & (
                self._last_count_step[hot] <= index - self._windows[-1]
            )
            self._hot.difference_update(hot[cooled].tolist())
        if counts:
            series = np.fromiter(counts.keys(), dtype=np.int64)
            values = np.fromiter(counts.values(), dtype=np.float64)
            self._learn(index, series, values)
        self._close_hours(index)
        self.last_step = index
        return results

    def _learn(self, index: int, series: NDArray[np.int64], values: NDArray[np.float64]) -> None:
        """Add bucket ``index``'s counts to the baseline, so that a spike is not learned as
        normal: while a series is in ``problems`` its expected count is learned instead (so the
        hour's exposure still matches its counts), otherwise counts are capped at expected +
        ``learn_cap_sd`` sd. ``possible problems`` is learned (capped): a baseline that is too
        low must be able to catch up, or a service that grew would stay flagged for ever. In
        the warm-up nothing is capped, as nothing is known yet to cap against.
        """
        cfg = self.config
        per_minute, shape = self.baseline.expected(series, self._slot(index))
        mean = per_minute * cfg.step_minutes
        if self._in_grace(index):
            self.baseline.add_counts(series, values)
            return
        spread = self.baseline.dispersion(series) * (mean + mean**2 / shape)
        cap = np.ceil(mean + cfg.learn_cap_sd * np.sqrt(spread) + 1.0)
        learned = np.where(self._state[series] == State.PROBLEMS, mean, np.minimum(values, cap))
        self.baseline.add_counts(series, learned, (mean, shape))

    def _in_grace(self, index: int) -> bool:
        """Whether bucket ``index`` is in the engine's warm-up (states held at ``ok``)."""
        cfg = self.config
        return self.first_step is not None and (
            (index - self.first_step) * cfg.step_minutes < cfg.grace_minutes
        )

    def _score(self, index: int, hot: NDArray[np.int64]) -> list[BucketScore]:
        cfg = self.config
        size = self._ring.shape[0]
        per_minute, shape = self.baseline.expected(hot, self._slot(index))
        per_step = per_minute * cfg.step_minutes
        dispersion = self.baseline.dispersion(hot)
        # Every window at once: the trailing sums of the longest window's rows (newest first)
        # give each shorter window's sum too. Counts are whole numbers, so these sums are
        # exactly the per-window sums, in one gather and one call per step rather than three.
        steps = np.asarray(self._windows, dtype=np.int64)
        rows = (index - np.arange(steps[-1])) % size
        observed = self._ring[np.ix_(rows, hot)].cumsum(axis=0)[steps - 1]
        expected = per_step[None, :] * steps[:, None]
        spread = combined_shape(shape[None, :], dispersion[None, :], expected)
        p = np.minimum(1.0, tail_probability(observed, expected, spread) * len(steps))
        score = score_from_p(p)
        ratio = observed / np.maximum(expected, 1e-9)
        possible = (
            (score >= cfg.possible_score)
            & (observed >= cfg.min_count_possible)
            & (ratio >= cfg.min_ratio_possible)
        ).any(axis=0)
        problems = (
            (score >= cfg.problems_score)
            & (observed >= cfg.min_count_problems)
            & (ratio >= cfg.min_ratio_problems)
        ).any(axis=0)
        columns = np.arange(len(hot))
        strongest = p.argmin(axis=0)  # the first (shortest) window of the smallest p
        best_p = p[strongest, columns]
        surprising = best_p < 1.0  # no window below 1: reported as the 1-step window, empty
        best_w = np.where(surprising, steps[strongest], 1)
        best_obs = np.where(surprising, observed[strongest, columns], 0.0)
        if self._in_grace(index):
            possible[:] = problems[:] = False
        self._streak[hot] = np.where(problems, self._streak[hot] + 1, 0)
        state = np.where(
            self._streak[hot] >= cfg.persistence,
            State.PROBLEMS,
            np.where(possible | problems, State.POSSIBLE, State.OK),
        ).astype(np.int8)
        self._state[hot] = state
        at = self.bucket_start(index)
        now = self._ring[index % size, hot]
        scores = score_from_p(best_p)
        keys = list(self.keys)
        return [
            BucketScore(
                key=keys[s],
                at=at,
                observed=float(now[i]),
                expected=float(per_step[i]),
                window_minutes=int(best_w[i]) * cfg.step_minutes,
                window_observed=float(best_obs[i]),
                window_expected=float(per_step[i] * best_w[i]),
                p_value=float(best_p[i]),
                score=float(scores[i]),
                state=State(int(state[i])),
            )
            for i, s in enumerate(hot.tolist())
        ]

    def _slot(self, index: int) -> int:
        hour = index * self.config.step_minutes // 60
        return int((hour + _EPOCH_HOUR_OF_WEEK) % HOURS_PER_WEEK)

    def _close_hours(self, index: int) -> None:
        """Close every hour that ends within bucket ``index``."""
        step = self.config.step_minutes
        first_minute, end_minute = index * step, (index + 1) * step
        for minute in range(first_minute, end_minute):
            if minute % 60 == 59:
                hour = minute // 60 + _EPOCH_HOUR_OF_WEEK
                self.baseline.close_hour(
                    hour % HOURS_PER_WEEK,
                    hour // HOURS_PER_WEEK,
                    buckets=60.0 / step,
                    learn_dispersion=not self._in_grace(index),
                )

    # --- persistence --------------------------------------------------------------------------

    def to_state(self) -> bytes:
        """Everything needed to continue after a restart, as bytes (numpy ``.npz``)."""
        b = self.baseline
        n = b.size
        meta = {
            "config": asdict(self.config),
            "baseline": asdict(b.config),
            "keys": list(self.keys),
            "groups": b.group_names,
            "hot": sorted(self._hot),
            "last_step": self.last_step,
            "first_step": self.first_step,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(_json(meta), dtype=np.uint8),
            counts=b.counts[:n],
            minutes=b.minutes[:n],
            pending=b.pending[:n],
            pearson=b.pearson[:n],
            buckets=b.buckets[:n],
            pending_pearson=b.pending_pearson[:n],
            group=b.group,
            slot_week=b.slot_week,
            profile_counts=b.profile_counts,
            profile_minutes=b.profile_minutes,
            ring=self._ring,
            streak=self._streak,
            state=self._state,
            last_count_step=self._last_count_step,
        )
        return buffer.getvalue()

    @classmethod
    def from_state(cls, data: bytes) -> SpikeEngine:
        """Rebuild an engine saved with ``to_state``."""
        import orjson

        arrays = np.load(io.BytesIO(data))
        meta: dict[str, Any] = orjson.loads(arrays["meta"].tobytes())
        config = meta["config"]
        config["windows"] = tuple(config["windows"])
        engine = cls(DetectorConfig(**config), BaselineConfig(**meta["baseline"]))
        b = engine.baseline
        b.counts, b.minutes = arrays["counts"].copy(), arrays["minutes"].copy()
        b.pending, b.group = arrays["pending"].copy(), arrays["group"].copy()
        b.pearson, b.buckets = arrays["pearson"].copy(), arrays["buckets"].copy()
        b.pending_pearson = arrays["pending_pearson"].copy()
        b.group_names = list(meta["groups"])
        b.slot_week = arrays["slot_week"].copy()
        b.profile_counts = arrays["profile_counts"].copy()
        b.profile_minutes = arrays["profile_minutes"].copy()
        engine.keys = {key: i for i, key in enumerate(meta["keys"])}
        engine._ring = arrays["ring"].copy()
        engine._streak = arrays["streak"].copy()
        engine._state = arrays["state"].copy()
        engine._last_count_step = arrays["last_count_step"].copy()
        engine._hot = set(meta["hot"])
        engine.last_step = meta["last_step"]
        engine.first_step = meta["first_step"]
        return engine


def hour_of_week(at: datetime) -> int:
    """Hours since Monday 00:00 UTC of ``at``'s week (0-167).

    >>> hour_of_week(datetime(2021, 11, 19, 21, 5, tzinfo=UTC))  # a Friday
    117
    """
    return at.weekday() * 24 + at.hour


def _json(value: Any) -> bytes:
    import orjson

    return orjson.dumps(value)
