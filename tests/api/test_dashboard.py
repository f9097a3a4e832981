"""The dashboard at ``/``, in a real browser: Debian's Chromium driven by Playwright against a
server on loopback that holds the replayed sample.

The server runs its jobs (detection every half second) and the page polls every second, so a
spike pushed through the API during a test shows up on the open page without a reload.
Screenshots of every view go to ``$OUTAGE_RADAR_TEST_ARTIFACTS/dashboard`` (default
``test-artifacts/dashboard``) for people to look at.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from api.app import create_app
from detector.config import Settings
from detector.ingest.live.manager import SOURCES_LEASE
from detector.ingest.live.registry import build_source
from detector.ingest.live.settings import FeedSettings
from detector.nlp.analyzer import Analyzer
from detector.store.apikeys import create_api_key
from detector.store.leases import acquire_lease
from detector.store.sources import open_gap, save_health
from detector.store.sql import SqlStore
from tests.api.conftest import LiveServer, serve_app
from tests.ingest.live.forum_server import Forum
from tests.processes import wait_for

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("OUTAGE_RADAR_TEST_ARTIFACTS", "test-artifacts")) / "dashboard"
TIMEOUT_MS = 20_000

# Assertions wait up to this long too (Playwright's default is 5 s; CI machines can be slower).
expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Dashboard:
    """A running server holding the sample, and a key to push posts to it."""

    url: str
    token: str
    as_of: datetime


@pytest.fixture(scope="module")
def dashboard(
    sample_db: str, analyzer: Analyzer, tmp_path_factory: pytest.TempPathFactory, forum: Forum
) -> Iterator[Dashboard]:
    """A server of its own on a copy of the sample (the tests push posts into it)."""
    with _serve_sample(sample_db, analyzer, tmp_path_factory.mktemp("dashboard"), forum) as served:
        yield served


@pytest.fixture(scope="module")
def standby(
    sample_db: str, analyzer: Analyzer, tmp_path_factory: pytest.TempPathFactory, forum: Forum
) -> Iterator[Dashboard]:
    """A server whose live sources another server process reads, one of them failing."""

    def elsewhere(store: SqlStore) -> None:
        now = datetime.now(UTC)
        acquire_lease(store.engine, SOURCES_LEASE, "radar-1.test:101", now, timedelta(hours=1))
        open_gap(store.engine, "owners-forum", "feed", "failing", now, "HTTP 503")
        open_gap(store.engine, "bluesky", "jetstream", "silent", now, "no posts since 10:00")
        # What the reader last reported of the forum (this server's own copy never reads).
        forum_health = build_source(_forum_settings(forum)).health()
        failing = dataclasses.replace(
            forum_health, status="failing", errors=9, last_error="HTTP 503", as_of=now
        )
        save_health(
            store.engine,
            "radar-1.test:101",
            {"owners-forum": ("feed", failing.as_dict())},
            now,
        )

    folder = tmp_path_factory.mktemp("standby")
    with _serve_sample(sample_db, analyzer, folder, forum, prepare=elsewhere) as served:
        yield served


def _forum_settings(forum: Forum) -> FeedSettings:
    """A forum whose feed is gone: the source fails (and adds no posts to the sample)."""
    return FeedSettings(
        name="owners-forum",
        url=f"{forum.base}/gone.rss",
        interval_seconds=0.2,
        backoff_seconds=0.05,
        max_backoff_seconds=0.2,
        failing_after_errors=2,
    )


@contextmanager
def _serve_sample(
    sample_db: str,
    analyzer: Analyzer,
    folder: Path,
    forum: Forum,
    prepare: Callable[[SqlStore], None] | None = None,
) -> Iterator[Dashboard]:
    source = Path(sample_db.removeprefix("sqlite:///"))
    shutil.copy(source, folder / "radar.db")
    url = f"sqlite:///{folder / 'radar.db'}"
    store = SqlStore(url)
    try:
        _, token = create_api_key(store.engine, "dashboard-test", datetime.now(UTC))
        if prepare is not None:
            prepare(store)
    finally:
        store.close()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("OUTAGE_RADAR_"):
                patch.delenv(name)
        settings = Settings(
            database_url=url,
            quarantine_path=folder / "quarantine.jsonl",
            jobs_interval_seconds=0.5,
            delivery_interval_seconds=0.5,
            dashboard_refresh_seconds=1,
            sources=[_forum_settings(forum)],
        )
    server: LiveServer
    with serve_app(create_app(settings, analyzer=analyzer)) as server:
        as_of = httpx.get(f"{server.url}/v1/services", timeout=30).json()["as_of"]
        yield Dashboard(server.url, token, datetime.fromisoformat(as_of))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def forum() -> Iterator[Forum]:
    with Forum().running() as running:
        yield running


@pytest.fixture
def open_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Opens pages (viewport, zone) whose script errors fail the test; each page is
    screenshotted when the test ends."""
    pages: list[tuple[Page, list[str]]] = []

    def opener(
        url: str,
        *,
        zone: str = "UTC",
        viewport: tuple[int, int] = (1280, 900),
        mobile: bool = False,
    ) -> Page:
        context = browser.new_context(
            locale="en-GB",
            timezone_id=zone,
            viewport={"width": viewport[0], "height": viewport[1]},
            is_mobile=mobile,
            has_touch=mobile,
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: _console_error(message, errors))
        page.goto(url)
        pages.append((page, errors))
        return page

    yield opener
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for number, (page, errors) in enumerate(pages):
        page.screenshot(path=ARTIFACTS / f"{request.node.name}-{number}.png", full_page=True)
        page.context.close()
        assert not errors, f"the page reported errors: {errors}"


