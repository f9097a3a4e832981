"""Backtest spike detectors on labelled count streams: who finds which outage, how fast, and
how often they cry wolf.

The product's detector runs as in production: one :class:`~detector.spikes.engine.SpikeEngine`
over all services, one ``step`` per minute with the counts of the services that had complaints,
its scores fed to one :class:`~detector.spikes.incidents.IncidentTracker`; its alarms are the
incidents. Comparators run series by series through the single-series protocol
(``score_one``/``learn_one`` and :class:`~detector.spikes.detectors.ScoreThresholds`); their
alarms are runs of non-``ok`` states holding a ``problems`` bucket, merged when they are as
close as the tracker would reopen an incident.

Scoring (:func:`evaluate`): an outage is *detected* by an alarm of its service whose
``start..end`` overlaps it; its delay is ``detected_at - start``. An alarm that overlaps no
outage is a false alarm. Only what happens after the warm-up counts. Results are broken down by
base-rate band, since a service with a complaint every twenty minutes cannot show five times
its baseline within five minutes at all.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from detector.spikes.baseline import BaselineConfig
from detector.spikes.comparators import KleinbergDetector
from detector.spikes.detectors import EwmaDetector, ScoreThresholds, SpikeDetector
from detector.spikes.engine import DetectorConfig, SpikeEngine, State
from detector.spikes.incidents import Incident, IncidentConfig, IncidentTracker
from detector.spikes.synthetic import (
    MINUTES_PER_WEEK,
    CountStreams,
    Outage,
    SyntheticConfig,
    generate,
)
from detector.spikes.truth import Alarm, Truth, match_truth

__all__ = [
    "BANDS",
    "COMPARATORS",
    "PRODUCT",
    "Scorecard",
    "SyntheticBacktest",
    "alarm_of",
    "alarms_from_states",
    "band_of",
    "evaluate",
    "run_engine",
    "run_engine_states",
    "run_single",
    "run_synthetic_backtest",
    "synthetic_markdown",
    "truth_from",
]

log = logging.getLogger(__name__)

#: Base-rate bands (complaints per minute, weekly mean): lower edges, the last open-ended.
BANDS: tuple[tuple[str, float], ...] = (("<0.2", 0.0), ("0.2-1", 0.2), ("1-5", 1.0), (">=5", 5.0))
#: An outage in the goal class must be detected within this many minutes of its start.
TARGET_MINUTES = 5
_MINUTE = timedelta(minutes=1)


def alarm_of(incident: Incident) -> Alarm:
    """The alarm of a tracker's incident."""
    return Alarm(incident.service, incident.start, incident.end, incident.detected_at)


@dataclass(frozen=True, slots=True)
class Scorecard:
    """How one detector did on one slice (a band, everything, or an extra labelled case).

    ``delays`` are the minutes from start to detection of the detected goal-class outages;
    ``goal_on_time_from_size`` counts those detected within the target of reaching the goal
    size (5x), which a ramp reaches minutes after it starts.
    """

    services: int
    service_weeks: float
    outages: int
    detected: int
    goal: int
    goal_on_time: int
    delays: tuple[float, ...]
    false_alarms: int
    goal_on_time_from_size: int = 0
    services_over_budget: int = 0
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def detection_rate(self) -> float:
        """Share of all outages detected at all."""
        return self.detected / self.outages if self.outages else math.nan

    @property
    def on_time_rate(self) -> float:
        """Share of goal-class outages detected within the target."""
        return self.goal_on_time / self.goal if self.goal else math.nan

    @property
    def delay_median(self) -> float:
        """Median delay in minutes (goal class)."""
        return float(np.median(self.delays)) if self.delays else math.nan

    @property
    def delay_p90(self) -> float:
        """90th percentile of the delay in minutes (goal class)."""
        return float(np.percentile(self.delays, 90)) if self.delays else math.nan

    @property
    def false_alarms_per_service_week(self) -> float:
        """False alarms per service per week of background."""
        return self.false_alarms / self.service_weeks if self.service_weeks else math.nan


def band_of(rate: float, bands: Sequence[tuple[str, float]] = BANDS) -> str:
    """The band of a base rate.

    >>> band_of(0.05), band_of(0.2), band_of(19.0)
    ('<0.2', '0.2-1', '>=5')
    """
    label = bands[0][0]
    for name, lower in bands:
        if rate >= lower:
            label = name
    return label


def truth_from(streams: CountStreams) -> list[Truth]:
    """The streams' outages as labels (goal class: 10 or more minutes at 5x or more)."""
    return [
        Truth(
            o.service,
            o.start,
            o.end,
            _goal(o),
            band_of(float(streams.base_rate[o.index])),
            o.first_at_5x,
        )
        for o in streams.truth
    ]


