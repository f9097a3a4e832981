"""The read side of the REST API, over HTTP against a real server on the replayed sample."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import TypeAdapter
from sqlalchemy import insert, update
from typer.testing import CliRunner

from api.app import create_app
from api.deps import get_store
from api.schemas import TimeseriesOut
from detector.cli import app as cli
from detector.config import Settings
from detector.errors import (
    DetectorError,
    InvalidWebhook,
    ModelNotFound,
    RecordError,
    StoreError,
    UnknownService,
)
from detector.store.schema import bucket_scores, incidents
from detector.store.sql import SqlStore
from tests.api.conftest import LiveServer, serve_app

TESLA = "tesla:20211119T2100Z"
SAMPLE_INCIDENTS = {
    "discord:20211118T1510Z",
    TESLA,
    "coinbase:20211120T1405Z",
    "psn:20211120T1942Z",
    "verizon:20211121T1333Z",
}
PROBLEM = "application/problem+json"


def ids(client: httpx.Client, **params: object) -> list[str]:
    response = client.get("/v1/incidents", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"]
    return body


# --- incidents -----------------------------------------------------------------------------------


def test_the_tesla_incident_is_listed_and_filterable(client):
    assert set(ids(client)) == SAMPLE_INCIDENTS
    assert ids(client, service="tesla") == [TESLA]
    assert TESLA in ids(client, status="resolved")
    assert ids(client, status="open") == []
    assert TESLA in ids(client, country="kr")  # Korean owners reported it
    assert TESLA not in ids(client, country="BR") and ids(client, country="BR")
    # since/until keep the incidents overlapping the span: tesla ran 21:00 to 01:58
    assert TESLA in ids(client, since="2021-11-20T01:00:00Z", until="2021-11-19T21:01:00Z")
    assert TESLA not in ids(client, since="2021-11-20T02:00:00Z")
    assert TESLA not in ids(client, until="2021-11-19T21:00:00+00:00")
    assert TESLA in ids(client, until="2021-11-19T22:01:00+01:00")  # 21:01 UTC


def test_the_list_is_newest_start_first_with_summaries(client):
    items = client.get("/v1/incidents").json()["items"]
    starts = [item["start"] for item in items]
    assert starts == sorted(starts, reverse=True)
    tesla = next(item for item in items if item["id"] == TESLA)
    assert tesla["service"] == "tesla" and tesla["status"] == "resolved"
    assert tesla["countries"][0] == "US" and "KR" in tesla["countries"]
    assert tesla["reports"] > 1000 and tesla["peak"]["ratio"] > 10
    assert "series" not in tesla and "evidence" not in tesla


def test_each_listed_summary_is_the_detail_without_series_and_evidence(client):
    # The list reads incidents without their series; it must still say what the detail says.
    for item in client.get("/v1/incidents").json()["items"]:
        detail = client.get(f"/v1/incidents/{item['id']}").json()
        assert item == {k: v for k, v in detail.items() if k not in ("series", "evidence")}


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_pagination_visits_every_incident_exactly_once(client, limit):
    everything = ids(client)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, object] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/incidents", params=params).json()
        assert len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything


def test_the_detail_has_the_series_countries_and_the_500_error(client):
    response = client.get(f"/v1/incidents/{TESLA}")
    assert response.status_code == 200
    tesla = response.json()
    series = tesla["series"]
    assert len(series) > 200
    assert all(set(point) == {"at", "observed", "expected"} for point in series)
    since_start = [p for p in series if p["at"] >= tesla["start"]]  # until it resolved
    assert sum(p["observed"] for p in since_start) == pytest.approx(tesla["observed_total"])
    evidence = tesla["evidence"]
    assert {"US", "KR", "AU"} <= {c["country"] for c in evidence["countries"]}
    assert "500 server error" in {e["name"] for e in evidence["errors"]}
    assert "unlock" in {f["name"] for f in evidence["features"]}
    assert evidence["posts"] and tesla["explanation"].startswith(f"{tesla['observed_total']:.0f}")


def test_an_unknown_incident_is_a_404_problem(client):
    body = assert_problem(client.get("/v1/incidents/tesla:19990101T0000Z"), 404)
    assert body["type"] == "about:blank" and body["title"] == "Not Found"
    assert "tesla:19990101T0000Z" in body["detail"]
    assert body["instance"] == "/v1/incidents/tesla:19990101T0000Z"


def test_unknown_routes_and_methods_are_problems(client):
    assert_problem(client.get("/v2/nothing"), 404)
    response = client.delete("/v1/incidents")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


# --- services ------------------------------------------------------------------------------------


def test_services_show_their_state_as_of_the_watermark(client):
    body = client.get("/v1/services").json()
    assert body["as_of"] == "2021-11-22T00:00:00Z"
    services = {item["service"]: item for item in body["items"]}
    assert {i.split(":")[0] for i in SAMPLE_INCIDENTS} <= set(services)
    tesla = services["tesla"]
    assert tesla["name"] == "Tesla"
    assert tesla["state"] == "ok" and tesla["open_incident"] is None  # it was over by then
    assert tesla["last_report_at"] <= "2021-11-22T00:00:00Z"
    assert all(i["state"] in {"ok", "possible problems", "problems"} for i in body["items"])
    assert all(i["reports_last_hour"] <= i["complaints_last_hour"] for i in body["items"])
    order = [(-("ok", "possible problems", "problems").index(i["state"])) for i in body["items"]]
    assert order == sorted(order)


def test_sparklines_count_each_services_reports_per_hour_up_to_as_of(client):
    plain = client.get("/v1/services").json()
    assert all(item["sparkline"] is None for item in plain["items"])
    body = client.get("/v1/services", params={"sparkline_hours": 72}).json()
    services = {item["service"]: item for item in body["items"]}
    tesla = services["tesla"]["sparkline"]
    assert len(tesla) == 72  # 2021-11-19 00:00 to 2021-11-22 00:00, an hour each
    # Hour 21 of the first day holds the outage's first hour: the same reports the
    # timeseries counts for it.
    window = {"since": "2021-11-19T21:00:00Z", "until": "2021-11-19T22:00:00Z", "bucket": 60}
    hour = client.get("/v1/services/tesla/timeseries", params=window).json()["buckets"][0]
    assert tesla[21] == hour["reports"] > 100
    assert tesla.index(max(tesla)) in (21, 22, 23)  # the outage's hours are the busiest
    assert all(len(item["sparkline"]) == 72 for item in body["items"])


@pytest.mark.parametrize("hours", [-1, 169, "x"])
def test_sparkline_hours_out_of_range_are_422(client, hours):
    assert_problem(client.get("/v1/services", params={"sparkline_hours": hours}), 422)


def test_a_service_says_what_its_reports_said_over_a_span(client):
    span = {"since": "2021-11-19T21:00:00Z", "until": "2021-11-20T02:00:00Z"}
    body = client.get("/v1/services/tesla", params=span).json()
    assert body["service"] == "tesla" and body["name"] == "Tesla"
    assert body["since"] == span["since"] and body["until"] == span["until"]
    evidence = body["evidence"]
    assert evidence["reports"] > 1000
    assert evidence["errors"][0]["name"] == "500 server error"
    assert "unlock" in {f["name"] for f in evidence["features"]}
    assert {"US", "CA", "KR", "AU"} <= {c["country"] for c in evidence["countries"]}
    assert all(0 < r["share"] <= 1 for r in evidence["symptoms"] + evidence["countries"])
    assert evidence["posts"]
    assert all(span["since"] <= p["created_at"] < span["until"] for p in evidence["posts"])
    # The reports are the span's counted reports, as its timeseries counts them.
    series = client.get("/v1/services/tesla/timeseries", params={**span, "bucket": 60}).json()
    assert evidence["reports"] == sum(b["reports"] for b in series["buckets"])


def test_a_service_defaults_to_the_day_before_the_newest_post(client):
    body = client.get("/v1/services/tesla").json()
    assert body["since"] == "2021-11-21T00:00:00Z" and body["until"] == "2021-11-22T00:00:00Z"
    assert body["as_of"] == "2021-11-22T00:00:00Z"
    day = client.get("/v1/services/tesla/timeseries").json()["buckets"]
    assert body["evidence"]["reports"] == sum(b["reports"] for b in day)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "2021-11-20T00:00:00Z", "until": "2021-11-19T00:00:00Z"}, 422),
        ({"since": "2021-09-01T00:00:00Z", "until": "2021-11-19T00:00:00Z"}, 422),
        ({"since": "yesterday"}, 422),
    ],
)
def test_a_service_span_must_be_sound(client, params, status):
    assert_problem(client.get("/v1/services/tesla", params=params), status)


def test_an_unknown_service_is_a_404(client):
    assert_problem(client.get("/v1/services/nosuchthing"), 404)


@pytest.fixture(scope="module")
def mid_outage(tmp_path_factory, sample_db, analyzer) -> Iterator[LiveServer]:
    """The sample as it would look while Tesla is down: its incident reopened, and a
    ``problems`` score at the detector's latest minute."""
    path = tmp_path_factory.mktemp("mid-outage") / "radar.db"
    shutil.copy(sample_db.removeprefix("sqlite:///"), path)
    store = SqlStore(f"sqlite:///{path}")
    latest = int(datetime(2021, 11, 21, 23, 59, tzinfo=UTC).timestamp() // 60)
    with store.engine.begin() as conn:
        conn.execute(update(incidents).where(incidents.c.id == TESLA).values(status="open"))
        conn.execute(
            insert(bucket_scores).values(
                service="coinbase", minute=latest, observed=9, expected=0.2, score=0.5, state=1
            )
        )
    app = create_app(Settings(database_url=f"sqlite:///{path}"), store=store, analyzer=analyzer)
    try:
        with serve_app(app) as server:
            yield server
    finally:
        store.close()


def test_an_open_incident_or_a_hot_score_changes_the_state(mid_outage):
    body = httpx.get(f"{mid_outage.url}/v1/services").json()
    services = {item["service"]: item for item in body["items"]}
    assert services["tesla"]["state"] == "problems"  # a critical incident, still open
    assert services["tesla"]["open_incident"] == TESLA
    assert services["coinbase"]["state"] == "possible problems"  # scored at the watermark
    assert [i["service"] for i in body["items"][:2]] == ["tesla", "coinbase"]


@pytest.mark.parametrize("bucket", [1, 5, 15, 60])
def test_timeseries_buckets_sum_the_same_whatever_their_size(client, bucket):
    window = {"since": "2021-11-19T18:00:00Z", "until": "2021-11-20T06:00:00Z"}
    fine = client.get("/v1/services/tesla/timeseries", params={**window, "bucket": 1}).json()
    body = client.get("/v1/services/tesla/timeseries", params={**window, "bucket": bucket}).json()
    assert body["bucket_minutes"] == bucket
    assert body["since"] == "2021-11-19T18:00:00Z" and body["until"] == "2021-11-20T06:00:00Z"
    assert len(body["buckets"]) == 12 * 60 // bucket
    for name in ("reports", "expected_minutes"):
        assert sum(b[name] for b in body["buckets"]) == sum(b[name] for b in fine["buckets"])
    expected = sum(b["expected"] or 0 for b in body["buckets"])
    assert expected == pytest.approx(sum(b["expected"] or 0 for b in fine["buckets"]), abs=0.01)
    hour = [b for b in body["buckets"] if "2021-11-19T21:00" <= b["start"] < "2021-11-19T22:00"]
    assert "problems" in {b["state"] for b in hour}
    assert sum(b["reports"] for b in hour) > 100 * sum(b["expected"] or 0 for b in hour)


@pytest.mark.parametrize("bucket", [1, 60])
def test_the_timeseries_is_written_exactly_as_its_model_would_be(client, bucket):
    # The route writes the JSON itself (no model per bucket): the bytes must be the model's.
    response = client.get("/v1/services/tesla/timeseries", params={"bucket": bucket})
    assert response.headers["content-type"] == "application/json"
    model = TimeseriesOut.model_validate_json(response.content)
    assert TypeAdapter(TimeseriesOut).dump_json(model) == response.content
    assert any(b.expected is not None for b in model.buckets)  # floats were compared too


def test_timeseries_defaults_to_the_day_before_the_newest_post(client):
    body = client.get("/v1/services/tesla/timeseries").json()
    assert body["until"] == "2021-11-22T00:00:00Z" and body["since"] == "2021-11-21T00:00:00Z"
    assert len(body["buckets"]) == 1440
    # Minutes long after the last stored baseline have none; stored or carried ones do.
    assert any(b["expected"] is None for b in body["buckets"])
    assert any(b["expected"] is not None for b in body["buckets"])
    assert all((b["expected"] is None) == (b["expected_minutes"] == 0) for b in body["buckets"])


def test_timeseries_of_an_unknown_service_is_a_404(client):
    assert_problem(client.get("/v1/services/nosuchthing/timeseries"), 404)


# --- posts ---------------------------------------------------------------------------------------


def test_posts_filter_by_service_verdict_and_country(client):
    params = {"service": "tesla", "is_outage": "true", "country": "KR", "limit": 100}
    items = client.get("/v1/posts", params=params).json()["items"]
    assert len(items) >= 10
    for post in items:
        note = post["annotation"]
        assert "tesla" in note["services"] and note["is_outage"] and note["country"] == "KR"
    calm = client.get("/v1/posts", params={"is_outage": "false", "limit": 200}).json()["items"]
    assert calm and all(p["annotation"] is None or not p["annotation"]["is_outage"] for p in calm)
    window = {"since": "2021-11-19T21:00:00Z", "until": "2021-11-19T21:05:00Z", "limit": 500}
    within = client.get("/v1/posts", params=window).json()["items"]
    assert within
    assert all("2021-11-19T21:00" <= p["created_at"] < "2021-11-19T21:05" for p in within)


def test_the_text_query_is_a_case_insensitive_substring(client):
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"q": "Phone KEY", "limit": 50}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/posts", params=params).json()
        seen += [p["id"] for p in page["items"]]
        assert all("phone key" in p["text"].lower() for p in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) > 50 and len(seen) == len(set(seen))  # several pages, none repeated
    # LIKE wildcards in the query are plain characters
    literal = client.get("/v1/posts", params={"q": "%_", "limit": 500}).json()["items"]
    assert all("%_" in p["text"] for p in literal)