def _console_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)


def test_the_page_is_served_with_its_assets_and_a_strict_policy(dashboard):
    page = httpx.get(f"{dashboard.url}/", timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<meta name="refresh-seconds" content="1">' in page.text
    assets = [("app.js", "javascript"), ("charts.js", "javascript"), ("style.css", "css")]
    for asset, kind in assets:
        answer = httpx.get(f"{dashboard.url}/static/{asset}", timeout=30)
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
    assert "/" not in httpx.get(f"{dashboard.url}/openapi.json", timeout=30).json()["paths"]


def test_the_overview_ranks_services_and_lists_the_tesla_incident(dashboard, open_page):
    page = open_page(f"{dashboard.url}/")
    tesla = page.locator("tr[data-incident]", has_text="Tesla").first
    expect(tesla).to_be_visible()
    expect(tesla).to_contain_text("US")
    expect(tesla).to_contain_text("KR")
    expect(tesla).to_contain_text("AU")
    services = page.locator("tr[data-service]")
    expect(services.first).to_be_visible()
    assert services.count() >= 5
    # Every service has its 24-hour sparkline, drawn as an SVG with a text alternative.
    expect(page.locator("tr[data-service] svg.spark").first).to_have_attribute(
        "aria-label", re.compile("reports per hour")
    )


def test_polls_keep_what_did_not_change_on_the_page(dashboard, open_page):
    """A poll redraws only the regions whose data changed: the view a reader is looking at is
    not emptied and rebuilt every second (it would flicker and lose the reader's place)."""
    page = open_page(f"{dashboard.url}/")
    expect(page.locator("tr[data-service]").first).to_be_visible()
    page.evaluate("window.__services = document.querySelector('[data-region=services]')")
    polled = page.evaluate("document.body.dataset.updated")
    # Three more polls (one a second): the sample does not change meanwhile.
    page.wait_for_function(
        "before => Number(document.body.dataset.updated) >= Number(before) + 2500", arg=polled
    )
    assert page.evaluate("window.__services.isConnected") is True
    assert page.locator("tr[data-service]").count() >= 5


def test_the_overview_warns_when_a_live_source_is_not_reporting(dashboard, open_page):
    page = open_page(f"{dashboard.url}/")
    row = page.locator('tr[data-source="owners-forum"]')
    expect(row).to_contain_text("failing")
    expect(row).to_contain_text("404")
    expect(page.locator("p.warning")).to_contain_text(
        "Not every source is reporting (owners-forum: failing)"
    )


def test_a_server_standing_by_names_the_reader_and_still_warns_of_its_gaps(standby, open_page):
    page = open_page(f"{standby.url}/")
    note = page.locator("[data-reader]")
    expect(note).to_contain_text(
        "Read by another server process (radar-1.test:101); this one stands by."
    )
    expect(note).to_contain_text("Health as it reported it at")
    # The reader's report, and its gaps, through the database: every server warns of them.
    row = page.locator('tr[data-source="owners-forum"]')
    expect(row).to_contain_text("failing")
    expect(row).to_contain_text("HTTP 503")
    expect(page.locator("p.warning")).to_contain_text(
        "Not every source is reporting (owners-forum: failing, bluesky: silent)"
    )


def test_the_tesla_incident_page_shows_chart_countries_and_the_500_error(dashboard, open_page):
    page = open_page(f"{dashboard.url}/")
    page.locator("tr[data-incident]", has_text="Tesla").first.get_by_role("link").click()
    expect(page).to_have_url(re.compile("#/incidents/"))
    expect(page.locator("h1")).to_contain_text("Tesla incident")
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    assert chart.locator(".bars rect").count() > 10
    expect(chart.locator("path.baseline")).to_have_attribute("d", re.compile("^M"))
    expect(page.locator("[data-list=errors]")).to_contain_text("500 server error")
    expect(page.locator("[data-list=features]")).to_contain_text("Unlock")
    countries = page.locator("[data-list=countries]")
    for name in ("United States", "South Korea", "Australia", "Canada"):
        expect(countries).to_contain_text(name)
    expect(page.locator(".explanation")).to_contain_text(re.compile("outage reports about tesla"))
    expect(page.locator(".posts blockquote").first).not_to_be_empty()


def test_times_are_shown_in_the_viewers_zone(dashboard, open_page):
    seoul = open_page(f"{dashboard.url}/", zone="Asia/Seoul")
    row = seoul.locator("tr[data-incident]", has_text="Tesla").first
    # 21:00 UTC on 19 November is 06:00 on the 20th in Seoul, 16:00 on the 19th in New York.
    expect(row.locator("time").first).to_contain_text("20 Nov 2021, 06:00")
    york = open_page(f"{dashboard.url}/", zone="America/New_York")
    row = york.locator("tr[data-incident]", has_text="Tesla").first
    expect(row.locator("time").first).to_contain_text("19 Nov 2021, 16:00")
    expect(row.locator("time").first).to_have_attribute("datetime", "2021-11-19T21:00:00Z")


def test_the_dashboard_is_usable_from_the_keyboard(dashboard, open_page):
    page = open_page(f"{dashboard.url}/")
    expect(page.locator("tr[data-service]").first).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator(".skip").first).to_be_focused()
    # Tab on until the first service's link has the focus, then open it with Enter.
    first = page.locator("tr[data-service] a").first
    for _ in range(30):
        if first.evaluate("link => link === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#/services/"))
    expect(page.locator("svg.chart, p.empty").first).to_be_visible()


