"""Uncached reads in process: milliseconds per request of ``GET /v1/incidents`` and
``GET /v1/services/tesla/timeseries`` on the bundled sample, with no server and no network.

Each request goes through the whole app (``create_app``: middleware, routing, validation of the
parameters, the query, the mapping onto the schemas, serialization) by Starlette's
``TestClient``, one at a time, so the numbers are the CPU cost of one request, free of the
queueing and the load generator that ``bench/api.py`` measures. ``--save-bodies`` writes the
body of every request of a fixed list (both endpoints with their filters, pages followed by
cursor, bucket sizes, the detail, the 404s) and ``--check-bodies`` compares a later run with
them byte for byte: a change meant to make reads cheaper must not change what they answer.

The databases must hold the replayed sample (``--replay`` runs ``outage-radar replay`` into
them first: a SQLite file is created, a PostgreSQL database must exist and be empty).

Usage (from the repository root; as a module, because ``bench/api.py`` would shadow the
``api`` package if this folder were first on ``sys.path``)::

    taskset -c 1 python -m bench.reads_micro --db sqlite:///bench/out/reads.db \\
        --db postgresql://postgres@127.0.0.1/reads [--replay] [--requests 300] \\
        [--save-bodies DIR | --check-bodies DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from detector.config import Settings
from detector.nlp.analyzer import Analyzer
from detector.store.sql import SqlStore, database_url

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples" / "posts"
CLI = Path(sys.executable).with_name("outage-radar")
TIMED = {
    "GET /v1/incidents": "/v1/incidents",
    "GET /v1/services/tesla/timeseries": "/v1/services/tesla/timeseries",
}
WINDOW = "since=2021-11-19T18:00:00Z&until=2021-11-20T06:00:00Z"
#: Requests whose bodies are compared; ``{next}`` follows the previous body's ``next_cursor``.
CHECKED = [
    "/v1/incidents",
    "/v1/incidents?limit=2",
    "{next}",
    "{next}",
    "/v1/incidents?service=tesla",
    "/v1/incidents?status=resolved&country=kr",
    "/v1/incidents?since=2021-11-20T01:00:00Z&until=2021-11-21T00:00:00Z",
    "/v1/incidents?status=open",
    "/v1/incidents/tesla:20211119T2100Z",
    "/v1/incidents/nothing:1",
    "/v1/services",
    "/v1/services/tesla/timeseries",
    *(
        f"/v1/services/{s}/timeseries?{WINDOW}&bucket={b}"
        for s in ("tesla", "psn")
        for b in (1, 5, 15, 60)
    ),
    "/v1/services/discord/timeseries?bucket=15&since=2021-11-18T00:00:00Z"
    "&until=2021-11-21T00:00:00Z",
    "/v1/services/nosuchthing/timeseries",
    "/v1/posts?service=tesla&limit=20",
]


def main(argv: list[str] | None = None) -> None:
    """Run the bench; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True, help="database URL or file")
    parser.add_argument("--replay", action="store_true", help="replay the sample into each first")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=30)
    bodies = parser.add_mutually_exclusive_group()
    bodies.add_argument("--save-bodies", type=Path, metavar="DIR")
    bodies.add_argument("--check-bodies", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    failed = False
    analyzer = Analyzer.load()  # ``/v1/services`` names each service from the catalog
    for value in args.db:
        url = database_url(value)
        if args.replay:
            replay = [str(CLI), "replay", str(SAMPLES), "--db", url, "--quarantine", "/dev/null"]
            subprocess.run(replay, check=True, capture_output=True)
        store = SqlStore(url)
        try:
            # Uncached: the read cache would answer all but the first of the repeated requests.
            settings = Settings(database_url=url, jobs_enabled=False, read_cache_seconds=0)
            app = create_app(settings, store=store, analyzer=analyzer)
            client = TestClient(app)
            print(f"{store.dialect}:")
            if args.save_bodies or args.check_bodies:
                folder = (args.save_bodies or args.check_bodies) / store.dialect
                failed |= not _bodies(client, folder, save=args.save_bodies is not None)
            for name, path in TIMED.items():
                took, cpu = _timed(client, path, args.warmup, args.requests)
                print(
                    f"  {name}: wall median {statistics.median(took):.2f} ms, "
                    f"min {min(took):.2f} ms; CPU {cpu:.2f} ms per request ({len(took)} requests)"
                )
        finally:
            store.close()
    if failed:
        raise SystemExit("some bodies differ from the saved ones")


def _timed(client: TestClient, path: str, warmup: int, requests: int) -> tuple[list[float], float]:
    """Wall milliseconds of each request, and CPU milliseconds per request (every thread of
    this process: less disturbed than wall time by other work on a shared machine)."""
    for _ in range(warmup):
        client.get(path).raise_for_status()
    took = []
    cpu = time.process_time()
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        took.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return took, (time.process_time() - cpu) * 1000 / requests


def _bodies(client: TestClient, folder: Path, *, save: bool) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    same, cursor = True, None
    for number, path in enumerate(CHECKED):
        if path == "{next}":
            path = f"/v1/incidents?limit=2&cursor={cursor}"
        response = client.get(path)
        body = response.status_code.to_bytes(2, "big") + response.content
        if response.headers["content-type"] == "application/json":
            cursor = response.json().get("next_cursor")
        file = folder / f"{number:02d}.body"
        if save:
            file.write_bytes(body)
        elif file.read_bytes() != body:
            print(f"  DIFFERENT: {path}")
            same = False
    if not save:
        print(f"  bodies: {'all' if same else 'NOT all'} {len(CHECKED)} the same as saved")
    return same


if __name__ == "__main__":
    main()
