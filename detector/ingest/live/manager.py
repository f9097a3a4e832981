"""The configured live sources of one process, their intake, and the record of their gaps.

``LiveSources.start`` resumes every enabled source from its stored checkpoint; ``check`` (a
scheduled job) looks at their health and records in the store when a source goes silent or
keeps failing, and when it is back (``detector.store.sources``): incidents' explanations
then say which sources were not reporting, so silence is never read as "no outage".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from detector.clock import Clock, SystemClock
from detector.ingest.base import Quarantined
from detector.ingest.live.base import Source, SourceHealth
from detector.ingest.live.intake import Intake, IntakeStats
from detector.ingest.live.registry import build_source
from detector.ingest.live.settings import SourceSettingsBase
from detector.ingest.quarantine import QuarantineWriter
from detector.pipeline import Pipeline
from detector.store.sources import close_gap, load_checkpoints, open_gap, open_gaps

__all__ = ["LiveSources"]

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
    ) -> None:
        self.pipeline = pipeline
        self.clock: Clock = clock or SystemClock()
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
        self._started = False

    def start(self) -> None:
        """Start the intake and every source, each from its stored checkpoint. Gaps a
        crashed process left open are closed now: this process reports from here on."""
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
            source.start(self.intake, checkpoint=checkpoint, quarantine=self._keep)
            log.info("source %s (%s) started from %s", name, source.kind, checkpoint)
        self._started = True

    def stop(self) -> None:
        """Stop the sources, store what they read, and end their gaps (a stopped source is
        not a silent one: nothing is detected while the process is down)."""
        if not self._started:
            return
        for source in self.sources.values():
            source.stop()
        self.intake.stop()
        now = self.clock.now()
        for name in list(self._down):
            close_gap(self.pipeline.store.engine, name, now)
        self._down.clear()
        with self._quarantine_lock:
            self._quarantine.close()
        self._started = False

    def health(self) -> list[SourceHealth]:
        """Every source's health, in configuration order."""
        return [source.health() for source in self.sources.values()]

    def intake_stats(self) -> IntakeStats:
        """The intake's counters."""
        return self.intake.stats()

    def check(self) -> int:
        """Record sources that went silent or failing, or came back, since the last check;
        return how many changed. Run by the scheduler every ``sources_check_seconds``."""
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


def _since(health: SourceHealth, now: datetime) -> datetime:
    """When the source stopped delivering: its last post (silent) or the last time its server
    answered (failing), else its start."""
    last = health.last_post_received_at if health.status == "silent" else health.last_received_at
    return min(now, last or health.started_at or now)


def _silence(health: SourceHealth) -> str:
    last = health.last_post_received_at
    since = f"since {last:%Y-%m-%d %H:%M:%S} UTC" if last else "since it started"
    return f"no posts {since}"