def test_the_dashboard_fits_a_phone_screen(dashboard, open_page):
    page = open_page(f"{dashboard.url}/", viewport=(390, 844), mobile=True)
    expect(page.locator("tr[data-incident]").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("tr[data-incident]", has_text="Tesla").first.get_by_role("link").click()
    expect(page.locator("svg.chart")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = page.locator("svg.chart").bounding_box()
    assert box is not None and box["width"] <= 390


def test_a_new_incident_appears_on_the_open_page_without_a_reload(dashboard, open_page):
    page = open_page(f"{dashboard.url}/")
    expect(page.locator("tr[data-incident]").first).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    before = page.locator("tr[data-incident]").count()
    with httpx.Client(
        base_url=dashboard.url, headers={"Authorization": f"Bearer {dashboard.token}"}
    ) as api:
        answer = api.post("/v1/posts", json={"posts": _netflix_outage(dashboard.as_of)}, timeout=60)
        assert answer.status_code in (200, 201, 202), answer.text
        wait_for(
            "the server to open a Netflix incident",
            lambda: api.get("/v1/incidents", params={"service": "netflix"}).json()["items"],
            timeout=30,
        )
    netflix = page.locator("tr[data-incident]", has_text="Netflix")
    expect(netflix).to_be_visible()
    expect(netflix).to_contain_text("open")
    assert page.locator("tr[data-incident]").count() == before + 1
    assert page.evaluate("window.__notReloaded") is True


def _netflix_outage(after: datetime) -> list[dict[str, Any]]:
    """Twenty minutes of Netflix complaints from many writers, then a little more, starting a
    minute after the sample's end: a spike the detector cannot miss."""
    texts = [
        "Netflix is down for me, error NW-2-5 on every show",
        "is netflix down?? app just says something went wrong",
        "@netflix not working at all here, can't stream anything",
        "Netflix down again? black screen and error code NW-2-5",
    ]
    posts = []
    start = after + timedelta(minutes=1)
    for minute in range(25):
        for n in range(12):
            index = minute * 12 + n
            posts.append(
                {
                    "id": f"dash-{index}",
                    "text": texts[index % len(texts)],
                    "created_at": (start + timedelta(minutes=minute, seconds=n * 4)).isoformat(),
                    "author_id": f"viewer-{index}",
                    "source_name": "twitter",
                }
            )
    return posts
