"""What the parts of ``bench/api.py`` share: where things are, the workloads and goals, the
server's settings, and the records of what was measured."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SAMPLES = ROOT / "data" / "samples" / "posts"
CLI = Path(sys.executable).with_name("outage-radar")
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DATABASE = "outage_radar_bench_api"
SECTION = "API under load"
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
ENDPOINTS = {
    "GET /v1/incidents": "/v1/incidents",
    "GET /v1/services/tesla/timeseries": "/v1/services/tesla/timeseries",
}
GOAL_CONNECTIONS, GOAL_P99_MS, GOAL_PUSH_PER_S = 200, 50.0, 5000.0
SEED, OUTAGE_SHARE = 20211119, 0.01
SERVER_ENV = {
    "OUTAGE_RADAR_JOBS_ENABLED": "false",  # no pull/detect/deliver runs during measurement
    "OUTAGE_RADAR_WRITE_RATE_PER_MINUTE": "1000000",
}
#: ``--read-cache`` modes: what each adds to the server's environment ("on": as shipped).
READ_CACHE: dict[str, dict[str, str]] = {"on": {}, "off": {"OUTAGE_RADAR_READ_CACHE_SECONDS": "0"}}
#: ``--access-log`` settings: what each adds to the server's environment ("on": as shipped).
ACCESS_LOG: dict[str, dict[str, str]] = {"on": {}, "off": {"OUTAGE_RADAR_ACCESS_LOG": "false"}}


def server_env(read_cache: str, access_log: str) -> dict[str, str]:
    """The ``OUTAGE_RADAR_*`` settings of a server for one read-cache mode."""
    return {**SERVER_ENV, **READ_CACHE[read_cache], **ACCESS_LOG[access_log]}


def ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 1000 else f"{value / 1000:,.2f} s"


@dataclass(frozen=True)
class Cores:
    """CPU time over wall time during a run (1.00: one core busy throughout), of the server,
    of the load generator (this process and wrk), and of the rest of the machine (other
    processes, PostgreSQL's included)."""

    HEAD: ClassVar[str] = "server CPU (cores) | {load} CPU | rest of the machine"
    server: float
    load: float
    rest: float

    def __str__(self) -> str:
        return f"{self.server:.2f} | {self.load:.2f} | {self.rest:.2f}"


@dataclass
class ReadRun:
    """One measured wrk run (latencies in ms), on a server with the read cache ``read_cache``
    (a ``READ_CACHE`` mode)."""

    backend: str
    endpoint: str
    read_cache: str
    connections: int
    seconds: float
    requests: int
    socket_errors: int
    timeouts: int
    non_2xx: int
    p50: float
    p90: float
    p99: float
    max: float
    cores: Cores
    drain_seconds: float

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    def row(self) -> str:
        return (
            f"| {NAMES[self.backend]} | `{self.endpoint}` | {self.read_cache} "
            f"| {self.connections} | {self.requests:,} | {self.per_s:,.1f} | {ms(self.p50)} "
            f"| {ms(self.p90)} | {ms(self.p99)} | {ms(self.max)} "
            f"| {self.socket_errors} / {self.timeouts} / {self.non_2xx} "
            f"| {self.cores} | {self.drain_seconds:.1f} s |"
        )


@dataclass
class PushRun:
    """One push of ``posts`` posts drawn from ``mix`` (latencies of whole requests, in ms)."""

    backend: str
    mix: str
    posts: int
    batch: int
    clients: int
    seconds: float
    stored: int
    outage_posts: int
    counted: int
    failures: list[str]
    p50: float
    p99: float
    cores: Cores

    @property
    def per_s(self) -> float:
        return self.posts / self.seconds

    def row(self) -> str:
        return (
            f"| {NAMES[self.backend]} | {self.mix} | {self.posts:,} | {self.batch:,} "
            f"| {self.clients} | {self.seconds:.1f} | {self.per_s:,.0f} | {self.stored:,} "
            f"| {self.outage_posts:,} ({self.outage_posts / max(self.posts, 1):.0%}) "
            f"| {self.counted:,} | {ms(self.p50)} | {ms(self.p99)} | {len(self.failures)} "
            f"| {self.cores} |"
        )


@dataclass
class Profile:
    """Shares of a server's non-idle py-spy samples during one workload."""

    backend: str
    workload: str
    samples: int
    idle: int
    marks: list[tuple[str, float]] = field(default_factory=list)
    ours: list[tuple[str, float]] = field(default_factory=list)
    leaves: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class BackendResult:
    """Everything measured on one backend. ``push_read_cache`` is the read-cache mode of the
    server that took the push (and the profiles); ``server_rss_mb`` is each server's peak, by
    read-cache mode."""

    backend: str
    build_seconds: float
    responses: dict[str, str]
    push_read_cache: str = ""
    server_rss_mb: dict[str, float] = field(default_factory=dict)
    reads: list[ReadRun] = field(default_factory=list)
    pushes: list[PushRun] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
