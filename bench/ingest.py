"""Ingest benchmark: posts/s and peak RSS for Twitter API v1.1 statuses (gzip JSON lines).

Phases, each measured in a fresh subprocess so ``ru_maxrss`` is that phase's own peak:

``parse``
    Iterate ``read_file`` over the file (decompress, decode, parse, normalise) and count.
``sqlite``
    ``ingest_paths`` into a new SQLite file under ``bench/out/``.
``postgres``
    ``ingest_paths`` into PostgreSQL, in a schema created fresh and dropped afterwards.

``parse`` and ``sqlite`` also run on a file a fifth of the size, to show memory does not grow
with the file. The input is generated (seeded) and cached under ``bench/out/``.

Usage::

    python bench/ingest.py [--posts 1000000] [--phases parse,sqlite,postgres] [--write-results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from results import code_version, cpu_model, write_section
from tweetgen import SEED, input_file

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RESULTS = HERE / "RESULTS.md"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "bench_ingest"
PHASES = ("parse", "sqlite", "postgres")
SCALED_PHASES = ("parse", "sqlite")  # also run at a fifth of the size: RSS must not grow
GOALS = {"parse": 50_000.0, "sqlite": 20_000.0}
RSS_GOAL_MB = 300.0

# --------------------------------------------------------------------------------------------
# Measurement: one phase per subprocess.
# --------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    """The result of one phase on one file."""

    phase: str
    lines: int
    posts: int
    records: int
    stored: int
    duplicates: int
    collapsed: int
    quarantined: int
    seconds: float
    peak_rss_mb: float
    baseline_rss_mb: float

    @property
    def posts_per_s(self) -> float:
        return self.posts / self.seconds

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds


def _rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _worker(phase: str, path: Path, profile: Path | None) -> Measurement:
    from detector.config import get_settings
    from detector.ingest.base import Quarantined, Skipped
    from detector.ingest.files import ReadOptions, read_file
    from detector.ingest.quarantine import QuarantineWriter
    from detector.ingest.service import ingest_paths
    from detector.models import Post

    if phase != "parse":
        from detector.store.sql import SqlStore

    settings = get_settings()
    # As the CLI does: posts dated more than a day ahead of now are refused.
    options = ReadOptions(not_after=datetime.now(UTC) + settings.future_tolerance)
    store: SqlStore | None = None
    if phase == "sqlite":
        db = OUT / f"bench-{path.name.split('.')[0]}.db"
        for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            stale.unlink(missing_ok=True)
        store = SqlStore(f"sqlite:///{db}")
    elif phase == "postgres":
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        admin.dispose()
        store = SqlStore(PG_URL, connect_args={"options": f"-csearch_path={PG_SCHEMA}"})
    baseline = _rss_mb()

    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    if store is None:
        posts = records = quarantined = 0
        for item in read_file(path, options):
            records += 1
            if isinstance(item, Post):
                posts += 1
            elif isinstance(item, Quarantined):
                quarantined += 1
            else:
                assert isinstance(item, Skipped)
        stored = duplicates = collapsed = 0
    else:
        quarantine_path = OUT / f"quarantine-{phase}.jsonl"
        quarantine_path.unlink(missing_ok=True)
        with QuarantineWriter(quarantine_path) as writer:
            summary = ingest_paths(
                paths=[path],
                store=store,
                options=options,
                quarantine=writer,
                batch_size=settings.batch_size,
                collapse_window=settings.collapse_window,
            )
        if not summary.ok:
            raise SystemExit(f"ingest failed: {summary.failures}")
        posts, records = summary.posts, summary.read
        quarantined = summary.quarantined.total()
        stored, duplicates, collapsed = summary.stored, summary.duplicates, summary.collapsed
        if store.count_posts() != stored:
            raise SystemExit(f"store holds {store.count_posts()} posts, summary says {stored}")
    seconds = time.perf_counter() - started
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    peak = _rss_mb()

    if store is not None:
        store.close()
        if phase == "postgres":
            from sqlalchemy import create_engine, text

            admin = create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            admin.dispose()
    return Measurement(
        phase=phase,
        lines=0,
        posts=posts,
        records=records,
        stored=stored,
        duplicates=duplicates,
        collapsed=collapsed,
        quarantined=quarantined,
        seconds=seconds,
        peak_rss_mb=peak,
        baseline_rss_mb=baseline,
    )


def run_phase(phase: str, path: Path, profile: Path | None = None) -> Measurement:
    """Run ``phase`` on ``path`` in a fresh interpreter and return its measurement."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", phase, str(path)]
    if profile is not None:
        command += ["--profile", str(profile)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    measured["lines"] = int(path.name.split("-")[2])
    return Measurement(**measured)


# --------------------------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------------------------


def _settings_note() -> str:
    from detector.config import get_settings

    settings = get_settings()
    return f"{settings.batch_size}, {settings.collapse_window_seconds // 3600} h"


def _table(results: list[tuple[int, Measurement]]) -> str:
    head = (
        "| phase | input lines | posts | records | stored | dup / collapsed | seconds "
        "| posts/s | records/s | peak RSS (MB) | RSS after setup (MB) |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    )
    rows = [head]
    for _, m in results:
        store_cols = (
            f"{m.stored:,} | {m.duplicates:,} / {m.collapsed:,}" if m.phase != "parse" else "– | –"
        )
        rows.append(
            f"| {m.phase} | {m.lines:,} | {m.posts:,} | {m.records:,} | {store_cols} "
            f"| {m.seconds:,.1f} | {m.posts_per_s:,.0f} | {m.records_per_s:,.0f} "
            f"| {m.peak_rss_mb:,.0f} | {m.baseline_rss_mb:,.0f} |"
        )
    return "\n".join(rows)


def _verdicts(results: list[tuple[int, Measurement]]) -> list[str]:
    lines = []
    biggest = max(size for size, _ in results)
    for phase, goal in GOALS.items():
        at_full = [m for size, m in results if m.phase == phase and size == biggest]
        if at_full:
            m = at_full[0]
            verdict = "met" if m.posts_per_s >= goal else "NOT met"
            lines.append(
                f"- {phase}: {m.posts_per_s:,.0f} posts/s against a goal of "
                f"{goal:,.0f} — {verdict}."
            )
    peak = max(m.peak_rss_mb for _, m in results)
    verdict = "met" if peak < RSS_GOAL_MB else "NOT met"
    lines.append(
        f"- Peak RSS: at most {peak:,.0f} MB against a goal of {RSS_GOAL_MB:,.0f} MB — {verdict}."
    )
    for phase in SCALED_PHASES:
        sizes = sorted((size, m.peak_rss_mb) for size, m in results if m.phase == phase)
        if len(sizes) == 2:
            (small, low), (big, high) = sizes
            lines.append(
                f"- {phase} RSS at {small:,} vs {big:,} lines: {low:,.0f} MB vs "
                f"{high:,.0f} MB ({high - low:+,.0f} MB for {big / small:.0f}× the "
                "input)."
            )
    return lines


def _section(results: list[tuple[int, Measurement]], command: str) -> str:
    cpu = cpu_model()
    inputs = sorted({size for size, _ in results})
    sizes = ", ".join(
        f"{n:,} lines = {input_file(n, OUT).stat().st_size / 1e6:,.0f} MB gzip" for n in inputs
    )
    return "\n".join(
        [
            "## Ingest",
            "",
            f"Command: `{command}`",
            "",
            f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
            f"- Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}",
            f"- Code: {code_version()}",
            f"- Input: generated Twitter v1.1 stream lines (seed {SEED}): ~3% delete notices, "
            "~10% retweets, ~4% quotes, ~15% extended tweets, ~3% with place; "
            f"{sizes}.",
            "- Each phase runs in a fresh subprocess; peak RSS is that process's `ru_maxrss` "
            '(imports, SQLAlchemy and Alembic included); "RSS after setup" is the peak before '
            "reading starts.",
            "- posts = parsed posts (a retweet or quote line gives two); records = posts + skipped "
            "notices + quarantined; rates are per wall-clock second of reading/ingesting "
            "(store creation and migrations excluded). Batch size and collapse window are the "
            f"defaults ({_settings_note()}).",
            "",
            _table(results),
            "",
            *_verdicts(results),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--posts",
        type=int,
        default=1_000_000,
        help="input lines (statuses and stream notices) [1000000]",
    )
    parser.add_argument(
        "--phases", default=",".join(PHASES), help="comma-separated: parse,sqlite,postgres"
    )
    parser.add_argument(
        "--no-scaling", action="store_true", help="skip the runs at a fifth of the size"
    )
    parser.add_argument(
        "--profile-dir", type=Path, help="write a cProfile file per phase into this folder"
    )
    parser.add_argument(
        "--write-results", action="store_true", help="write the Ingest section of bench/RESULTS.md"
    )
    parser.add_argument("--worker", nargs=2, metavar=("PHASE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        phase, path = args.worker
        print(json.dumps(asdict(_worker(phase, Path(path), args.profile))))
        return 0

    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    plan: list[tuple[int, str]] = []
    small = max(1, args.posts // 5)
    for phase in phases:
        if phase in SCALED_PHASES and not args.no_scaling and small < args.posts:
            plan.append((small, phase))
        plan.append((args.posts, phase))
    results: list[tuple[int, Measurement]] = []
    for size, phase in plan:
        path = input_file(size, OUT)
        profile = args.profile_dir / f"{phase}-{size}.prof" if args.profile_dir else None
        if profile is not None:
            profile.parent.mkdir(parents=True, exist_ok=True)
        m = run_phase(phase, path, profile)
        results.append((size, m))
        print(
            f"{phase:>8} {size:>9,} lines: {m.posts:,} posts in {m.seconds:,.1f} s = "
            f"{m.posts_per_s:,.0f} posts/s, {m.records_per_s:,.0f} records/s, "
            f"peak RSS {m.peak_rss_mb:,.0f} MB",
            flush=True,
        )
    print()
    print(_table(results))
    print("\n".join(_verdicts(results)))
    if args.write_results:
        command = "python bench/ingest.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_section("Ingest", _section(results, command.strip()))
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
