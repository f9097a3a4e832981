"""NLP cascade benchmark: posts/s of ``Analyzer.annotate``, model load time and peak memory.

Input: 100,000 posts drawn (seeded) from the bundled sample archive, about 1% of them outage
complaints (by the sample's labels), as a live stream would carry.

Usage::

    python bench/nlp.py [--posts 100000] [--write-results]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
from results import write_section

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
SEED = 20211119


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _posts(count: int, outage_share: float) -> list[object]:
    from detector.ingest.files import ReadOptions, read_file
    from detector.models import Post

    labels = {}
    with gzip.open(SAMPLES / "labels.jsonl.gz") as fh:
        for line in fh:
            row = orjson.loads(line)
            labels[row["id"]] = bool(row["is_outage"])
    outages, others = [], []
    for path in sorted((SAMPLES / "posts").glob("*.gz")):
        for item in read_file(path, ReadOptions()):
            if isinstance(item, Post) and item.id in labels:
                (outages if labels[item.id] else others).append(item)
    rng = random.Random(SEED)
    wanted = round(count * outage_share)
    return rng.choices(outages, k=wanted) + rng.choices(others, k=count - wanted)


def measure(count: int) -> dict[str, float]:
    """Load the analyzer and annotate ``count`` posts in batches of 2,000."""
    posts = _posts(count, 0.01)
    random.Random(SEED).shuffle(posts)
    before = _rss_mb()
    started = time.perf_counter()
    from detector.nlp.analyzer import Analyzer

    analyzer = Analyzer.load()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    flagged = 0
    for i in range(0, len(posts), 2000):
        flagged += sum(a.is_outage for a in analyzer.annotate(posts[i : i + 2000]))  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    return {
        "posts": float(len(posts)),
        "flagged": float(flagged),
        "load_s": load_s,
        "seconds": elapsed,
        "posts_per_s": len(posts) / elapsed,
        "rss_before_mb": before,
        "peak_rss_mb": _rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(orjson.dumps(measure(args.posts)).decode())
        return 0
    # A fresh process, so peak RSS is the benchmark's own.
    run = subprocess.run(
        [sys.executable, __file__, "--worker", "--posts", str(args.posts)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = orjson.loads(run.stdout.strip().splitlines()[-1])
    command = f"python bench/nlp.py --posts {args.posts}" + " --write-results" * args.write_results
    section = "\n".join(
        [
            "## NLP cascade",
            "",
            f"Command: `{command}`",
            "",
            f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            f"- Input: {result['posts']:,.0f} posts drawn (seed {SEED}) from data/samples, "
            "1% outage complaints by the sample's labels; batches of 2,000, one process.",
            "",
            "| posts | flagged as outage | load (s) | annotate (s) | posts/s | peak RSS (MB) |",
            "|--:|--:|--:|--:|--:|--:|",
            f"| {result['posts']:,.0f} | {result['flagged']:,.0f} | {result['load_s']:.2f} | "
            f"{result['seconds']:.1f} | {result['posts_per_s']:,.0f} | "
            f"{result['peak_rss_mb']:,.0f} |",
            "",
            "Goals (NLP issue): >= 20,000 posts/s, model load < 2 s, memory < 1 GB. Peak RSS "
            f"includes the {result['rss_before_mb']:,.0f} MB of the input posts held in memory.",
            "",
        ]
    )
    print(section)
    if args.write_results:
        write_section("NLP cascade", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
