"""Single-series spike detectors behind one interface, so they can be compared in backtests.

A detector is a streaming object (as in river): ``score_one(at, value)`` says how surprising
``value`` is at bucket ``at`` given everything learned so far (a float in [0, 1], high = spike,
computed from earlier buckets only), and ``learn_one(at, value)`` then takes the bucket in.
Turning scores into states is separate (:class:`ScoreThresholds`), except that the
negative-binomial detector also knows the count and ratio rules and exposes its own ``state``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from detector.spikes.baseline import BaselineConfig
from detector.spikes.engine import BucketScore, DetectorConfig, SpikeEngine, State

__all__ = [
    "EwmaDetector",
    "ScoreThresholds",
    "SeasonalNegBinDetector",
    "SpikeDetector",
]

_KEY = "series"


class SpikeDetector(Protocol):
    """What every detector offers."""

    def score_one(self, at: datetime, value: float) -> float:
        """Anomaly score of ``value`` at bucket ``at`` in [0, 1] (high = spike); no learning."""
        ...

    def learn_one(self, at: datetime, value: float) -> None:
        """Take bucket ``at`` with ``value`` into the detector's state."""
        ...


class SeasonalNegBinDetector:
    """The product's detector (weekly-seasonal baseline, negative-binomial tails, count and
    ratio rules, persistence) on one series.

    Examples
    --------
    >>> from datetime import UTC, timedelta
    >>> detector = SeasonalNegBinDetector(DetectorConfig(grace_minutes=0))
    >>> start = datetime(2021, 11, 19, 20, 0, tzinfo=UTC)
    >>> for minute in range(60):
    ...     at = start + timedelta(minutes=minute)
    ...     value = 0 if minute < 50 else 40
    ...     score = detector.score_one(at, value)
    ...     detector.learn_one(at, value)
    >>> round(score, 2), detector.state.label
    (1.0, 'problems')
    """

    def __init__(
        self, config: DetectorConfig | None = None, baseline: BaselineConfig | None = None
    ) -> None:
        self.engine = SpikeEngine(config, baseline)
        self.last: BucketScore | None = None
        self._peeked: tuple[datetime, float, SpikeEngine, BucketScore | None] | None = None

    @property
    def state(self) -> State:
        """The state after the last bucket learned."""
        return self.engine.state_of(_KEY)

    def score_one(self, at: datetime, value: float) -> float:
        """Score ``value`` at ``at`` without learning it."""
        trial = copy.deepcopy(self.engine)
        result = _only(trial.step(at, {_KEY: value} if value else {}))
        self._peeked = (at, value, trial, result)
        return result.score if result else 0.0

    def learn_one(self, at: datetime, value: float) -> None:
        """Take bucket ``at`` in (reusing the work of a ``score_one`` on the same bucket)."""
        if self._peeked is not None and self._peeked[:2] == (at, value):
            self.engine, self.last = self._peeked[2], self._peeked[3]
        else:
            self.last = _only(self.engine.step(at, {_KEY: value} if value else {}))
        self._peeked = None


class EwmaDetector:
    """Exponentially weighted mean and variance; score from the one-sided z-score (a simple,
    non-seasonal comparison point). Does not learn from buckets it scores as spikes.

    Parameters
    ----------
    half_life
        In buckets.
    grace_period
        Buckets learned before any score above 0.
    """

    def __init__(self, half_life: float = 60.0, grace_period: int = 60) -> None:
        self.alpha = 1.0 - 0.5 ** (1.0 / half_life)
        self.grace_period = grace_period
        self.mean = 0.0
        self.var = 0.0
        self.seen = 0

    def score_one(self, at: datetime, value: float) -> float:  # noqa: ARG002 (interface)
        """Score from z = (value - mean) / sd, mapped so that z = 10 gives 1.0."""
        if self.seen < self.grace_period:
            return 0.0
        sd = math.sqrt(self.var + max(self.mean, 0.5))  # Poisson floor for sparse counts
        return min(1.0, max(0.0, (value - self.mean) / sd / 10.0))

    def learn_one(self, at: datetime, value: float) -> None:
        """Update mean and variance, skipping buckets scored at 0.5 or more."""
        if self.score_one(at, value) >= 0.5:
            return
        delta = value - self.mean
        self.mean += self.alpha * delta
        self.var = (1 - self.alpha) * (self.var + self.alpha * delta * delta)
        self.seen += 1


@dataclass(frozen=True, slots=True)
class ScoreThresholds:
    """Scores to states for any detector: ``possible`` and ``problems`` levels, with
    ``persistence`` consecutive buckets at problems level before ``problems``."""

    possible: float = 0.3
    problems: float = 0.6
    persistence: int = 2

    def states(self, scores: list[float]) -> list[State]:
        """The state after each bucket of ``scores``.

        >>> [s.label for s in ScoreThresholds().states([0.1, 0.7, 0.7, 0.4])]
        ['ok', 'possible problems', 'problems', 'possible problems']
        """
        streak, out = 0, []
        for score in scores:
            streak = streak + 1 if score >= self.problems else 0
            if streak >= self.persistence:
                out.append(State.PROBLEMS)
            elif score >= self.possible:
                out.append(State.POSSIBLE)
            else:
                out.append(State.OK)
        return out


def _only(results: list[BucketScore]) -> BucketScore | None:
    return results[0] if results else None
