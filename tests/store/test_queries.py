"""The API's read queries, on SQLite and on the real PostgreSQL server, over small hand-made
tables (so every expected value is known)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine

from detector.errors import QueryError, StoreError
from detector.spikes.engine import SpikeEngine, State
from detector.spikes.incidents import Incident, SeriesPoint
from detector.store import detection as db
from detector.store import queries
from detector.store.sql import SqlStore
from tests.factories import make_post

T0 = datetime(2021, 11, 19, 21, 0, tzinfo=UTC)
M0 = int(T0.timestamp() // 60)
DAY = timedelta(days=1)


def at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


def add_incident(store: SqlStore, service: str, start: datetime, **fields: Any) -> str:
    incident = Incident(
        id=f"{service}:{start:%Y%m%dT%H%MZ}",
        service=service,
        start=start,
        detected_at=start + timedelta(minutes=5),
        **fields,
    )
    row = {
        "id": incident.id,
        "service": service,
        "status": incident.status,
        "severity": incident.severity,
        "start": incident.start,
        "detected_at": incident.detected_at,
        "end": incident.end,
        "updated_at": start + timedelta(hours=1),
        "data": incident.as_dict(now=start + timedelta(hours=1)),
    }
    with store.engine.begin() as conn:
        db.upsert_incident(conn, row)
    return incident.id


def add_complaint(
    store: SqlStore,
    post_id: str,
    service: str,
    when: datetime,
    *,
    country: str | None = None,
    counted: bool = True,
) -> None:
    row = {
        "post_id": post_id,
        "service": service,
        "created_at": when,
        "minute": int(when.timestamp() // 60),
        "author_key": f"twitter:{post_id}",
        "country": country,
        "source_kind": "twitter",
        "source_name": "twitter",
        "counted": counted,
    }
    with store.engine.begin() as conn:
        db.add_complaints(conn, [row])


def add_scores(store: SqlStore, service: str, minutes: dict[int, tuple[float, int]]) -> None:
    rows = [
        {"service": service, "minute": m, "observed": 1.0, "expected": e, "score": 0.1, "state": s}
        for m, (e, s) in minutes.items()
    ]
    with store.engine.begin() as conn:
        db.add_bucket_scores(conn, rows)


def save_watermark(store: SqlStore, last_minute: int) -> None:
    engine = SpikeEngine()
    engine.step(at(last_minute), {})
    with store.engine.begin() as conn:
        db.save_state(conn, "default", engine.to_state(), {}, T0)


def annotate(store: SqlStore, post_id: str, when: datetime, **data: Any) -> None:
    note = {
        "outage_probability": 0.9,
        "is_outage": True,
        "services": [],
        "symptoms": [],
        "errors": [],
        "features": [],
        "recovered": False,
        "locations": [],
        "country": None,
        **data,
    }
    row = {
        "post_id": post_id,
        "created_at": when,
        "probability": note["outage_probability"],
        "is_outage": note["is_outage"],
        "country": note["country"],
        "data": note,
    }
    with store.engine.begin() as conn:
        db.add_annotations(conn, [row])


# --- incidents -----------------------------------------------------------------------------------


@pytest.fixture
def seven_incidents(store) -> list[str]:
    """Seven incidents, two pairs starting in the same minute; newest start first, ties by id."""
    starts = [T0, T0, T0 - DAY, T0 - 2 * DAY, T0 - 2 * DAY, T0 - 3 * DAY, T0 - 4 * DAY]
    services = ["tesla", "psn", "tesla", "aws", "zoom", "discord", "tesla"]
    made = [add_incident(store, s, t) for s, t in zip(services, starts, strict=True)]
    return sorted(made, key=lambda i: (-datetime.strptime(i[-14:], "%Y%m%dT%H%MZ").timestamp(), i))


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 500])
def test_incident_pages_visit_each_incident_once_in_order(store, seven_incidents, limit):
    seen, cursor = [], None
    for _ in range(10):
        page = queries.incident_page(store.engine, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == seven_incidents


def test_a_page_reads_its_position_not_its_number(store, seven_incidents):
    first = queries.incident_page(store.engine, limit=3)
    add_incident(store, "slack", T0 + DAY)  # newer: belongs before the cursor, not after
    rest = queries.incident_page(store.engine, limit=10, cursor=first.next_cursor)
    assert [r.id for r in first.items + rest.items] == seven_incidents


def test_incident_filters(store):
    ended = add_incident(store, "tesla", T0, status="resolved", end=T0 + timedelta(hours=2))
    ongoing = add_incident(store, "psn", T0 + timedelta(hours=5))
    add_complaint(store, "twitter:1", "tesla", T0 + timedelta(minutes=10), country="KR")
    add_complaint(store, "twitter:2", "tesla", T0 + timedelta(hours=3), country="BR")  # after
    add_complaint(store, "twitter:3", "psn", T0 + timedelta(hours=6), country="BR")
    add_complaint(store, "twitter:4", "psn", T0 + timedelta(hours=6), country="FR", counted=False)

    def found(**filters: Any) -> set[str]:
        return {r.id for r in queries.incident_page(store.engine, **filters).items}

    assert found(status="open") == {ongoing}
    assert found(service="tesla") == {ended}
    assert found(country="KR") == {ended}
    assert found(country="BR") == {ongoing}  # tesla's BR report came after it ended
    assert found(country="FR") == set()  # only counted reports
    assert found(since=T0 + timedelta(hours=1)) == {ended, ongoing}  # overlap, still open
    assert found(since=T0 + timedelta(hours=2)) == {ongoing}  # end is exclusive
    assert found(until=T0 + timedelta(hours=5)) == {ended}
    record = queries.incident_record(store.engine, ended)
    assert record is not None and record.updated_at == T0 + timedelta(hours=1)
    assert record.as_dict()["explanation"].startswith("0 outage reports about tesla")
    assert queries.incident_record(store.engine, "nope") is None
    assert queries.open_incident_counts(store.engine) == {"minor": 0, "major": 1, "critical": 0}


def test_a_listed_summary_says_what_the_whole_record_says(store):
    """The list reads incidents without their series; what it shows must be the whole
    record's own summary (ratio and explanation recomputed from the stored values)."""
    series = [SeriesPoint(T0 + timedelta(minutes=i), float(i % 7), 0.123456) for i in range(300)]
    countries = [
        {"country": c, "count": 9 - i, "share": 0.1}
        for i, c in enumerate("US KR AU GB CA BR".split())
    ]
    evidence = {"reports": 1962, "countries": countries, "posts": [{"id": "twitter:1"}]}
    full = add_incident(
        store, "tesla", T0, status="resolved", end=T0 + timedelta(hours=5), severity="critical",
        peak_at=T0 + timedelta(minutes=46), peak_observed=246.0, peak_expected=0.27216,
        peak_window_minutes=15, min_p_value=3.49e-205, max_score=0.99987, observed_total=1965.0,
        expected_total=6.96549, reopened=1, series=series, evidence=evidence,
    )  # fmt: skip
    bare = add_incident(store, "psn", T0 - DAY)  # no series, no evidence
    summaries = {r.id: r for r in queries.incident_page(store.engine).items}
    for made in (full, bare):
        record = queries.incident_record(store.engine, made)
        assert record is not None
        whole = record.as_dict()
        summary = summaries[made]
        assert summary.data == {k: v for k, v in whole.items() if k not in ("series", "evidence")}
        assert summary.updated_at == record.updated_at
    assert summaries[full].data["peak"]["ratio"] == round(246.0 / 0.272, 2)  # from the stored 0.272
    assert summaries[full].reports == 1962
    assert summaries[full].countries == ["US", "KR", "AU", "GB", "CA", "BR"]
    assert (summaries[bare].reports, summaries[bare].countries) == (0, [])


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "bm90IGpzb24",  # "not json"
        "WyJwb3N0cyIsIjIwMjEtMTEtMTlUMjE6MDA6MDArMDA6MDAiLCJ4Il0",  # a posts cursor
        "WyJpbmNpZGVudHMiLCIyMDIxLTExLTE5VDIxOjAwOjAwIiwieCJd",  # naive time
    ],
)
def test_a_foreign_or_damaged_cursor_is_refused(store, cursor):
    with pytest.raises(QueryError) as caught:
        queries.incident_page(store.engine, cursor=cursor)
    assert caught.value.param == "cursor"


