"""API under load: reads from ``wrk`` on loopback, and ``POST /v1/posts`` ingestion, on SQLite
and PostgreSQL.

For each backend the bundled sample (``data/samples/posts``) is replayed into a new database
(``outage-radar replay``: a SQLite file under ``bench/out/``, or a PostgreSQL database created
for the run and dropped after it), and the server is started as shipped (``outage-radar serve``:
one uvicorn process) with the scheduled jobs off and the write rate limit raised. Then:

reads
    ``wrk`` against ``GET /v1/incidents`` and ``GET /v1/services/tesla/timeseries`` (the
    default window: the last 24 hours of data), at each ``--connections``: a warm-up run, then a
    measured run; a Lua ``done`` hook prints wrk's percentiles. Between runs the bench waits
    until the server is idle: requests queued when wrk stops are still answered.
push
    Sample posts with fresh ids, in batches from a few client threads; the server stores,
    annotates and counts each batch before it answers.
profile (``--profile``, needs ``py-spy`` on PATH)
    py-spy samples the server, without pausing it, during an extra run of each workload.

wrk, the push clients and py-spy share the machine's cores with the server. Nothing here imports
the ``api`` package: run as ``python bench/api.py``, this file is the module ``api``.

Usage::

    python bench/api.py [--backends sqlite,postgres] [--connections 1,200] [--duration 20]
                        [--push-posts 40000] [--profile] [--write-results]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import queue
import random
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson
from results import write_section

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
_WRK_REPORT = """\
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format("BENCH-JSON [%d, %d, %d, %d, %d, %.0f, %.0f, %.0f, %.0f]\\n",
    s.requests, s.duration, e.connect + e.read + e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


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


@dataclass
class ReadRun:
    """One measured wrk run (latencies in ms)."""

    backend: str
    endpoint: str
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
            f"| {NAMES[self.backend]} | `{self.endpoint}` | {self.connections} "
            f"| {self.requests:,} | {self.per_s:,.1f} | {_ms(self.p50)} | {_ms(self.p90)} "
            f"| {_ms(self.p99)} | {_ms(self.max)} "
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
            f"| {self.counted:,} | {_ms(self.p50)} | {_ms(self.p99)} | {len(self.failures)} "
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
    """Everything measured on one backend."""

    backend: str
    build_seconds: float
    responses: dict[str, str]
    server_rss_mb: float = 0.0
    reads: list[ReadRun] = field(default_factory=list)
    pushes: list[PushRun] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)


# --- the database and the server ------------------------------------------------------------


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


