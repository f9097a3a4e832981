"""Real ``outage-radar`` processes for end-to-end tests: the CLI and the server, on loopback.

``ServerProcess.running`` starts ``outage-radar serve`` as a child process, waits until
``/health`` answers and always stops it (terminate, then kill) when the block ends; ``kill``
ends it abruptly mid-test, as a crash would. Output goes to a log file, quoted in failures.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

__all__ = ["ServerProcess", "create_api_key", "free_port", "reserved_port", "wait_for"]

EXECUTABLE = str(Path(sys.executable).with_name("outage-radar"))
START_TIMEOUT = 60.0  # imports and the model load take seconds, more on a busy machine
STOP_TIMEOUT = 15.0
CLI_TIMEOUT = 60.0

T = TypeVar("T")


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def reserved_port(port: int = 0, *, listen: bool = False) -> Iterator[int]:
    """A port of 127.0.0.1 (``port``, or a free one) that nobody else takes until the block
    ends. It is bound but not listening, so connecting is refused; or, with ``listen``, a
    black hole: connections are accepted by the kernel and never answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        if listen:
            sock.listen()
        yield sock.getsockname()[1]


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float, every: float = 0.25) -> T:
    """Call ``probe`` until it returns something truthy, and return that; fail after
    ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def _environment(settings: Mapping[str, str]) -> dict[str, str]:
    # Only what the test says: none of the developer's OUTAGE_RADAR_* reach the child.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGE_RADAR_")}
    env.update(settings)
    return env


def create_api_key(database_url: str, name: str = "e2e") -> str:
    """Run ``outage-radar apikey create`` and return the token it prints."""
    done = subprocess.run(
        [EXECUTABLE, "apikey", "create", name, "--db", database_url],
        env=_environment({}),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token and " " not in token, done.stdout
    return token


@dataclass
class ServerProcess:
    """``outage-radar serve`` on ``--db database_url``, with ``env`` as its settings."""

    database_url: str
    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def log(self) -> str:
        """What the server wrote so far (its last 6,000 characters)."""
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except FileNotFoundError:
            return ""

    @contextmanager
    def running(self) -> Iterator[ServerProcess]:
        """Start the server on a free port (a new one each time) and wait until it answers;
        stop it when the block ends, whatever happened."""
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [EXECUTABLE, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
                + ["--db", self.database_url],
                env=_environment(self.env),
                cwd=self.log_path.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_answering()
            yield self
        finally:
            self.stop()

    @property
    def stopped_cleanly(self) -> bool:
        """Whether the server was stopped (SIGTERM: uvicorn ends by re-raising it) after
        shutting its application down: jobs finished, store closed."""
        code = None if self.process is None else self.process.poll()
        done = "Application shutdown complete." in self.log()
        return code in (0, -signal.SIGTERM) and done

    def kill(self) -> None:
        """End the server at once (SIGKILL): no shutdown, no lease released."""
        assert self.process is not None, "not started"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        """Stop the server gracefully, or kill it when it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)
            raise AssertionError(f"the server did not stop in time:\n{self.log()}") from None

    def _wait_until_answering(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited while starting:\n{self.log()}")
            try:
                httpx.get(f"{self.url}/health", timeout=5.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not answer within {START_TIMEOUT} s:\n{self.log()}")
