"""Expected complaints per minute for many series at once, by hour of the week.

For series ``s`` in hour-of-week slot ``h`` the expected rate is a Gamma posterior that blends
three levels of history, each standing in for the next when it is thin:

* the series' own counts in that slot over past weeks (``counts[s, h] / minutes[s, h]``);
* the series' own counts at the same hour of the other days of the week (its daily rhythm,
  learned in a day: a service whose users live nine time zones away peaks when others sleep);
* the series' overall rate ``r_s`` times the weekly profile ``G[h]`` pooled over all series
  (people complain at 21:00 more than at 04:00, whatever the service);
* for ``r_s`` itself, a prior: the mean rate of the series in the same group (similar services),
  so a service seen for the first time today has a sensible baseline and can alert on day one.

Old weeks fade (``weekly_decay``). Counts arrive already capped by the caller (a spike is not
learned as normal), and exposure is added an hour at a time when the hour closes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["HOURS_PER_WEEK", "BaselineConfig", "SeasonalBaseline"]

HOURS_PER_WEEK = 168
_MIN_SHAPE = 1.0  # at least one pseudo-event behind any expectation
_MAX_RESIDUAL = 25.0  # a bucket 5 sd off counts as 5 sd in the dispersion estimate


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    """Prior strengths (in minutes of data they are worth) and forgetting.

    Parameters
    ----------
    slot_prior_minutes
        How many minutes of a slot's own history weigh as much as the guess from the series'
        daily rhythm.
    hour_prior_minutes
        How many minutes of the series' history at an hour of the day (over all days) weigh as
        much as the guess from the pooled profile.
    rate_prior_minutes
        How many minutes of a series' history weigh as much as its group's mean rate.
    profile_prior_events
        How many reports in a slot (pooled over all series) weigh as much as the next coarser
        profile (same hour of other days, then flat): counts, not minutes, say how noisy a
        slot's share is.
    weekly_decay
        Weight of last week's data relative to this week's (0.75: half-life ~2.4 weeks).
    default_rate
        Complaints per minute assumed for a group with no history at all.
    dispersion_prior_buckets
        How many buckets of a series' history weigh as much as the prior that its counts are
        Poisson (dispersion 1).
    dispersion_hourly_decay
        Weight of an hour-old bucket in the dispersion estimate (0.99: half-life ~3 days).
    """

    slot_prior_minutes: float = 60.0
    hour_prior_minutes: float = 60.0
    rate_prior_minutes: float = 240.0
    profile_prior_events: float = 30.0
    weekly_decay: float = 0.75
    default_rate: float = 0.002
    dispersion_prior_buckets: float = 240.0
    dispersion_hourly_decay: float = 0.99


class SeasonalBaseline:
    """Per-series, per-hour-of-week Gamma rate estimates (arrays grow as series appear)."""

    def __init__(self, config: BaselineConfig | None = None) -> None:
        self.config = config or BaselineConfig()
        self.counts = np.zeros((0, HOURS_PER_WEEK))
        self.minutes = np.zeros((0, HOURS_PER_WEEK))
        self.pending = np.zeros(0)  # counts of the hour in progress
        # Overdispersion: sums of Pearson residuals (x - m)**2 / m and of buckets seen, so that
        # a series whose complaints come in clumps (a thread, a shared screenshot) needs a
        # bigger burst than a Poisson one. ``pending_pearson`` holds the hour in progress.
        self.pearson = np.zeros(0)
        self.buckets = np.zeros(0)
        self.pending_pearson = np.zeros(0)
        self.group = np.zeros(0, dtype=np.int64)
        self.group_names: list[str] = []
        self.slot_week = np.full(HOURS_PER_WEEK, -1, dtype=np.int64)
        self.profile_counts = np.zeros(HOURS_PER_WEEK)
        self.profile_minutes = np.zeros(HOURS_PER_WEEK)
        # profile and per-series rates change only when an hour closes: cached until then
        self._profile: NDArray[np.float64] | None = None
        self._known = np.zeros(HOURS_PER_WEEK)
        self._rate = np.zeros(0)
        self._hour_counts = np.zeros((0, 24))  # per series and hour of the day, all days
        self._hour_minutes = np.zeros((0, 24))

    @property
    def size(self) -> int:
        """Number of series."""
        return len(self.group)

    def add_series(self, group: str) -> int:
        """Start a new series in ``group`` (e.g. the service's category); return its index."""
        if group not in self.group_names:
            self.group_names.append(group)
        index = self.size
        if index == self.counts.shape[0]:  # grow by doubling: adding n series costs O(n)
            extra = max(16, index)
            self.counts = np.vstack([self.counts, np.zeros((extra, HOURS_PER_WEEK))])
            self.minutes = np.vstack([self.minutes, np.zeros((extra, HOURS_PER_WEEK))])
            self.pending = np.append(self.pending, np.zeros(extra))
            self.pearson = np.append(self.pearson, np.zeros(extra))
            self.buckets = np.append(self.buckets, np.zeros(extra))
            self.pending_pearson = np.append(self.pending_pearson, np.zeros(extra))
        self.group = np.append(self.group, self.group_names.index(group))
        self._profile = None
        return index

    def add_counts(
        self,
        series: NDArray[np.int64],
        counts: NDArray[np.float64],
        expected: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    ) -> None:
        """Add (capped) counts of the current bucket to the hour in progress.

        ``expected`` (the bucket's expected counts and their shapes, as ``expected`` gave them)
        feeds the dispersion estimate; leave it out while the baseline is still meaningless
        (the warm-up). Series without counts need no call: ``close_hour`` accounts for their
        empty buckets.
        """
        np.add.at(self.pending, series, counts)
        if expected is not None:
            means, shapes = expected
            m = np.maximum(means, 1e-9)
            spread = m + m**2 / shapes  # what the estimate already allows for
            # the bucket's squared standardized residual, minus the empty-bucket share that
            # close_hour adds for every bucket; clipped so one outage cannot double it
            residual = np.minimum((counts - m) ** 2 / spread, _MAX_RESIDUAL)
            np.add.at(self.pending_pearson, series, residual - m**2 / spread)

    def dispersion(self, series: NDArray[np.int64]) -> NDArray[np.float64]:
        """How much more the series' counts vary than the baseline allows (>= 1): the mean
        squared standardized residual, shrunk towards 1."""
        prior = self.config.dispersion_prior_buckets
        estimate = (self.pearson[series] + prior) / (self.buckets[series] + prior)
        return np.maximum(estimate, 1.0)

    def close_hour(
        self, slot: int, week: int, buckets: float = 60.0, *, learn_dispersion: bool = True
    ) -> None:
        """Fold the finished hour (slot ``slot`` of week ``week``, ``buckets`` buckets long)
        into every series' history."""
        n = self.size
        if n and learn_dispersion:
            # Every bucket adds m**2 / spread (an empty bucket's residual), computed before the
            # hour is folded in.
            per_minute, shape = self.expected(np.arange(n), slot)
            m = np.maximum(per_minute * 60.0 / buckets, 1e-9)
            empty = buckets * m**2 / (m + m**2 / shape)
            decay = self.config.dispersion_hourly_decay
            self.pearson[:n] = self.pearson[:n] * decay + self.pending_pearson[:n] + empty
            self.buckets[:n] = self.buckets[:n] * decay + buckets
        self.pending_pearson[:] = 0.0
        fade = self.config.weekly_decay ** max(0, week - self.slot_week[slot])
        if self.slot_week[slot] < 0:
            fade = 0.0
        self.counts[:n, slot] = self.counts[:n, slot] * fade + self.pending[:n]
        self.minutes[:n, slot] = self.minutes[:n, slot] * fade + 60.0
        self.profile_counts[slot] = self.profile_counts[slot] * fade + self.pending.sum()
        self.profile_minutes[slot] = self.profile_minutes[slot] * fade + 60.0
        self.slot_week[slot] = week
        self.pending[:] = 0.0
        self._profile = None

    def profile(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The pooled weekly profile (each slot's rate relative to the mean, 1.0 = average) and
        how well each slot is known (0: never seen, near 1: weeks of data).

        An hour of the week not seen yet borrows the same hour of other days (the daily rhythm
        is learned in a day, the weekly one takes a week), then the flat profile.
        """
        cfg = self.config
        counts, minutes = self.profile_counts, self.profile_minutes
        total_minutes = minutes.sum()
        if total_minutes == 0 or counts.sum() == 0:
            return np.ones(HOURS_PER_WEEK), np.zeros(HOURS_PER_WEEK)
        mean = counts.sum() / total_minutes
        k = cfg.profile_prior_events / mean  # in minutes at the mean rate
        day_counts = counts.reshape(7, 24).sum(axis=0)
        day_minutes = minutes.reshape(7, 24).sum(axis=0)
        daily = np.tile((day_counts + k * mean) / (day_minutes + k), 7)
        weekly = (counts + k * daily) / (minutes + k)
        seen = minutes + np.tile(day_minutes, 7) / 7
        known = seen / (seen + k)
        return np.asarray(weekly / mean, dtype=np.float64), known

    def expected(
        self, series: NDArray[np.int64], slot: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Expected complaints per minute in ``slot`` for ``series``, and the Gamma shape
        (pseudo-count of events) behind each estimate, for negative-binomial tails."""
        profile, known, rate = self._refresh()
        cfg = self.config
        hour = slot % 24
        # the series' daily rhythm, its prior being the pooled profile at this slot
        k_hour = cfg.hour_prior_minutes
        hour_counts = self._hour_counts[series, hour]
        hour_minutes = self._hour_minutes[series, hour]
        pooled = k_hour * rate[series] * profile[slot]  # events the pooled guess is worth
        daily = (hour_counts + pooled) / (hour_minutes + k_hour)
        # The guess is only as sure as what it rests on: an hour never seen gives a wide
        # distribution (few pseudo-events) rather than a confident wrong one.
        sure = (hour_minutes + k_hour * known[slot]) / (hour_minutes + k_hour)
        k = cfg.slot_prior_minutes
        per_minute = (self.counts[series, slot] + k * daily) / (self.minutes[series, slot] + k)
        shape = self.counts[series, slot] + k * daily * sure + _MIN_SHAPE
        return per_minute, shape

    def _refresh(
        self,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        if self._profile is None:
            cfg = self.config
            profile, self._known = self.profile()
            n = self.size
            exposure = self.minutes[:n] @ profile  # minutes weighted by how busy each slot is
            history = self.counts[:n].sum(axis=1)
            prior = self._group_rates(history, exposure)[self.group]
            self._rate = (cfg.rate_prior_minutes * prior + history) / (
                cfg.rate_prior_minutes + exposure
            )
            self._hour_counts = self.counts[:n].reshape(n, 7, 24).sum(axis=1)
            self._hour_minutes = self.minutes[:n].reshape(n, 7, 24).sum(axis=1)
            self._profile = profile
        return self._profile, self._known, self._rate

    def _group_rates(
        self, history: NDArray[np.float64], exposure: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        groups = len(self.group_names)
        counts = np.bincount(self.group, weights=history, minlength=groups)
        minutes = np.bincount(self.group, weights=exposure, minlength=groups)
        default = self.config.default_rate
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(minutes > 0, counts / np.maximum(minutes, 1e-9), default)
        return np.maximum(rates, default / 10)
