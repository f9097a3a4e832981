"""A forum on loopback serving recorded RSS, Atom and Discourse JSON (feed source tests, and
the live sources' intake, manager, API and CLI tests)."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FRAMES = Path(__file__).parent / "frames"
LAST_MODIFIED = "Sat, 02 Mar 2024 09:16:41 GMT"
_TOPIC_PATH = re.compile(r"^/t/(?:[^/]+/)?(\d+)(?:/\d+)?\.json$")


def frame(name: str) -> bytes:
    return (FRAMES / name).read_bytes()


def rss_items(body: bytes) -> list[bytes]:
    return re.findall(rb"<item>.*?</item>", body, re.DOTALL)


def rss_without(body: bytes, *drop: int) -> bytes:
    """The recorded feed without its items at ``drop`` (newest first, as the feed lists them)."""
    for index in sorted(drop, reverse=True):
        body = body.replace(rss_items(body)[index], b"", 1)
    return body


class Forum:
    """A forum on loopback: serves documents by path with an ETag and Last-Modified, answers
    304 to matching validators, and records every request. After :meth:`stall`, requests are
    recorded but not answered until :meth:`resume` (or the forum stops)."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.status = 200
        self.requests: list[tuple[str, dict[str, str], float]] = []
        self.base = ""
        self._answering = threading.Event()
        self._answering.set()
        self._lock = threading.Lock()

    def stall(self) -> None:
        """Stop answering: requests wait, as on a server that hangs."""
        self._answering.clear()

    def resume(self) -> None:
        """Answer again, the waiting requests first."""
        self._answering.set()

    def serve(self, path: str, body: bytes, content_type: str) -> None:
        with self._lock:
            self.documents[path] = (body, content_type)

    def paths(self) -> list[str]:
        with self._lock:
            return [path for path, _, _ in self.requests]

    def headers(self, index: int) -> dict[str, str]:
        with self._lock:
            return self.requests[index][1]

    def times(self) -> list[float]:
        with self._lock:
            return [at for _, _, at in self.requests]

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append((path, headers, time.monotonic()))
        self._answering.wait(timeout=60)
        with self._lock:
            if self.status != 200:
                return self.status, {}, b"upstream unavailable"
            topic = _TOPIC_PATH.match(path)
            document = self.documents.get(f"/t/{topic.group(1)}" if topic else path)
        if document is None:
            return 404, {}, b"not found"
        body, content_type = document
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        if headers.get("if-none-match") == etag:
            return 304, {"etag": etag}, b""
        return (
            200,
            {"etag": etag, "last-modified": LAST_MODIFIED, "content-type": content_type},
            body,
        )

    @contextmanager
    def running(self) -> Iterator[Forum]:
        forum = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, body = forum.answer(self.path, headers)
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up while the answer was held back (a stopped source)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            self.resume()  # let stalled requests end before the server closes
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