@pytest.mark.parametrize("limit", [0, -1, queries.MAX_LIMIT + 1])
def test_the_limit_is_bounded(store, limit):
    with pytest.raises(QueryError, match="limit"):
        queries.post_page(store.engine, limit=limit)


# --- services and timeseries ---------------------------------------------------------------------


def test_service_state_comes_from_the_latest_score_and_open_incidents(store):
    latest = M0 + 30
    save_watermark(store, latest)
    add_scores(store, "tesla", {latest: (0.2, State.PROBLEMS)})
    add_scores(store, "zoom", {latest - 1: (0.2, State.PROBLEMS)})  # not the latest minute
    add_scores(store, "aws", {latest: (0.2, State.POSSIBLE)})
    add_incident(store, "psn", T0, severity="minor")
    add_incident(store, "slack", T0, status="resolved", end=T0 + timedelta(minutes=20))
    for i, (service, minutes_ago, counted) in enumerate(
        [("tesla", 0, True), ("tesla", 10, True), ("tesla", 59, False), ("tesla", 60, True),
         ("zoom", 5, True), ("aws", 200, True)]
    ):  # fmt: skip
        add_complaint(store, f"twitter:{i}", service, at(latest - minutes_ago), counted=counted)
    overview = queries.service_statuses(store.engine)
    assert overview.as_of == at(latest + 1)
    by = {s.service: s for s in overview.services}
    assert set(by) == {"tesla", "zoom", "aws", "psn", "slack"}
    assert by["tesla"].state == State.PROBLEMS and by["zoom"].state == State.OK
    assert by["aws"].state == State.POSSIBLE and by["psn"].state == State.POSSIBLE
    assert by["psn"].open_incident == f"psn:{T0:%Y%m%dT%H%MZ}" and by["slack"].open_incident is None
    assert (by["tesla"].reports_last_hour, by["tesla"].complaints_last_hour) == (2, 3)
    assert by["aws"].reports_last_hour == 0 and by["aws"].last_report_at == at(latest - 200)
    assert by["slack"].last_report_at is None
    assert [s.service for s in overview.services][:3] == ["tesla", "aws", "psn"]


