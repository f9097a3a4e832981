"""Mastodon's streaming API: a public or hashtag timeline read as server-sent events.

The stream cannot replay what was posted while it was down, so every session that has a
checkpoint (the newest status id handed over) first catches up through the REST timeline,
paging with ``min_id``, then opens the stream, then pages once more from the newest id: a status
published between the last REST page and the stream's start is read by that bridging page, and
read again from the stream only if it arrives there too, when it is dropped as already handed
over. Events go to the sink in batches (every 0.5 s or 100 statuses).

Status ids grow with time, but not strictly in arrival order: an instance gives a remote status
an id from its own ``created_at``, so one federated late arrives with an id below ids already
seen. Streamed statuses are therefore deduplicated by the ids this session handed over, never
by comparing with the newest one (that would drop every late arrival). The checkpoint is the
newest id, so a catch-up after an outage cannot see statuses that arrived late *during* it.
"""

from __future__ import annotations

import codecs
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import orjson
from httpx_sse import ServerSentEvent, connect_sse

from detector.clock import Clock
from detector.errors import FeedError
from detector.ingest.live.base import Source, SourceContext
from detector.ingest.live.settings import MastodonSettings
from detector.ingest.mastodon import MastodonParser
from detector.models import Post

__all__ = ["MastodonStreamSource"]

log = logging.getLogger(__name__)

_BATCH_SIZE = 100
_BATCH_SECONDS = 0.5
_PAGE_LIMIT = 40  # the most Mastodon's timelines return per page
_REMEMBERED = 10_000  # ids kept for deduplication: far more than one catch-up overlap holds
_MAX_REDIRECTS = 3
# Mastodon sends a ":thump" comment every 15 s on an idle stream: three missed ones mean the
# connection is dead even though no socket error says so.
_HEARTBEAT_TIMEOUT = 45.0
_STATUS_EVENTS = frozenset({"update", "status.update"})
_NEWLINE = re.compile(r"\r\n|\r|\n")  # the only line ends of text/event-stream (not U+2028)


