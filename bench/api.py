"""API under load: reads from ``wrk`` on loopback, and ``POST /v1/posts`` ingestion, on SQLite
and PostgreSQL.

For each backend the bundled sample (``data/samples/posts``) is replayed into a new database
(``outage-radar replay``: a SQLite file under ``bench/out/``, or a PostgreSQL database created
for the run and dropped after it), and for each ``--read-cache`` mode a server is started on it
as shipped (``outage-radar serve``: one uvicorn process) with the scheduled jobs off, the write
rate limit raised and, for "off", ``OUTAGE_RADAR_READ_CACHE_SECONDS=0``. Then:

reads (on each server)
    ``wrk`` against ``GET /v1/incidents`` and ``GET /v1/services/tesla/timeseries`` (the
    default window: the last 24 hours of data), at each ``--connections``: a warm-up run, then a
    measured run; a Lua ``done`` hook prints wrk's percentiles. Between runs the bench waits
    until the server is idle: requests queued when wrk stops are still answered.
push (once, on the last server, after its reads: the read cache takes no part in writes)
    Sample posts with fresh ids, in batches from a few client threads; the server stores,
    annotates and counts each batch before it answers.
profile (``--profile``, needs ``py-spy`` on PATH)
    py-spy samples the last server, without pausing it, during an extra run of each workload.

wrk, the push clients and py-spy share the machine's cores with the server. The parts live
beside this file: ``api_common`` (settings, records), ``api_server`` (database, server, CPU),
``api_load`` (wrk, push), ``api_profile`` (py-spy) and ``api_report`` (tables, section).
Nothing here imports the ``api`` package: run as ``python bench/api.py``, ``bench/`` comes first
on ``sys.path`` and ``api`` would be this file.

Usage::

    python bench/api.py [--backends sqlite,postgres] [--connections 1,200] [--duration 20]
                        [--read-cache on,off] [--access-log on|off] [--push-posts 40000]
                        [--profile] [--write-results]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from typing import Any

import httpx
from api_common import (
    ACCESS_LOG,
    CLI,
    ENDPOINTS,
    GOAL_CONNECTIONS,
    HERE,
    NAMES,
    OUT,
    PG_URL,
    READ_CACHE,
    SAMPLES,
    SECTION,
    BackendResult,
    server_env,
)
from api_load import measure_read, push, push_args, push_bodies, sample_mixes
from api_profile import profile_backend
from api_report import profile_lines, section, tables, verdicts
from api_server import Server, cli, database, serve
from results import write_section


def run_backend(backend: str, mixes: dict[str, list[dict[str, Any]]], args: Any) -> BackendResult:
    """Build the database, then serve it once per read-cache mode and measure reads on each
    server; a push (and profiles) on the last one."""
    with database(backend) as url:
        began = time.perf_counter()
        quarantine = str(OUT / "api-quarantine.jsonl")
        cli("replay", str(SAMPLES), "--db", url, "--quarantine", quarantine, timeout=600)
        result = BackendResult(backend, time.perf_counter() - began, {})
        print(f"{backend}: sample replayed in {result.build_seconds:.1f} s", flush=True)
        token = cli("apikey", "create", "bench", "--db", url, timeout=120).strip().split()[-1]
        for mode in args.read_cache:
            env = server_env(mode, args.access_log)
            with serve(url, f"{backend}-cache-{mode}", env) as server:
                if not result.responses:
                    result.responses = _responses(server)
                for endpoint in ENDPOINTS:
                    for connections in args.connections:
                        run = measure_read(server, backend, endpoint, mode, connections, args)
                        result.reads.append(run)
                        print(run.row(), flush=True)
                if mode == args.read_cache[-1]:
                    result.push_read_cache = mode
                    _push_and_profile(server, result, token, mixes, args)
                result.server_rss_mb[mode] = server.peak_rss_mb()
    return result


def _responses(server: Server) -> dict[str, str]:
    """What each read endpoint answers: its size, in items and bytes."""
    responses = {}
    for endpoint, path in ENDPOINTS.items():
        answer = httpx.get(server.url + path, timeout=60.0)
        if answer.status_code != 200:
            raise RuntimeError(f"{endpoint} answered {answer.status_code}: {answer.text}")
        body, size = answer.json(), len(answer.content)
        noun = "incidents" if "items" in body else "buckets"
        count = len(body["items" if "items" in body else "buckets"])
        responses[endpoint] = f"{count:,} {noun}, {size:,} bytes"
    return responses


def _push_and_profile(
    server: Server,
    result: BackendResult,
    token: str,
    mixes: dict[str, list[dict[str, Any]]],
    args: Any,
) -> None:
    for n, (mix, base) in enumerate(mixes.items() if args.push_posts else ()):
        bodies = push_bodies(base, f"push{n}", 0, args.push_posts, args.batch)
        server.settle()
        pushed = push(server, token, bodies, backend=result.backend, mix=mix, **push_args(args))
        result.pushes.append(pushed)
        print(pushed.row(), *pushed.failures[:1], flush=True)
    if args.profile:
        profile_backend(server, result, token, mixes["sample"], args)


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
    parser.add_argument(
        "--read-cache",
        default="on,off",
        help="read cache of the servers measuring reads, in order: on (as shipped), off "
        "(OUTAGE_RADAR_READ_CACHE_SECONDS=0); the push runs on the last [on,off]",
    )
    parser.add_argument(
        "--access-log",
        choices=list(ACCESS_LOG),
        default="on",
        help="uvicorn's access log (OUTAGE_RADAR_ACCESS_LOG; shipped: on) [on]",
    )
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
    args.read_cache = [m.strip() for m in args.read_cache.split(",") if m.strip()]
    if not args.read_cache or set(args.read_cache) - set(READ_CACHE):
        parser.error(f"--read-cache takes some of: {', '.join(READ_CACHE)}")
    if len(set(args.read_cache)) < len(args.read_cache):
        parser.error("--read-cache names a mode twice")
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
    print("\n".join(tables(results) + verdicts(results) + profile_lines(results)))
    if args.write_results:
        command = "python bench/api.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_section(SECTION, section(results, args, command.strip()))
        print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
