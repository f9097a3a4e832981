"""Incident lifecycle: open on ``problems``, follow while it lasts, resolve after calm, reopen on
relapse.

An incident opens when a service's state becomes ``problems``; its start is back-dated to where
the excess over baseline began (the start of the run of buckets whose summed excess is largest).
While open it tracks the peak, totals and severity; it resolves once the service has been calm
(state ``ok`` and near baseline) for ``resolve_after_minutes``, its end being when the calm
began; if problems return within ``reopen_within_minutes`` of the end, the same incident
reopens. Every change is an :class:`IncidentEvent` (what webhooks deliver).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from detector.spikes.engine import BucketScore, State

__all__ = ["Incident", "IncidentConfig", "IncidentEvent", "IncidentTracker", "SeriesPoint"]

_SEVERITIES = ("minor", "major", "critical")
EventType = Literal["incident.opened", "incident.updated", "incident.resolved"]


@dataclass(frozen=True, slots=True)
class IncidentConfig:
    """Lifecycle timing.

    Parameters
    ----------
    resolve_after_minutes
        Calm minutes before an incident resolves (hysteresis against flapping).
    reopen_within_minutes
        A relapse this soon after the end reopens the incident instead of opening a new one.
    calm_ratio, calm_reports, calm_score
        A bucket is calm when the state is ``ok`` and either the excess is no longer
        significant (score below ``calm_score``), or observed/expected is below
        ``calm_ratio``, or fewer than ``calm_reports`` reports are in the window.
    lookback_minutes
        How far back the start may be back-dated, and how much series before it is kept.
    critical_ratio
        Observed/expected from which ``problems`` is ``critical`` rather than ``major``.
    """

    resolve_after_minutes: int = 30
    reopen_within_minutes: int = 60
    calm_ratio: float = 1.5
    calm_reports: int = 3
    calm_score: float = 0.2
    lookback_minutes: int = 120
    critical_ratio: float = 10.0


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One bucket of an incident's chart: complaints seen and expected."""

    at: datetime
    observed: float
    expected: float


