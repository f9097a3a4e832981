"""The live-source interface: a :class:`Source` reads one network and hands posts to a sink.

A source runs on its own thread between ``start`` and ``stop``. Its work is one *session*
(:meth:`Source.run_session`): a stream read until the server drops it, or a loop of polls. When
a session fails the source waits (exponential backoff with jitter, reset by the next session
that receives something) and starts another from its checkpoint, so a dropped connection costs
a reconnect, never the posts in between.

A source hands posts over in batches with the *checkpoint* after them (an opaque string: a
cursor, the newest id seen, feed validators). The sink (:mod:`detector.ingest.live.intake`)
blocks while it is full, so a slow database slows reading instead of losing posts, and it saves
a batch's checkpoint only once the batch is stored: a restarted server resumes from the last
stored checkpoint, and the posts read twice are dropped by their ids.

Everything a running session needs comes through its :class:`SourceContext`: handing over posts,
parsing and quarantining records, waiting in a way that ``stop`` interrupts, and health.
"""

from __future__ import annotations

import logging
import random
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal, Protocol, get_args, get_type_hints

import httpx

from detector.clock import Clock, SystemClock
from detector.ingest.base import Quarantined, RecordParser, Skipped
from detector.ingest.files import ReadOptions, parse_record
from detector.ingest.live.interrupt import OpenSockets
from detector.ingest.live.settings import SourceSettingsBase
from detector.models import Post

__all__ = [
    "Batch",
    "PollingSource",
    "Sink",
    "Source",
    "SourceContext",
    "SourceHealth",
    "SourceStatus",
]

log = logging.getLogger(__name__)

SourceStatus = Literal["starting", "ok", "silent", "failing", "stopped", "standby"]
_RATE_WINDOW = timedelta(minutes=5)  # posts/min is averaged over this much recent time


@dataclass(frozen=True, slots=True)
class Batch:
    """Posts one source read, with the checkpoint to resume from once they are stored."""

    source: str
    posts: tuple[Post, ...]
    checkpoint: str | None