# --- analyze, health, metrics --------------------------------------------------------------------


def test_analyze_annotates_without_storing(client):
    before = client.get("/v1/posts", params={"limit": 1}).json()["items"][0]["id"]
    texts = ["tesla app down? 500 server error here in Seoul", "what a lovely morning"]
    response = client.post("/v1/analyze", json={"texts": texts})
    assert response.status_code == 200
    first, second = response.json()["items"]
    assert first["index"] == 0 and first["is_outage"] and first["country"] == "KR"
    assert [s["slug"] for s in first["services"]] == ["tesla"]
    assert "500 server error" in {e["normalized"] for e in first["errors"]}
    assert second["index"] == 1 and not second["is_outage"] and second["services"] == []
    assert client.get("/v1/posts", params={"limit": 1}).json()["items"][0]["id"] == before


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"texts": []}, ["body", "texts"]),
        ({"texts": ["   "]}, ["body", "texts", 0]),
        ({"texts": ["x"] * 1001}, ["body", "texts"]),
        ({"text": "x"}, ["body", "texts"]),
    ],
)
def test_analyze_refuses_bad_bodies_with_field_errors(client, body, where):
    problem = assert_problem(client.post("/v1/analyze", json=body), 422)
    assert where in [e["loc"] for e in problem["errors"]]


