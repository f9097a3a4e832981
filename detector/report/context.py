"""The report's content as plain values for the template: one view per incident (facts, chart,
evidence with names instead of codes) and, when known incidents are given, how they matched.

Nothing here is HTML: the template escapes every string it is given (post texts are untrusted),
and only the charts, which this package draws, are passed through as markup.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from detector.report.data import StoredIncident
from detector.report.names import country_name, service_name, symptom_label
from detector.spikes.truth import Alarm, TruthMatch

__all__ = [
    "AlarmRow",
    "Country",
    "IncidentView",
    "Post",
    "Share",
    "TruthRow",
    "TruthView",
    "file_stem",
    "incident_view",
    "truth_view",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_TOP_COUNTRIES = 3


@dataclass(frozen=True, slots=True)
class Share:
    """A symptom, error message, feature or source and the share of reports that name it."""

    name: str
    count: int
    share: float  # 0..1; of the incident's reports


@dataclass(frozen=True, slots=True)
class Country:
    """Where located writers were: ISO code, name, reports and share of located reports."""

    code: str
    name: str
    count: int
    share: float


@dataclass(frozen=True, slots=True)
class Post:
    """A representative post; ``url`` only when it is an http(s) link (never a script)."""

    text: str
    created_at: datetime | None
    country: str | None
    country_name: str | None
    source: str | None
    url: str | None

    @property
    def details(self) -> tuple[str, ...]:
        """When (UTC), where and from which source, as far as known."""
        when = f"{self.created_at:%Y-%m-%d %H:%M} UTC" if self.created_at else None
        return tuple(part for part in (when, self.country_name, self.source) if part)


@dataclass(frozen=True, slots=True)
class IncidentView:
    """Everything the page shows of one incident.

    ``anchor`` is its element id in the page, ``png`` its chart's file name under
    ``charts/``, ``chart_svg`` the chart inline (drawn by this package, never from input).
    """

    id: str
    anchor: str
    png: str
    service: str
    service_name: str
    status: str
    severity: str
    peak_severity: str
    start: datetime
    detected_at: datetime
    end: datetime | None
    last_seen: datetime
    duration: timedelta
    delay: timedelta
    peak_at: datetime | None
    peak_observed: float
    peak_expected: float
    peak_ratio: float
    peak_window_minutes: int
    observed_total: float
    expected_total: float
    min_p_value: float
    reports: int
    located: int
    explanation: str
    symptoms: tuple[Share, ...]
    errors: tuple[Share, ...]
    features: tuple[Share, ...]
    countries: tuple[Country, ...]
    sources: tuple[Share, ...]
    posts: tuple[Post, ...]
    chart_svg: str

    @property
    def top_countries(self) -> tuple[Country, ...]:
        """The countries with the most reports, for the overview table."""
        return self.countries[:_TOP_COUNTRIES]


@dataclass(frozen=True, slots=True)
class TruthRow:
    """A known incident: found or not, by which incident, how late, how far the start was off
    (minutes; negative is early)."""

    service: str
    service_name: str
    start: datetime
    end: datetime
    found: bool
    anchor: str | None
    alarm_start: datetime | None
    detected_at: datetime | None
    delay: float | None
    start_error: float | None


@dataclass(frozen=True, slots=True)
class AlarmRow:
    """An incident that matches no known incident."""

    service: str
    service_name: str
    start: datetime
    detected_at: datetime
    end: datetime | None
    anchor: str | None


@dataclass(frozen=True, slots=True)
class TruthView:
    """Known incidents matched with what was found, with the summary figures researchers
    publish: recall, precision (when the alarms are the report's incidents), lead times."""

    rows: tuple[TruthRow, ...]
    unmatched: tuple[AlarmRow, ...]
    found: int
    known: int
    raised: int
    median_delay: float | None
    median_start_error: float | None

    @property
    def recall(self) -> float | None:
        """Share of known incidents found."""
        return self.found / self.known if self.known else None

    @property
    def precision(self) -> float | None:
        """Share of raised incidents that match a known one."""
        if not self.raised:
            return None
        return max(self.raised - len(self.unmatched), 0) / self.raised


def file_stem(incident_id: str) -> str:
    """A name safe in file names, URLs and element ids for an incident id.

    Examples
    --------
    >>> file_stem("tesla:20211119T2100Z")
    'tesla-20211119T2100Z'
    """
    return _UNSAFE.sub("-", incident_id).strip("-") or "incident"


def incident_view(stored: StoredIncident, *, stem: str, chart_svg: str) -> IncidentView:
    """The view of one stored incident; ``stem`` names its anchor and chart file."""
    incident = stored.incident
    evidence: Mapping[str, Any] = incident.evidence or {}
    reports = int(evidence.get("reports", 0))
    return IncidentView(
        id=incident.id,
        anchor=f"incident-{stem}",
        png=f"{stem}.png",
        service=incident.service,
        service_name=service_name(incident.service),
        status=incident.status,
        severity=incident.severity,
        peak_severity=incident.peak_severity,
        start=incident.start,
        detected_at=incident.detected_at,
        end=incident.end,
        last_seen=stored.last_seen,
        duration=stored.last_seen - incident.start,
        delay=incident.detected_at - incident.start,
        peak_at=incident.peak_at,
        peak_observed=incident.peak_observed,
        peak_expected=incident.peak_expected,
        peak_ratio=incident.peak_ratio,
        peak_window_minutes=incident.peak_window_minutes,
        observed_total=incident.observed_total,
        expected_total=incident.expected_total,
        min_p_value=incident.min_p_value,
        reports=reports,
        located=int(evidence.get("located", 0)),
        explanation=stored.explanation,
        symptoms=tuple(
            Share(symptom_label(s["name"]), int(s["count"]), float(s["share"]))
            for s in evidence.get("symptoms", ())
        ),
        errors=_shares(evidence.get("errors", ())),
        features=_shares(evidence.get("features", ())),
        countries=tuple(
            Country(c["country"], country_name(c["country"]), int(c["count"]), float(c["share"]))
            for c in evidence.get("countries", ())
        ),
        sources=tuple(
            Share(s["source"], int(s["count"]), int(s["count"]) / max(reports, 1))
            for s in evidence.get("sources", ())
        ),
        posts=tuple(_post(p) for p in evidence.get("posts", ())),
        chart_svg=chart_svg,
    )


def truth_view(
    matches: Sequence[TruthMatch],
    unmatched: Sequence[Alarm],
    views: Iterable[IncidentView],
) -> TruthView:
    """Known incidents and the unmatched alarms, linked to the incidents' sections."""
    anchors = {(v.service, v.start, v.detected_at): v.anchor for v in views}
    raised = len(anchors)

    def anchor(alarm: Alarm) -> str | None:
        return anchors.get((alarm.service, alarm.start, alarm.detected_at))

    rows = tuple(
        TruthRow(
            service=m.truth.service,
            service_name=service_name(m.truth.service),
            start=m.truth.start,
            end=m.truth.end,
            found=m.found,
            anchor=anchor(m.alarm) if m.alarm is not None else None,
            alarm_start=m.alarm.start if m.alarm is not None else None,
            detected_at=m.alarm.detected_at if m.alarm is not None else None,
            delay=m.delay,
            start_error=m.start_error,
        )
        for m in matches
    )
    delays = [r.delay for r in rows if r.delay is not None]
    errors = [r.start_error for r in rows if r.start_error is not None]
    return TruthView(
        rows=rows,
        unmatched=tuple(
            AlarmRow(a.service, service_name(a.service), a.start, a.detected_at, a.end, anchor(a))
            for a in sorted(unmatched, key=lambda a: (a.start, a.service))
        ),
        found=sum(r.found for r in rows),
        known=len(rows),
        raised=raised,
        median_delay=statistics.median(delays) if delays else None,
        median_start_error=statistics.median(errors) if errors else None,
    )


def _shares(items: Iterable[Mapping[str, Any]]) -> tuple[Share, ...]:
    return tuple(Share(str(i["name"]), int(i["count"]), float(i["share"])) for i in items)


def _post(data: Mapping[str, Any]) -> Post:
    created = data.get("created_at")
    country = data.get("country")
    return Post(
        text=str(data.get("text") or ""),
        created_at=datetime.fromisoformat(created) if created else None,
        country=country,
        country_name=country_name(country) if country else None,
        source=data.get("source"),
        url=_http_url(data.get("url")),
    )


def _http_url(url: Any) -> str | None:
    """``url`` when it is an http(s) link: autoescaping keeps markup out of an ``href``, but
    not a ``javascript:`` URL."""
    if not isinstance(url, str):
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in {"http", "https"} else None