@dataclass(slots=True)
class Incident:
    """One outage of one service, as the detector sees it (evidence is attached by the pipeline).

    ``severity`` is ``minor`` (possible problems), ``major`` (problems) or ``critical``
    (problems at ``critical_ratio`` times baseline or more).
    """

    id: str
    service: str
    start: datetime
    detected_at: datetime
    status: Literal["open", "resolved"] = "open"
    end: datetime | None = None
    severity: str = "major"
    peak_severity: str = "major"
    peak_at: datetime | None = None
    peak_observed: float = 0.0
    peak_expected: float = 0.0
    peak_window_minutes: int = 1
    min_p_value: float = 1.0
    max_score: float = 0.0
    observed_total: float = 0.0
    expected_total: float = 0.0
    reopened: int = 0
    series: list[SeriesPoint] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def peak_ratio(self) -> float:
        """Observed / expected over the window of the peak."""
        return self.peak_observed / max(self.peak_expected, 1e-9)

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        """The incident as JSON-able data (API, webhooks, ``incidents.json``); with ``now``, the
        explanation is included."""
        data: dict[str, Any] = {
            "id": self.id,
            "service": self.service,
            "status": self.status,
            "severity": self.severity,
            "peak_severity": self.peak_severity,
            "start": self.start.isoformat(),
            "detected_at": self.detected_at.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "peak": {
                "at": self.peak_at.isoformat() if self.peak_at else None,
                "observed": self.peak_observed,
                "expected": round(self.peak_expected, 3),
                "ratio": round(self.peak_ratio, 2),
                "window_minutes": self.peak_window_minutes,
            },
            "min_p_value": self.min_p_value,
            "confidence": round(self.max_score, 3),
            "observed_total": self.observed_total,
            "expected_total": round(self.expected_total, 3),
            "reopened": self.reopened,
            "series": [
                {"at": p.at.isoformat(), "observed": p.observed, "expected": round(p.expected, 4)}
                for p in self.series
            ],
            "evidence": self.evidence,
        }
        if now is not None:
            data["explanation"] = self.explanation(now)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        """Rebuild an incident from ``as_dict`` output."""
        peak = data["peak"]
        return cls(
            id=data["id"],
            service=data["service"],
            start=datetime.fromisoformat(data["start"]),
            detected_at=datetime.fromisoformat(data["detected_at"]),
            status=data["status"],
            end=datetime.fromisoformat(data["end"]) if data["end"] else None,
            severity=data["severity"],
            peak_severity=data["peak_severity"],
            peak_at=datetime.fromisoformat(peak["at"]) if peak["at"] else None,
            peak_observed=peak["observed"],
            peak_expected=peak["expected"],
            peak_window_minutes=peak["window_minutes"],
            min_p_value=data["min_p_value"],
            max_score=data["confidence"],
            observed_total=data["observed_total"],
            expected_total=data["expected_total"],
            reopened=data["reopened"],
            series=[
                SeriesPoint(datetime.fromisoformat(p["at"]), p["observed"], p["expected"])
                for p in data["series"]
            ],
            evidence=dict(data["evidence"]),
        )

    def duration(self, now: datetime) -> timedelta:
        """How long it lasted, or has lasted until ``now``."""
        return (self.end or now) - self.start

    def explanation(self, now: datetime) -> str:
        """Why it fired, in one plain paragraph."""
        minutes = int(self.duration(now).total_seconds() // 60)
        window = self.peak_window_minutes
        status = (
            f"resolved at {self.end:%Y-%m-%d %H:%M} UTC after {minutes} min"
            if self.end
            else f"ongoing for {minutes} min"
        )
        return (
            f"{self.observed_total:.0f} outage reports about {self.service} since "
            f"{self.start:%Y-%m-%d %H:%M} UTC against {_amount(self.expected_total)} expected "
            f"for those hours. Peak at {_hm(self.peak_at)} UTC: {self.peak_observed:.0f} "
            f"reports in {window} min where {_amount(self.peak_expected)} were expected "
            f"({self.peak_ratio:.0f}x, p = {self.min_p_value:.1e}). Detected at "
            f"{self.detected_at:%H:%M} UTC; {status}; severity {self.severity} "
            f"(at worst {self.peak_severity}).{_gaps_sentence(self.evidence)}"
        )


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """A change to an incident, in the order it happened."""

    type: EventType
    incident: Incident
    at: datetime
    change: str


class IncidentTracker:
    """Turns each step's bucket scores into incident events; one tracker for all services."""

    def __init__(self, step_minutes: int = 1, config: IncidentConfig | None = None) -> None:
        self.config = config or IncidentConfig()
        self.step = timedelta(minutes=step_minutes)
        self.open: dict[str, Incident] = {}
        self.resolved: dict[str, Incident] = {}  # the last resolved one per service, to reopen
        self._calm_since: dict[str, datetime] = {}
        self._history: dict[str, deque[BucketScore]] = {}
        self._severity_seen: dict[str, deque[tuple[datetime, str]]] = {}

    def to_state(self) -> dict[str, Any]:
        """Everything needed to continue after a restart, as JSON-able data."""
        return {
            "open": [_exact_dict(i) for i in self.open.values()],
            "resolved": [_exact_dict(i) for i in self.resolved.values()],
            "calm_since": {k: v.isoformat() for k, v in self._calm_since.items()},
            "history": {k: [_score_dict(s) for s in h] for k, h in self._history.items()},
            "severity_seen": {
                k: [[at.isoformat(), sev] for at, sev in seen]
                for k, seen in self._severity_seen.items()
            },
        }

    @classmethod
    def from_state(
        cls, data: Mapping[str, Any], step_minutes: int = 1, config: IncidentConfig | None = None
    ) -> IncidentTracker:
        """Rebuild a tracker saved with ``to_state``."""
        tracker = cls(step_minutes, config)
        tracker.open = {d["service"]: Incident.from_dict(d) for d in data["open"]}
        tracker.resolved = {d["service"]: Incident.from_dict(d) for d in data["resolved"]}
        tracker._calm_since = {k: datetime.fromisoformat(v) for k, v in data["calm_since"].items()}
        keep = max(1, int(tracker.config.lookback_minutes / step_minutes))
        tracker._history = {
            k: deque((_score_from(s) for s in h), maxlen=keep) for k, h in data["history"].items()
        }
        tracker._severity_seen = {
            k: deque((datetime.fromisoformat(at), sev) for at, sev in seen)
            for k, seen in data["severity_seen"].items()
        }
        return tracker

    def update(self, at: datetime, scores: list[BucketScore]) -> list[IncidentEvent]:
        """Take the scores of the bucket starting at ``at`` (hot series only: a service with
        no score is quiet) and return what changed."""
        events: list[IncidentEvent] = []
        by_key = {s.key: s for s in scores}
        keep = max(1, int(self.config.lookback_minutes / (self.step.total_seconds() / 60)))
        for score in scores:
            self._history.setdefault(score.key, deque(maxlen=keep)).append(score)
        for key in list(self._history):  # a quiet bucket is a zero, not a gap
            history = self._history[key]
            if key not in by_key:
                if history[-1].at <= at - self.step * keep:
                    del self._history[key]
                    continue
                history.append(_quiet(history[-1], at))
        for key, score in by_key.items():
            if score.state == State.PROBLEMS and key not in self.open:
                events.append(self._open_or_reopen(key, score))
        for key in list(self.open):
            events.extend(self._follow(key, at, by_key.get(key)))
        return events

    def _open_or_reopen(self, key: str, score: BucketScore) -> IncidentEvent:
        detected = score.at + self.step
        last = self.resolved.get(key)
        window = timedelta(minutes=self.config.reopen_within_minutes)
        if last is not None and last.end is not None and score.at - last.end <= window:
            incident = replace(last, status="open", end=None, reopened=last.reopened + 1)
            incident.series = list(last.series)
            self.open[key] = incident
            del self.resolved[key]
            self._calm_since.pop(key, None)
            return IncidentEvent("incident.updated", incident, detected, "reopened")
        history = list(self._history.get(key, ()))
        start = _excess_start(history) or score.at
        incident = Incident(
            id=f"{key}:{start:%Y%m%dT%H%MZ}",
            service=key,
            start=start,
            detected_at=detected,
            severity=self._severity(score),
            peak_severity=self._severity(score),
        )
        for past in history:
            if past.at < score.at:
                self._add_point(incident, past, count=past.at >= start)
        self.open[key] = incident
        self._severity_seen[key] = deque()
        return IncidentEvent("incident.opened", incident, detected, "opened")

    def _follow(self, key: str, at: datetime, score: BucketScore | None) -> list[IncidentEvent]:
        incident = self.open[key]
        cfg = self.config
        if score is None:  # quiet: nothing reported within the longest window
            incident.series.append(SeriesPoint(at, 0.0, _last_expected(incident)))
            calm = True
        else:
            self._add_point(incident, score, count=True)
            # Calm: no alarm, and either no longer significant (a busy service's minute is
            # often 1.5x its baseline by chance), near baseline, or down to a few stray reports
            # (a service whose baseline is near zero is never within 1.5x of it while anyone
            # posts).
            calm = score.state == State.OK and (
                score.score < cfg.calm_score
                or score.ratio < cfg.calm_ratio
                or score.window_observed < cfg.calm_reports
            )
        if not calm:
            self._calm_since.pop(key, None)
        else:
            self._calm_since.setdefault(key, at)
        events = []
        if score is not None and score.state != State.OK:
            severity = self._recent_severity(key, at, self._severity(score))
            if severity != incident.severity:
                change = f"severity {incident.severity} -> {severity}"
                incident.severity = severity
                if _SEVERITIES.index(severity) > _SEVERITIES.index(incident.peak_severity):
                    incident.peak_severity = severity
                events.append(IncidentEvent("incident.updated", incident, at + self.step, change))
        calm_since = self._calm_since.get(key)
        if calm_since is not None and at + self.step - calm_since >= timedelta(
            minutes=cfg.resolve_after_minutes
        ):
            incident.status = "resolved"
            incident.end = _excess_end(incident, calm_since, self.step) + self.step
            del self.open[key]
            self.resolved[key] = incident
            del self._calm_since[key]
            events.append(IncidentEvent("incident.resolved", incident, at + self.step, "resolved"))
        return events

    def _add_point(self, incident: Incident, score: BucketScore, *, count: bool) -> None:
        incident.series.append(SeriesPoint(score.at, score.observed, score.expected))
        if not count:
            return
        incident.observed_total += score.observed
        incident.expected_total += score.expected
        if score.p_value < incident.min_p_value:
            incident.min_p_value = score.p_value
            incident.max_score = score.score
        if score.window_observed > incident.peak_observed:
            incident.peak_at = score.at
            incident.peak_observed = score.window_observed
            incident.peak_expected = score.window_expected
            incident.peak_window_minutes = score.window_minutes

    def _severity(self, score: BucketScore) -> str:
        if score.state == State.PROBLEMS:
            return "critical" if score.ratio >= self.config.critical_ratio else "major"
        return "minor"

    def _recent_severity(self, key: str, at: datetime, severity: str) -> str:
        """The highest severity of the last 10 minutes: upgrades are immediate, downgrades wait
        until they have held for 10 minutes (no flapping webhooks)."""
        seen = self._severity_seen.setdefault(key, deque())
        seen.append((at, severity))
        while seen and seen[0][0] <= at - timedelta(minutes=10):
            seen.popleft()
        return max((s for _, s in seen), key=_SEVERITIES.index)


def _excess_start(history: list[BucketScore]) -> datetime | None:
    """Where the burst began: the change point that best explains the recent buckets as the
    baseline before and a multiple of it after (Poisson likelihood ratio of ``k * expected``
    against ``expected`` over the buckets from the change point on). A stray report an hour
    earlier does not drag the start back (it would dilute the multiple), nor does a baseline a
    little too low for hours (a long 1.2x weighs less than a short 5x)."""
    best, best_at = 0.0, None
    suffix_obs = suffix_exp = 0.0
    for score in reversed(history):
        suffix_obs += score.observed
        suffix_exp += max(score.expected, 1e-9)
        if suffix_obs <= suffix_exp:
            continue
        llr = suffix_obs * math.log(suffix_obs / suffix_exp) - suffix_obs + suffix_exp
        if llr > best and score.observed > score.expected:
            best, best_at = llr, score.at
    return best_at


def _excess_end(incident: Incident, calm_since: datetime, step: timedelta) -> datetime:
    """The last bucket of the excess: where the summed excess (over twice the baseline) since
    the start peaks; never before the bucket in which the incident was detected."""
    best, best_at, total = -math.inf, incident.start, 0.0
    for point in incident.series:
        if incident.start <= point.at < calm_since:
            total += point.observed - 2 * point.expected
            if total > best:
                best, best_at = total, point.at
    return max(best_at, incident.detected_at - step)


def _quiet(last: BucketScore, at: datetime) -> BucketScore:
    # Built directly: ``dataclasses.replace`` is generic and slow, and this runs for every
    # series followed, every minute.
    return BucketScore(
        last.key,
        at,
        0.0,
        last.expected,
        last.window_minutes,
        0.0,
        last.window_expected,
        1.0,
        0.0,
        State.OK,
    )


def _exact_dict(incident: Incident) -> dict[str, Any]:
    # ``as_dict`` rounds for display; a saved state must restore the very numbers, or every
    # restart (the server saves and reloads at each detection run) would drift the figures.
    data = incident.as_dict()
    data["peak"]["expected"] = incident.peak_expected
    data["confidence"] = incident.max_score
    data["expected_total"] = incident.expected_total
    data["series"] = [
        {"at": p.at.isoformat(), "observed": p.observed, "expected": p.expected}
        for p in incident.series
    ]
    return data


def _score_dict(score: BucketScore) -> dict[str, Any]:
    return {
        "key": score.key,
        "at": score.at.isoformat(),
        "observed": score.observed,
        "expected": score.expected,
        "window_minutes": score.window_minutes,
        "window_observed": score.window_observed,
        "window_expected": score.window_expected,
        "p_value": score.p_value,
        "score": score.score,
        "state": int(score.state),
    }


def _score_from(data: Mapping[str, Any]) -> BucketScore:
    return BucketScore(
        **{**data, "at": datetime.fromisoformat(data["at"]), "state": State(data["state"])}
    )


def _last_expected(incident: Incident) -> float:
    return incident.series[-1].expected if incident.series else 0.0


def _amount(value: float) -> str:
    """An expected count for people: one decimal, or two significant digits below 1 (a quiet
    service expects 0.017 reports a minute, not "0.0").

    >>> _amount(12.345), _amount(0.01734), _amount(0.0)
    ('12.3', '0.017', '0')
    """
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


def _gaps_sentence(evidence: Mapping[str, Any]) -> str:
    """What the explanation says about live sources that were silent or failing meanwhile
    (``evidence["source_gaps"]``, see ``detector.store.sources``): their posts are missing
    from the counts, so quiet there is not evidence that the service works."""
    gaps = evidence.get("source_gaps") or []
    if not gaps:
        return ""
    spans = []
    for gap in gaps:
        began = datetime.fromisoformat(gap["started_at"])
        ended = datetime.fromisoformat(gap["ended_at"]) if gap.get("ended_at") else None
        until = f" to {ended:%Y-%m-%d %H:%M} UTC" if ended else ", still"
        spans.append(f"{gap['source']} {gap['status']} from {began:%Y-%m-%d %H:%M} UTC{until}")
    return (
        " Not every source was reporting, so the counts may be too low: " + "; ".join(spans) + "."
    )


def _hm(at: datetime | None) -> str:
    return "--:--" if at is None else f"{at:%H:%M}"
