"""More single-series detectors to compare the product's against in backtests.

They follow the protocol of :mod:`detector.spikes.detectors` (``score_one`` then ``learn_one``,
score in [0, 1], high = spike) and are turned into states by
:class:`~detector.spikes.detectors.ScoreThresholds`.
"""

from __future__ import annotations

import math
from datetime import datetime

__all__ = ["KleinbergDetector"]


class KleinbergDetector:
    """A causal, online form of Kleinberg's two-state burst automaton on Poisson counts.

    The base state emits counts at rate ``lam`` (an exponentially weighted mean of the counts,
    learned only while the automaton is in the base state, with a floor so that a silent series
    keeps a finite cost for its first report), the burst state at ``ratio * lam``. Entering the
    burst state costs ``transition_cost`` nats, leaving it is free. After each bucket the
    cheapest path ending in each state is kept (a forward Viterbi pass); the score is how many
    nats cheaper the burst state is now, over ``nats_at_one`` (so 0.6 means 12 nats). As leaving
    the burst is free, that margin is the current bucket's log-likelihood ratio of burst over
    base, less ``transition_cost`` when the automaton still has to enter the burst: it does not
    pile up over a long burst, and it drops as soon as the counts do. The automaton starts in
    the base state once the grace period has given it a rate. Kleinberg's batch algorithm picks
    the whole path at the end; this one answers every bucket, from the past only.

    Parameters
    ----------
    ratio
        Rate of the burst state over the base state (Kleinberg's ``s``).
    transition_cost
        Nats to enter the burst state (Kleinberg's ``gamma * ln n``).
    half_life
        Of the base rate, in buckets.
    grace_period
        Buckets learned before any score above 0.
    rate_floor
        Smallest base rate (counts per bucket).
    nats_at_one
        Margin that maps to score 1.0.

    Examples
    --------
    >>> from datetime import UTC
    >>> detector = KleinbergDetector(grace_period=10)
    >>> at = datetime(2021, 11, 19, 21, 0, tzinfo=UTC)
    >>> scores = []
    >>> for value in [1, 0, 2, 1, 0, 1, 1, 0, 2, 1, 1, 12, 15, 14, 1]:
    ...     scores.append(detector.score_one(at, value))
    ...     detector.learn_one(at, value)
    >>> [round(s, 2) for s in scores[-5:]]
    [0.0, 0.32, 0.73, 0.68, 0.0]
    """

    def __init__(
        self,
        ratio: float = 3.0,
        transition_cost: float = 5.0,
        half_life: float = 60.0,
        grace_period: int = 60,
        rate_floor: float = 0.01,
        nats_at_one: float = 20.0,
    ) -> None:
        self.ratio = ratio
        self.transition_cost = transition_cost
        self.alpha = 1.0 - 0.5 ** (1.0 / half_life)
        self.grace_period = grace_period
        self.rate_floor = rate_floor
        self.nats_at_one = nats_at_one
        self.lam = 0.0
        self.seen = 0
        self.cost_base = 0.0
        self.cost_burst = transition_cost

    def _costs(self, value: float) -> tuple[float, float]:
        """The two path costs after ``value``, and nothing learned."""
        lam0 = max(self.lam, self.rate_floor)
        lam1 = self.ratio * lam0
        # -log Poisson(value | lam) without the log(value!) both states share
        emit0 = lam0 - value * math.log(lam0)
        emit1 = lam1 - value * math.log(lam1)
        base = min(self.cost_base, self.cost_burst) + emit0
        burst = min(self.cost_burst, self.cost_base + self.transition_cost) + emit1
        return base, burst

    def score_one(self, at: datetime, value: float) -> float:  # noqa: ARG002 (interface)
        """How much cheaper the burst state is after ``value``, in [0, 1]."""
        if self.seen < self.grace_period:
            return 0.0
        base, burst = self._costs(value)
        return min(1.0, max(0.0, (base - burst) / self.nats_at_one))

    def learn_one(self, at: datetime, value: float) -> None:  # noqa: ARG002 (interface)
        """Advance the automaton; update the base rate while in the base state."""
        base, burst = self._costs(value)
        warming = self.seen < self.grace_period
        if warming or base <= burst:
            # a plain mean until it has more buckets than the exponential weight would keep,
            # so that the first bucket does not count for half the grace period's rate
            self.lam += max(self.alpha, 1.0 / (self.seen + 1)) * (value - self.lam)
            self.seen += 1
        if warming:
            # the rate is not known yet: costs against it mean nothing, so start in the base state
            base, burst = 0.0, self.transition_cost
        low = min(base, burst)
        self.cost_base, self.cost_burst = base - low, burst - low  # keep them small
