"""The database and the server of ``bench/api.py``: a new database per backend, the
``outage-radar`` commands run on it, a running ``outage-radar serve``, and the CPU it uses."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from api_common import CLI, OUT, PG_DATABASE, PG_URL, ROOT, Cores


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A new, empty database for ``backend``; its URL. Removed (dropped) on exit."""
    if backend == "sqlite":
        path = OUT / "api-bench.db"
        files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
        for stale in files:
            stale.unlink(missing_ok=True)
        try:
            yield f"sqlite:///{path}"
        finally:
            for stale in files:
                stale.unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
        yield make_url(PG_URL).set(database=PG_DATABASE).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
        admin.dispose()


def _clean_env() -> dict[str, str]:
    # The developer's OUTAGE_RADAR_* settings must not change what is measured.
    return {k: v for k, v in os.environ.items() if not k.startswith("OUTAGE_RADAR_")}


def cli(*args: str, timeout: float) -> str:
    """Run ``outage-radar *args`` from the repository root; its standard output."""
    env = {**_clean_env(), "COLUMNS": "500"}  # rich must not wrap the printed token
    done = subprocess.run(
        [str(CLI), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"`outage-radar {args[0]}` failed:\n{tail}")
    return done.stdout


@dataclass
class Server:
    """A running ``outage-radar serve``."""

    url: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the server has used (Linux ``/proc``)."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """The most memory the server has held so far (``VmHWM``), in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(peak.split()[1]) / 1024

    def settle(self, timeout: float = 300.0) -> float:
        """Wait until the server is idle (< 3% of a core over half a second); the seconds
        waited. When wrk stops, the requests queued in the server are still answered."""
        began, before = time.monotonic(), self.cpu_seconds()
        while time.monotonic() - began < timeout:
            time.sleep(0.5)
            now = self.cpu_seconds()
            if now - before < 0.015:
                return time.monotonic() - began
            before = now
        raise RuntimeError(f"the server was still busy {timeout:.0f} s after the load stopped")


@contextmanager
def serve(url: str, name: str, env: dict[str, str]) -> Iterator[Server]:
    """``outage-radar serve`` with the settings ``env`` on a free port of 127.0.0.1, once
    ``/health`` answers 200; its log is ``bench/out/api-server-<name>.log``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = OUT / f"api-server-{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(CLI), "serve", "--port", str(port), "--db", url],
            cwd=ROOT,
            env={**_clean_env(), **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 120  # it migrates and loads the model first
        while not _healthy(server.url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                raise RuntimeError(f"the server did not start (log {log}):\n{tail}")
            time.sleep(0.25)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5.0).status_code == 200
    except httpx.TransportError:
        return False


class CpuMeter:
    """Measures ``Cores`` from its creation to ``cores()``."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.start = self._read()

    def _read(self) -> tuple[float, float, float, float]:
        me, kids = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )  # wrk is a finished child when read after a run
        load = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
        # /proc/stat "cpu": user nice system idle iowait irq softirq steal (guest is in user)
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        return time.perf_counter(), self.server.cpu_seconds(), load, busy

    def cores(self) -> Cores:
        """Since creation."""
        wall, server, load, busy = (b - a for a, b in zip(self.start, self._read(), strict=True))
        return Cores(server / wall, load / wall, (busy - server - load) / wall)
