"""A real webhook receiver on loopback for tests: verifies Standard Webhooks signatures, records
what it got, and answers with whatever status the test sets (or is down altogether)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from detector.alerts.signing import verify
from detector.errors import WebhookVerificationError


@dataclass
class Received:
    """One request: its path, headers, parsed body, and whether the signature checked out."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    verified: bool
    error: str | None = None


@dataclass
class Receiver:
    """Started with ``running()``; ``status`` is what it answers, ``secret`` what it verifies
    with (``None``: accept anything)."""

    secret: str | None = None
    status: int = 204
    extra_headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        """Listen on 127.0.0.1 (the same port on a restart) until the block ends."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified, error = True, None
                if receiver.secret is not None:
                    try:
                        verify(
                            receiver.secret,
                            headers,
                            raw,
                            now=datetime.now(UTC),
                            tolerance=timedelta(days=36500),  # tests use old fixed clocks
                        )
                    except WebhookVerificationError as exc:
                        verified, error = False, str(exc)
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, headers, orjson.loads(raw), verified, error)
                    )
                self.send_response(receiver.status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def ids(self) -> list[str]:
        """The ``webhook-id`` of every request, in arrival order."""
        with self._lock:
            return [r.headers["webhook-id"] for r in self.received]