class MastodonStreamSource(Source):
    """Follows one timeline of a Mastodon instance (see :class:`MastodonSettings`).

    Parameters
    ----------
    settings
        The instance, timeline, hashtag and token to read.
    clock
        Tells the time for health; the wall clock by default.
    seed
        Seeds the backoff jitter (tests).
    heartbeat_timeout
        Seconds without a byte (not even a heartbeat) after which the stream is taken for
        dead and reopened.
    """

    kind: ClassVar[str] = "mastodon"
    settings: MastodonSettings

    def __init__(
        self,
        settings: MastodonSettings,
        *,
        clock: Clock | None = None,
        seed: int | None = None,
        heartbeat_timeout: float = _HEARTBEAT_TIMEOUT,
    ) -> None:
        super().__init__(settings, clock=clock, seed=seed)
        self.heartbeat_timeout = heartbeat_timeout
        self._parser = MastodonParser(source_name=settings.source_name)
        self._frames = 0
        self._stream_url: httpx.URL | None = None  # where the instance redirected the stream

    def run_session(self, ctx: SourceContext, checkpoint: str | None) -> None:
        """Catch up from ``checkpoint`` through the REST timeline, then read the stream until
        it fails or ends (raises) or the source is stopped (returns)."""
        headers = {}
        if self.settings.token is not None:
            headers["Authorization"] = f"Bearer {self.settings.token.get_secret_value()}"
        with (
            self.http_session(ctx, headers=headers) as client,
            _Batcher(ctx, _status_id(checkpoint)) as batcher,
        ):
            if batcher.newest is not None:
                # The bulk of the gap, before the stream opens, so the streaming server need
                # not hold a long outage's events while the pages are read.
                self._catch_up(ctx, client, batcher)
            with self._open_stream(client) as response:
                ctx.connected()
                ctx.received()
                if batcher.newest is not None:
                    self._catch_up(ctx, client, batcher)  # the bridge: see the module docstring
                for event in _sse_events(_alive(ctx, response.iter_bytes())):
                    self._on_event(ctx, batcher, event)
                    batcher.raise_failure()
                    if ctx.stopping:
                        return
            if not ctx.stopping:
                raise FeedError(f"{self.name}: the stream ended")

    # --- the stream -------------------------------------------------------------------------

    @contextmanager
    def _open_stream(self, client: httpx.Client) -> Iterator[httpx.Response]:
        """Open the stream, following the instance's redirect to its streaming host by hand:
        httpx drops the Authorization header on a redirect to another host, and Mastodon sends
        every stream to its streaming host that way."""
        url = self._stream_url or self._stream_start_url()
        timeout = httpx.Timeout(self.settings.timeout_seconds, read=self.heartbeat_timeout)
        for _ in range(_MAX_REDIRECTS + 1):
            with connect_sse(
                client, "GET", str(url), timeout=timeout, follow_redirects=False
            ) as events:
                response = events.response
                if response.is_redirect and "location" in response.headers:
                    target = url.join(response.headers["location"])
                    if url.scheme == "https" and target.scheme != "https":
                        raise FeedError(f"{self.name}: refused a redirect to {target}")
                    url = target
                    continue
                response.raise_for_status()
                kind = response.headers.get("content-type", "").partition(";")[0].strip()
                if kind != "text/event-stream":
                    raise FeedError(f"{self.name}: {url} answered {kind!r}, not an event stream")
                self._stream_url = url
                yield response
                return
        raise FeedError(f"{self.name}: more than {_MAX_REDIRECTS} redirects from the stream")

    def _stream_start_url(self) -> httpx.URL:
        timeline = self.settings.timeline
        path = "/api/v1/streaming/" + timeline.replace(":", "/")
        params = {"tag": self.settings.hashtag} if timeline.startswith("hashtag") else {}
        return httpx.URL(self.settings.instance.rstrip("/") + path, params=params)

    def _on_event(self, ctx: SourceContext, batcher: _Batcher, event: ServerSentEvent) -> None:
        number = self._next_frame()
        if event.event not in _STATUS_EVENTS:
            # delete, notification, filters_changed...: not posts. A delete cannot retract a
            # post the pipeline already counted, and need not: a deleted complaint was still
            # a complaint when it was written.
            ctx.skipped()
            return
        raw = event.data.encode()
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            ctx.refuse(number, "invalid_json", str(exc), raw)
            return
        self._take(ctx, batcher, record, number, raw)

    # --- the REST timeline ------------------------------------------------------------------

    def _catch_up(self, ctx: SourceContext, client: httpx.Client, batcher: _Batcher) -> None:
        """Page through the REST timeline from the newest status handed over until it has
        nothing newer."""
        url, params = self._timeline_endpoint()
        while not ctx.stopping:
            since = batcher.newest
            page_params = {**params, "min_id": str(since), "limit": str(_PAGE_LIMIT)}
            response = client.get(url, params=page_params)
            response.raise_for_status()
            ctx.received()
            page = response.json()
            if not isinstance(page, list):
                raise FeedError(f"{self.name}: {url} answered a {type(page).__name__}, not a list")
            if not page:
                return
            # Pages come newest first; hand them over oldest first, as they were posted.
            for record in sorted(page, key=_sort_key):
                self._take(ctx, batcher, record, self._next_frame(), None)
            if batcher.newest == since:
                return  # a server that ignores min_id would otherwise be paged forever

    def _timeline_endpoint(self) -> tuple[str, dict[str, str]]:
        base = self.settings.instance.rstrip("/") + "/api/v1/timelines/"
        timeline = self.settings.timeline
        params = {"local": "true"} if timeline.endswith(":local") else {}
        if timeline == "public:remote":
            params = {"remote": "true"}
        if timeline.startswith("hashtag"):
            return base + "tag/" + quote(self.settings.hashtag or "", safe=""), params
        return base + "public", params

    # --- both -------------------------------------------------------------------------------

    def _take(
        self,
        ctx: SourceContext,
        batcher: _Batcher,
        record: Any,
        number: int,
        raw: bytes | None,
    ) -> None:
        status_id = _status_id(record.get("id")) if isinstance(record, dict) else None
        if isinstance(record, dict) and status_id is None:
            detail = f"status id is not a number: {record.get('id')!r}"
            ctx.refuse(number, "missing_id", detail, raw or orjson.dumps(record), "id")
            return
        if status_id is not None and batcher.seen(status_id):
            return  # read by the catch-up and then from the stream
        posts = ctx.parse(self._parser, record, number, raw)  # quarantines a non-object
        if status_id is not None:
            batcher.add(status_id, posts)

    def _next_frame(self) -> int:
        self._frames += 1
        return self._frames


