"""httpx transports that refuse unsafe webhook destinations, also at connect time.

:func:`~detector.alerts.ssrf.check_url` resolves the host once; the HTTP client resolves it
again when it connects, and a hostile DNS server can answer differently the second time
(DNS rebinding). Two ways out: pin the connection to the checked address, or check the
address actually connected to. We check: pinning means connecting to an IP while TLS
verifies the name (httpx's ``sni_hostname`` extension), and httpcore pools connections by
URL origin, so two names on one IP could share a connection whose certificate was only
verified for the first. Checking keeps httpx's own resolution, pooling and TLS untouched.

The check hooks httpx's documented ``trace`` request extension: on
``connection.connect_tcp.complete`` the peer address of the fresh socket is judged by
:func:`~detector.alerts.ssrf.blocked_reason`, and a refused connection is closed before the
TLS handshake or any byte of the request. Pooled connections were checked when they opened.

Use these with direct connections only. Behind a forward proxy (smokescreen, as the
Standard Webhooks spec suggests) the socket goes to the proxy, which must do the filtering.
Redirects are not followed by httpx unless asked, and webhook senders should not ask: the
spec counts a 3xx as a failure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import httpx

from detector.alerts.ssrf import Resolver, blocked_reason, check_url, redact_url, resolve_host
from detector.errors import UnsafeURLError

__all__ = ["AsyncGuardedTransport", "GuardedTransport"]

_CONNECTED = "connection.connect_tcp.complete"
_UNIX_SOCKET = "connection.connect_unix_socket.complete"

Trace = Callable[[str, dict[str, Any]], None]
AsyncTrace = Callable[[str, dict[str, Any]], Awaitable[None]]


class GuardedTransport(httpx.BaseTransport):
    """Wraps a transport: checks each request's URL, then the address it connects to.

    Parameters
    ----------
    transport
        The transport that sends; by default a new ``httpx.HTTPTransport()`` (no proxy).
    allow_private
        Allow private, loopback, link-local and CGNAT destinations (see
        :mod:`detector.alerts.ssrf`).
    resolve
        Resolver for the up-front URL check; the connect-time check needs none.

    Raises
    ------
    UnsafeURLError
        From ``handle_request`` (so from ``client.post``): the URL or the connected address
        is refused. Nothing was sent.
    HostResolutionError
        The host does not resolve.

    Examples
    --------
    >>> import httpx
    >>> inner = httpx.MockTransport(lambda request: httpx.Response(204))
    >>> guarded = GuardedTransport(transport=inner, resolve=lambda host, port: ["10.0.0.7"])
    >>> with httpx.Client(transport=guarded) as client:
    ...     try:
    ...         client.post("https://hooks.internal.example/x")
    ...     except UnsafeURLError as exc:
    ...         print(exc.reason)
    hooks.internal.example resolves to 10.0.0.7, which is private
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        allow_private: bool = False,
        resolve: Resolver = resolve_host,
    ) -> None:
        self._transport = transport if transport is not None else httpx.HTTPTransport()
        self._allow_private = allow_private
        self._resolve = resolve

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Check, then send through the wrapped transport."""
        url = str(request.url)
        check_url(url, allow_private=self._allow_private, resolve=self._resolve)
        outer: Trace | None = request.extensions.get("trace")

        def trace(event: str, info: dict[str, Any]) -> None:
            refused = _refusal(event, info, url, self._allow_private)
            if refused is not None:
                # Raising here leaves the fresh socket to us: httpcore never stored it.
                info["return_value"].close()
                raise refused
            if outer is not None:
                outer(event, info)

        request.extensions = {**request.extensions, "trace": trace}
        return self._transport.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._transport.close()


class AsyncGuardedTransport(httpx.AsyncBaseTransport):
    """:class:`GuardedTransport` for ``httpx.AsyncClient``; the up-front DNS lookup runs in
    a worker thread so it does not block the event loop.

    Examples
    --------
    >>> import asyncio, httpx
    >>> inner = httpx.MockTransport(lambda request: httpx.Response(204))
    >>> guarded = AsyncGuardedTransport(transport=inner, resolve=lambda h, p: ["93.184.215.14"])
    >>> async def post():
    ...     async with httpx.AsyncClient(transport=guarded) as client:
    ...         return (await client.post("https://hooks.example.com/x")).status_code
    >>> asyncio.run(post())
    204
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_private: bool = False,
        resolve: Resolver = resolve_host,
    ) -> None:
        self._transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._allow_private = allow_private
        self._resolve = resolve

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check, then send through the wrapped transport."""
        url = str(request.url)
        await anyio.to_thread.run_sync(self._check, url)
        outer: AsyncTrace | None = request.extensions.get("trace")

        async def trace(event: str, info: dict[str, Any]) -> None:
            refused = _refusal(event, info, url, self._allow_private)
            if refused is not None:
                await info["return_value"].aclose()
                raise refused
            if outer is not None:
                await outer(event, info)

        request.extensions = {**request.extensions, "trace": trace}
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()

    def _check(self, url: str) -> None:
        check_url(url, allow_private=self._allow_private, resolve=self._resolve)


def _refusal(
    event: str, info: dict[str, Any], url: str, allow_private: bool
) -> UnsafeURLError | None:
    """The error for a refused connection, or None; only looks at fresh connections."""
    if event == _UNIX_SOCKET:
        # A Unix socket bypasses addresses altogether: only a misconfigured transport does it.
        return UnsafeURLError(redact_url(url), "the transport connects through a Unix socket")
    if event != _CONNECTED:
        return None
    peer = info["return_value"].get_extra_info("server_addr")
    if not isinstance(peer, tuple) or not peer:
        # Fail closed: a backend that cannot say where it connected cannot be trusted.
        return UnsafeURLError(redact_url(url), "the connected address is unknown")
    address = ipaddress.ip_address(peer[0])
    reason = blocked_reason(address, allow_private=allow_private)
    if reason is None:
        return None
    return UnsafeURLError(
        redact_url(url), f"connected to {address}, which is {reason}", address=str(address)
    )
