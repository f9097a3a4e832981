"""One code path from posts to incidents, for live streams and archives alike.

``Pipeline.add`` stores a batch of posts, annotates the new ones (with their conversation from
the store) and records each outage complaint per service, marking it *counted* when it is the
author's first report about that service within the report window and not a repost.
``Pipeline.detect`` then steps the spike engine one minute at a time over the counted
complaints, up to a watermark, feeding the incident tracker; every incident change is written
together with its event (the webhook outbox) and the detector's state, so a crash loses nothing
and a restart continues where it stopped. Replaying an archive is ``add`` in time order with
``detect`` after each batch: the same minutes, steps and incidents as a live stream.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from detector.clock import Clock, SystemClock
from detector.config import Settings
from detector.errors import InputError, SourceNotFound
from detector.ingest.base import Skipped
from detector.ingest.files import ReadOptions, read_file
from detector.ingest.quarantine import QuarantineWriter
from detector.ingest.service import FileFailure, IngestSummary, expand_paths, ingest_paths
from detector.models import Post
from detector.nlp.analyzer import Analyzer, Annotation
from detector.spikes.engine import DetectorConfig, SpikeEngine
from detector.spikes.evidence import summarize_evidence
from detector.spikes.incidents import Incident, IncidentConfig, IncidentEvent, IncidentTracker
from detector.store import detection as db
from detector.store.base import AddResult, IngestRun
from detector.store.sources import gaps_between
from detector.store.sql import SqlStore

__all__ = ["AnalyzeResult", "DetectResult", "Pipeline", "outbox_row"]

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
_COUNTS_CHUNK_MINUTES = 24 * 60  # read counts a day at a time
# A source down shortly before an incident started may have hidden its first reports too.
_GAP_MARGIN = timedelta(minutes=30)


@dataclass(slots=True)
class AnalyzeResult:
    """What ``Pipeline.add`` found in one batch."""

    stored: int = 0
    annotated: int = 0
    outage_posts: int = 0
    complaints: int = 0
    counted: int = 0

    def add(self, part: AnalyzeResult) -> None:
        """Count ``part`` in this total too."""
        self.stored += part.stored
        self.annotated += part.annotated
        self.outage_posts += part.outage_posts
        self.complaints += part.complaints
        self.counted += part.counted


@dataclass(slots=True)
class DetectResult:
    """What one ``Pipeline.detect`` call did."""

    first: datetime | None = None
    last: datetime | None = None
    minutes: int = 0
    events: list[IncidentEvent] = field(default_factory=list)

    def add(self, part: DetectResult) -> None:
        """Extend this total with a later run's minutes and events."""
        if part.minutes:
            self.first = self.first or part.first
            self.last = part.last
            self.minutes += part.minutes
            self.events.extend(part.events)


