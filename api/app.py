"""The app factory: ``create_app(settings)`` builds the REST API; nothing starts at import.

The lifespan opens the store and loads the analyzer once (unless they were handed in, as tests
do) and keeps them on ``app.state`` with the settings, the clock and the metrics; the
dependencies in ``api.deps`` read them from there.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api import dashboard
from api.auth import require_key
from api.cache import ReadCache
from api.metrics import Metrics, MetricsMiddleware
from api.problems import PlainErrorsAsProblems, install_problem_handlers, use_problem_media_type
from api.routes import READ_ROUTERS, ROUTERS
from detector.clock import Clock, SystemClock
from detector.config import Settings
from detector.nlp.analyzer import Analyzer
from detector.ratelimit import RateLimiter
from detector.runtime import Runtime
from detector.store.sql import SqlStore

__all__ = ["create_app"]

log = logging.getLogger(__name__)

# Public data, the same for every client: what dashboards poll. Webhooks (per owner) and health
# (must tell the truth now) are never cached.
CACHED_READS = ("/v1/incidents", "/v1/services", "/v1/posts")

_DESCRIPTION = """\
An open, self-hostable Downdetector: outage-radar reads what people post, finds the complaints
about each service, counts them minute by minute against a learned baseline, and raises an
incident when a service gets far more reports than usual.

* **Incidents**: what broke, when, how badly, where the reports came from and what they say.
* **Services**: each service's current state, and its reports against the baseline.
* **Posts**: the stored posts and what the analyzer found in them; push new ones (keyed);
  **analyze** any text.
* **Webhooks** (keyed): endpoints that receive `incident.opened`, `incident.updated` and
  `incident.resolved`, signed as Standard Webhooks, retried for 24 hours, then dead-lettered.

Writes and webhooks need an API key (`outage-radar apikey create`), sent as
`Authorization: Bearer <token>` or `X-API-Key`; reads too when the server says so
(`OUTAGE_RADAR_PUBLIC_READS=false`). Writes are rate-limited per key (429 with `Retry-After`).

Lists are paged by cursor: pass a page's `next_cursor` back as `cursor`. Times are UTC.
Errors are `application/problem+json` (RFC 9457); invalid parameters answer 422 with the
`errors` of each field.
"""

_TAGS = [
    {"name": "incidents", "description": "Outages the detector found."},
    {"name": "services", "description": "Each service's state and report counts."},
    {"name": "posts", "description": "Stored posts and their annotations."},
    {"name": "analyze", "description": "Annotate texts without storing them."},
    {"name": "webhooks", "description": "Where incident events are sent, and what was sent."},
    {"name": "sources", "description": "Live sources (Bluesky, Mastodon, Reddit, feeds)."},
    {"name": "operations", "description": "Health and metrics."},
]


class _App(FastAPI):
    """FastAPI whose OpenAPI document lists error bodies as ``application/problem+json``."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document (built once)."""
        if self.openapi_schema is None:
            self.openapi_schema = use_problem_media_type(super().openapi())
        return self.openapi_schema


def create_app(
    settings: Settings,
    *,
    store: SqlStore | None = None,
    analyzer: Analyzer | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the REST API.

    Parameters
    ----------
    settings
        Where the database is, the largest request body, ...
    store, analyzer
        Use these instead of opening ``settings.database_url`` and loading the newest model
        (the caller then closes the store).
    clock
        What "now" is (analysis times, the default end of a timeseries when nothing is stored).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # Opening migrates the schema and loading reads the model: seconds of blocking
            # work, kept off the event loop.
            opened = store
            if opened is None:
                opened = await run_in_threadpool(SqlStore, settings.database_url)
                stack.callback(opened.close)
            app.state.store = opened
            if analyzer is None:
                app.state.analyzer = await run_in_threadpool(Analyzer.load)
                # The model is hundreds of thousands of long-lived objects: leave them out of
                # the cyclic collector, whose full passes over them stalled every request for
                # ~160 ms now and then (measured: 4,910 -> 5,737 cached reads/s).
                gc.freeze()
            else:
                app.state.analyzer = analyzer
            _start_service(app, stack, settings)
            log.info("serving %s", opened.engine.url.render_as_string(hide_password=True))
            yield

    app = _App(
        title="outage-radar",
        version=version("outage-radar"),
        description=_DESCRIPTION,
        openapi_tags=_TAGS,
        lifespan=lifespan,
    )
    metrics = Metrics(lambda: _engine_of(app), lambda: getattr(app.state, "live", None))
    app.state.settings = settings
    if store is not None:  # usable without the lifespan too (ASGI test transports skip it)
        app.state.store = store
    if analyzer is not None:
        app.state.analyzer = analyzer
    app.state.clock = clock or SystemClock()
    app.state.metrics = metrics
    install_problem_handlers(app)
    app.add_middleware(PlainErrorsAsProblems)
    app.add_middleware(
        ReadCache,
        seconds=settings.read_cache_seconds,
        generation=lambda: _generation_of(app),
        prefixes=CACHED_READS,
        keyed=not settings.public_reads,
        record=lambda result: metrics.read_cache_total.labels(result=result).inc(),
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: sees every answer
    for router in ROUTERS:
        # The limit is set per router, not on the app: the app-level limiter answers outside
        # the middleware, in plain text; inside, ``PlainErrorsAsProblems`` makes it a problem.
        # Reads declare (and check) a key only when the server wants one, so the OpenAPI
        # document says which requests need a key.
        keyed = (
            [Depends(require_key)] if router in READ_ROUTERS and not settings.public_reads else []
        )
        app.include_router(router, max_body_size=settings.max_body_bytes, dependencies=keyed)
    # The dashboard page holds no data (its script reads the API above, with a key if reads
    # need one), so it is public.
    app.include_router(dashboard.router)
    app.mount("/static", dashboard.static_files(), name="static")
    return app


def _start_service(app: FastAPI, stack: AsyncExitStack, settings: Settings) -> None:
    """The live parts over the opened store (``detector.runtime``): the pipeline (``POST
    /v1/posts``), the webhook dispatcher (test pings, deliveries) and, when enabled, the
    scheduled jobs and live sources; all stopped when the app stops."""
    metrics: Metrics = app.state.metrics

    def counted(name: str, ok: bool) -> None:
        metrics.job_runs_total.labels(job=name).inc()
        if not ok:
            metrics.job_errors_total.labels(job=name).inc()

    runtime = Runtime(
        app.state.store, app.state.analyzer, settings, app.state.clock, on_run=counted
    )
    app.state.pipeline = runtime.pipeline
    app.state.dispatcher = runtime.dispatcher
    app.state.jobs = runtime.jobs
    app.state.live = runtime.live
    app.state.rate_limiter = RateLimiter(settings.write_rate_per_minute)
    stack.callback(runtime.stop)
    runtime.start()


def _generation_of(app: FastAPI) -> int:
    opened: SqlStore | None = getattr(app.state, "store", None)
    return opened.generation if opened is not None else -1


def _engine_of(app: FastAPI) -> Engine | None:
    opened: SqlStore | None = getattr(app.state, "store", None)
    return opened.engine if opened is not None else None