def test_without_a_detector_state_the_newest_post_sets_the_time(store):
    store.add_posts([make_post(created_at=T0 + timedelta(seconds=30))], collapse_window=DAY)
    add_complaint(store, "twitter:1", "tesla", T0)
    assert queries.service_statuses(store.engine).as_of == T0 + timedelta(minutes=1)
    status = queries.detector_status(store.engine)
    assert status.watermark is None and status.lag is None
    assert status.newest_post == T0 + timedelta(seconds=30)


def test_the_watermark_and_lag(store):
    assert queries.detector_status(store.engine) == queries.DetectorStatus(None, None, None)
    save_watermark(store, M0 + 9)
    store.add_posts([make_post(created_at=T0 + timedelta(minutes=12))], collapse_window=DAY)
    status = queries.detector_status(store.engine)
    assert status.watermark == T0 + timedelta(minutes=10)
    assert status.lag == timedelta(minutes=2) and status.updated_at == T0


def test_the_baseline_is_carried_forward_for_an_hour_then_missing(store):
    add_scores(store, "tesla", {M0 + i: (0.5, State.OK) for i in range(5)})
    add_scores(store, "tesla", {M0 + 3: (0.5, State.PROBLEMS)})
    for i in range(4):
        add_complaint(store, f"twitter:{i}", "tesla", at(M0 + i))
    add_complaint(store, "twitter:9", "tesla", at(M0 + 1), counted=False)
    series = queries.service_timeseries(
        store.engine, "tesla", since=T0, until=T0 + timedelta(hours=2), bucket=1, now=T0
    )
    assert series is not None and len(series.buckets) == 120
    expected = [b.expected for b in series.buckets]
    assert expected[:65] == [0.5] * 65  # five stored minutes, then sixty carried
    assert expected[65:] == [None] * 55
    assert [b.reports for b in series.buckets[:5]] == [1, 1, 1, 1, 0]  # counted only
    assert [b.state for b in series.buckets[:5]] == [0, 0, 0, State.PROBLEMS, 0]
    # the same minutes in bigger buckets: sums agree, partial coverage is counted
    hourly = queries.service_timeseries(
        store.engine, "tesla", since=T0, until=T0 + timedelta(hours=2), bucket=60, now=T0
    )
    assert hourly is not None
    assert [(b.reports, b.expected, b.expected_minutes) for b in hourly.buckets] == [
        (4, 30.0, 60),
        (0, 2.5, 5),
    ]
    assert hourly.buckets[0].state == State.PROBLEMS