class Pipeline:
    """Posts in, incidents out; build one per process and reuse it.

    Its methods may be called from several threads (the server's jobs and API requests): they
    take turns, because each reads the store and then writes what it read (counts, detector
    state), and SQLite would refuse the write of one whose snapshot another made stale.

    Parameters
    ----------
    store
        Where posts, annotations, counts, state and incidents live.
    analyzer
        Loaded once (``Analyzer.load()``).
    name
        Which saved detector state to use (one per independent detector).
    exclusive
        No other process detects on this store (an analysis's private work store): the
        detector's state is then kept in memory between ``detect`` calls instead of being
        read back from the store each time (it is still saved with every change).
    """

    def __init__(
        self,
        store: SqlStore,
        analyzer: Analyzer,
        settings: Settings,
        *,
        clock: Clock | None = None,
        detector: DetectorConfig | None = None,
        lifecycle: IncidentConfig | None = None,
        name: str = "default",
        exclusive: bool = False,
    ) -> None:
        self.store = store
        self.analyzer = analyzer
        self.settings = settings
        self.clock = clock or SystemClock()
        self.detector_config = detector or DetectorConfig()
        self.lifecycle = lifecycle
        self.name = name
        self.exclusive = exclusive
        self.lock = threading.RLock()
        self._state: tuple[SpikeEngine, IncidentTracker] | None = None

    # --- intake -----------------------------------------------------------------------------

    def add(self, posts: Sequence[Post]) -> AnalyzeResult:
        """Store ``posts`` and annotate and count the ones that are new."""
        with self.lock:
            result = self.store.add_posts(posts, collapse_window=self.settings.collapse_window)
            return self.analyze(result)

    def analyze(self, result: AddResult) -> AnalyzeResult:
        """Annotate the posts a store call kept and record their complaints."""
        kept = list(result.kept)
        if not kept:
            return AnalyzeResult(stored=result.stored)
        notes = self.analyzer.annotate(kept, parents=self.store.get_posts)
        return self.record(kept, notes, stored=result.stored)

    def record(
        self, kept: Sequence[Post], notes: Sequence[Annotation], *, stored: int
    ) -> AnalyzeResult:
        """Record what the analyzer found in stored posts: the annotations of likely
        complaints, and each outage complaint per service, counted when it is the author's
        first about that service within the report window (archives annotated elsewhere, in
        parallel, come in here too)."""
        with self.lock:
            return self._record(kept, notes, stored)

    def _record(
        self, kept: Sequence[Post], notes: Sequence[Annotation], stored: int
    ) -> AnalyzeResult:
        summary = AnalyzeResult(stored=stored)
        annotation_rows = []
        candidates: list[tuple[Post, Annotation, str]] = []
        for post, note in zip(kept, notes, strict=True):
            if note.outage_probability >= self.analyzer.extract_below:
                annotation_rows.append(_annotation_row(post, note))
            if note.is_outage:
                summary.outage_posts += 1
                if not post.is_repost:
                    candidates.extend((post, note, s) for s in {m.slug for m in note.services})
        summary.annotated = len(annotation_rows)
        with self.store.engine.begin() as conn:
            complaint_rows = self._complaint_rows(conn, candidates)
            db.add_annotations(conn, annotation_rows)
            db.add_complaints(conn, complaint_rows)
        summary.complaints = len(complaint_rows)
        summary.counted = sum(1 for row in complaint_rows if row["counted"])
        return summary

    def _complaint_rows(
        self, conn: Any, candidates: list[tuple[Post, Annotation, str]]
    ) -> list[dict[str, Any]]:
        if not candidates:
            return []
        window = self.settings.report_window
        candidates.sort(key=lambda c: (c[0].created_at, c[0].id, c[2]))
        keys = [(service, _author_key(post)) for post, _, service in candidates]
        last = db.last_counted(conn, keys, candidates[0][0].created_at - window)
        rows = []
        for (post, note, service), key in zip(candidates, keys, strict=True):
            previous = last.get(key)
            counted = previous is None or abs(post.created_at - previous) >= window
            if counted:
                last[key] = post.created_at
            rows.append(
                {
                    "post_id": post.id,
                    "service": service,
                    "created_at": post.created_at,
                    "minute": _minute(post.created_at),
                    "author_key": key[1],
                    "country": note.country,
                    "source_kind": post.source_kind.value,
                    "source_name": post.source_name,
                    "counted": counted,
                }
            )
        return rows

    def ingest_paths(
        self,
        paths: Sequence[Path],
        options: ReadOptions,
        quarantine: QuarantineWriter,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> tuple[IngestSummary, AnalyzeResult]:
        """Read files into the store, annotating and counting each stored batch."""
        total = AnalyzeResult()

        def after_batch(result: AddResult) -> None:
            total.add(self.analyze(result))

        with self.lock:
            summary = ingest_paths(
                paths=paths,
                store=self.store,
                options=options,
                quarantine=quarantine,
                batch_size=self.settings.batch_size,
                collapse_window=self.settings.collapse_window,
                clock=self.clock,
                on_progress=on_progress,
                on_batch=after_batch,
            )
        return summary, total

    def replay(
        self,
        paths: Sequence[Path],
        options: ReadOptions,
        quarantine: QuarantineWriter,
        *,
        batch_size: int = 2000,
        speed: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_events: Callable[[list[IncidentEvent]], None] | None = None,
    ) -> tuple[IngestSummary, AnalyzeResult, DetectResult]:
        """Feed archived posts in time order, as a live stream would have delivered them,
        detecting after every batch; ``speed`` N replays N times faster than real time.

        Files are read side by side and merged by time. A malformed record is quarantined
        and counted; a file that cannot be read to its end is reported in the summary's
        ``failures`` and the others go on.
        """
        reading, total, detected = IngestSummary(), AnalyzeResult(), DetectResult()
        began = self.clock.now()
        batch: list[Post] = []
        started: tuple[datetime, float] | None = None

        def flush() -> None:
            if not batch:
                return
            added = self.add(batch)
            reading.stored += added.stored
            total.add(added)
            watermark = batch[-1].created_at - self.settings.detect_lateness
            batch.clear()
            _merge(detected, self.detect(until=watermark), on_events)

        for post in _merged_posts(paths, options, quarantine, reading):
            if speed:
                now = time.monotonic()
                started = started or (post.created_at, now)
                wait = (post.created_at - started[0]).total_seconds() / speed - (now - started[1])
                if wait > 0:
                    flush()
                    sleep(wait)
            batch.append(post)
            if len(batch) >= batch_size:
                flush()
        flush()
        _merge(detected, self.detect(), on_events)
        reading.duplicates = reading.posts - reading.stored
        self.store.record_ingest_run(
            IngestRun(
                started_at=began,
                finished_at=self.clock.now(),
                paths=[str(p) for p in paths],
                summary=reading.as_dict(),
            )
        )
        return reading, total, detected

    # --- detection --------------------------------------------------------------------------

    def detect(
        self, until: datetime | None = None, *, start: datetime | None = None
    ) -> DetectResult:
        """Step the detector over every whole minute before ``until`` not yet stepped.

        ``until`` defaults to the minute after the newest stored post (everything stored).
        ``start`` is where the first run begins, when it is not the oldest stored post (an
        archive whose quiet posts were not stored still began with them).
        """
        with self.lock:
            engine, tracker = self._state or self._load()
            self._state = None  # until this run is through: a failure may leave it half-stepped
            result = self._detect(engine, tracker, until, start)
            if self.exclusive:
                self._state = engine, tracker
            return result

    def _detect(
        self,
        engine: SpikeEngine,
        tracker: IncidentTracker,
        until: datetime | None,
        start: datetime | None,
    ) -> DetectResult:
        result = DetectResult()
        with self.store.engine.connect() as conn:
            if engine.last_step is not None:
                first = engine.last_step + 1
            else:
                start = start or db.first_post_time(conn)
                if start is None:
                    return result
                first = _minute(start)
            if until is None:
                newest = db.last_post_time(conn)
                if newest is None:
                    return result
                until = newest + _MINUTE
        last = _minute(until) - 1
        if last < first:
            return result
        groups = self._groups()
        pending_scores: list[dict[str, Any]] = []
        for chunk_start in range(first, last + 1, _COUNTS_CHUNK_MINUTES):
            chunk_end = min(last, chunk_start + _COUNTS_CHUNK_MINUTES - 1)
            with self.store.engine.connect() as conn:
                counts = db.minute_counts(conn, chunk_start, chunk_end)
            for minute in range(chunk_start, chunk_end + 1):
                at = _EPOCH + minute * _MINUTE
                minute_counts = counts.get(minute, {})
                scores = engine.step(at, minute_counts, {k: groups(k) for k in minute_counts})
                pending_scores.extend(
                    {
                        "service": s.key,
                        "minute": minute,
                        "observed": s.observed,
                        "expected": s.expected,
                        "score": s.score,
                        "state": int(s.state),
                    }
                    for s in scores
                )
                events = tracker.update(at, scores)
                if events:
                    self._commit(engine, tracker, events, pending_scores, at + _MINUTE)
                    pending_scores = []
                    result.events.extend(events)
        self._commit(engine, tracker, [], pending_scores, _EPOCH + (last + 1) * _MINUTE)
        result.first = _EPOCH + first * _MINUTE
        result.last = _EPOCH + last * _MINUTE
        result.minutes = last - first + 1
        return result

    def _commit(
        self,
        engine: SpikeEngine,
        tracker: IncidentTracker,
        events: list[IncidentEvent],
        scores: list[dict[str, Any]],
        now: datetime,
    ) -> None:
        """Write events, the incidents they change, scores and detector state in one
        transaction (the outbox guarantee: no change without its event, and vice versa)."""
        with self.store.engine.begin() as conn:
            touched: dict[str, Incident] = {e.incident.id: e.incident for e in events}
            if not events:
                touched = {i.id: i for i in tracker.open.values()}
            for incident in touched.values():
                end = incident.end or now
                rows = db.complaint_evidence(conn, incident.service, incident.start, end)
                incident.evidence = summarize_evidence(rows)
                gaps = gaps_between(conn, incident.start - _GAP_MARGIN, end)
                if gaps:  # only then: archives have no live sources, and no key for them
                    incident.evidence["source_gaps"] = [gap.as_dict() for gap in gaps]
                db.upsert_incident(conn, _incident_row(incident, now))
            for event in events:
                db.add_event(conn, outbox_row(event))
            db.add_bucket_scores(conn, scores)
            db.save_state(conn, self.name, engine.to_state(), tracker.to_state(), self.clock.now())

    def _load(self) -> tuple[SpikeEngine, IncidentTracker]:
        with self.store.engine.connect() as conn:
            saved = db.load_state(conn, self.name)
        step = self.detector_config.step_minutes
        if saved is None:
            return SpikeEngine(self.detector_config), IncidentTracker(step, self.lifecycle)
        engine_bytes, tracker_state = saved
        return (
            SpikeEngine.from_state(engine_bytes),
            IncidentTracker.from_state(tracker_state, step, self.lifecycle),
        )

    def _groups(self) -> Callable[[str], str]:
        catalog = self.analyzer.catalog

        def group(service: str) -> str:
            if service.startswith("unknown:"):
                return "unknown"
            return catalog.by_slug(service).category

        return group


def _merged_posts(
    paths: Sequence[Path],
    options: ReadOptions,
    quarantine: QuarantineWriter,
    summary: IngestSummary,
) -> Iterator[Post]:
    """Posts of all files in time order (each file is read as a stream; files are merged)."""

    def posts_of(path: Path) -> Iterator[Post]:
        summary.files += 1
        try:
            if not path.exists():
                raise SourceNotFound(path)
            for item in read_file(path, options):
                if isinstance(item, Post):
                    summary.posts += 1
                    summary.reposts += item.is_repost
                    yield item
                elif isinstance(item, Skipped):
                    summary.skipped[item.reason] += 1
                else:
                    summary.quarantined[item.reason] += 1
                    quarantine.write(item)
        except InputError as exc:
            log.warning("%s", exc)
            summary.failures.append(FileFailure(exc.path, exc.message))

    streams: Iterable[Iterator[Post]] = [posts_of(p) for p in expand_paths(paths)]
    yield from heapq.merge(*streams, key=lambda p: p.created_at)


def _annotation_row(post: Post, note: Annotation) -> dict[str, Any]:
    data = note.as_dict()
    del data["id"]
    return {
        "post_id": post.id,
        "created_at": post.created_at,
        "probability": note.outage_probability,
        "is_outage": note.is_outage,
        "country": note.country,
        "data": data,
    }


def _incident_row(incident: Incident, now: datetime) -> dict[str, Any]:
    return {
        "id": incident.id,
        "service": incident.service,
        "status": incident.status,
        "severity": incident.severity,
        "start": incident.start,
        "detected_at": incident.detected_at,
        "end": incident.end,
        "updated_at": now,
        "data": incident.as_dict(now=now),
    }


def outbox_row(event: IncidentEvent) -> dict[str, Any]:
    """The outbox row of an incident event (its id is stable: a replay regenerates the same)."""
    return {
        "id": f"{event.incident.id}:{event.type}:{event.at:%Y%m%dT%H%MZ}:{event.change}",
        "incident_id": event.incident.id,
        "type": event.type,
        "at": event.at,
        "payload": {
            "type": event.type,
            "change": event.change,
            "at": event.at.isoformat(),
            "incident": event.incident.as_dict(now=event.at),
        },
    }


def _author_key(post: Post) -> str:
    return f"{post.source_kind.value}:{post.author_id or post.author_handle or post.id}"


def _minute(at: datetime) -> int:
    return int((at - _EPOCH) // _MINUTE)


def _merge(
    total: DetectResult,
    part: DetectResult,
    on_events: Callable[[list[IncidentEvent]], None] | None = None,
) -> None:
    total.add(part)
    if part.events and on_events is not None:
        on_events(part.events)