class Sink(Protocol):
    """Where sources hand their batches (the intake)."""

    def put(self, batch: Batch, stop: threading.Event) -> bool:
        """Queue ``batch``, waiting while the sink is full; return False, without queueing,
        when ``stop`` is set first."""
        ...


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A snapshot of one source's health (``GET /v1/sources``, ``/metrics``)."""

    name: str
    kind: str
    status: SourceStatus
    connected: bool
    started_at: datetime | None
    last_received_at: datetime | None
    """When the source last heard from its server (a frame, a poll answer, a heartbeat)."""
    last_post_at: datetime | None
    """When the newest post it handed over was written (the post's own time)."""
    last_post_received_at: datetime | None
    """When it last handed over a post."""
    posts_total: int
    posts_per_minute: float
    errors: int
    consecutive_errors: int
    last_error: str | None
    last_error_at: datetime | None
    quarantined: int
    skipped: int
    lag_seconds: float | None
    """How far behind the present its newest post is."""
    blocked_seconds: float
    """Time spent waiting for a full intake (backpressure)."""
    checkpoint: str | None
    as_of: datetime
    """When the snapshot was taken."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (times as ISO 8601), which :meth:`from_dict` reads back."""
        return {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in ((f, getattr(self, f)) for f in self.__dataclass_fields__)
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SourceHealth:
        """The snapshot :meth:`as_dict` wrote."""
        fields = dict(values)
        for name in _HEALTH_TIMES:
            if fields.get(name) is not None:
                fields[name] = datetime.fromisoformat(fields[name])
        return cls(**fields)


_HEALTH_TIMES = tuple(
    name
    for name, hint in get_type_hints(SourceHealth).items()
    if datetime in (hint, *get_args(hint))
)


class SourceContext:
    """The running source's access to its sink, quarantine, clock and health counters.

    Built by :meth:`Source.start`; tests may build one directly around any sink.
    """

    def __init__(
        self,
        source: Source,
        sink: Sink,
        *,
        quarantine: Callable[[Quarantined], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.sink = sink
        self._quarantine = quarantine
        self.stop_event = stop or threading.Event()
        self._closers: list[Callable[[], object]] = []
        self._lock = threading.Lock()

    # --- control ----------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """True once ``stop`` was called: the session should return."""
        return self.stop_event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; return True when stopping."""
        return self.stop_event.wait(max(0.0, seconds))

    @contextmanager
    def closing_on_stop(self, close: Callable[[], object]) -> Iterator[None]:
        """Call ``close`` (a socket's, a response's) when ``stop`` is called inside the block,
        so a session blocked on a read returns at once instead of at its next frame."""
        with self._lock:
            self._closers.append(close)
        try:
            if self.stopping:
                close()
            yield
        finally:
            with self._lock:
                self._closers.remove(close)

    def close_all(self) -> None:
        """Close what the session registered (called by ``stop``)."""
        with self._lock:
            closers = list(self._closers)
        for close in closers:
            try:
                close()
            except Exception:  # closing a broken connection may fail; it is closed either way
                log.debug("closing %s failed", self.source.name, exc_info=True)

    # --- reporting --------------------------------------------------------------------------

    def connected(self) -> None:
        """The session reached its server (a stream is open, a poll answered)."""
        self.source._set_connected(True)

    def received(self) -> None:
        """The server sent something usable (a frame, a heartbeat, an answer): the source is
        alive, and its run of consecutive errors ends. Do not call it for an answer that is
        unusable (an HTML error page instead of a feed): call ``failed`` instead."""
        self.source._mark_received()

    def failed(self, error: BaseException | str) -> None:
        """Count an error that did not end the session (one listing of several failed). An
        error the session raises is counted by the source: do not count it here as well.
        Errors while stopping (a request cut short by ``stop``) are not errors."""
        if not self.stopping:
            self.source._record_error(error)

    def skipped(self) -> None:
        """Count a well-formed frame or record that is not a post (a delete, a like)."""
        self.source._count("skipped")

    # --- records ----------------------------------------------------------------------------

    def parse(
        self, parser: RecordParser, record: Any, number: int, raw: bytes | str | None = None
    ) -> list[Post]:
        """Parse one decoded record into posts, quarantining a malformed one (with ``raw``, the
        frame as received, when given) and counting one that is not a post; never raises for
        bad data. ``number`` numbers the source's frames or records since it started (the
        quarantine's "line"), so that a quarantined one can be told from its neighbours."""
        posts: list[Post] = []
        options = ReadOptions(not_after=self.source.clock.now() + _FUTURE_TOLERANCE)
        for item in parse_record(parser, record, self.source.name, number, raw, options):
            if isinstance(item, Post):
                posts.append(item)
            elif isinstance(item, Skipped):
                self.skipped()
            else:
                self.quarantine(item)
        return posts

    def quarantine(self, item: Quarantined) -> None:
        """Keep a malformed frame or record, with where it came from and why."""
        self.source._count("quarantined")
        log.warning(
            "source %s: quarantined frame %s (%s: %s)",
            item.file,
            item.line,
            item.reason,
            item.detail,
        )
        if self._quarantine is not None:
            self._quarantine(item)

    def refuse(
        self, number: int, reason: str, detail: str, raw: bytes | str, field: str | None = None
    ) -> None:
        """Quarantine frame ``number``, which could not even be decoded."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        self.quarantine(Quarantined(self.source.name, number, reason, detail, text[:65536], field))

    def emit(self, posts: Sequence[Post], checkpoint: str | None) -> bool:
        """Hand ``posts`` to the sink with the checkpoint to resume from after them, waiting
        while the sink is full; return False when stopping (the posts were not handed over and
        the checkpoint did not move, so the next start reads them again)."""
        batch = Batch(self.source.name, tuple(posts), checkpoint)
        began = self.source.clock.now()
        accepted = self.sink.put(batch, self.stop_event)
        waited = (self.source.clock.now() - began).total_seconds()
        if accepted:
            self.source._handed_over(posts, checkpoint, waited)
        return accepted


_FUTURE_TOLERANCE = timedelta(hours=1)  # a live post dated further ahead is clock junk


class Source(ABC):
    """One live source: a thread between :meth:`start` and :meth:`stop`.

    Subclasses set ``kind`` and implement :meth:`run_session`.

    Parameters
    ----------
    settings
        This source's entry of the settings file.
    clock
        Tells the time for health (lag, silence); the wall clock by default.
    seed
        Seeds the backoff jitter (tests).
    """

    kind: ClassVar[str]

    def __init__(
        self, settings: SourceSettingsBase, *, clock: Clock | None = None, seed: int | None = None
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._context: SourceContext | None = None
        self._checkpoint: str | None = None
        self._started_at: datetime | None = None
        self._stopped = True
        self._connected = False
        self._last_received_at: datetime | None = None
        self._received = 0  # times the server was heard from (a backoff resets on news)
        self._last_post_at: datetime | None = None
        self._last_post_received_at: datetime | None = None
        self._posts_total = 0
        self._recent: deque[tuple[datetime, int]] = deque()
        self._errors = 0
        self._consecutive_errors = 0
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._counts = {"quarantined": 0, "skipped": 0}
        self._blocked_seconds = 0.0

    @property
    def name(self) -> str:
        """The source's unique configured name."""
        return self.settings.name

    # --- the interface ----------------------------------------------------------------------

    def start(
        self,
        sink: Sink,
        *,
        checkpoint: str | None = None,
        quarantine: Callable[[Quarantined], None] | None = None,
    ) -> None:
        """Start reading on a background thread, resuming from ``checkpoint`` (as saved from
        :meth:`checkpoint` after an earlier run) or from now when it is None.

        Raises
        ------
        ValueError
            When ``checkpoint`` is not one this source wrote (see :meth:`validate_checkpoint`).
        """
        if self._thread is not None:
            raise RuntimeError(f"source {self.name} is already started")
        if checkpoint is not None:
            self.validate_checkpoint(checkpoint)
        self._checkpoint = checkpoint
        self._started_at = self.clock.now()
        self._stopped = False
        self._context = SourceContext(self, sink, quarantine=quarantine)
        self._thread = threading.Thread(
            target=self._run, args=(self._context,), name=f"source-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop reading: interrupt the session and wait up to ``timeout`` seconds for it."""
        context, thread = self._context, self._thread
        if context is None or thread is None:
            return
        context.stop_event.set()
        context.close_all()
        thread.join(timeout)
        if thread.is_alive():  # kept, so that start() refuses to run a second one beside it
            log.warning("source %s did not stop within %.1f s", self.name, timeout)
            return
        self._thread = None
        self._stopped = True
        self._set_connected(False)

    def checkpoint(self) -> str | None:
        """The position after the last post handed to the sink (resume from it)."""
        with self._lock:
            return self._checkpoint

    def validate_checkpoint(self, checkpoint: str) -> None:
        """Raise ``ValueError`` when ``checkpoint`` cannot be resumed from; the default
        accepts any (sources that read theirs leniently start afresh from a bad one)."""
        del checkpoint  # every checkpoint is acceptable here

    @abstractmethod
    def run_session(self, ctx: SourceContext, checkpoint: str | None) -> None:
        """Connect and read from ``checkpoint`` (None: from now), handing posts over with
        ``ctx.emit``, until ``ctx.stopping`` (then return) or the connection fails or ends
        (then raise: the source waits and runs another session from its new checkpoint).

        Call ``ctx.connected()`` once connected and ``ctx.received()`` whenever the server
        sends anything, so health tells a quiet network from a dead connection.
        """

    def health(self) -> SourceHealth:
        """This source's health now."""
        now = self.clock.now()
        with self._lock:
            self._trim_recent(now)
            recent = sum(count for _, count in self._recent)
            window = _RATE_WINDOW
            if self._started_at is not None:
                window = min(window, max(now - self._started_at, timedelta(minutes=1)))
            lag = None
            if self._last_post_at is not None:
                lag = max(0.0, (now - self._last_post_at).total_seconds())
            return SourceHealth(
                name=self.name,
                kind=self.kind,
                status=self._status(now),
                connected=self._connected,
                started_at=self._started_at,
                last_received_at=self._last_received_at,
                last_post_at=self._last_post_at,
                last_post_received_at=self._last_post_received_at,
                posts_total=self._posts_total,
                posts_per_minute=round(recent / (window.total_seconds() / 60), 3),
                errors=self._errors,
                consecutive_errors=self._consecutive_errors,
                last_error=self._last_error,
                last_error_at=self._last_error_at,
                quarantined=self._counts["quarantined"],
                skipped=self._counts["skipped"],
                lag_seconds=lag,
                blocked_seconds=round(self._blocked_seconds, 3),
                checkpoint=self._checkpoint,
                as_of=now,
            )

    # --- the thread -------------------------------------------------------------------------

    def _run(self, ctx: SourceContext) -> None:
        delay = self.settings.backoff_seconds
        while not ctx.stopping:
            received_before = self._received
            try:
                self.run_session(ctx, self.checkpoint())
            except Exception as exc:  # a session's failure ends the session, not the source
                if ctx.stopping:
                    break
                self._record_error(exc)
                log.warning("source %s failed: %s", self.name, self._last_error)
            else:
                if ctx.stopping:
                    break
            self._set_connected(False)
            if self._received != received_before:
                delay = self.settings.backoff_seconds  # it worked for a while: retry soon
            # Full jitter keeps many restarted readers from reconnecting in step.
            if ctx.wait(self._random.uniform(0.5, 1.0) * delay):
                break
            delay = min(delay * 2, self.settings.max_backoff_seconds)
        self._set_connected(False)

    # --- health bookkeeping (called through the context) ------------------------------------

    def _status(self, now: datetime) -> SourceStatus:
        if self._stopped:
            return "stopped"
        if self._consecutive_errors >= self.settings.failing_after_errors:
            return "failing"
        silent_after = timedelta(seconds=self.settings.silent_after_seconds)
        last = self._last_post_received_at or self._started_at
        if last is not None and now - last >= silent_after:
            return "silent"
        if self._last_received_at is None and self._consecutive_errors == 0:
            return "starting"
        return "ok"

    def _set_connected(self, connected: bool) -> None:
        with self._lock:
            self._connected = connected

    def _mark_received(self) -> None:
        with self._lock:
            self._last_received_at = self.clock.now()
            self._received += 1
            self._consecutive_errors = 0

    def _record_error(self, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        with self._lock:
            self._errors += 1
            self._consecutive_errors += 1
            self._last_error = text[:500]
            self._last_error_at = self.clock.now()

    def _count(self, what: str) -> None:
        with self._lock:
            self._counts[what] += 1

    def _handed_over(self, posts: Sequence[Post], checkpoint: str | None, waited: float) -> None:
        now = self.clock.now()
        with self._lock:
            self._checkpoint = checkpoint
            self._blocked_seconds += waited
            if not posts:
                return
            self._posts_total += len(posts)
            self._recent.append((now, len(posts)))
            self._trim_recent(now)
            self._last_post_received_at = now
            newest = max(post.created_at for post in posts)
            if self._last_post_at is None or newest > self._last_post_at:
                self._last_post_at = newest

    def _trim_recent(self, now: datetime) -> None:
        while self._recent and now - self._recent[0][0] > _RATE_WINDOW:
            self._recent.popleft()

    # --- helpers for subclasses -------------------------------------------------------------

    def http_client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client with this source's timeout and User-Agent (close it after use)."""
        headers = {"User-Agent": self.settings.user_agent, **kwargs.pop("headers", {})}
        return httpx.Client(
            timeout=self.settings.timeout_seconds,
            headers=headers,
            follow_redirects=True,
            **kwargs,
        )

    @contextmanager
    def http_session(self, ctx: SourceContext, **kwargs: Any) -> Iterator[httpx.Client]:
        """An HTTP client (see :meth:`http_client`) for one session, whose blocked reads end at
        once when the source is stopped instead of at the request's timeout."""
        sockets = OpenSockets()
        with (
            sockets.watch(self.http_client(**kwargs)) as client,
            ctx.closing_on_stop(sockets.shut_down),
        ):
            yield client


class PollingSource(Source):
    """A source read by polling: :meth:`poll` once per interval, on one HTTP client."""

    @property
    @abstractmethod
    def interval_seconds(self) -> float:
        """Time between polls when the server asks for nothing else."""

    @abstractmethod
    def poll(self, ctx: SourceContext, client: httpx.Client) -> float | None:
        """Fetch what is new and hand it over with ``ctx.emit``; return how long to wait before
        the next poll (a rate limit's reset), or None for the usual interval. Raise when the
        server cannot be read (the source backs off and polls again)."""

    def resume(self, checkpoint: str | None) -> None:
        """Restore the state a checkpoint holds (newest ids seen, validators) before polling;
        None means a first start. The default keeps nothing."""

    def run_session(self, ctx: SourceContext, checkpoint: str | None) -> None:
        """Poll until stopped; a failed poll ends the session (and is retried with backoff)."""
        self.resume(checkpoint)
        with self.http_session(ctx) as client:
            while not ctx.stopping:
                wait = self.poll(ctx, client)
                if ctx.wait(self.interval_seconds if wait is None else wait):
                    return