def _cli(*args: str, timeout: float) -> str:
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
def serve(url: str, backend: str) -> Iterator[Server]:
    """``outage-radar serve`` on a free port of 127.0.0.1, once ``/health`` answers 200."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = OUT / f"api-server-{backend}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(CLI), "serve", "--port", str(port), "--db", url],
            cwd=ROOT,
            env={**_clean_env(), **SERVER_ENV},
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


# --- reads: wrk -------------------------------------------------------------------------------


def run_wrk(url: str, connections: int, seconds: int, timeout: int) -> list[float]:
    """Run wrk once; its ``done`` report (see ``_WRK_REPORT``)."""
    script = OUT / "wrk-report.lua"
    script.write_text(_WRK_REPORT)
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s"]
    command += ["--timeout", f"{timeout}s", "--latency", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            report: list[float] = json.loads(line.removeprefix("BENCH-JSON "))
            return report
    raise RuntimeError(f"no report in wrk's output:\n{done.stdout}")


def measure_read(
    server: Server, backend: str, endpoint: str, connections: int, args: argparse.Namespace
) -> ReadRun:
    """A warm-up run, then a measured run, of wrk against ``endpoint``."""
    url = server.url + ENDPOINTS[endpoint]
    server.settle()
    run_wrk(url, connections, args.warmup, args.timeout)
    server.settle()
    meter = CpuMeter(server)
    requests, us, sockets, timeouts, status, p50, p90, p99, top = run_wrk(
        url, connections, args.duration, args.timeout
    )
    cores = meter.cores()
    return ReadRun(
        *(backend, endpoint, connections, us / 1e6, int(requests)),
        *(int(sockets), int(timeouts), int(status)),
        *(p50 / 1000, p90 / 1000, p99 / 1000, top / 1000),
        *(cores, server.settle()),
    )


# --- push: POST /v1/posts ---------------------------------------------------------------------


def sample_mixes() -> dict[str, list[dict[str, Any]]]:
    """Two push inputs, in time order and the push shape (without ids): the sample's distinct
    posts (an outage-heavy window), and a seeded draw of them with 1% outage reports by the
    sample's labels (as ``bench/nlp.py``; unlabelled posts left out), as a live stream."""
    from detector.ingest.files import ReadOptions, read_file
    from detector.models import Post

    with gzip.open(SAMPLES.parent / "labels.jsonl.gz") as lines:
        labels = {row["id"]: bool(row["is_outage"]) for row in map(orjson.loads, lines)}
    posts: dict[str, Post] = {}
    for path in sorted(SAMPLES.glob("*.jsonl*")):
        for item in read_file(path, ReadOptions()):
            if isinstance(item, Post):
                posts.setdefault(item.id, item)
    records: dict[str, dict[str, Any]] = {}
    for p in sorted(posts.values(), key=lambda p: (p.created_at, p.id)):
        record = {
            "text": p.text,
            "created_at": p.created_at.isoformat().replace("+00:00", "Z"),
            "author_handle": p.author_handle or p.author_id,
            "author_location": p.author_location,
            "lang": p.lang,
            "source_name": p.source_name,
        }
        records[p.id] = {k: v for k, v in record.items() if v is not None}
    outages = [post_id for post_id in records if labels.get(post_id) is True]
    others = [post_id for post_id in records if labels.get(post_id) is False]
    wanted = round(len(others) * OUTAGE_SHARE / (1 - OUTAGE_SHARE))
    drawn = set(random.Random(SEED).sample(outages, wanted)) | set(others)
    return {
        "sample": list(records.values()),
        f"{OUTAGE_SHARE:.0%} outage": [r for post_id, r in records.items() if post_id in drawn],
    }


def push_bodies(
    base: list[dict[str, Any]], tag: str, start: int, count: int, batch: int
) -> list[bytes]:
    """Posts ``start`` to ``start + count`` as encoded ``POST /v1/posts`` bodies. Post ``i`` is
    ``base[i % len(base)]`` with the id ``<tag>-<i>`` and an author of its own for ``tag`` and
    pass over ``base``, so it collapses into no post of another push or pass (same author and
    text)."""
    records = []
    for i in range(start, start + count):
        lap, j = divmod(i, len(base))
        record = {**base[j], "id": f"{tag}-{i}"}
        record["author_handle"] = f"{record.get('author_handle', 'anon')}~{tag}{lap}"
        records.append(record)
    return [orjson.dumps({"posts": records[i : i + batch]}) for i in range(0, count, batch)]


