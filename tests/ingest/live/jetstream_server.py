"""A Jetstream stand-in on loopback: a WebSocket server replaying frames, honouring
``cursor`` and ``wantedCollections``, that can drop connections or go silent on a plan."""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

TIMEOUT = 10.0  # every wait of these tests gives up after this long


@dataclass(frozen=True)
class Frame:
    """One frame the server can send; ``time_us`` is None for a broken frame (always sent)."""

    payload: str | bytes
    time_us: int | None = None
    collection: str | None = None

    def wanted(self, collections: set[str], cursor: int | None) -> bool:
        """Whether Jetstream would send it to a client asking for these collections and cursor."""
        if self.time_us is None:
            return True
        if cursor is not None and self.time_us < cursor:
            return False
        return self.collection is None or not collections or self.collection in collections


# One step per connection: drop the connection after N frames, or go silent after N frames.
# Connections beyond the plan send every frame, then stay silent (a live stream gone quiet).
Step = tuple[Literal["drop", "pause"], int]


class ReplayServer:
    """A Jetstream stand-in: honours ``cursor`` and ``wantedCollections`` and follows a plan."""

    def __init__(self, frames: Sequence[Frame], plan: Sequence[Step] = ()) -> None:
        self.frames = list(frames)
        self.plan = list(plan)
        self.paths: list[str] = []
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server: Server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The subscribe endpoint."""
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/subscribe"

    def queries(self) -> list[dict[str, list[str]]]:
        """The query of each connection so far."""
        with self._lock:
            return [parse_qs(urlsplit(path).query) for path in self.paths]

    def close(self) -> None:
        """Close every connection and the listening socket."""
        self.closing.set()
        self._server.shutdown()
        self._thread.join(TIMEOUT)

    def _handle(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        with self._lock:
            number = len(self.paths)
            self.paths.append(conn.request.path)
        step = self.plan[number] if number < len(self.plan) else None
        query = parse_qs(urlsplit(conn.request.path).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        frames = [
            f for f in self.frames if f.wanted(set(query.get("wantedCollections", [])), cursor)
        ]
        if step is not None:
            frames = frames[: step[1]]
        try:
            for frame in frames:
                conn.send(frame.payload)
            if step is not None and step[0] == "drop":
                # The peer vanishes without a closing handshake, as when a server restarts.
                conn.socket.shutdown(socket.SHUT_WR)
                return
            while not self.closing.is_set():
                try:
                    conn.recv(timeout=0.05)
                except TimeoutError:
                    continue
        except ConnectionClosed:
            return
