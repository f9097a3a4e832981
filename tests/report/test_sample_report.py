"""The report of the bundled sample: what an analyst reads in it, and that it is the same every
time. The replay behind it takes 20-60 s, once per session."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from detector.report import write_report
from detector.spikes.truth import Alarm, Truth, TruthMatch
from detector.store.incidents import list_incidents

if TYPE_CHECKING:
    from tests.report.conftest import Sample

pytestmark = pytest.mark.slow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _part(html: str, opening: str, closing: str = "</section>") -> str:
    """The text from ``opening`` to the next ``closing``."""
    start = html.index(opening)
    return html[start : html.index(closing, start)]


def _section(html: str, anchor: str) -> str:
    """The text of one incident's section."""
    return _part(html, f'<section class="incident" id="{anchor}">')


def test_the_tesla_incident_has_its_chart_countries_and_error_message(sample_html: str) -> None:
    tesla = _section(sample_html, "incident-tesla-20211119T2100Z")
    assert "<h2>Tesla " in tesla
    assert "<svg" in tesla and "</svg>" in tesla
    assert "&ldquo;500 server error&rdquo;" in tesla
    for code, name in [("US", "United States"), ("KR", "South Korea"), ("AU", "Australia")]:
        assert re.search(rf'<td class="code">{code}</td><td class="name">{name}</td>', tesla)
    assert "phone key" in tesla  # broken features
    assert "2021-11-19 21:06 UTC" in tesla  # detected at
    # The explanation the API gives, as of the detector's last write.
    assert "outage reports about tesla since 2021-11-19 21:00 UTC" in tesla
    assert tesla.count("<li><blockquote>") == 5  # representative posts
    assert "twitter (1,962)" in tesla  # sources


def test_the_overview_lists_every_incident_linking_to_its_section(
    sample_html: str, sample_engine: Engine
) -> None:
    incidents = list_incidents(sample_engine)
    assert {i.service for i in incidents} == {"discord", "tesla", "coinbase", "psn", "verizon"}
    overview = _part(sample_html, '<section id="incidents">')
    for incident in incidents:
        anchor = "incident-" + incident.id.replace(":", "-")
        assert f'<a href="#{anchor}">' in overview
        assert f'id="{anchor}"' in sample_html
    assert "<h2>PlayStation Network " in sample_html  # names from the catalog, not slugs
    assert "5 of 5" in sample_html


def test_every_incident_has_a_section_and_a_valid_png(
    sample_report: Path, sample_html: str, sample_engine: Engine
) -> None:
    incidents = list_incidents(sample_engine)
    pngs = sorted((sample_report.parent / "charts").glob("*.png"))
    assert [p.name for p in pngs] == sorted(f"{i.id.replace(':', '-')}.png" for i in incidents)
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 10_000
        assert f"charts/{png.name}" in sample_html
    assert sample_html.count('<section class="incident"') == len(incidents)
    assert sample_html.count("<svg") == len(incidents)


def test_the_page_is_self_contained(sample_html: str) -> None:
    assert "<script" not in sample_html.lower()
    assert "<link" not in sample_html.lower()
    assert not re.search(r"""\bsrc\s*=|url\((?!#)|@import""", sample_html)  # url(#clip) is inside
    # The only outside links are to the original posts; every element id is unique (the
    # charts are inlined side by side).
    hrefs = re.findall(r'href="([^"#][^"]*)"', sample_html)
    assert hrefs and all(h.startswith("https://twitter.com/") for h in hrefs)
    ids = re.findall(r'\sid="([^"]+)"', sample_html)
    assert len(ids) == len(set(ids))
    assert "All times are UTC." in sample_html


def test_the_header_says_what_was_analysed(sample_html: str) -> None:
    header = sample_html[: sample_html.index('<section id="incidents">')]
    assert "<code>data/samples/posts</code>" in header
    assert "45,571" in header  # posts read
    assert "12.5 s" in header
    assert re.search(r'<div class="k">Incidents</div><div class="v">5</div>', header)


def test_known_incidents_are_scored(
    sample_html: str, sample_truth: tuple[list[TruthMatch], list[Alarm]]
) -> None:
    matches, unmatched = sample_truth
    assert all(m.found for m in matches) and not unmatched
    truth = _part(sample_html, '<section id="truth">')
    assert truth.count('<span class="badge yes">found</span>') == len(matches)
    tesla = next(m for m in matches if m.truth.service == "tesla")
    row = _part(truth, '<a href="#incident-tesla-20211119T2100Z">', "</tr>")
    assert "2021-11-19 20:58" in row  # known start
    assert f"{tesla.delay:.0f} min" in row and f"{tesla.start_error:+.0f} min" in row
    assert "Incidents matching no known incident" in truth
    assert "None: every incident found matches a known one." in truth


def test_missed_and_unmatched_incidents_are_shown(
    sample_engine: Engine,
    sample_truth: tuple[list[TruthMatch], list[Alarm]],
    tmp_path: Path,
) -> None:
    # Known incidents without coinbase: its incident matches nothing (worked out from the
    # store when not given); a known outage nothing was raised for is missed.
    matches, _ = sample_truth
    kept = [m for m in matches if m.truth.service != "coinbase"]
    missed = TruthMatch(Truth("zoom", matches[0].truth.start, matches[0].truth.end), None)
    page = write_report(sample_engine, tmp_path, title="t", truth=[*kept, missed])
    html = page.read_text(encoding="utf-8")
    truth = _part(html, '<section id="truth">')
    assert '<span class="badge no">missed</span>' in truth
    assert "4 of 5" in truth
    unmatched = truth[truth.index('<table class="unmatched">') :]
    assert '<a href="#incident-coinbase-20211120T1405Z">Coinbase</a>' in unmatched
    assert "80%" in truth  # precision: 4 of the 5 incidents match a known one


def test_the_same_store_gives_the_same_bytes(
    sample_engine: Engine,
    sample_report: Path,
    sample: Sample,
    sample_truth: tuple[list[TruthMatch], list[Alarm]],
    tmp_path: Path,
) -> None:
    matches, unmatched = sample_truth
    again = write_report(
        sample_engine,
        tmp_path,
        title="Sample report",
        inputs=sample.inputs,
        truth=matches,
        unmatched=unmatched,
    )
    assert again.read_bytes() == sample_report.read_bytes()
    first = sample_report.parent / "charts"
    for png in (tmp_path / "charts").iterdir():
        assert png.read_bytes() == (first / png.name).read_bytes(), png.name
