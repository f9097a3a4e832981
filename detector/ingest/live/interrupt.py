"""Interrupting an httpx client's blocked reads from another thread.

A source's thread spends most of its time blocked in ``recv``: waiting for a slow server's
answer, or for the next event of a stream. Closing the client from the stopping thread does not
wake it (on Linux ``recv`` waits on a closed descriptor's socket), so ``stop`` would wait for the
request's timeout. Shutting the socket down does wake it, at once, with an error the session
treats as the end. httpx does not hand out its sockets, but httpcore reports each connection it
opens to a request's ``trace`` extension (a documented hook), with the network stream whose
``socket`` it is.
"""

from __future__ import annotations

import socket
import threading
import weakref
from typing import Any

import httpx

__all__ = ["OpenSockets"]

# The trace events whose return value is a new network stream: a plain connection, and the
# TLS stream that replaces it (wrapping takes over the plain socket's descriptor).
_NEW_STREAM_EVENTS = frozenset(
    {
        "connection.connect_tcp.complete",
        "connection.connect_unix_socket.complete",
        "connection.start_tls.complete",
    }
)


class OpenSockets:
    """The sockets a client opened, to shut down when its source stops.

    Sockets are held weakly: a connection the pool dropped is forgotten with it. Once shut
    down, a connection opened later (a request begun as the source was being stopped) is shut
    down as soon as it opens.

    Examples
    --------
    >>> sockets = OpenSockets()
    >>> client = sockets.watch(httpx.Client())
    >>> sockets.shut_down()  # nothing open yet: nothing to do
    0
    >>> client.close()
    """

    def __init__(self) -> None:
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._shut = False

    def watch(self, client: httpx.Client) -> httpx.Client:
        """Record every connection ``client`` opens from now on; returns ``client``."""
        hooks = client.event_hooks
        hooks["request"] = [*hooks.get("request", []), self._trace_request]
        client.event_hooks = hooks
        return client

    def shut_down(self) -> int:
        """Shut down every recorded socket that is still open, waking the threads blocked
        reading them; returns how many were shut down."""
        with self._lock:
            self._shut = True
            sockets = list(self._sockets)
        return sum(_shut_down(sock) for sock in sockets)

    def _trace_request(self, request: httpx.Request) -> None:
        earlier = request.extensions.get("trace")

        def trace(event: str, info: dict[str, Any]) -> None:
            if event in _NEW_STREAM_EVENTS:
                self._record(info.get("return_value"))
            if earlier is not None:  # a caller's own tracing goes on
                earlier(event, info)

        request.extensions["trace"] = trace

    def _record(self, stream: Any) -> None:
        get_extra_info = getattr(stream, "get_extra_info", None)
        sock = get_extra_info("socket") if get_extra_info is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.add(sock)
            shut = self._shut
        if shut:
            _shut_down(sock)


def _shut_down(sock: socket.socket) -> bool:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # closed already, or taken over by its TLS wrapper
        return False
    return True