def test_a_baseline_stored_before_the_range_still_carries_into_it(store):
    add_scores(store, "tesla", {M0 - 30: (0.25, State.OK)})
    add_complaint(store, "twitter:1", "tesla", at(M0 - 30))
    series = queries.service_timeseries(
        store.engine, "tesla", since=T0, until=T0 + timedelta(hours=1), bucket=15, now=T0
    )
    assert series is not None
    assert [b.expected_minutes for b in series.buckets] == [15, 15, 1, 0]


def reference_buckets(
    first: int, last: int, size: int, counts: dict[int, int], stored: dict[int, tuple[float, int]]
) -> list[tuple[int, float | None, int, int]]:
    """(reports, expected, expected_minutes, state) per bucket, minute by minute: the rules of
    ``service_timeseries`` written as plainly as possible."""
    out = []
    for start in range(first, last, size):
        expected, covered, worst = 0.0, 0, 0
        for minute in range(start, start + size):
            before = [m for m in stored if m <= minute]
            if before and minute - max(before) <= queries.CARRY_EXPECTED_MINUTES:
                expected += stored[max(before)][0]
                covered += 1
            worst = max(worst, stored[minute][1] if minute in stored else 0)
        reports = sum(counts.get(m, 0) for m in range(start, start + size))
        out.append((reports, round(expected, 4) if covered else None, covered, worst))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_timeseries_buckets_follow_the_rules_on_random_data(store, seed):
    rng = np.random.default_rng(seed)
    first, last = M0 - 60, M0 + 600
    # Runs of scored minutes with gaps around the carry (exactly 60 and 61 among them), the
    # first run before ``first``.
    scored, minute = [], first - 90
    for gap in [*rng.permutation([5, 30, 59, 60, 61, 62, 120]), 45]:
        run = int(rng.integers(1, 20))
        scored += range(minute, minute + run)
        minute += run + int(gap)
    stored = {m: (float(rng.gamma(0.5, 0.7)), int(rng.integers(0, 3))) for m in scored}
    add_scores(store, "tesla", stored)
    minutes = rng.integers(first - 30, last + 30, 150)
    rows = [
        {"post_id": f"twitter:{i}", "service": "tesla", "created_at": at(int(m)),
         "minute": int(m), "author_key": f"a{i}", "country": None, "source_kind": "twitter",
         "source_name": "twitter", "counted": bool(i % 4)}
        for i, m in enumerate(minutes)
    ]  # fmt: skip
    with store.engine.begin() as conn:
        db.add_complaints(conn, rows)
    counts: dict[int, int] = {}
    for row in rows:
        if row["counted"]:
            counts[row["minute"]] = counts.get(row["minute"], 0) + 1
    for size in queries.BUCKET_MINUTES:
        series = queries.service_timeseries(
            store.engine, "tesla", since=at(first), until=at(last), bucket=size, now=T0
        )
        assert series is not None
        found = [(b.reports, b.expected, b.expected_minutes, b.state) for b in series.buckets]
        lo, hi = first // size * size, -(-last // size) * size
        assert found == reference_buckets(lo, hi, size, counts, stored)
        assert series.starts == [at(m) for m in range(lo, hi, size)]


