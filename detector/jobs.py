"""The server's scheduled work (APScheduler 3): pull new posts, detect, deliver webhooks, and
apply retention.

Every job is a plain method of :class:`Jobs`, so it can be called directly (tests, the CLI) as
well as from the scheduler. The scheduler runs each job with ``max_instances=1`` and
``coalesce=True`` (a slow run is never overlapped by the next, and missed runs collapse into
one); a job that raises is logged and counted, and runs again at its next time. Work that two
server processes on one database must not both do is guarded by a lease in the store
(``detect``; each webhook endpoint; ``sources``, held by the one process that reads the live
sources), so running two servers is safe. Before the scheduler
starts, the leases left by a crashed server on this host are released, so that its successor
resumes at once rather than when they expire.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from detector.alerts.outbox import Dispatcher
from detector.clock import Clock
from detector.config import Settings
from detector.errors import FeedError
from detector.ingest.files import ReadOptions
from detector.ingest.live.manager import LiveSources
from detector.ingest.poll import FeedPoller
from detector.ingest.quarantine import QuarantineWriter
from detector.pipeline import Pipeline
from detector.store import detection as db
from detector.store.leases import (
    acquire_lease,
    process_name,
    release_dead_leases,
    release_lease,
)
from detector.store.schema import (
    bucket_scores,
    complaints,
    post_annotations,
    posts,
    pulled_files,
    webhook_deliveries,
)
from detector.store.webhooks import list_webhooks

__all__ = ["JobStats", "Jobs", "live_sources", "start_scheduler"]

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A file still being written must not be read half-way: take it once it has been left alone
# this long (writers should write elsewhere and rename into the folder; this is the fallback).
_SETTLE_SECONDS = 2.0


@dataclass
class JobStats:
    """Runs, failures and the last duration of one job (read by ``/metrics``)."""

    runs: int = 0
    errors: int = 0
    last_seconds: float = 0.0
    last_error: str | None = None


@dataclass
class Jobs:
    """The server's jobs over one pipeline (its store and analyzer) and one dispatcher."""

    pipeline: Pipeline
    dispatcher: Dispatcher
    settings: Settings
    clock: Clock
    owner: str = field(default_factory=process_name)
    poller: FeedPoller | None = None
    """Polls ``settings.poll_urls`` (none polled without one)."""
    live: LiveSources | None = None
    """The live sources this process runs (their health is checked by ``sources``)."""
    on_run: Callable[[str, bool], None] | None = None
    """Told each run's job name and whether it succeeded (metrics)."""
    stats: dict[str, JobStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the jobs ---------------------------------------------------------------------------

    def pull(self) -> int:
        """Ingest new or changed files from the watched folder and the posts of the polled
        feeds; return how many files and feeds had something new."""
        done = self._pull_folder()
        if self.poller is None or not self.settings.poll_urls:
            return done
        failures = []
        with QuarantineWriter(self.settings.quarantine_path) as quarantine:
            for url in self.settings.poll_urls:
                try:
                    posts = self.poller.poll(url, quarantine)
                except httpx.HTTPError as exc:  # one feed down must not stop the others
                    failures.append(f"{url}: {type(exc).__name__}: {exc}")
                    continue
                if posts:
                    self.pipeline.add(posts)
                    done += 1
        if failures:
            raise FeedError("; ".join(failures))
        return done

    def _pull_folder(self) -> int:
        folder = self.settings.watch_dir
        if folder is None or not folder.is_dir():
            return 0
        engine = self.pipeline.store.engine
        with engine.connect() as conn:
            seen = {row.path: (row.size, row.mtime) for row in conn.execute(select(pulled_files))}
        settled = time.time() - _SETTLE_SECONDS
        todo: list[tuple[Path, int, float]] = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = path.stat()
            if info.st_mtime > settled or path.name.startswith("."):
                continue  # still being written, or a temporary file
            if seen.get(str(path)) != (info.st_size, info.st_mtime):
                todo.append((path, info.st_size, info.st_mtime))
        if not todo:
            return 0
        options = ReadOptions(not_after=self.clock.now() + self.settings.future_tolerance)
        with QuarantineWriter(self.settings.quarantine_path) as quarantine:
            self.pipeline.ingest_paths([path for path, _, _ in todo], options, quarantine)
        now = self.clock.now()
        with engine.begin() as conn:
            for path, size, mtime in todo:
                conn.execute(delete(pulled_files).where(pulled_files.c.path == str(path)))
                conn.execute(
                    pulled_files.insert().values(
                        path=str(path), size=size, mtime=mtime, pulled_at=now
                    )
                )
        return len(todo)

    def sources(self) -> int:
        """Renew the live sources' lease (or take it over from a process that is gone), and
        record sources that went silent or failing, or came back; return how many changed
        (none without live sources, or while another process reads them)."""
        return self.live.check() if self.live is not None else 0

    def detect(self) -> int:
        """Score the minutes up to the newest post less the lateness allowance (under the
        ``detect`` lease: one process detects); return how many minutes were scored."""
        engine = self.pipeline.store.engine
        lease = timedelta(seconds=max(120.0, 4 * self.settings.jobs_interval_seconds))
        if not acquire_lease(engine, "detect", self.owner, self.clock.now(), lease):
            return 0
        try:
            with engine.connect() as conn:
                newest = db.last_post_time(conn)
            if newest is None:
                return 0
            return self.pipeline.detect(until=newest - self.settings.detect_lateness).minutes
        finally:
            release_lease(engine, "detect", self.owner)

    def deliver(self) -> int:
        """Fan out and deliver webhook events; return how many were delivered."""
        webhooks = list_webhooks(self.pipeline.store.engine, enabled_only=True)
        return self.dispatcher.run_once(webhooks).delivered if webhooks else 0

    def retention(self) -> int:
        """Delete posts, annotations, complaints, scores and finished deliveries more than
        ``retention_days`` older than the newest post (incidents and their events are kept);
        return rows deleted.

        Measured from the newest post rather than the wall clock, as detection is: live, the
        two agree; a replayed archive is kept, not deleted on arrival.
        """
        engine = self.pipeline.store.engine
        with engine.connect() as conn:
            newest = db.last_post_time(conn)
        if newest is None:
            return 0
        cutoff = newest - timedelta(days=self.settings.retention_days)
        minute = int((cutoff - _EPOCH).total_seconds() // 60)
        deleted = 0
        with engine.begin() as conn:
            for statement in (
                delete(posts).where(posts.c.created_at < cutoff),
                delete(post_annotations).where(post_annotations.c.created_at < cutoff),
                delete(complaints).where(complaints.c.created_at < cutoff),
                delete(bucket_scores).where(bucket_scores.c.minute < minute),
                delete(webhook_deliveries).where(
                    webhook_deliveries.c.status != "pending",
                    webhook_deliveries.c.created_at < cutoff,
                ),
            ):
                deleted += conn.execute(statement).rowcount or 0
        return deleted

    def release_dead_leases(self) -> list[str]:
        """Release the leases of processes of this host that are gone (a killed server this
        one replaces); return their names. Run by :func:`start_scheduler` before the jobs.

        A failure only logs a warning: the leases then run out on their own, as before.
        """
        engine = self.pipeline.store.engine
        try:
            released = release_dead_leases(engine, socket.gethostname())
        except SQLAlchemyError:
            log.warning("could not release the leases of dead processes", exc_info=True)
            return []
        if released:
            log.warning("released the leases of processes that are gone: %s", ", ".join(released))
        return released

    # --- running them -----------------------------------------------------------------------

    def run(self, name: str) -> None:
        """Run job ``name`` once, timing it and counting a failure instead of raising."""
        job: Callable[[], int] = getattr(self, name)
        began = time.perf_counter()
        error: str | None = None
        try:
            job()
        except Exception as exc:  # a job survives its errors: logged, counted, next run
            log.exception("job %s failed", name)
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            stats = self.stats.setdefault(name, JobStats())
            stats.runs += 1
            stats.last_seconds = time.perf_counter() - began
            if error is not None:
                stats.errors += 1
                stats.last_error = error
        if self.on_run is not None:
            self.on_run(name, error is None)


def live_sources(
    pipeline: Pipeline, settings: Settings, clock: Clock, owner: str | None = None
) -> LiveSources | None:
    """The live sources ``settings`` configures (not started), read by whichever process of
    the database holds the ``sources`` lease (``owner`` names this one), or None when there
    are none."""
    if not any(source.enabled for source in settings.sources):
        return None
    return LiveSources(
        pipeline,
        settings.sources,
        quarantine_path=settings.quarantine_path,
        capacity=settings.intake_queue_batches,
        batch_posts=settings.intake_batch_posts,
        clock=clock,
        owner=owner,
        # Renewed at every check; a holder that died is replaced once a few checks are missed.
        lease_seconds=max(60.0, 4 * settings.sources_check_seconds),
    )


def start_scheduler(jobs: Jobs, settings: Settings) -> BackgroundScheduler:
    """Start the jobs in a background scheduler (stop it with ``shutdown(wait=True)``),
    after releasing the leases a crashed predecessor on this host left behind."""
    jobs.release_dead_leases()
    # Intake, detection and retention take turns on one thread (they write the same tables);
    # delivery has its own, so a slow receiver never holds detection back, and so has the
    # sources' check, which renews their lease: a long detection run must not let it lapse.
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1},
        executors={
            "default": ThreadPoolExecutor(1),
            "delivery": ThreadPoolExecutor(1),
            "sources": ThreadPoolExecutor(1),
        },
    )
    every = settings.jobs_interval_seconds
    for name, seconds, executor in (
        ("pull", every, "default"),
        ("detect", every, "default"),
        ("deliver", settings.delivery_interval_seconds, "delivery"),
        ("retention", 3600.0, "default"),
        *([("sources", settings.sources_check_seconds, "sources")] if jobs.live else []),
    ):
        scheduler.add_job(
            jobs.run,
            "interval",
            args=[name],
            seconds=seconds,
            id=name,
            name=name,
            executor=executor,
            next_run_time=datetime.now(UTC),  # first run at start, then every interval
        )
    scheduler.start()
    return scheduler