def test_a_body_over_the_limit_is_a_413_problem(client):
    huge = b'{"texts": ["' + b"x" * 5_100_000 + b'"]}'
    response = client.post(
        "/v1/analyze", content=huge, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


def test_health_reports_the_database_and_the_detector(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == {"ok": True, "dialect": "sqlite"}
    assert body["detector"]["watermark"] == "2021-11-22T00:00:00Z"
    assert body["detector"]["newest_post"] == "2021-11-21T23:59:53Z"
    assert body["detector"]["lag_seconds"] == 0.0


@pytest.fixture(scope="module")
def database_down(analyzer) -> Iterator[LiveServer]:
    """A server whose PostgreSQL does not answer (nothing listens on port 1)."""
    store = SqlStore("postgresql+psycopg://nobody@127.0.0.1:1/none", migrate_schema=False)
    app = create_app(Settings(database_url="sqlite://"), store=store, analyzer=analyzer)
    try:
        with serve_app(app) as server:
            yield server
    finally:
        store.close()


def test_health_is_a_503_problem_when_the_database_is_down(database_down):
    assert_problem(httpx.get(f"{database_down.url}/health"), 503)
    body = assert_problem(httpx.get(f"{database_down.url}/v1/incidents"), 503)
    assert body["type"].endswith("store-unavailable")
    assert "127.0.0.1" not in str(body) and "nobody" not in str(body)  # no internals
    metrics = httpx.get(f"{database_down.url}/metrics").text
    assert "outage_radar_database_up 0.0" in metrics


def _samples(client: httpx.Client, name: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_metrics_count_requests_by_route_template_and_status(client, live_server):
    key = (("method", "GET"), ("route", "/v1/incidents/{incident_id}"), ("status", "404"))
    before = _samples(client, "outage_radar_http_requests_total").get(key, 0.0)
    client.get("/v1/incidents/nothing:1")
    client.get("/v1/incidents/nothing:2")
    after = _samples(client, "outage_radar_http_requests_total")
    assert after[key] == before + 2
    assert not any("nothing:1" in dict(labels)["route"] for labels in after)
    assert _samples(client, "outage_radar_open_incidents")[(("severity", "critical"),)] == 0
    assert _samples(client, "outage_radar_database_up") == {(): 1.0}
    live_server.app.state.metrics.job_errors_total.labels(job="detect").inc()
    assert _samples(client, "outage_radar_job_errors_total") == {(("job", "detect"),): 1.0}


def test_each_app_has_its_own_registry():
    first, second = create_app(Settings()), create_app(Settings())
    assert first.state.metrics.registry is not second.state.metrics.registry


# --- invalid parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/incidents", {"limit": 0}, "limit"),
        ("/v1/incidents", {"limit": 501}, "limit"),
        ("/v1/incidents", {"status": "broken"}, "status"),
        ("/v1/incidents", {"country": "USA"}, "country"),
        ("/v1/incidents", {"since": "2021-11-19T21:00:00"}, "since"),  # no offset
        ("/v1/incidents", {"until": "yesterday"}, "until"),
        ("/v1/incidents", {"cursor": "not-a-cursor"}, "cursor"),
        ("/v1/posts", {"is_outage": "maybe"}, "is_outage"),
        ("/v1/posts", {"q": ""}, "q"),
        ("/v1/services/tesla/timeseries", {"bucket": 7}, "bucket"),
        ("/v1/services/tesla/timeseries", {"since": "2021-11-20T00:00:00Z",
                                            "until": "2021-11-19T00:00:00Z"}, "since"),
        ("/v1/services/tesla/timeseries", {"since": "2000-01-01T00:00:00Z"}, "since"),
    ],
)  # fmt: skip
def test_bad_parameters_are_422_with_field_errors(client, path, params, field):
    problem = assert_problem(client.get(path, params=params), 422)
    assert ["query", field] in [e["loc"] for e in problem["errors"]]
    assert all(set(e) == {"loc", "msg", "type"} for e in problem["errors"])


def test_a_cursor_of_another_list_is_refused(client):
    cursor = client.get("/v1/incidents", params={"limit": 1}).json()["next_cursor"]
    problem = assert_problem(client.get("/v1/posts", params={"cursor": cursor}), 422)
    assert problem["errors"][0]["loc"] == ["query", "cursor"]


def test_an_unexpected_error_is_a_500_problem_without_internals(analyzer):
    app = create_app(Settings(database_url="sqlite://"), store=None, analyzer=analyzer)

    def broken() -> None:
        raise RuntimeError("secret internals")

    app.dependency_overrides[get_store] = broken

    async def call() -> httpx.Response:
        # In process: the server would log the traceback (Starlette re-raises after answering).
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get("/v1/incidents")

    response = asyncio.run(call())
    body = assert_problem(response, 500)
    assert "secret" not in response.text and body["title"] == "Internal Server Error"


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (InvalidWebhook("url", "must be an http(s) URL"), 422, "invalid-parameters"),
        (RecordError("missing_text", "no text"), 422, "invalid-record"),
        (UnknownService("nope", "catalog.yaml"), 404, "unknown-service"),
        (StoreError("cannot connect to postgresql://radar:secret@db"), 503, "store-unavailable"),
        (ModelNotFound("/srv/models/x"), 503, "model-unavailable"),
        (DetectorError("/srv/internal detail"), 500, "internal-error"),
    ],
)
def test_library_errors_map_onto_statuses_without_leaking(analyzer, error, status, kind):
    app = create_app(Settings(database_url="sqlite://"), analyzer=analyzer)

    @app.get("/boom")
    def boom() -> None:
        raise error

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get("/boom")

    body = assert_problem(asyncio.run(call()), status)
    assert body["type"].endswith(kind)
    if status >= 500:
        assert "secret" not in str(body) and "/srv" not in str(body)
    if status == 422 and isinstance(error, InvalidWebhook):
        assert body["errors"] == [
            {"loc": ["body", "url"], "msg": "must be an http(s) URL", "type": "value_error"}
        ]


def test_concurrent_requests_all_get_answers(client):
    paths = ["/v1/incidents", "/v1/services", "/v1/posts?q=tesla", "/health"] * 6
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda path: client.get(path).status_code, paths))
    assert statuses == [200] * len(paths)


def test_the_serve_command_is_registered():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--db" in result.output
