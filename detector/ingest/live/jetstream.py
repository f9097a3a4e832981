"""Bluesky's Jetstream: ``app.bsky.feed.post`` commits read from a WebSocket.

`Jetstream <https://github.com/bluesky-social/jetstream>`_ sends one JSON event per text frame:
commits (``kind: commit``, with the record created, updated or deleted) of the collections asked
for in ``wantedCollections``, and the ``identity`` and ``account`` events of every repository.
Every event carries ``time_us``, the microsecond at which Jetstream saw it, and a client that
connects with ``cursor=<time_us>`` is replayed the events from that microsecond on.

The checkpoint is the ``time_us`` of the newest event handed over (posts or not, so a quiet
stream of deletes still moves it). A new session asks for ``rewind_seconds`` before it, as
Jetstream advises, and drops the replayed events it already handed over: those older than the
checkpoint and, at the checkpoint's own microsecond, the ones it remembers handing over (two
events can share a microsecond, and only one of them may have been handed over before the drop).
A checkpoint restored from storage does not say which events of its microsecond were handed
over, so they all count as handed over: a source restarted that way loses an event only if it
shares the microsecond of the last one stored and came after it, which Jetstream's microsecond
clock makes rare (counting them as new instead would repeat the last event every restart).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from detector.ingest.bluesky import BlueskyParser
from detector.ingest.live.base import Source, SourceContext

if TYPE_CHECKING:
    from detector.clock import Clock
    from detector.ingest.live.settings import JetstreamSettings
    from detector.models import Post

__all__ = ["JetstreamSource"]

log = logging.getLogger(__name__)

# A peer that vanished never answers the closing handshake; stop() must not wait the library's
# default 10 s for it (stop itself gives up after 10 s).
_CLOSE_TIMEOUT = 2.0


@dataclass(slots=True)
class _Position:
    """How far the stream was handled: every event before ``time_us`` and, at ``time_us``, the
    events named in ``seen`` (all of them when ``seen`` is None: a stored checkpoint)."""

    time_us: int
    seen: set[str] | None = field(default_factory=set)

    def covers(self, time_us: int, key: str) -> bool:
        """True when the event was already handled (a replay after a reconnect)."""
        if time_us != self.time_us:
            return time_us < self.time_us
        return self.seen is None or key in self.seen

    def advance(self, time_us: int, key: str) -> None:
        """Count the event as handled."""
        if time_us > self.time_us:
            self.time_us, self.seen = time_us, {key}
        elif time_us == self.time_us and self.seen is not None:
            self.seen.add(key)

    def copy(self) -> _Position:
        """An independent copy (the session goes on changing its own)."""
        return _Position(self.time_us, None if self.seen is None else set(self.seen))


class JetstreamSource(Source):
    """Reads posts from Bluesky's Jetstream, resuming from the last ``time_us`` handed over.

    Parameters
    ----------
    settings
        The source's settings (endpoint, ``wantedCollections``, rewind, timeouts).
    clock
        Tells the time for health; the wall clock by default.
    seed
        Seeds the reconnection jitter (tests).
    batch_size
        Hand posts over after this many events...
    batch_seconds
        ...or this long after the first event not yet handed over, whichever comes first.

    Examples
    --------
    >>> from detector.ingest.live.settings import JetstreamSettings
    >>> settings = JetstreamSettings(name="bluesky", url="ws://127.0.0.1:6008/subscribe")
    >>> source = JetstreamSource(settings)
    >>> source.subscribe_url("1725911162329308")
    'ws://127.0.0.1:6008/subscribe?wantedCollections=app.bsky.feed.post&cursor=1725911157329308'
    """

    kind: ClassVar[str] = "jetstream"
    settings: JetstreamSettings

    def __init__(
        self,
        settings: JetstreamSettings,
        *,
        clock: Clock | None = None,
        seed: int | None = None,
        batch_size: int = 100,
        batch_seconds: float = 0.5,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got: {batch_size}")
        if batch_seconds <= 0:
            raise ValueError(f"batch_seconds must be positive, got: {batch_seconds}")
        super().__init__(settings, clock=clock, seed=seed)
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self._parser = BlueskyParser(source_name=settings.source_name)
        # Where the handed-over events end; only the session thread touches it after start.
        self._handed: _Position | None = None
        self._frames = 0  # numbers frames across sessions, so quarantine entries stay distinct

    def validate_checkpoint(self, checkpoint: str) -> None:
        """Refuse a checkpoint that is not a ``time_us`` (at start, not in every session)."""
        _cursor(checkpoint)

    def subscribe_url(self, checkpoint: str | None) -> str:
        """The endpoint with ``wantedCollections`` and, when resuming, the rewound ``cursor``."""
        query = [("wantedCollections", collection) for collection in self.settings.collections]
        if checkpoint is not None:
            rewind = round(self.settings.rewind_seconds * 1_000_000)
            query.append(("cursor", str(max(0, _cursor(checkpoint) - rewind))))
        parts = urlsplit(self.settings.url)
        joined = "&".join(filter(None, [parts.query, urlencode(query)]))
        return urlunsplit(parts._replace(query=joined))

    def run_session(self, ctx: SourceContext, checkpoint: str | None) -> None:
        """Read the stream from ``checkpoint`` until stopped; raise when the connection drops
        or the server stays silent for ``timeout_seconds``."""
        if checkpoint is None:
            self._handed = None
        elif self._handed is None or str(self._handed.time_us) != checkpoint:
            self._handed = _Position(_cursor(checkpoint), seen=None)
        url = self.subscribe_url(checkpoint)
        log.info("source %s: connecting to %s", self.name, url)
        with (
            connect(
                url,
                open_timeout=self.settings.timeout_seconds,
                close_timeout=_CLOSE_TIMEOUT,
                user_agent_header=self.settings.user_agent,
            ) as ws,
            ctx.closing_on_stop(ws.close),
        ):
            ctx.connected()
            _Session(self, ctx, ws).read()

    def _handled(self, position: _Position) -> None:
        """Remember where the handed-over events end (called after each accepted batch)."""
        self._handed = position.copy()


class _Session:
    """One connection's reading loop and the batch it is filling."""

    def __init__(self, source: JetstreamSource, ctx: SourceContext, ws: ClientConnection) -> None:
        self.source = source
        self.ctx = ctx
        self.ws = ws
        # Replays are only possible at the start of a session, so the filter is fixed here.
        handed = source._handed
        self.replayed = handed.copy() if handed is not None else None
        self.position = handed.copy() if handed is not None else None
        self.posts: list[Post] = []
        self.events = 0  # events in the batch, posts or not
        self.flush_at: float | None = None
        self.dropped = 0

    def read(self) -> None:
        """Receive frames until stopped; raise when the connection ends or goes silent."""
        timeout = self.source.settings.timeout_seconds
        silent_at = time.monotonic() + timeout
        while not self.ctx.stopping:
            now = time.monotonic()
            if self.flush_at is not None and now >= self.flush_at:
                if not self.flush():
                    return
                continue
            wait = min(silent_at, self.flush_at or silent_at) - now
            try:
                frame = self.ws.recv(timeout=max(0.0, wait))
            except TimeoutError:
                if self.flush_at is None and time.monotonic() >= silent_at:
                    raise TimeoutError(f"no frame from Jetstream for {timeout:g} s") from None
                continue
            except ConnectionClosed:
                # The events received before the drop are whole: hand them over now rather
                # than read them again after the reconnect.
                if self.events:
                    self.flush()
                raise
            self.ctx.received()
            silent_at = time.monotonic() + timeout
            self.handle(frame)
            if self.events >= self.source.batch_size and not self.flush():
                return

    def handle(self, frame: str | bytes) -> None:
        """Decode one frame and add its posts to the batch, or quarantine it."""
        source, ctx = self.source, self.ctx
        source._frames += 1
        number = source._frames
        if isinstance(frame, bytes):
            # Jetstream sends binary (zstd) frames only to clients asking for compress=true.
            ctx.refuse(
                number, "binary_frame", f"unexpected binary frame of {len(frame)} bytes", frame
            )
            return
        try:
            event = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            ctx.refuse(number, "invalid_json", str(exc), frame)
            return
        if not isinstance(event, dict):
            ctx.refuse(
                number, "invalid_record", f"expected an object, got {type(event).__name__}", frame
            )
            return
        time_us = event.get("time_us")
        if type(time_us) is not int or time_us <= 0:
            ctx.refuse(
                number,
                "invalid_cursor",
                f"time_us is not a positive integer: {time_us!r}",
                frame,
                "time_us",
            )
            return
        key = _event_key(event)
        if self.replayed is not None and self.replayed.covers(time_us, key):
            self.dropped += 1
            return
        if self.dropped:  # the replay is over: say how much of it was already handed over
            log.debug("source %s: dropped %d replayed events", source.name, self.dropped)
            self.dropped = 0
        self.posts.extend(ctx.parse(source._parser, event, number, frame))
        if self.position is None:
            self.position = _Position(time_us, {key})
        else:
            self.position.advance(time_us, key)
        self.events += 1
        if self.flush_at is None:
            self.flush_at = time.monotonic() + source.batch_seconds

    def flush(self) -> bool:
        """Hand the batch over with its checkpoint; False when stopping (nothing moved)."""
        if self.position is None:  # only refused frames so far: nothing to hand over
            self.events, self.flush_at = 0, None
            return True
        if not self.ctx.emit(self.posts, str(self.position.time_us)):
            return False
        self.source._handled(self.position)
        self.posts, self.events, self.flush_at = [], 0, None
        return True


def _cursor(checkpoint: str) -> int:
    """The ``time_us`` a checkpoint holds."""
    try:
        value = int(checkpoint)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"a Jetstream checkpoint is a time_us, got: {checkpoint!r}")
    return value


def _event_key(event: Mapping[str, Any]) -> str:
    """What tells apart events of the same microsecond: the repository and the record changed
    (or the sequence number of an identity or account event)."""
    kind = event.get("kind")
    detail = event.get(kind) if isinstance(kind, str) else None
    if not isinstance(detail, dict):
        detail = {}
    fields = ("collection", "rkey", "operation", "rev") if kind == "commit" else ("seq",)
    return " ".join([str(event.get("did")), str(kind), *(str(detail.get(f)) for f in fields)])
