"""An incident's chart, as on Downdetector's service pages: reports per bucket as bars coloured
by the detector's state, the expected baseline as a line, the incident's span shaded and the
moment it was detected marked. Drawn once, written as SVG (for the page) and PNG (to embed
elsewhere).

Charts are byte-for-byte reproducible: the figure is made on the Agg canvas without pyplot (no
global figure state, no display), within fixed rc settings (fonts, the SVG hash salt, text kept
as text), and neither file carries a date or the software's name.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from detector.report.data import ChartSeries

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["Chart", "STATE_COLORS", "render_chart"]

#: Bar colours of the states ok, possible problems and problems.
STATE_COLORS = ("#8da4bf", "#f2a007", "#d7263d")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXPECTED = "#1b2a41"
_SPAN = "#d7263d"
_SIZE = (9.0, 3.4)  # inches
_PNG_DPI = 150
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_GROUP_ID = re.compile(r'<g id="[^"]*"')
_RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: the same glyphs everywhere
    "font.size": 9,
    "svg.fonttype": "none",  # text stays text: smaller, and no glyph ids shared between charts
    "svg.image_inline": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": "#333333",
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "timezone": "UTC",
    "date.epoch": "1970-01-01T00:00:00",  # what _days counts from
    "date.converter": "concise",  # ticks "12:00 ... Nov-20 ... 04:00", the day at the end
}


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart in both formats: ``svg`` (an ``<svg>`` element, no XML prolog, ready to put
    in a page) and ``png`` (file bytes)."""

    svg: str
    png: bytes


def render_chart(
    series: ChartSeries,
    *,
    title: str,
    start: datetime,
    end: datetime,
    detected_at: datetime,
    salt: str,
) -> Chart:
    """Draw ``series`` with the span ``start``-``end`` shaded and ``detected_at`` marked.

    ``salt`` seeds the SVG's element ids: give each chart of a page its own (its incident id),
    so that two charts inlined in one page share no id.

    Examples
    --------
    >>> from datetime import UTC
    >>> at = datetime(2021, 11, 19, 21, 0, tzinfo=UTC)
    >>> series = ChartSeries("tesla", at, 5, np.array([1.0, 9.0]), np.array([1.0, np.nan]),
    ...                      np.array([0, 2]))
    >>> chart = render_chart(series, title="Tesla", start=at, end=at, detected_at=at, salt="x")
    >>> chart.svg.startswith("<svg"), chart.png[:4]
    (True, b'\\x89PNG')
    """
    with matplotlib.rc_context({**_RC, "svg.hashsalt": salt, "svg.id": _svg_id(salt)}):
        figure = Figure(figsize=_SIZE, layout="constrained")
        FigureCanvasAgg(figure)
        _draw(figure, series, title, start, end, detected_at)
        svg = io.BytesIO()
        figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        png = io.BytesIO()
        figure.savefig(png, format="png", dpi=_PNG_DPI, metadata={"Software": None})
    return Chart(svg=_svg_element(svg.getvalue().decode("utf-8")), png=png.getvalue())


def _draw(
    figure: Figure,
    series: ChartSeries,
    title: str,
    start: datetime,
    end: datetime,
    detected_at: datetime,
) -> None:
    ax = figure.add_subplot()
    ax.xaxis_date()
    starts = _days(series.since) + np.arange(len(series.observed)) * series.bucket_minutes / 1440
    width = series.bucket_minutes / 1440
    colors = [STATE_COLORS[min(max(int(s), 0), 2)] for s in series.states]
    ax.bar(starts, series.observed, width=width, align="edge", color=colors, linewidth=0)
    # The baseline as a step line over each bucket (NaN leaves a gap where none is known).
    edges = np.append(starts, _days(series.until))
    expected = np.append(series.expected, series.expected[-1:])
    ax.step(edges, expected, where="post", color=_EXPECTED, linewidth=1.4)
    ax.axvspan(_days(start), _days(end), color=_SPAN, alpha=0.10, linewidth=0)
    ax.axvline(_days(detected_at), color=_EXPECTED, linestyle=(0, (3, 2)), linewidth=1.0)
    ax.annotate(
        f"detected {detected_at:%H:%M}",
        xy=(_days(detected_at), 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -2),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=8,
        color=_EXPECTED,
    )
    top = np.nanmax(np.concatenate([series.observed, series.expected, [1.0]]))
    ax.set_ylim(0, top * 1.12)
    ax.set_xlim(_days(series.since), _days(series.until))
    ax.set_ylabel(f"reports per {series.bucket_minutes} min")
    ax.xaxis.get_offset_text().set_visible(False)  # the label says the dates
    ax.set_xlabel(f"{series.since:%Y-%m-%d %H:%M} to {series.until:%Y-%m-%d %H:%M} UTC")
    ax.grid(axis="y", color="#e3e7ec", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_title(title.replace("$", r"\$"), loc="left", fontsize=10, fontweight="bold")
    ax.legend(
        handles=[
            Patch(color=STATE_COLORS[0], label="reports"),
            Patch(color=STATE_COLORS[1], label="possible problems"),
            Patch(color=STATE_COLORS[2], label="problems"),
            Line2D([], [], color=_EXPECTED, linewidth=1.4, label="expected"),
            Patch(color=_SPAN, alpha=0.15, label="incident"),
        ],
        loc="upper right",
        fontsize=8,
        frameon=False,
        ncols=5,
        bbox_to_anchor=(1.0, 1.13),
        handlelength=1.2,
        columnspacing=1.0,
    )


def _days(at: datetime) -> float:
    """``at`` as matplotlib's date number: days since ``date.epoch`` (1970-01-01 UTC)."""
    return (at - _EPOCH) / timedelta(days=1)


def _svg_id(salt: str) -> str:
    return "chart-" + "".join(c if c.isalnum() else "-" for c in salt)


def _svg_element(document: str) -> str:
    """The ``<svg>`` element of an SVG document, to inline in a page: without the XML prolog and
    the metadata, and without the ids of groups (``figure_1``, ``axes_1``: the same in every
    chart, and nothing refers to them; the ids that are referred to are salted)."""
    element = document[document.index("<svg") :].strip()
    element = _METADATA.sub("", element)
    return _GROUP_ID.sub("<g", element)