def test_timeseries_ranges(store):
    assert queries.service_timeseries(store.engine, "tesla", now=T0) is None  # unknown
    add_incident(store, "tesla", T0)  # an incident alone makes the service known
    empty = queries.service_timeseries(store.engine, "tesla", now=T0 + timedelta(seconds=1))
    assert empty is not None and empty.until == T0 + timedelta(minutes=1)  # nothing stored
    store.add_posts([make_post(created_at=T0 + timedelta(minutes=7))], collapse_window=DAY)
    default = queries.service_timeseries(store.engine, "tesla", bucket=5, now=T0)
    assert default is not None
    assert default.until == T0 + timedelta(minutes=10)  # the newest post's minute, rounded up
    assert default.since == default.until - DAY and len(default.buckets) == 288
    odd = queries.service_timeseries(
        store.engine, "tesla", since=T0 + timedelta(minutes=7), until=T0 + timedelta(minutes=8),
        bucket=15, now=T0,
    )  # fmt: skip
    assert odd is not None and (odd.since, odd.until) == (T0, T0 + timedelta(minutes=15))
    with pytest.raises(QueryError, match="before until"):
        queries.service_timeseries(store.engine, "tesla", since=T0, until=T0, now=T0)
    with pytest.raises(QueryError, match="at most"):
        queries.service_timeseries(store.engine, "tesla", since=T0 - 4 * DAY, until=T0, now=T0)
    with pytest.raises(QueryError, match="bucket"):
        queries.service_timeseries(store.engine, "tesla", bucket=7, now=T0)


# --- posts ---------------------------------------------------------------------------------------


@pytest.fixture
def posts(store) -> list[str]:
    """Posts with and without annotations; three share one second (ties on time)."""
    when = [T0, T0, T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    texts = [
        "Tesla APP down, 500 server error",
        "lovely morning",
        "100%_sure the PSN is down",
        "psn down? same here in Seoul",
        "tesla phone key dead",
    ]
    made = [
        make_post(id=f"twitter:{i + 1}", created_at=w, text=t)
        for i, (w, t) in enumerate(zip(when, texts, strict=True))
    ]
    store.add_posts(made, collapse_window=timedelta(0))
    slugs = [{"slug": "tesla"}]
    annotate(
        store, "twitter:1", when[0], services=slugs, errors=[{"normalized": "500 server error"}]
    )
    annotate(store, "twitter:3", when[2], services=[{"slug": "psn"}], is_outage=False)
    annotate(store, "twitter:4", when[3], services=[{"slug": "psn"}], country="KR")
    annotate(store, "twitter:5", when[4], services=slugs + slugs, features=[{"feature": "key"}])
    return [p.id for p in sorted(made, key=lambda p: (p.created_at, p.id), reverse=True)]


def test_post_pages_visit_each_post_once_newest_first(store, posts):
    seen, cursor = [], None
    while True:
        page = queries.post_page(store.engine, limit=2, cursor=cursor)
        seen += [p.id for p in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == posts


@pytest.mark.usefixtures("posts")
def test_post_filters(store):
    def found(**filters: Any) -> list[str]:
        return [p.id for p in queries.post_page(store.engine, **filters).items]

    assert found(service="tesla") == ["twitter:5", "twitter:1"]
    assert found(service="psn", is_outage=True) == ["twitter:4"]
    assert found(is_outage=False) == ["twitter:3", "twitter:2"]  # unannotated is no outage
    assert found(country="KR") == ["twitter:4"]
    assert found(q="tesla APP") == ["twitter:1"]
    assert found(q="DOWN") == ["twitter:4", "twitter:3", "twitter:1"]
    assert found(q="0%_") == ["twitter:3"] and found(q="1_0") == []  # no wildcards
    assert found(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=2)) == ["twitter:4"]
    first = queries.post_page(store.engine, service="tesla", limit=1).items[0]
    assert first.annotation is not None
    assert first.annotation.services == ["tesla"] and first.annotation.features == ["key"]
    unannotated = queries.post_page(store.engine, q="lovely").items[0]
    assert unannotated.annotation is None and unannotated.created_at == T0


def test_an_unreachable_database_is_a_store_error():
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError):
        queries.check_database(engine)
    with pytest.raises(StoreError):
        queries.incident_page(engine)
    engine.dispose()
