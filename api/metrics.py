"""Prometheus metrics of one app, in a registry of its own (several apps can share a process).

Requests are counted and timed by route template (``/v1/incidents/{incident_id}``, never the
raw path, which would make one series per id) and status. Store gauges (open incidents, the
detector's lag) are read from the database at scrape time. ``job_errors_total`` is for the
scheduled jobs to increment: ``app.state.metrics.job_errors_total.labels(job="detect").inc()``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detector.errors import StoreError
from detector.ingest.live.manager import LiveSources
from detector.store import queries

__all__ = ["Metrics", "MetricsMiddleware", "router"]

log = logging.getLogger(__name__)

_UNMATCHED = "<unmatched>"


class Metrics:
    """The app's registry and the metrics the API and its jobs record.

    Parameters
    ----------
    engine
        Returns the store's engine, or None before the lifespan opened it.
    """

    def __init__(
        self,
        engine: Callable[[], Engine | None],
        live: Callable[[], LiveSources | None] = lambda: None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests_total = Counter(
            "outage_radar_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "outage_radar_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.job_runs_total = Counter(
            "outage_radar_job_runs",
            "Scheduled job runs, by job.",
            ["job"],
            registry=self.registry,
        )
        self.job_errors_total = Counter(
            "outage_radar_job_errors",
            "Scheduled job runs that failed, by job.",
            ["job"],
            registry=self.registry,
        )
        self.read_cache_total = Counter(
            "outage_radar_read_cache",
            "Cacheable reads, by how they were answered: hit (from memory), stale (from memory"
            " while being recomputed), wait (shared another request's answer), miss (computed).",
            ["result"],
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(engine))
        self.registry.register(_SourcesCollector(live))

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI: no response buffering)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, then record it under the route the router matched."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_see)
        finally:
            # The router leaves the matched route in the scope; routers must carry their prefix
            # (``APIRouter(prefix=...)``) for its path to be the full template.
            route = getattr(scope.get("route"), "path", None) or _UNMATCHED
            method = str(scope["method"])
            self.metrics.requests_total.labels(method, route, str(status)).inc()
            self.metrics.request_seconds.labels(method, route).observe(
                time.perf_counter() - started
            )


class _StoreCollector(Collector):
    """Gauges read from the store when scraped."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.engine = engine

    def describe(self) -> list[Metric]:
        """The gauges' names, so registering does not query the database."""
        return list(_families())

    def collect(self) -> Iterator[Metric]:
        """Query the store; a store that does not answer reports ``database_up 0`` only."""
        up, incidents, lag, watermark, newest = _families()
        engine = self.engine()
        if engine is None:
            return
        try:
            counts = queries.open_incident_counts(engine)
            status = queries.detector_status(engine)
        except StoreError as exc:
            log.warning("metrics: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for severity, n in counts.items():
            incidents.add_metric([severity], n)
        yield from (up, incidents)
        if status.lag is not None:
            lag.add_metric([], status.lag.total_seconds())
            yield lag
        if status.watermark is not None:
            watermark.add_metric([], status.watermark.timestamp())
            yield watermark
        if status.newest_post is not None:
            newest.add_metric([], status.newest_post.timestamp())
            yield newest


class _SourcesCollector(Collector):
    """Each live source's health and the intake's counters, read from memory when scraped."""

    def __init__(self, live: Callable[[], LiveSources | None]) -> None:
        self.live = live

    def describe(self) -> list[Metric]:
        """Nothing up front: the families depend on the sources configured."""
        return []

    def collect(self) -> Iterator[Metric]:
        """One sample per source in each family (none without live sources)."""
        live = self.live()
        if live is None:
            return
        reading = GaugeMetricFamily(
            "outage_radar_sources_reading",
            "1 when this process reads the live sources, 0 while another does (standby): "
            "their sum over the processes of one database should be 1.",
        )
        reading.add_metric([], 1 if live.reading else 0)
        yield reading
        if not live.reading:
            return  # the reader reports the sources; a stand-by's zeros would raise false alarms
        labels = ["source", "kind"]
        up = GaugeMetricFamily(
            "outage_radar_source_up",
            "1 when the live source reports (ok or starting), 0 when silent, failing or stopped.",
            labels=labels,
        )
        status = GaugeMetricFamily(
            "outage_radar_source_status",
            "1 for the live source's current status.",
            labels=[*labels, "status"],
        )
        posts = CounterMetricFamily(
            "outage_radar_source_posts", "Posts read by the live source.", labels=labels
        )
        errors = CounterMetricFamily(
            "outage_radar_source_errors", "Failed connections or polls.", labels=labels
        )
        quarantined = CounterMetricFamily(
            "outage_radar_source_quarantined", "Malformed frames kept aside.", labels=labels
        )
        rate = GaugeMetricFamily(
            "outage_radar_source_posts_per_minute",
            "Posts per minute over the last 5 minutes.",
            labels=labels,
        )
        lag = GaugeMetricFamily(
            "outage_radar_source_lag_seconds",
            "Now minus the written time of the newest post read.",
            labels=labels,
        )
        newest = GaugeMetricFamily(
            "outage_radar_source_last_post_timestamp_seconds",
            "When the live source last read a post (Unix seconds).",
            labels=labels,
        )
        for health in live.health():
            key = [health.name, health.kind]
            up.add_metric(key, 1 if health.status in ("ok", "starting") else 0)
            status.add_metric([*key, health.status], 1)
            posts.add_metric(key, health.posts_total)
            errors.add_metric(key, health.errors)
            quarantined.add_metric(key, health.quarantined)
            rate.add_metric(key, health.posts_per_minute)
            if health.lag_seconds is not None:
                lag.add_metric(key, health.lag_seconds)
            if health.last_post_received_at is not None:
                newest.add_metric(key, health.last_post_received_at.timestamp())
        yield from (up, status, posts, errors, quarantined, rate, lag, newest)
        stats = live.intake_stats()
        queued = GaugeMetricFamily(
            "outage_radar_intake_queued_batches",
            "Live batches waiting to be stored (at capacity, sources wait).",
        )
        queued.add_metric([], stats.queued_batches)
        blocked = CounterMetricFamily(
            "outage_radar_intake_blocked_seconds",
            "Time live sources waited for room in the intake queue (backpressure).",
        )
        blocked.add_metric([], stats.blocked_seconds)
        failures = CounterMetricFamily(
            "outage_radar_intake_errors", "Failed attempts to store live batches (retried)."
        )
        failures.add_metric([], stats.errors)
        yield from (queued, blocked, failures)


def _families() -> tuple[GaugeMetricFamily, ...]:
    return (
        GaugeMetricFamily("outage_radar_database_up", "1 when the database answers."),
        GaugeMetricFamily(
            "outage_radar_open_incidents", "Open incidents, by severity.", labels=["severity"]
        ),
        GaugeMetricFamily(
            "outage_radar_detector_lag_seconds",
            "Stored data the detector has not scored yet (newest post minus watermark).",
        ),
        GaugeMetricFamily(
            "outage_radar_detector_watermark_timestamp_seconds",
            "End of the last minute the detector scored (data time, Unix seconds).",
        ),
        GaugeMetricFamily(
            "outage_radar_newest_post_timestamp_seconds",
            "When the newest stored post was written (Unix seconds).",
        ),
    )


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics",
)
def metrics(request: Request) -> Response:
    """Request counts and latencies, open incidents and the detector's lag, for Prometheus."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
