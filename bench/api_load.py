"""The load of ``bench/api.py``: reads from ``wrk`` on loopback, and pushes of sample posts to
``POST /v1/posts`` from a few client threads."""

from __future__ import annotations

import argparse
import gzip
import json
import queue
import random
import subprocess
import threading
import time
from collections import Counter
from typing import Any

import httpx
import orjson
from api_common import ENDPOINTS, OUT, OUTAGE_SHARE, SAMPLES, SEED, PushRun, ReadRun
from api_server import CpuMeter, Server

_WRK_REPORT = """\
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format("BENCH-JSON [%d, %d, %d, %d, %d, %.0f, %.0f, %.0f, %.0f]\\n",
    s.requests, s.duration, e.connect + e.read + e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


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
    server: Server,
    backend: str,
    endpoint: str,
    read_cache: str,
    connections: int,
    args: argparse.Namespace,
) -> ReadRun:
    """A warm-up run, then a measured run, of wrk against ``endpoint`` (of a server with the
    read cache ``read_cache``)."""
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
        *(backend, endpoint, read_cache, connections, us / 1e6, int(requests)),
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


def push_args(args: Any) -> dict[str, int]:
    """The ``push`` options given on the command line."""
    return {"batch": args.batch, "clients": args.clients}