def _goal(outage: Outage) -> bool:
    return outage.minutes_at_5x >= 10


# --------------------------------------------------------------------------------------------
# Running detectors.
# --------------------------------------------------------------------------------------------


def run_engine(
    streams: CountStreams,
    *,
    config: DetectorConfig | None = None,
    baseline: BaselineConfig | None = None,
    incidents: IncidentConfig | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[Alarm]:
    """The product's detector over all services together, a minute at a time, as in production.

    ``on_progress`` is called with the number of minutes done, once per simulated day.
    """
    engine = SpikeEngine(config, baseline)
    tracker = IncidentTracker(engine.config.step_minutes, incidents)
    keys = streams.keys
    groups = dict(zip(keys, streams.groups, strict=True))
    found: dict[str, Incident] = {}
    for minute, services, counts in streams.by_minute():
        at = streams.start + timedelta(minutes=minute)
        step = {keys[s]: c for s, c in zip(services.tolist(), counts.tolist(), strict=True)}
        for event in tracker.update(at, engine.step(at, step, groups)):
            found[event.incident.id] = event.incident
        if on_progress is not None and (minute + 1) % 1440 == 0:
            on_progress(minute + 1)
    return [alarm_of(i) for i in found.values()]


def run_single(
    streams: CountStreams,
    make: Callable[[], SpikeDetector],
    *,
    services: Iterable[int],
    thresholds: ScoreThresholds | None = None,
    merge_minutes: int = 90,
) -> list[Alarm]:
    """A single-series detector (a fresh one per service) over some services, every minute."""
    thresholds = thresholds or ScoreThresholds()
    chosen = np.fromiter(services, dtype=np.int64)
    matrix = streams.dense(chosen)
    alarms: list[Alarm] = []
    times = [streams.start + timedelta(minutes=m) for m in range(streams.minutes)]
    for row, service in enumerate(chosen.tolist()):
        detector = make()
        scores = []
        for at, value in zip(times, matrix[row].tolist(), strict=True):
            scores.append(detector.score_one(at, value))
            detector.learn_one(at, value)
        states = np.array(thresholds.states(scores), dtype=np.int8)
        alarms.extend(
            alarms_from_states(streams.keys[service], streams.start, states, merge_minutes)
        )
    return alarms


def alarms_from_states(
    service: str, start: datetime, states: Sequence[int] | np.ndarray, merge_minutes: int = 90
) -> list[Alarm]:
    """Alarms from a series of per-minute states: each run of non-``ok`` minutes that reaches
    ``problems`` (detected the minute after the first ``problems``), runs less than
    ``merge_minutes`` apart being one alarm.

    >>> from datetime import UTC
    >>> t0 = datetime(2021, 11, 19, tzinfo=UTC)
    >>> [(a.start.minute, a.detected_at.minute, a.end.minute)
    ...  for a in alarms_from_states("s", t0, [0, 1, 2, 2, 0, 1, 0])]
    [(1, 3, 4)]
    """
    values = np.asarray(states, dtype=np.int8)
    active = np.flatnonzero(values != State.OK)
    return _alarms_from_active(service, start, active, values[active], merge_minutes)


def _alarms_from_active(
    service: str,
    start: datetime,
    minutes: np.ndarray,
    states: np.ndarray,
    merge_minutes: int,
) -> list[Alarm]:
    """``alarms_from_states`` given only the non-``ok`` minutes (sorted) and their states."""
    if not len(minutes):
        return []
    breaks = np.flatnonzero(np.diff(minutes) > 1)
    firsts = np.concatenate([[0], breaks + 1])
    lasts = np.concatenate([breaks, [len(minutes) - 1]])
    merged: list[tuple[int, int, int]] = []  # first, detected, last (minutes)
    for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
        problems = np.flatnonzero(states[first : last + 1] == State.PROBLEMS)
        if not len(problems):
            continue
        detected = int(minutes[first + int(problems[0])]) + 1
        if merged and detected - merged[-1][2] <= merge_minutes:
            merged[-1] = (merged[-1][0], merged[-1][1], int(minutes[last]))
        else:
            merged.append((int(minutes[first]), detected, int(minutes[last])))
    return [
        Alarm(service, start + a * _MINUTE, start + (z + 1) * _MINUTE, start + d * _MINUTE)
        for a, d, z in merged
    ]


def run_engine_states(
    streams: CountStreams,
    *,
    config: DetectorConfig | None = None,
    baseline: BaselineConfig | None = None,
    merge_minutes: int = 90,
) -> list[Alarm]:
    """A quick stand-in for :func:`run_engine` when tuning: the same states (from
    :class:`~detector.spikes.arrayengine.ArrayEngine`), alarms as runs of states (as for
    single-series detectors) instead of tracker incidents."""
    from detector.spikes.arrayengine import ArrayEngine

    engine = ArrayEngine(config, baseline)
    position = np.full(len(streams.keys), -1, dtype=np.int64)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for minute, services, counts in streams.by_minute():
        for s in services[position[services] < 0].tolist():
            position[s] = engine.series(streams.keys[s], streams.groups[s])
        out = engine.step_arrays(
            streams.start + timedelta(minutes=minute), position[services], counts.astype(float)
        )
        alert = out.state != State.OK
        if alert.any():
            found.append((np.full(int(alert.sum()), minute), out.hot[alert], out.state[alert]))
    if not found:
        return []
    minute_of = np.concatenate([f[0] for f in found])
    series_of = np.concatenate([f[1] for f in found])
    state_of = np.concatenate([f[2] for f in found])
    service_at = np.empty(len(engine.keys), dtype=np.int64)
    service_at[position[position >= 0]] = np.flatnonzero(position >= 0)
    order = np.lexsort((minute_of, series_of))
    alarms: list[Alarm] = []
    bounds = np.flatnonzero(np.diff(series_of[order])) + 1
    for chunk in np.split(order, bounds):
        key = streams.keys[int(service_at[series_of[chunk[0]]])]
        alarms.extend(
            _alarms_from_active(
                key, streams.start, minute_of[chunk], state_of[chunk], merge_minutes
            )
        )
    return alarms


# --------------------------------------------------------------------------------------------
# Scoring.
# --------------------------------------------------------------------------------------------


def evaluate(
    truth: Sequence[Truth],
    alarms: Iterable[Alarm],
    *,
    service_bands: Mapping[str, str],
    scored_from: datetime,
    scored_until: datetime,
    target_minutes: int = TARGET_MINUTES,
) -> dict[str, Scorecard]:
    """Scorecards per band and for ``all``, over the services in ``service_bands`` only.

    Alarms detected before ``scored_from`` (the warm-up) are ignored; a service's background is
    ``scored_until - scored_from``.
    """
    mine = [a for a in alarms if a.service in service_bands and a.detected_at >= scored_from]
    known = [t for t in truth if t.service in service_bands]
    matches, unmatched = match_truth(known, mine, until=scored_until)
    weeks = (scored_until - scored_from) / timedelta(minutes=MINUTES_PER_WEEK)
    budget = weeks / 4.0  # at most one false alarm per service per four weeks
    outcomes = [
        (service_bands[m.truth.service], m.truth, None if m.delay is None else max(0.0, m.delay))
        for m in matches
    ]
    false_alarms: dict[str, int] = defaultdict(int)
    for alarm in unmatched:
        false_alarms[alarm.service] += 1
    cards = {}
    for name in [*sorted(set(service_bands.values()), key=_band_order), "all"]:
        services = [s for s, b in service_bands.items() if name in (b, "all")]
        mine_outcomes = [(t, d) for b, t, d in outcomes if name in (b, "all")]
        goal = [(t, d) for t, d in mine_outcomes if t.goal]
        cards[name] = Scorecard(
            services=len(services),
            service_weeks=len(services) * weeks,
            outages=len(mine_outcomes),
            detected=sum(d is not None for _, d in mine_outcomes),
            goal=len(goal),
            goal_on_time=sum(d is not None and d <= target_minutes for _, d in goal),
            goal_on_time_from_size=sum(
                d is not None and d - _size_lag(t) <= target_minutes for t, d in goal
            ),
            delays=tuple(d for _, d in goal if d is not None),
            false_alarms=sum(false_alarms[s] for s in services),
            services_over_budget=sum(false_alarms[s] > budget for s in services),
        )
    return cards


def _size_lag(truth: Truth) -> float:
    """Minutes from an outage's start until it reached the goal size."""
    return 0.0 if truth.goal_from is None else (truth.goal_from - truth.start) / _MINUTE


def _band_order(name: str) -> int:
    names = [n for n, _ in BANDS]
    return names.index(name) if name in names else len(names)


# --------------------------------------------------------------------------------------------
# The whole synthetic backtest.
# --------------------------------------------------------------------------------------------

#: Single-series detectors compared with the product's, by name.
COMPARATORS: dict[str, Callable[[], SpikeDetector]] = {
    "ewma": EwmaDetector,
    "kleinberg": KleinbergDetector,
}
PRODUCT = "seasonal-nb"


@dataclass(frozen=True, slots=True)
class SyntheticBacktest:
    """Scorecards of the product's detector over every service (``product``, by band) and of
    every detector over the same ``compared`` services (``compared[name]``, by band), with the
    seconds each detector took."""

    config: SyntheticConfig
    seed: int
    product: Mapping[str, Scorecard]
    compared_services: int
    compared: Mapping[str, Mapping[str, Scorecard]]
    seconds: Mapping[str, float]


def run_synthetic_backtest(
    config: SyntheticConfig,
    seed: int,
    *,
    compare: int = 40,
    comparators: Mapping[str, Callable[[], SpikeDetector]] = COMPARATORS,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> SyntheticBacktest:
    """Generate streams, run the product's detector over all services and the comparators over
    ``compare`` of them (spread evenly over base rates), and score everything.

    ``on_progress(task, done, total)`` reports simulated minutes done per task.
    """
    streams = generate(config, seed)
    truth = truth_from(streams)
    bands = {k: band_of(float(r)) for k, r in zip(streams.keys, streams.base_rate, strict=True)}

    def score(alarms: list[Alarm], service_bands: Mapping[str, str]) -> dict[str, Scorecard]:
        return evaluate(
            truth,
            alarms,
            service_bands=service_bands,
            scored_from=streams.scored_start,
            scored_until=streams.end,
        )

    seconds: dict[str, float] = {}

    def progress(task: str) -> Callable[[int], None] | None:
        if on_progress is None:
            return None
        return lambda done: on_progress(task, done, streams.minutes)

    began = time.perf_counter()
    product_alarms = run_engine(streams, on_progress=progress(PRODUCT))
    seconds[PRODUCT] = time.perf_counter() - began
    product = score(product_alarms, bands)

    # the subset: every k-th service by base rate, so each band is represented
    by_rate = np.argsort(streams.base_rate, kind="stable")
    subset = by_rate[np.linspace(0, len(by_rate) - 1, min(compare, len(by_rate))).astype(int)]
    subset_bands = {streams.keys[i]: bands[streams.keys[i]] for i in subset.tolist()}
    compared = {PRODUCT: score(product_alarms, subset_bands)}
    for name, make in comparators.items():
        began = time.perf_counter()
        alarms = run_single(streams, make, services=subset.tolist())
        seconds[name] = time.perf_counter() - began
        compared[name] = score(alarms, subset_bands)
        if on_progress is not None:
            on_progress(name, streams.minutes, streams.minutes)
    return SyntheticBacktest(config, seed, product, len(subset), compared, seconds)


def synthetic_markdown(result: SyntheticBacktest) -> str:
    """The backtest's tables in Markdown (for ``bench/RESULTS.md``)."""
    cfg = result.config
    all_card = result.product["all"]
    lines = [
        f"Synthetic streams (seed {result.seed}): {cfg.services:,} services x {cfg.weeks} weeks "
        f"of 1-minute buckets, the first {cfg.warmup_weeks} week(s) warm-up (not scored); base "
        f"rates {cfg.rate_range[0]}-{cfg.rate_range[1]} complaints/min ({cfg.rate_spread}), "
        f"weekly profile in each service's time zone, negative-binomial noise (shape "
        f"{cfg.dispersion}); {all_card.outages} injected outages ({cfg.multiplier_range[0]:g}-"
        f"{cfg.multiplier_range[1]:g}x, {cfg.duration_range[0]}-{cfg.duration_range[1]} min, "
        f"step/ramp/decay). Goal class: >= 5x baseline for >= 10 minutes; on time: detected "
        f"within {TARGET_MINUTES} minutes of the outage's first minute (from 5x: of the first "
        f"minute at 5x, which a ramp reaches minutes after it starts). False alarms: incidents "
        f"overlapping no injected outage; budget: 1 per service per 4 weeks.",
        "",
        f"The product's detector over all services ({result.seconds[PRODUCT]:.0f} s):",
        "",
        *_card_table(result.product, "band (complaints/min)"),
        "",
        f"Compared with other detectors on {result.compared_services} of the services, spread "
        f"over base rates:",
        "",
        *_card_table({n: c["all"] for n, c in result.compared.items()}, "detector"),
    ]
    return "\n".join(lines) + "\n"


def _card_table(cards: Mapping[str, Scorecard], first: str) -> list[str]:
    rows = [
        f"| {first} | services | outages | detected | goal class | on time | on time from 5x "
        f"| delay median / p90 (min) | false alarms / service-week | services over budget |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in cards.items():
        rows.append(
            f"| {name} | {c.services} | {c.outages} | {_share(c.detected, c.outages)} | "
            f"{c.goal} | {_share(c.goal_on_time, c.goal)} | "
            f"{_share(c.goal_on_time_from_size, c.goal)} | {_num(c.delay_median)} / "
            f"{_num(c.delay_p90)} | {_num(c.false_alarms_per_service_week, 3)} | "
            f"{c.services_over_budget} |"
        )
    return rows


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.1%})" if whole else "-"


def _num(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"