def push(
    server: Server,
    token: str,
    bodies: list[bytes],
    *,
    backend: str,
    mix: str,
    batch: int,
    clients: int,
) -> PushRun:
    """POST every body (of ``batch`` posts from ``mix``) from ``clients`` threads, each taking
    the next body when answered."""
    todo: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for body in bodies:
        todo.put(body)
    lock = threading.Lock()
    totals: Counter[str] = Counter()
    latencies: list[float] = []
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def work() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=300.0) as client:
            while True:
                try:
                    body = todo.get_nowait()
                except queue.Empty:
                    return
                began = time.perf_counter()
                try:
                    answer = client.post("/v1/posts", content=body)
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    latencies.append((time.perf_counter() - began) * 1000)
                    if answer.status_code == 200:
                        totals.update(answer.json())
                    else:
                        failures.append(f"HTTP {answer.status_code}: {answer.text[:300]}")

    meter = CpuMeter(server)
    began = time.perf_counter()
    threads = [threading.Thread(target=work, name=f"push-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    cores = meter.cores()
    lat = sorted(latencies) or [0.0]
    return PushRun(
        *(backend, mix, totals["received"], batch, clients, seconds),
        *(totals["stored"], totals["outage_posts"], totals["counted"], failures),
        *(lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], cores),
    )


# --- profiles: py-spy -------------------------------------------------------------------------


@contextmanager
def sampling(pid: int, seconds: int, path: Path) -> Iterator[None]:
    """py-spy records ``pid`` (without pausing it) for ``seconds`` into ``path``."""
    path.unlink(missing_ok=True)
    command = ["py-spy", "record", "--nonblocking", "-r", "100", "-f", "raw"]
    command += ["-d", str(seconds), "-p", str(pid), "-o", str(path)]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        _, err = recorder.communicate(timeout=seconds + 60)
        if recorder.returncode != 0 or not path.exists():
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace').strip()}")


def _where(frame: str) -> str:
    """``Bucket.from_bucket (api/schemas.py:267)`` -> ``api/schemas.py``."""
    return frame.rsplit(" (", 1)[-1].rstrip(")").rsplit(":", 1)[0]


def _short(frame: str) -> str:
    return f"{frame.rsplit(' (', 1)[0]} ({_where(frame)})"


def _is_ours(frame: str) -> bool:
    where, name = _where(frame), frame.rsplit(" (", 1)[0]
    # Left out: comprehensions (their function is listed), middleware wrapping every request,
    # and the CLI frames under which the main (event-loop) thread runs.
    return (
        where.startswith(("api/", "detector/"))
        and not where.startswith("detector/cli")
        and "<locals>.<" not in name
        and not name.endswith("__call__")
    )


def _has(frames: list[str], *parts: str) -> bool:
    return any(part in frame for frame in frames for part in parts)


# Named shares of the samples, each a test of one stack (root first). Thread-pool threads
# start in Thread._bootstrap; the other stacks are the main (event-loop) thread's.
_MARKS: dict[str, Callable[[list[str]], bool]] = {
    "event-loop thread": lambda f: not f[0].startswith("Thread._bootstrap"),
    "waiting for a pooled DB connection": lambda f: (
        _has(f, "QueuePool._do_get") and _where(f[-1]) == "threading.py"
    ),
    "opening DB connections": lambda f: _has(f, "DefaultDialect.connect (", "_sqlite_pragmas"),
    "logging (access log)": lambda f: _has(f, "(logging/"),
}


def summarize(path: Path, backend: str, workload: str, top: int = 6) -> Profile:
    """Shares of the non-idle samples: named ones (``_MARKS``), our functions (inclusive) and
    the hottest leaf functions. A pool thread waiting for work is idle; one waiting for a
    database connection is not."""
    marks: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    samples = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n, frames = int(count), stack.split(";")
        if len(frames) > 1 and frames[-2].startswith("Queue.get (queue.py"):
            idle += n
            continue
        samples += n
        leaves[_short(frames[-1])] += n
        ours.update({_short(f): n for f in frames if _is_ours(f)})
        marks.update({mark: n for mark, found in _MARKS.items() if found(frames)})
    profile = Profile(backend, workload, samples, idle)
    if samples:
        profile.marks = [(mark, marks[mark] / samples) for mark in _MARKS]
        profile.ours = [(k, n / samples) for k, n in ours.most_common(top)]
        profile.leaves = [(k, n / samples) for k, n in leaves.most_common(top)]
    return profile


def profile_backend(
    server: Server, result: BackendResult, token: str, base: list[dict[str, Any]], args: Any
) -> None:
    """One sampled run of each read endpoint (at the goal's connections) and of a push."""
    pid, seconds = server.process.pid, args.profile_seconds
    for endpoint, path in ENDPOINTS.items():
        out = OUT / f"api-profile-{result.backend}-{path.strip('/').replace('/', '-')}.txt"
        server.settle()
        with sampling(pid, seconds, out):
            run_wrk(server.url + path, GOAL_CONNECTIONS, seconds + 2, args.timeout)
        workload = f"`{endpoint}`, {GOAL_CONNECTIONS} connections"
        result.profiles.append(summarize(out, result.backend, workload))
    # Fresh posts (numbered after the measured push's), a little more than the sampling lasts.
    rate = result.pushes[0].per_s if result.pushes else GOAL_PUSH_PER_S
    count = max(args.batch, int(rate * seconds * 1.2) // args.batch * args.batch)
    bodies = push_bodies(base, "profile", 0, count, args.batch)
    out = OUT / f"api-profile-{result.backend}-push.txt"
    server.settle()
    with sampling(pid, seconds, out):
        push(server, token, bodies, backend=result.backend, mix="sample", **_push_args(args))
    result.profiles.append(summarize(out, result.backend, "`POST /v1/posts`"))


def _push_args(args: Any) -> dict[str, int]:
    return {"batch": args.batch, "clients": args.clients}


# --- one backend ------------------------------------------------------------------------------


def run_backend(backend: str, mixes: dict[str, list[dict[str, Any]]], args: Any) -> BackendResult:
    """Build the database, serve it, and measure reads, a push (and profiles) on it."""
    with database(backend) as url:
        began = time.perf_counter()
        quarantine = str(OUT / "api-quarantine.jsonl")
        _cli("replay", str(SAMPLES), "--db", url, "--quarantine", quarantine, timeout=600)
        result = BackendResult(backend, time.perf_counter() - began, {})
        print(f"{backend}: sample replayed in {result.build_seconds:.1f} s", flush=True)
        token = _cli("apikey", "create", "bench", "--db", url, timeout=120).strip().split()[-1]
        with serve(url, backend) as server:
            for endpoint, path in ENDPOINTS.items():
                answer = httpx.get(server.url + path, timeout=60.0)
                if answer.status_code != 200:
                    raise RuntimeError(f"{endpoint} answered {answer.status_code}: {answer.text}")
                body, size = answer.json(), len(answer.content)
                noun = "incidents" if "items" in body else "buckets"
                count = len(body["items" if "items" in body else "buckets"])
                result.responses[endpoint] = f"{count:,} {noun}, {size:,} bytes"
            for endpoint in ENDPOINTS:
                for connections in args.connections:
                    run = measure_read(server, backend, endpoint, connections, args)
                    result.reads.append(run)
                    print(run.row(), flush=True)
            for n, (mix, base) in enumerate(mixes.items() if args.push_posts else ()):
                bodies = push_bodies(base, f"push{n}", 0, args.push_posts, args.batch)
                server.settle()
                pushed = push(server, token, bodies, backend=backend, mix=mix, **_push_args(args))
                result.pushes.append(pushed)
                print(pushed.row(), *pushed.failures[:1], flush=True)
            if args.profile:
                profile_backend(server, result, token, mixes["sample"], args)
            status = Path(f"/proc/{server.process.pid}/status").read_text()
            peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
            result.server_rss_mb = int(peak.split()[1]) / 1024
    return result


# --- the report -------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 1000 else f"{value / 1000:,.2f} s"


def _tables(results: list[BackendResult]) -> list[str]:
    lines = [
        "| backend | endpoint | connections | requests | requests/s | p50 | p90 | p99 | max "
        f"| errors: socket / timeout / non-2xx | {Cores.HEAD.format(load='wrk')} "
        "| server busy after wrk stopped |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        *(run.row() for result in results for run in result.reads),
        "",
    ]
    pushes = [run for result in results for run in result.pushes]
    if pushes:
        lines += [
            "| backend | posts from | posts | batch | clients | seconds | posts/s | stored "
            "| flagged as outage | counted | request p50 | request p99 | failed requests "
            f"| {Cores.HEAD.format(load='push clients')} |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
            *(p.row() for p in pushes),
            "",
        ]
    return lines


def _verdicts(results: list[BackendResult]) -> list[str]:
    lines = []
    for result in results:
        for r in result.reads:
            if r.connections != GOAL_CONNECTIONS:
                continue
            errors = r.socket_errors + r.timeouts + r.non_2xx
            met = r.requests > 0 and errors == 0 and r.p99 < GOAL_P99_MS
            note = " (no request completed)" if not r.requests else ""
            note = f" ({errors:,} errors)" if errors else note
            lines.append(
                f"- {NAMES[r.backend]}, `{r.endpoint}` at {r.connections} connections: p99 "
                f"{_ms(r.p99)}{note} against a goal of < {GOAL_P99_MS:.0f} ms — "
                f"{'met' if met else 'NOT met'}."
            )
        for p in result.pushes:
            met = p.per_s >= GOAL_PUSH_PER_S and not p.failures
            lines.append(
                f"- {NAMES[p.backend]}, `POST /v1/posts` ({p.mix}): {p.per_s:,.0f} posts/s "
                f"against a goal "
                f"of >= {GOAL_PUSH_PER_S:,.0f} — {'met' if met else 'NOT met'}."
            )
    best = max((r.per_s for result in results for r in result.reads), default=0.0)
    lines.append(
        "- Each wrk connection waits for its answer before asking again, so the mean latency is "
        f"connections / throughput (Little's law): {GOAL_CONNECTIONS} connections under "
        f"{GOAL_P99_MS:.0f} ms need more than {GOAL_CONNECTIONS / GOAL_P99_MS * 1000:,.0f} "
        f"requests/s; the best run above served {best:,.1f}."
    )
    return lines


def _profile_lines(results: list[BackendResult]) -> list[str]:
    def listed(items: list[tuple[str, float]]) -> str:
        return ", ".join(f"`{name}` {share:.0%}" for name, share in items)

    return [
        f"- {NAMES[p.backend]}, {p.workload} ({p.samples:,} samples; {p.idle:,} of idle pool "
        f"threads left out): {listed(p.marks)}; in our code (inclusive) {listed(p.ours)}; "
        f"hottest leaves {listed(p.leaves)}."
        for result in results
        for p in result.profiles
    ]


def _section(results: list[BackendResult], args: Any, command: str) -> str:
    data = "; ".join(
        f"{NAMES[r.backend]}: replayed in {r.build_seconds:.0f} s, "
        + ", ".join(f"`{e}` {d}" for e, d in r.responses.items())
        for r in results
    )
    rss = ", ".join(f"{NAMES[r.backend]} {r.server_rss_mb:,.0f} MB" for r in results)
    lines = [
        f"## {SECTION}",
        "",
        f"Command: `{command}`",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {os.cpu_count()} cores ({_cpu_model()}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; {_version('wrk')}; PostgreSQL on the same "
        "machine (127.0.0.1).",
        f"- Code: {_code_version()}",
        "- Server as shipped: `outage-radar serve --port P --db URL`: one uvicorn process "
        "(uvloop, httptools, access log on at level info), sync routes in its thread pool; "
        + ", ".join(f"`{k}={v}`" for k, v in SERVER_ENV.items())
        + f". Peak server RSS: {rss}.",
        f"- The load generators share the {os.cpu_count()} cores with the server (and, for "
        "PostgreSQL, with the database): wrk (2 threads; 1 at 1 connection) or the push client "
        "threads. The CPU columns are CPU time over wall time during the measured run (1.00: "
        "one core busy throughout) of the server, of the load generator, and of the rest of "
        "the machine (PostgreSQL, and other processes: the machine is shared; 1-minute load "
        f"average when the bench started: {args.load_average:.2f}).",
        f"- Data: the bundled sample replayed into a new database per backend ({data}). The "
        "timeseries is the default window: the last 24 h of data, 1-minute buckets.",
        f"- Reads: per row, a {args.warmup} s warm-up, then `wrk -c<connections> "
        f"-d{args.duration}s --timeout {args.timeout}s --latency` (a Lua `done` hook prints "
        "wrk's percentiles). Requests still queued when wrk stops are neither counted nor in the "
        "percentiles; the last column is how long the server went on answering them.",
        f"- Push: {args.push_posts:,} posts with fresh ids and authors, in batches of "
        f"{args.batch:,} from {args.clients} client threads (httpx), timed from the first "
        "request to the last answer; the server stores, annotates and counts each batch before "
        'answering. Posts from "sample": the sample\'s distinct posts in time order (an '
        f'outage-heavy window); "{OUTAGE_SHARE:.0%} outage": a seeded draw (seed {SEED}) of its '
        f"labelled posts with {OUTAGE_SHARE:.0%} outage reports, as a live stream would carry "
        "(like `bench/nlp.py`). Cycling through a draw, each pass gets fresh authors.",
        "",
        *_tables(results),
        *_verdicts(results),
    ]
    profiles = _profile_lines(results)
    if profiles:
        lines += [
            "",
            f"Where the server's time goes: {_version('py-spy')} (`record --nonblocking -r "
            f"100`) sampling the server during {args.profile_seconds} s of an extra run of each "
            "workload; shares of its non-idle samples over all its threads (the event loop, "
            "and the thread-pool threads that run sync routes and the push's pipeline).",
            "",
            *profiles,
        ]
    return "\n".join(lines) + "\n"


def _version(tool: str) -> str:
    done = subprocess.run([tool, "--version"], capture_output=True, text=True)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].split(" Copyright")[0] if lines else tool


def _code_version() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True)
        return done.stdout.decode().strip()

    try:
        head, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "api")
        dirty += git("status", "--porcelain", "detector")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (with uncommitted changes in api/ or detector/)" if dirty else head


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _preflight(args: Any) -> str | None:
    if shutil.which("wrk") is None:
        return "wrk is not on PATH (Debian/Ubuntu: apt-get install -y wrk)"
    if not CLI.exists():
        return f"{CLI} not found: run this with the project's virtualenv Python"
    if args.profile and shutil.which("py-spy") is None:
        return "--profile needs py-spy on PATH (pip install py-spy)"
    if "postgres" in args.backends:
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import SQLAlchemyError

        engine = create_engine(PG_URL)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return f"PostgreSQL is not reachable at {PG_URL} (set BENCH_PG_URL): {exc}"
        finally:
            engine.dispose()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backends", default="sqlite,postgres", help="[sqlite,postgres]")
    parser.add_argument("--connections", default=f"1,{GOAL_CONNECTIONS}", help="[1,200]")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run [20]")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per run [5]")
    parser.add_argument("--timeout", type=int, default=60, help="wrk request timeout, s [60]")
    parser.add_argument("--push-posts", type=int, default=40_000, help="posts pushed [40000]")
    parser.add_argument("--batch", type=int, default=1000, help="posts per request [1000]")
    parser.add_argument("--clients", type=int, default=4, help="concurrent push clients [4]")
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy")
    parser.add_argument("--profile-seconds", type=int, default=10, help="[10]")
    parser.add_argument("--write-results", action="store_true", help=f"write ## {SECTION}")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not args.backends or set(args.backends) - set(NAMES):
        parser.error(f"--backends takes some of: {', '.join(NAMES)}")
    try:
        args.connections = [int(c) for c in args.connections.split(",")]
    except ValueError:
        parser.error("--connections takes numbers, e.g. 1,200")
    if min(args.connections) < 1 or min(args.batch, args.clients) < 1:
        parser.error("--connections, --batch and --clients must be positive")
    problem = _preflight(args)
    if problem:
        print(f"bench/api.py: {problem}", file=sys.stderr)
        return 2

    OUT.mkdir(parents=True, exist_ok=True)
    args.load_average = os.getloadavg()[0]
    began = time.perf_counter()
    mixes = sample_mixes()
    results = []
    try:
        for backend in args.backends:
            results.append(run_backend(backend, mixes, args))
    except (RuntimeError, OSError, subprocess.SubprocessError, httpx.HTTPError) as exc:
        print(f"bench/api.py failed: {exc}", file=sys.stderr)
        return 1
    print(f"done in {time.perf_counter() - began:.0f} s\n")
    print("\n".join(_tables(results) + _verdicts(results) + _profile_lines(results)))
    if args.write_results:
        command = "python bench/api.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_section(SECTION, _section(results, args, command.strip()))
        print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
