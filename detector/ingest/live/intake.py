"""The intake: the one sink of every live source, draining their batches into the pipeline.

Sources put batches on a bounded queue; one thread takes them, several at a time up to
``batch_posts`` posts, stores and annotates them with ``Pipeline.add`` and then saves each
source's checkpoint. When the queue is full, ``put`` waits, and so the sources stop reading
(backpressure): a slow database slows intake. When storing fails (the database is down), the
same posts are tried again after a growing wait; nothing is dropped, and no checkpoint moves
past posts that are not stored, so even a crash loses nothing: the restarted sources read them
again from their stored checkpoints, and the store drops the ones it already has.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from detector.clock import Clock, SystemClock
from detector.ingest.live.base import Batch
from detector.pipeline import Pipeline
from detector.store.base import AddResult
from detector.store.sources import save_checkpoints

__all__ = ["Intake", "IntakeStats"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_POLL_SECONDS = 0.1  # how often a waiting put or take looks at the stop flag


@dataclass(frozen=True, slots=True)
class IntakeStats:
    """What the intake did so far (``GET /v1/sources``, ``/metrics``)."""

    queued_batches: int
    capacity_batches: int
    batches: int
    posts: int
    stored: int
    errors: int
    last_error: str | None
    last_error_at: datetime | None
    retrying: bool
    """True while a batch waits to be stored again after a failure."""
    blocked_seconds: float
    """Time sources spent waiting for room in the queue."""


class Intake:
    """A bounded queue of batches and the thread storing them.

    Parameters
    ----------
    pipeline
        Stores, annotates and counts the posts.
    kinds
        Each source's kind, by name (stored with its checkpoint).
    capacity
        Batches the queue holds before ``put`` waits.
    batch_posts
        Most posts stored in one ``Pipeline.add``.
    retry_seconds, max_retry_seconds
        First and longest wait before storing again after a failure.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        kinds: dict[str, str],
        *,
        capacity: int = 64,
        batch_posts: int = 2000,
        retry_seconds: float = 1.0,
        max_retry_seconds: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.kinds = kinds
        self.capacity = capacity
        self.batch_posts = batch_posts
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.clock: Clock = clock or SystemClock()
        self._queue: queue.Queue[Batch] = queue.Queue(maxsize=capacity)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._batches = self._posts = self._stored = self._errors = 0
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._retrying_now = False
        self._blocked = 0.0

    # --- the sink ---------------------------------------------------------------------------

    def put(self, batch: Batch, stop: threading.Event) -> bool:
        """Queue ``batch``, waiting while the queue is full; False when ``stop`` (the
        source's) is set first."""
        began = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    self._queue.put(batch, timeout=_POLL_SECONDS)
                    return True
                except queue.Full:
                    continue
            return False
        finally:
            waited = time.monotonic() - began
            if waited >= _POLL_SECONDS:
                with self._lock:
                    self._blocked += waited

    # --- the thread -------------------------------------------------------------------------

    def start(self) -> None:
        """Start storing queued batches on a background thread."""
        if self._thread is not None:
            raise RuntimeError("the intake is already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="source-intake", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Store what is queued (stop the sources first), then stop; gives up after
        ``timeout`` seconds when the store keeps failing (those posts are read again at the
        next start: their checkpoints did not move)."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the intake did not finish storing within %.0f s", timeout)
        self._thread = None

    def stats(self) -> IntakeStats:
        """What the intake did so far."""
        with self._lock:
            return IntakeStats(
                queued_batches=self._queue.qsize(),
                capacity_batches=self.capacity,
                batches=self._batches,
                posts=self._posts,
                stored=self._stored,
                errors=self._errors,
                last_error=self._last_error,
                last_error_at=self._last_error_at,
                retrying=self._retrying_now,
                blocked_seconds=round(self._blocked, 3),
            )

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if self._stop.is_set():
                    return  # stopped, and everything queued is stored
                continue
            batches = [first]
            posts = len(first.posts)
            while posts < self.batch_posts:
                try:
                    batch = self._queue.get_nowait()
                except queue.Empty:
                    break
                batches.append(batch)
                posts += len(batch.posts)
            if not self._store(batches):
                return  # stopped while the store was failing

    def _store(self, batches: list[Batch]) -> bool:
        """Store ``batches``, annotate what was new, then save their checkpoints, each step
        retried until it works; False when stopped first.

        The steps are retried one by one, not ``Pipeline.add`` as a whole: posts stored by a
        try whose annotation then failed would be dropped as already stored by the next try,
        and never annotated.
        """
        posts = [post for batch in batches for post in batch.posts]
        # The last batch of each source holds its newest checkpoint (a source's batches are
        # queued in the order it read them).
        checkpoints = {b.source: (self.kinds.get(b.source, "?"), b.checkpoint) for b in batches}
        pipeline = self.pipeline
        stored = 0
        if posts:
            window = pipeline.settings.collapse_window

            def add() -> AddResult:
                with pipeline.lock:  # the server's other writers take turns with it
                    return pipeline.store.add_posts(posts, collapse_window=window)

            added = self._until_done(add)
            if added is None or self._until_done(lambda: pipeline.analyze(added)) is None:
                return False
            stored = added.stored

        def save() -> bool:
            with pipeline.store.engine.begin() as conn:
                save_checkpoints(conn, checkpoints, self.clock.now())
            return True

        if self._until_done(save) is None:
            return False
        with self._lock:
            self._batches += len(batches)
            self._posts += len(posts)
            self._stored += stored
        return True

    def _until_done(self, action: Callable[[], _T]) -> _T | None:
        """``action()``, tried again after a growing wait while it raises; None when stopped
        first."""
        wait = self.retry_seconds
        while True:
            try:
                result = action()
            except Exception as exc:  # the store is down or refused: keep the posts, retry
                log.warning("storing live posts failed (again in %.1f s): %s", wait, exc)
                with self._lock:
                    self._errors += 1
                    self._last_error = f"{type(exc).__name__}: {exc}"[:500]
                    self._last_error_at = self.clock.now()
                    self._retrying_now = True
                if self._stop.wait(wait):
                    return None
                wait = min(wait * 2, self.max_retry_seconds)
                continue
            with self._lock:
                self._retrying_now = False
            return result