class _Batcher:
    """Gathers a session's posts and hands them over every ``interval`` seconds or ``size``
    posts, whichever comes first, with the newest status id as the checkpoint.

    The reading thread is blocked on the socket between events, so a flusher thread keeps the
    interval on a quiet stream. A full batch is handed over by the reading thread itself, which
    therefore waits while the sink is full (backpressure).
    """

    def __init__(
        self,
        ctx: SourceContext,
        newest: int | None,
        *,
        size: int = _BATCH_SIZE,
        interval: float = _BATCH_SECONDS,
    ) -> None:
        self._ctx = ctx
        self._size = size
        self._interval = interval
        self._changed = threading.Condition()
        self._emitting = threading.Lock()  # batches go out one at a time, in order
        self._posts: list[Post] = []
        self._pending_since: float | None = None
        self._newest = newest
        self._sent = newest
        self._recent: deque[int] = deque(maxlen=_REMEMBERED)
        self._recent_set: set[int] = set()
        self._closed = False
        self._failure: Exception | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"source-{ctx.source.name}-flush", daemon=True
        )

    def __enter__(self) -> _Batcher:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()
        if self._failure is None:
            self.flush()  # what a dropped stream delivered is kept (a no-op when stopping)

    @property
    def newest(self) -> int | None:
        """The newest status id handed over or waiting to be."""
        with self._changed:
            return self._newest

    def seen(self, status_id: int) -> bool:
        """True when this session already took ``status_id``."""
        return status_id in self._recent_set

    def add(self, status_id: int, posts: list[Post]) -> None:
        """Take status ``status_id`` (its posts: none when it was quarantined)."""
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(status_id)
        self._recent_set.add(status_id)
        with self._changed:
            self._posts.extend(posts)
            if self._newest is None or status_id > self._newest:
                self._newest = status_id
            if self._pending_since is None:
                self._pending_since = time.monotonic()
                self._changed.notify_all()
            full = len(self._posts) >= self._size
        if full:
            self.flush()

    def flush(self) -> None:
        """Hand over what is waiting (nothing happens when nothing changed)."""
        with self._emitting:
            with self._changed:
                posts, self._posts = self._posts, []
                self._pending_since = None
                newest = self._newest
            if not posts and newest == self._sent:
                return
            if self._ctx.emit(posts, None if newest is None else str(newest)):
                self._sent = newest

    def raise_failure(self) -> None:
        """Re-raise, on the reading thread, a failure of the flusher thread."""
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        try:
            while True:
                with self._changed:
                    if self._closed:
                        return
                    if self._pending_since is None:
                        self._changed.wait()
                        continue
                    left = self._pending_since + self._interval - time.monotonic()
                    if left > 0:
                        self._changed.wait(left)
                        continue
                self.flush()
        except Exception as exc:  # the thread's boundary: the session raises it instead
            log.warning("source %s: handing a batch over failed", self._ctx.source.name)
            self._failure = exc


def _sse_events(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Decode a ``text/event-stream`` body into its events.

    httpx-sse's ``EventSource.iter_sse`` would do, but it swallows comment lines, and
    Mastodon's heartbeats are comments: reading the lines here lets the caller count every
    chunk as a sign of life. An event cut off by the end of the body is dropped (the spec's
    rule).

    Examples
    --------
    >>> [(e.event, e.data) for e in _sse_events([b":)\\nevent: delete\\r\\ndata: 1", b"2\\n\\n"])]
    [('delete', '12')]
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    name = ""
    data: list[str] = []
    for chunk in chunks:
        text = pending + decoder.decode(chunk)
        # A trailing CR may be the first half of a CRLF: keep it for the next chunk.
        cut = len(text) - 1 if text.endswith("\r") else len(text)
        lines = _NEWLINE.split(text[:cut])
        pending = lines.pop() + text[cut:]
        for line in lines:
            if not line:
                if data:
                    yield ServerSentEvent(event=name, data="\n".join(data))
                name, data = "", []
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            # A comment (empty field), "id" and "retry" carry nothing this source uses.


def _alive(ctx: SourceContext, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Pass ``chunks`` through, reporting each (a heartbeat too) as a sign of life."""
    for chunk in chunks:
        ctx.received()
        yield chunk


def _status_id(value: object) -> int | None:
    """A Mastodon id (a string of digits) as a number, or None.

    Examples
    --------
    >>> _status_id("109372844412345678"), _status_id("abc"), _status_id(None)
    (109372844412345678, None, None)
    """
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _sort_key(record: Any) -> int:
    return (_status_id(record.get("id")) if isinstance(record, dict) else None) or 0
