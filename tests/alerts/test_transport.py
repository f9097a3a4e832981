"""The guarded httpx transports: URL checks before sending, and the connected address checked
at connect time (DNS rebinding), on a real server on 127.0.0.1 (no outside network)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from detector.alerts.transport import AsyncGuardedTransport, GuardedTransport, _refusal
from detector.errors import UnsafeURLError

PUBLIC = "93.184.215.14"


def public_dns(_host: str, _port: int) -> list[str]:
    """A resolver that answers a public address, whatever the real DNS later says."""
    return [PUBLIC]


class Receiver(ThreadingHTTPServer):
    """Records the bodies POSTed to it."""

    # socketserver's backlog of 5 overflows when many threads connect at once, and Linux
    # then resets some of the connections.
    request_queue_size = 64
    bodies: list[bytes]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        self.server.bodies.append(self.rfile.read(length))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), _Handler)
    server.bodies = []
    # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def port_of(server: Receiver) -> int:
    return int(server.server_address[1])


def test_allowed_request_passes_through() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    transport = GuardedTransport(transport=httpx.MockTransport(handler), resolve=public_dns)
    with httpx.Client(transport=transport) as client:
        response = client.post("https://hooks.example.com/x", content=b"{}")
    assert response.status_code == 204
    assert [str(r.url) for r in seen] == ["https://hooks.example.com/x"]
    assert seen[0].headers["host"] == "hooks.example.com"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/"],
)
def test_blocked_url_is_never_sent(url: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.url}")

    transport = GuardedTransport(transport=httpx.MockTransport(handler), resolve=public_dns)
    with httpx.Client(transport=transport) as client, pytest.raises(UnsafeURLError):
        client.post(url, content=b"{}")


def test_connects_to_allowed_private_receiver(receiver: Receiver) -> None:
    events: list[str] = []
    transport = GuardedTransport(allow_private=True)
    with httpx.Client(transport=transport) as client:
        response = client.post(
            f"http://127.0.0.1:{port_of(receiver)}/hook",
            content=b'{"ok":true}',
            extensions={"trace": lambda name, _info: events.append(name)},
        )
    assert response.status_code == 204
    assert receiver.bodies == [b'{"ok":true}']
    # The caller's own trace callback still sees every event.
    assert "connection.connect_tcp.complete" in events


def test_dns_rebinding_is_caught_at_connect(receiver: Receiver) -> None:
    """The check resolves "localhost" to a public address; the connection lands on
    127.0.0.1. The request must not reach the server."""
    transport = GuardedTransport(resolve=public_dns)
    with httpx.Client(transport=transport) as client:
        with pytest.raises(UnsafeURLError) as info:
            client.post(f"http://localhost:{port_of(receiver)}/hook/token", content=b"{}")
    assert "which is loopback" in info.value.reason
    assert info.value.address in {"127.0.0.1", "::1"}
    assert info.value.url == f"http://localhost:{port_of(receiver)}/..."
    assert receiver.bodies == []


def test_one_guarded_client_is_shared_by_many_threads(receiver: Receiver) -> None:
    """The outbox's delivery threads share one client: each request is judged on its own
    (the connect-time check is installed per request), and its connection pool serves
    them all. Two shared clients at once: one allowed to reach loopback, one rebinding."""
    threads = 8
    port = port_of(receiver)
    start = threading.Barrier(2 * threads)
    allowed = httpx.Client(transport=GuardedTransport(allow_private=True), timeout=10)
    rebinding = httpx.Client(transport=GuardedTransport(resolve=public_dns), timeout=10)
    outcomes: dict[str, str] = {}

    def post(client: httpx.Client, host: str, n: int) -> None:
        key = f"{host}/{n}"
        start.wait(timeout=10)
        try:
            response = client.post(f"http://{host}:{port}/hook", content=key.encode())
            outcomes[key] = str(response.status_code)
        except UnsafeURLError as exc:
            outcomes[key] = exc.reason

    workers = [
        threading.Thread(target=post, args=(client, host, n))
        for n in range(threads)
        for client, host in ((allowed, "127.0.0.1"), (rebinding, "localhost"))
    ]
    with allowed, rebinding:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers)
    assert {outcomes[f"127.0.0.1/{n}"] for n in range(threads)} == {"204"}
    assert all("which is loopback" in outcomes[f"localhost/{n}"] for n in range(threads))
    # Every allowed body arrived once; nothing of the refused ones did.
    assert sorted(receiver.bodies) == sorted(f"127.0.0.1/{n}".encode() for n in range(threads))


def test_async_transport(receiver: Receiver) -> None:
    url = f"http://localhost:{port_of(receiver)}/hook"

    async def post(transport: AsyncGuardedTransport) -> int:
        async with httpx.AsyncClient(transport=transport) as client:
            return (await client.post(url, content=b"async")).status_code

    with pytest.raises(UnsafeURLError, match="which is loopback"):
        asyncio.run(post(AsyncGuardedTransport(resolve=public_dns)))
    assert receiver.bodies == []
    assert asyncio.run(post(AsyncGuardedTransport(allow_private=True))) == 204
    assert receiver.bodies == [b"async"]


def test_async_transport_keeps_the_callers_trace(receiver: Receiver) -> None:
    events: list[str] = []

    async def record(name: str, _info: dict[str, Any]) -> None:
        events.append(name)

    async def post() -> int:
        transport = AsyncGuardedTransport(allow_private=True)
        async with httpx.AsyncClient(transport=transport) as client:
            url = f"http://127.0.0.1:{port_of(receiver)}/hook"
            response = await client.post(url, content=b"{}", extensions={"trace": record})
            return response.status_code

    assert asyncio.run(post()) == 204
    assert "connection.connect_tcp.complete" in events


def test_async_blocked_url_is_never_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.url}")

    async def post() -> None:
        transport = AsyncGuardedTransport(transport=httpx.MockTransport(handler))
        async with httpx.AsyncClient(transport=transport) as client:
            await client.post("http://10.0.0.1/", content=b"{}")

    with pytest.raises(UnsafeURLError, match="private"):
        asyncio.run(post())


def test_unix_socket_transport_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "hook.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen()
        transport = GuardedTransport(transport=httpx.HTTPTransport(uds=path), resolve=public_dns)
        with httpx.Client(transport=transport) as client:
            with pytest.raises(UnsafeURLError, match="Unix socket"):
                client.post("http://hooks.example.com/", content=b"{}")


class _Stream:
    def __init__(self, peer: object) -> None:
        self.peer = peer

    def get_extra_info(self, info: str) -> object:
        return self.peer if info == "server_addr" else None


@pytest.mark.parametrize(
    ("peer", "refused"),
    [
        ((PUBLIC, 443), None),
        (("2606:2800:21f:cb07:6820:80da:af6b:8b2c", 443, 0, 0), None),
        (("10.0.0.1", 443), "connected to 10.0.0.1, which is private"),
        (("fe80::1%eth0", 443, 0, 2), "connected to fe80::1%eth0, which is link-local"),
        (None, "the connected address is unknown"),  # fail closed
    ],
)
def test_refusal_on_connect(peer: object, refused: str | None) -> None:
    info = {"return_value": _Stream(peer)}
    error = _refusal("connection.connect_tcp.complete", info, "https://h.example/x", False)
    assert (error and error.reason) == refused
    # Other events are not about fresh connections.
    assert _refusal("http11.send_request_headers.started", {}, "https://h.example/", False) is None
