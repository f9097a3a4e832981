"""The configured live sources, their intake, and the record of their gaps.

One process per database reads the sources: the one holding the ``sources`` lease. Two would
read everything twice (and send the networks twice the requests), so the others stand by,
and one of them takes over, from the stored checkpoints, when the reader stops or dies.

``LiveSources.start`` takes the lease when it is free and then resumes every enabled source
from its stored checkpoint; ``check`` (a scheduled job) renews the lease, and records in the
store when a source goes silent or keeps failing, and when it is back
(``detector.store.sources``): incidents' explanations then say which sources were not
reporting, so silence is never read as "no outage".
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from detector.clock import Clock, SystemClock
from detector.ingest.base import Quarantined
from detector.ingest.live.base import Source, SourceHealth
from detector.ingest.live.intake import Intake, IntakeStats
from detector.ingest.live.registry import build_source
from detector.ingest.live.settings import SourceSettingsBase
from detector.ingest.quarantine import QuarantineWriter
from detector.pipeline import Pipeline
from detector.store.leases import (
    acquire_lease,
    lease_holder,
    parse_owner,
    pid_alive,
    process_name,
    release_dead_leases,
    release_lease,
)
from detector.store.sources import (
    ReportedHealth,
    close_gap,
    load_checkpoints,
    load_health,
    open_gap,
    open_gaps,
    save_health,
)

__all__ = ["SOURCES_LEASE", "LiveSources"]

SOURCES_LEASE = "sources"
"""The lease held by the one process that reads the live sources."""

log = logging.getLogger(__name__)

_DOWN = frozenset({"silent", "failing"})


class LiveSources:
    """Runs ``sources`` (the enabled ones) into ``pipeline`` through one :class:`Intake`.

    Parameters
    ----------
    pipeline
        Where the posts go.
    sources
        Entries of ``Settings.sources``, or built sources (tests).
    quarantine_path
        Malformed frames are appended here (JSON lines).
    capacity, batch_posts
        The intake's queue size (batches) and largest store call (posts).
    owner
        This process's name in the ``sources`` lease (default ``host:pid``).
    lease_seconds
        How long the lease lasts unless renewed by :meth:`check`: how long a reader that
        died leaves the sources unread before another process takes over.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        sources: Sequence[SourceSettingsBase | Source],
        *,
        quarantine_path: Path | None = None,
        capacity: int = 64,
        batch_posts: int = 2000,
        retry_seconds: float = 1.0,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_seconds: float = 60.0,
    ) -> None:
        self.pipeline = pipeline
        self.clock: Clock = clock or SystemClock()
        self.owner = owner or process_name()
        self.lease = timedelta(seconds=lease_seconds)
        built = [
            s if isinstance(s, Source) else build_source(s, clock=self.clock)
            for s in sources
            if isinstance(s, Source) or s.enabled
        ]
        self.sources: dict[str, Source] = {s.name: s for s in built}
        self.intake = Intake(
            pipeline,
            {s.name: s.kind for s in built},
            capacity=capacity,
            batch_posts=batch_posts,
            retry_seconds=retry_seconds,
            clock=self.clock,
        )
        self._quarantine = QuarantineWriter(quarantine_path)
        self._quarantine_lock = threading.Lock()
        self._down: dict[str, str] = {}  # source name -> the status of its open gap
        self._lock = threading.RLock()  # start, stop and check come from different threads
        self._active = False  # between start and stop
        self._reading = False  # this process holds the lease and runs the sources
        self._renewed_at: datetime | None = None
        self._reader: str | None = None  # the lease's holder at the last look

    # --- the lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Read the sources from here on when no other process does (else stand by until
        :meth:`check` finds the lease free)."""
        with self._lock:
            self._active = True
            self._claim()

    def stop(self) -> None:
        """Stop the sources, store what they read, end their gaps (a stopped source is not a
        silent one: nothing is detected while the process is down) and give the lease up,
        so that a process standing by takes over at its next check."""
        with self._lock:
            self._active = False
            if self._reading:
                self._stop_reading()
                try:
                    self._report_health()  # stopped, until a process standing by takes over
                except Exception:  # only what others show; the lease must still be given up
                    log.warning("could not report the sources' health", exc_info=True)
                release_lease(self.pipeline.store.engine, SOURCES_LEASE, self.owner)
                self._reader = None

    def check(self) -> int:
        """Renew the lease, or take it when it is free, starting or stopping the sources to
        match; then record the sources that went silent or failing, or came back, since the
        last check, and return how many changed. Run by the scheduler every
        ``sources_check_seconds``."""
        with self._lock:
            if not self._active:
                return 0
            self._claim()
            if not self._reading:
                return 0
            changed = self._record_gaps()
            self._report_health()
            return changed

    @property
    def reading(self) -> bool:
        """Whether this process reads the sources (else another does, or none yet)."""
        return self._reading

    @property
    def reader(self) -> str | None:
        """The process that reads the sources (``host:pid``), as of the last start or check;
        None when none does."""
        return self._reader

    def health(self) -> list[SourceHealth]:
        """Every source's health, in configuration order. While another process reads them,
        it is what that process last reported (at most ``lease_seconds`` old), else
        ``standby``."""
        snapshots = [source.health() for source in self.sources.values()]
        if not self._active or self._reading:
            return snapshots
        reported = load_health(self.pipeline.store.engine)
        oldest = self.clock.now() - self.lease
        return [
            _reported(reported.get(h.name), self._reader, oldest)
            or dataclasses.replace(h, status="standby", connected=False)
            for h in snapshots
        ]

    def intake_stats(self) -> IntakeStats:
        """The intake's counters."""
        return self.intake.stats()

    # --- the lease --------------------------------------------------------------------------

    def _claim(self) -> None:
        engine = self.pipeline.store.engine
        now = self.clock.now()
        try:
            held = acquire_lease(engine, SOURCES_LEASE, self.owner, now, self.lease)
        except Exception:
            # The store is out of reach: keep reading while the lease would still be ours
            # (the intake retries storing); past that, another process may have taken over.
            if self._reading and (self._renewed_at is None or now - self._renewed_at >= self.lease):
                log.warning("could not renew the sources lease: stopping the sources")
                self._stop_reading()
            raise
        if held:
            self._renewed_at = now
            self._reader = self.owner
            if not self._reading:
                self._start_reading()
            return
        reader = lease_holder(engine, SOURCES_LEASE, now)
        if reader is not None and _gone(engine, reader):
            # A reader on this host that was killed: no need to wait for its lease to run out.
            log.warning("the live sources' reader %s is gone: taking over", reader)
            self._claim()
            return
        if self._reading:
            log.warning("the sources lease went to %s: stopping the sources here", reader)
            self._stop_reading()
        elif reader != self._reader:
            log.info("live sources are read by %s; standing by", reader)
        self._reader = reader

    def _start_reading(self) -> None:
        """Start the intake and every source, each from its stored checkpoint. Gaps left open
        by a reader that crashed are closed: this process reports from here on."""
        engine = self.pipeline.store.engine
        now = self.clock.now()
        for gap in open_gaps(engine):
            if gap.source in self.sources:
                close_gap(engine, gap.source, now)
        checkpoints = load_checkpoints(engine)
        self.intake.start()
        for name, source in self.sources.items():
            checkpoint = checkpoints.get(name)
            try:
                source.validate_checkpoint(checkpoint) if checkpoint is not None else None
            except ValueError as exc:  # written by another version, or edited by hand
                log.warning(
                    "source %s: stored checkpoint unusable (%s), reading from now", name, exc
                )
                checkpoint = None
            try:
                source.start(self.intake, checkpoint=checkpoint, quarantine=self._keep)
            except RuntimeError:  # its last session never ended: that thread still reads
                log.exception("source %s could not be started", name)
                continue
            log.info("source %s (%s) started from %s", name, source.kind, checkpoint)
        self._reading = True

    def _stop_reading(self) -> None:
        for source in self.sources.values():
            source.stop()
        self.intake.stop()
        now = self.clock.now()
        for name in list(self._down):
            close_gap(self.pipeline.store.engine, name, now)
        self._down.clear()
        with self._quarantine_lock:
            self._quarantine.close()
        self._reading = False

    # --- what every process shows -----------------------------------------------------------

    def _report_health(self) -> None:
        healths = {h.name: (h.kind, h.as_dict()) for h in self.health()}
        save_health(self.pipeline.store.engine, self.owner, healths, self.clock.now())

    # --- gaps -------------------------------------------------------------------------------

    def _record_gaps(self) -> int:
        engine = self.pipeline.store.engine
        now = self.clock.now()
        changed = 0
        for health in self.health():
            was = self._down.get(health.name)
            status = health.status if health.status in _DOWN else None
            if status == was:
                continue
            changed += 1
            if status is None:
                close_gap(engine, health.name, now)
                del self._down[health.name]
                log.info("source %s is reporting again", health.name)
            else:
                detail = health.last_error if status == "failing" else _silence(health)
                open_gap(engine, health.name, health.kind, status, _since(health, now), detail)
                self._down[health.name] = status
                log.warning("source %s is %s: %s", health.name, status, detail)
        return changed

    def _keep(self, item: Quarantined) -> None:
        with self._quarantine_lock:
            self._quarantine.write(item)


def _reported(
    report: ReportedHealth | None, reader: str | None, oldest: datetime
) -> SourceHealth | None:
    """The health the reader reported, unless it is someone else's or older than ``oldest``."""
    if report is None or report.reader != reader or report.reported_at < oldest:
        return None
    return SourceHealth.from_dict(report.health)


def _gone(engine: Engine, owner: str) -> bool:
    """Whether lease owner ``owner`` was a process of this host that no longer exists; its
    leases are released then (see :func:`release_dead_leases`)."""
    host = socket.gethostname()
    parsed = parse_owner(owner)
    if parsed is None or parsed[0] != host or pid_alive(parsed[1]):
        return False
    return SOURCES_LEASE in release_dead_leases(engine, host)


def _since(health: SourceHealth, now: datetime) -> datetime:
    """When the source stopped delivering: its last post (silent) or the last time its server
    answered (failing), else its start."""
    last = health.last_post_received_at if health.status == "silent" else health.last_received_at
    return min(now, last or health.started_at or now)


def _silence(health: SourceHealth) -> str:
    last = health.last_post_received_at
    since = f"since {last:%Y-%m-%d %H:%M:%S} UTC" if last else "since it started"
    return f"no posts {since}"
