"""Writing the analyst's report: ``report.html`` (one self-contained page: styles and charts
inline, no script, nothing fetched) and ``charts/<incident>.png``.

The page is rendered by Jinja2 with autoescaping on: post texts, service names and every other
value from the store are escaped; only the SVG charts this package draws go in as markup. The
same store (and the same arguments) gives the same bytes, so reports can be diffed and cached.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import Engine

from detector.report.charts import render_chart
from detector.report.context import IncidentView, file_stem, incident_view, truth_view
from detector.report.data import (
    BUCKET_MINUTES,
    CONTEXT,
    ReportInputs,
    StoredIncident,
    chart_series,
    read_incidents,
    scored_range,
)
from detector.report.names import service_name
from detector.spikes.truth import Alarm, TruthMatch, match_truth

__all__ = ["render_html", "write_report"]

log = logging.getLogger(__name__)

_TOP_COUNTRIES = 10  # ranked in the table; the rest folded under it


def write_report(
    engine: Engine,
    out_dir: Path,
    *,
    title: str,
    inputs: ReportInputs | None = None,
    truth: Sequence[TruthMatch] | None = None,
    unmatched: Sequence[Alarm] | None = None,
) -> Path:
    """Write the report on every incident of the store at ``engine`` into ``out_dir``.

    Parameters
    ----------
    engine
        A store (``SqlStore(...).engine``) after detection: its incidents and scores.
    out_dir
        Created if needed; receives ``report.html`` and ``charts/<service>-<start>.png`` (the
        incident id with ``:`` made ``-``). Files already there are overwritten, no others
        removed.
    title
        The page's title.
    inputs
        What was analysed, for the header.
    truth
        Known incidents matched with what was found (``match_truth``): adds the scoring
        section.
    unmatched
        The incidents that match no known incident, as ``match_truth`` returned them; when
        ``truth`` is given without it, they are worked out from the store's incidents.

    Returns
    -------
    Path
        The path of ``report.html``.

    Examples
    --------
    >>> import tempfile
    >>> from detector.store.sql import SqlStore
    >>> store = SqlStore("sqlite://")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     page = write_report(store.engine, Path(folder), title="Nothing yet")
    ...     "No incidents were found" in page.read_text(encoding="utf-8")
    True
    >>> store.close()
    """
    charts = out_dir / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    stored = read_incidents(engine)
    data_range = scored_range(engine)
    views = []
    stems: set[str] = set()
    for item in stored:
        stem = _unique(file_stem(item.incident.id), stems)
        view, png = _incident(engine, item, data_range, stem)
        (charts / view.png).write_bytes(png)
        views.append(view)
    if truth is not None and unmatched is None:
        unmatched = _unmatched(truth, stored, data_range)
    page = render_html(
        title=title,
        inputs=inputs or ReportInputs(),
        views=views,
        truth=truth,
        unmatched=unmatched or (),
        data_range=data_range,
    )
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8", newline="\n")
    log.info("wrote %s: %d incidents", path, len(views))
    return path


def render_html(
    *,
    title: str,
    inputs: ReportInputs,
    views: Sequence[IncidentView],
    truth: Sequence[TruthMatch] | None,
    unmatched: Sequence[Alarm],
    data_range: tuple[datetime, datetime] | None,
) -> str:
    """The page for these incident views (see ``write_report``)."""
    template = _environment().get_template("report.html.j2")
    first = inputs.first or (data_range[0] if data_range else None)
    last = inputs.last or (data_range[1] if data_range else None)
    return template.render(
        title=title,
        inputs=inputs,
        first=first,
        last=last,
        range_from_posts=inputs.first is not None or inputs.last is not None,
        incidents=views,
        services=sorted({v.service_name for v in views}),
        truth=truth_view(truth, unmatched, views) if truth is not None else None,
        bucket_minutes=BUCKET_MINUTES,
        top_countries=_TOP_COUNTRIES,
        context_hours=int(CONTEXT / timedelta(hours=1)),
        version=_version(),
    )


def _incident(
    engine: Engine,
    stored: StoredIncident,
    data_range: tuple[datetime, datetime] | None,
    stem: str,
) -> tuple[IncidentView, bytes]:
    incident = stored.incident
    series = chart_series(engine, stored, data_range)
    chart = render_chart(
        series,
        title=f"{service_name(incident.service)}: reports vs expected (UTC)",
        start=incident.start,
        end=stored.last_seen,
        detected_at=incident.detected_at,
        salt=stem,
    )
    return incident_view(stored, stem=stem, chart_svg=chart.svg), chart.png


def _unmatched(
    truth: Sequence[TruthMatch],
    stored: Sequence[StoredIncident],
    data_range: tuple[datetime, datetime] | None,
) -> list[Alarm]:
    alarms = [
        Alarm(s.incident.service, s.incident.start, s.incident.end, s.incident.detected_at)
        for s in stored
    ]
    ends = [s.last_seen for s in stored] + ([data_range[1]] if data_range else [])
    if not ends:
        return []
    _, unmatched = match_truth([m.truth for m in truth], alarms, until=max(ends))
    return unmatched


def _unique(stem: str, taken: set[str]) -> str:
    candidate, n = stem, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}"
    taken.add(candidate)
    return candidate


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("detector.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        when=_when,
        hm=_hm,
        duration=_duration,
        pct=_pct,
        num=_num,
        amount=_amount,
        minutes=_minutes,
        svg=Markup,
    )
    return env


def _when(at: datetime | None) -> str:
    return "" if at is None else f"{at:%Y-%m-%d %H:%M}"


def _hm(at: datetime | None) -> str:
    return "" if at is None else f"{at:%H:%M}"


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def _pct(share: float) -> str:
    percent = share * 100
    return f"{percent:.0f}%" if percent >= 1 or percent == 0 else "<1%"


def _num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def _amount(value: float) -> str:
    """An expected count: small baselines keep two significant digits (0.017, not 0.0)."""
    if value >= 10:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _minutes(value: float | None) -> str:
    return "" if value is None else f"{value:+.0f} min"


def _version() -> str:
    try:
        return version("outage-radar")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "dev"
