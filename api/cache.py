"""Answers repeated reads from memory: one computation serves every client asking the same
thing in the same moment.

Dashboards and scripts ask the same few questions (the incident list, a service's last 24
hours) many times a second, while the answers change at most once per detection tick or push.
``ReadCache`` keeps the last ``200`` answer of each ``GET`` (path, query and, when reads need a
key, the key) and replays it:

* while it is younger than ``seconds`` and this process has committed nothing since (the
  store's ``generation``): a write through this server is visible on the next read;
* when it is older (another process may have written), one request recomputes it while the
  others keep getting the previous answer for up to ``stale_seconds`` more
  (stale-while-revalidate), so an expiry never stalls a crowd of clients;
* when there is none, or this process wrote since, the first request computes it and the
  others asking the same meanwhile wait for that one answer instead of all computing it.

Answers carry an ``ETag``; a client sending it back in ``If-None-Match`` gets ``304``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ReadCache"]

_Key = tuple[str, bytes, bytes]
_KEY_HEADERS = (b"authorization", b"x-api-key")


@dataclass(slots=True)
class _Answer:
    """One cached answer and what it was computed from."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    generation: int
    stored: float
    route: Any  # the route the router matched, restored for the metrics on a replay


class ReadCache:
    """Pure ASGI middleware caching ``GET`` answers under ``prefixes`` (see the module).

    Parameters
    ----------
    app
        The application answering what the cache cannot.
    seconds
        How long an answer is replayed without asking again.
    generation
        Returns a number that changes whenever this process commits a write.
    prefixes
        Paths whose ``GET`` answers may be cached (public data, the same for every client).
    keyed
        Reads need an API key: the key is part of the cache key and answers are ``private``.
    record
        Called with ``"hit"``, ``"stale"``, ``"wait"`` or ``"miss"`` for each cacheable request.
    stale_seconds
        How long past ``seconds`` an answer may be replayed while it is being recomputed.
    max_entries, max_body_bytes
        Bounds on what is kept (least recently used answers go first; bigger bodies are not
        cached).
    monotonic
        The clock (seconds).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        seconds: float,
        generation: Callable[[], int],
        prefixes: tuple[str, ...],
        keyed: bool = False,
        record: Callable[[str], None] | None = None,
        stale_seconds: float = 30.0,
        max_entries: int = 1024,
        max_body_bytes: int = 8_000_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.generation = generation
        self.prefixes = prefixes
        self.keyed = keyed
        self.record = record or (lambda _result: None)
        self.stale_seconds = stale_seconds
        self.max_entries = max_entries
        self.max_body_bytes = max_body_bytes
        self.monotonic = monotonic
        self._answers: OrderedDict[_Key, _Answer] = OrderedDict()
        self._computing: dict[_Key, asyncio.Future[_Answer | None]] = {}
        visibility = b"private" if keyed else b"public"
        self._cache_control = visibility + b", max-age=%d" % int(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Replay, share or compute the answer (anything not cacheable passes straight on)."""
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or self.seconds <= 0
            or not scope["path"].startswith(self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        key = self._key(scope)
        generation = self.generation()
        answer = self._answers.get(key)
        current = answer is not None and answer.generation == generation
        age = self.monotonic() - answer.stored if answer is not None else 0.0
        if answer is not None and current and age < self.seconds:
            self._answers.move_to_end(key)
            self.record("hit")
            await self._replay(answer, scope, send)
            return
        computing = self._computing.get(key)
        if computing is not None:
            if answer is not None and current and age < self.seconds + self.stale_seconds:
                self.record("stale")
                await self._replay(answer, scope, send)
                return
            self.record("wait")
            shared = await asyncio.shield(computing)
            if shared is not None:
                await self._replay(shared, scope, send)
            else:  # that answer was not cacheable (an error, a 404): ask for ourselves
                await self.app(scope, receive, send)
            return
        self.record("miss")
        await self._compute(key, generation, scope, receive, send)

    def _key(self, scope: Scope) -> _Key:
        credentials = b""
        if self.keyed:
            credentials = b"\n".join(
                value for name, value in scope["headers"] if name in _KEY_HEADERS
            )
        return scope["path"], scope["query_string"], credentials

    async def _compute(
        self, key: _Key, generation: int, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Ask the app, answer the client, and keep a ``200`` answer for everyone else."""
        future: asyncio.Future[_Answer | None] = asyncio.get_running_loop().create_future()
        self._computing[key] = future
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        kept: _Answer | None = None
        try:
            await self.app(scope, receive, capture)
            body = b"".join(chunks)
            if start is None:
                return  # the app answered nothing; neither do we (the server reports it)
            headers = list(start.get("headers", []))
            if start["status"] == 200 and _cacheable(headers, body, self.max_body_bytes):
                kept = self._keep(key, headers, body, generation, scope.get("route"))
                await self._replay(kept, scope, send)
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})
        finally:
            del self._computing[key]
            future.set_result(kept)

    def _keep(
        self,
        key: _Key,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        generation: int,
        route: Any,
    ) -> _Answer:
        etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        headers = [
            (name, value) for name, value in headers if name not in (b"etag", b"cache-control")
        ]
        headers += [(b"etag", etag), (b"cache-control", self._cache_control)]
        answer = _Answer(headers, body, etag, generation, self.monotonic(), route)
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_entries:
            self._answers.popitem(last=False)
        return answer

    async def _replay(self, answer: _Answer, scope: Scope, send: Send) -> None:
        if answer.route is not None:
            scope["route"] = answer.route  # as the router would have set it
        if _matches(scope, answer.etag):
            headers = [(b"etag", answer.etag), (b"cache-control", self._cache_control)]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})


def _cacheable(headers: list[tuple[bytes, bytes]], body: bytes, limit: int) -> bool:
    """Whether an answer may be replayed to others: not too big, no cookies, not no-store."""
    if len(body) > limit:
        return False
    for name, value in headers:
        if name == b"set-cookie" or (name == b"cache-control" and b"no-store" in value):
            return False
    return True


def _matches(scope: Scope, etag: bytes) -> bool:
    """Whether the request's ``If-None-Match`` names ``etag`` (or ``*``)."""
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            tags = [tag.strip().removeprefix(b"W/") for tag in value.split(b",")]
            return etag in tags or b"*" in tags
    return False
