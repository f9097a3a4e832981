"""Reports of small stores written by hand: hostile post texts, no incidents, an incident still
open, an incident without stored scores."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from detector.report import ReportInputs, write_report
from detector.spikes.truth import Truth, TruthMatch
from detector.store.sql import SqlStore
from tests.report.builders import START, make_incident, put_incident, put_scores

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = '<script>alert("owned")</script><img src=x onerror=alert(1)> & "quotes"'


def _scores_around(store: SqlStore, service: str, hours: int = 3) -> None:
    """A quiet baseline for ``hours`` before START, then a burst for an hour."""
    rows = []
    for minute in range(-hours * 60, 60):
        at = START + timedelta(minutes=minute)
        burst = minute >= 0
        rows.append((at, 12.0 if burst else float(minute % 20 == 0), 0.1, 2 if burst else 0))
    put_scores(store.engine, service, rows)


def test_post_texts_and_other_stored_strings_are_escaped(
    small_store: SqlStore, tmp_path: Path
) -> None:
    evidence = make_incident().evidence | {
        "errors": [{"name": "<b>500</b>", "count": 3, "share": 0.5}],
        "sources": [{"source": "<i>forum</i>", "count": 900}],
        "posts": [
            {
                "id": "forum:1",
                "text": HOSTILE,
                "created_at": START.isoformat(),
                "country": "US",
                "source": "<i>forum</i>",
                "url": "javascript:alert(1)",
            },
            {
                "id": "forum:2",
                "text": "fine",
                "created_at": None,
                "country": None,
                "source": None,
                "url": 'https://example.org/"><script>x</script>',
            },
        ],
    }
    service = "unknown:<svg onload=alert(1)>$x$"
    incident = make_incident(id=f"{service}:20211119T2100Z", service=service, evidence=evidence)
    put_incident(small_store.engine, incident, updated_at=START + timedelta(hours=3))
    _scores_around(small_store, service)

    html = write_report(small_store.engine, tmp_path, title="<title>&</title>").read_text("utf-8")

    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "<svg onload" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;&lt;img src=x" in html
    assert "&lt;title&gt;&amp;&lt;/title&gt;" in html
    assert "javascript:" not in html  # not a link at all
    assert 'href="https://example.org/&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    (png,) = (tmp_path / "charts").iterdir()
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.png", png.name)
    assert png.read_bytes().startswith(PNG_MAGIC)


def test_an_empty_store_gives_a_page_saying_nothing_was_found(
    small_store: SqlStore, tmp_path: Path
) -> None:
    page = write_report(small_store.engine, tmp_path / "out", title="Quiet week")

    html = page.read_text(encoding="utf-8")
    assert page == tmp_path / "out" / "report.html"
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert '<p class="empty">No incidents were found.</p>' in html
    assert '<section class="incident"' not in html and '<section id="truth">' not in html
    assert list((tmp_path / "out" / "charts").iterdir()) == []


def test_an_empty_store_with_known_incidents_misses_them_all(
    small_store: SqlStore, tmp_path: Path
) -> None:
    known = Truth("tesla", START, START + timedelta(hours=5))
    inputs = ReportInputs(first=START - timedelta(days=1), last=START + timedelta(days=1))

    page = write_report(
        small_store.engine, tmp_path, title="t", inputs=inputs, truth=[TruthMatch(known, None)]
    )

    html = page.read_text(encoding="utf-8")
    assert "No incidents were found from 2021-11-18 21:00 to 2021-11-20 21:00 UTC." in html
    assert '<span class="badge no">missed</span>' in html
    assert "0 of 1" in html


def test_an_open_incident_is_shown_until_the_last_write(
    small_store: SqlStore, tmp_path: Path
) -> None:
    incident = make_incident(status="open", end=None, severity="major")
    put_incident(small_store.engine, incident, updated_at=START + timedelta(minutes=59))
    _scores_around(small_store, "tesla")

    html = write_report(small_store.engine, tmp_path, title="t").read_text("utf-8")

    assert "59 min (open)" in html
    assert '<span class="k">Still open at</span>2021-11-19 21:59 UTC' in html
    assert "ongoing for 59 min" in html  # the explanation, as of the last write


def test_without_stored_scores_the_incident_series_is_charted(
    small_store: SqlStore, tmp_path: Path
) -> None:
    from detector.spikes.incidents import SeriesPoint

    series = [
        SeriesPoint(START + timedelta(minutes=m), 10.0 if m >= 0 else 0.0, 0.2)
        for m in range(-120, 120)
    ]
    put_incident(
        small_store.engine, make_incident(series=series), updated_at=START + timedelta(hours=3)
    )

    html = write_report(small_store.engine, tmp_path, title="t").read_text("utf-8")

    assert html.count("<svg") == 1
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert "detected 21:06" in chart
    assert (tmp_path / "charts" / "tesla-20211119T2100Z.png").stat().st_size > 5_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"posts_read": -1}, "posts_read must not be negative"),
        ({"last": START, "first": START + timedelta(minutes=1)}, "last must not be before"),
        ({"generated_at": START.replace(tzinfo=None)}, "generated_at must be timezone-aware"),
    ],
)
def test_report_inputs_are_checked(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReportInputs(**fields)  # type: ignore[arg-type]


def test_a_given_generation_time_is_stated(small_store: SqlStore, tmp_path: Path) -> None:
    inputs = ReportInputs(generated_at=START, paths=(Path("a.jsonl"), Path("b.jsonl")))

    html = write_report(small_store.engine, tmp_path, title="t", inputs=inputs).read_text("utf-8")

    assert "Generated 2021-11-19 21:00 UTC." in html
    assert "<code>a.jsonl</code>, <code>b.jsonl</code>" in html
