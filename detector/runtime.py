"""The long-running parts over one store, as ``outage-radar serve`` and ``listen`` run them:
the pipeline, the webhook dispatcher, the live sources and the scheduled jobs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
from apscheduler.schedulers.background import BackgroundScheduler

from detector.alerts.outbox import Dispatcher
from detector.alerts.transport import GuardedTransport
from detector.clock import Clock
from detector.config import Settings
from detector.ingest.live.manager import LiveSources
from detector.ingest.poll import FeedPoller
from detector.jobs import Jobs, live_sources, start_scheduler
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.store.leases import process_name
from detector.store.sql import SqlStore

__all__ = ["Runtime"]

log = logging.getLogger(__name__)


class Runtime:
    """Builds the parts (nothing runs until :meth:`start`); :meth:`stop` undoes ``start``.

    Parameters
    ----------
    on_run
        Told each job run's name and whether it succeeded (metrics).
    """

    def __init__(
        self,
        store: SqlStore,
        analyzer: Analyzer,
        settings: Settings,
        clock: Clock,
        *,
        on_run: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.pipeline = Pipeline(store, analyzer, settings, clock=clock)
        self._webhook_client = httpx.Client(
            transport=GuardedTransport(allow_private=settings.allow_private_webhooks),
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
        )
        owner = process_name()
        self.dispatcher = Dispatcher(
            store.engine,
            owner=owner,
            clock=clock,
            client=self._webhook_client,
            base_url=settings.public_url,
            concurrency=settings.delivery_concurrency,
        )
        self._feed_client = httpx.Client(timeout=30.0, follow_redirects=True)  # operator's URLs
        # Live sources read only when the jobs run: they feed detection, which is a job too.
        self.live: LiveSources | None = (
            live_sources(self.pipeline, settings, clock, owner) if settings.jobs_enabled else None
        )
        self.jobs = Jobs(
            self.pipeline,
            self.dispatcher,
            settings,
            clock,
            owner,
            poller=FeedPoller(self._feed_client),
            live=self.live,
            on_run=on_run,
        )
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        """Start the scheduled jobs and the live sources (when the settings enable jobs)."""
        if not self.settings.jobs_enabled:
            return
        self._scheduler = start_scheduler(self.jobs, self.settings)
        if self.live is not None:
            self.live.start()

    def stop(self) -> None:
        """Stop reading (storing what was read), stop delivering after the current attempt,
        wait for running jobs, and close the HTTP clients."""
        if self.live is not None:
            self.live.stop()
        # A delivery run under way stops after its current attempt, so shutting down never
        # waits for a whole backlog.
        self.dispatcher.stop()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self._feed_client.close()
        self._webhook_client.close()
