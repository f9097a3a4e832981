"""Offline analysis benchmark: ``outage-radar analyze`` over a generated archive, on one process
and on a 2-worker Dask ``LocalCluster``: posts/s, the speed-up, peak memory, and whether both
engines write the same files.

1. An archive of ``--posts`` Twitter v1.1 posts in ``--files`` gzip JSON-lines files is
   generated (seeded; cached under ``--cache-dir`` and reused; see ``analyze_gen``). Partitions
   are files, so ``--files`` bounds how many partitions run at once and how evenly the work
   splits between workers at the end.
2. ``outage-radar analyze FILES --out DIR`` runs as a subprocess (see ``analyze_run``), into a
   fresh folder each time: ``--engine single``, then ``--engine dask --workers 2``. posts/s is
   posts read per wall-clock second of the whole command (start-up, model load and, for Dask,
   starting the cluster included). Peak memory is sampled over the process tree (psutil).
3. Flat memory: the single engine also runs on the first files of the same archive, as many as
   hold about each of ``--sizes`` posts (same file size, a smaller archive).
4. ``incidents.json``, ``incidents.csv`` and ``counts.parquet`` of the two engines are compared
   byte for byte.

Usage::

    python bench/analyze.py [--posts 10000000] [--files 20] [--days 14] [--sizes 1000000]
                            [--engines single,dask] [--workers 2] [--jobs 2]
                            [--cache-dir bench/out/analyze] [--keep-db] [--quick]
                            [--write-results [--results bench/RESULTS.md]]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from analyze_gen import GZIP_LEVEL, OUTAGE_SHARE, START, Archive, Spec, archive, burst_starts
from analyze_run import CLI, PHASES, Run, run_analyze
from results import RESULTS, code_version, cpu_model, write_section

HERE = Path(__file__).resolve().parent
SECTION = "Offline analysis"
SPEEDUP_GOAL = 1.7
FLAT_TOLERANCE = 0.10  # "flat": the larger archive's peak within 10% of the smaller's
QUICK_POSTS = 200_000
BUSY_CORES = 0.2  # others' CPU above which a run's rates are flagged as disturbed


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not CLI.exists():
        print(f"{CLI} not found: run this with the project's virtualenv Python", file=sys.stderr)
        return 2
    began = time.perf_counter()
    spec = Spec(args.posts, args.files, args.days)
    cached = (spec.folder(args.cache_dir) / "manifest.json").exists()
    built = archive(spec, args.cache_dir, jobs=args.jobs)
    print(
        f"archive: {built.posts:,} posts in {len(built.files)} files, "
        f"{built.gzip_bytes / 1e6:,.0f} MB gzip ({built.raw_bytes / 1e6:,.0f} MB raw), "
        f"generated in {built.seconds:.1f} s" + (" (cached: reused)" if cached else ""),
        flush=True,
    )
    runs: list[Run] = []
    try:
        for engine in args.engines:
            runs.append(_run(f"{engine}-{built.posts}", built, built.paths, engine, args))
        for size in args.sizes:
            paths = _prefix(built, size)
            posts = sum(built.counts[: len(paths)])
            runs.append(_run(f"single-prefix-{posts}", built, paths, "single", args, posts=posts))
    except RuntimeError as exc:  # the CLI failed: say how, and stop
        print(f"bench/analyze.py: {exc}", file=sys.stderr)
        return 1
    lines = _table(runs) + [""] + _verdicts(runs) + _notes(runs)
    print("\n" + "\n".join(lines))
    print(f"\ndone in {time.perf_counter() - began:.0f} s")
    if args.write_results:
        command = "python bench/analyze.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_section(SECTION, _section(built, runs, lines, command.strip(), args), args.results)
        print(f"wrote {args.results}")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=10_000_000, help="archive size [10000000]")
    parser.add_argument("--files", type=int, default=20, help="files = partitions [20]")
    parser.add_argument("--days", type=int, default=14, help="days the archive spans [14]")
    parser.add_argument(
        "--sizes",
        default=None,
        help="comma-separated smaller sizes run with the single engine on the archive's first "
        "files, for memory; '' for none [posts/10]",
    )
    parser.add_argument("--engines", default="single,dask", help="[single,dask]")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers [2]")
    parser.add_argument("--jobs", type=int, default=2, help="processes generating files [2]")
    parser.add_argument("--interval", type=float, default=0.2, help="sampling period, s [0.2]")
    parser.add_argument("--cache-dir", type=Path, default=HERE / "out" / "analyze")
    parser.add_argument(
        "--quick", action="store_true", help=f"a check: --posts {QUICK_POSTS:,} unless given"
    )
    parser.add_argument("--write-results", action="store_true", help=f"write ## {SECTION}")
    parser.add_argument("--results", type=Path, default=RESULTS, help="[bench/RESULTS.md]")
    parser.add_argument(
        "--keep-db", action="store_true", help="keep each run's OUT/analysis.db (GBs at 10M)"
    )
    args = parser.parse_args(argv)
    given = argv if argv is not None else sys.argv[1:]
    if args.quick and not any(a.startswith("--posts") for a in given):
        args.posts = QUICK_POSTS
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not args.engines or set(args.engines) - {"single", "dask"}:
        parser.error("--engines takes single and/or dask")
    if args.sizes is None:
        args.sizes = [args.posts // 10] if args.posts >= 10 * args.files else []
    else:
        try:
            args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        except ValueError:
            parser.error("--sizes takes numbers, e.g. 1000000")
    if any(s >= args.posts or s < 1 for s in args.sizes):
        parser.error("--sizes must be smaller than --posts (and positive)")
    if args.files < 1 or args.posts < args.files or args.workers < 1:
        parser.error("--files and --workers must be positive, with a post per file at least")
    return args


def _run(
    label: str,
    built: Archive,
    paths: list[Path],
    engine: str,
    args: argparse.Namespace,
    *,
    posts: int | None = None,
) -> Run:
    out = args.cache_dir / "runs" / label
    out.parent.mkdir(parents=True, exist_ok=True)
    run = run_analyze(
        label,
        paths,
        out,
        engine=engine,
        workers=args.workers,
        archive_posts=posts or built.posts,
        interval=args.interval,
    )
    if not args.keep_db:
        for path in out.glob("analysis.db*"):
            path.unlink()
    print(f"{_speed_row(run)}\n{_memory_row(run)}", flush=True)
    return run


def _prefix(built: Archive, size: int) -> list[Path]:
    """The archive's first files, as many as hold about ``size`` posts (one at least)."""
    files = max(1, round(size * len(built.files) / built.posts))
    return built.paths[:files]


# --------------------------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------------------------

_SPEED = (
    "| run | engine | files | posts | stored by the reduce | wall (s) | posts/s | start-up / "
    "partitions / reduce / outputs / report (s) | CPU (s) | others' CPU (cores) | incidents |",
    "|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|",
)
_MEMORY = (
    "| run | peak RSS, tree (MB) | start-up / partitions / reduce / outputs / report (MB) "
    "| client (MB) "
    "| workers (MB) | `ru_maxrss` of the command (MB) |",
    "|---|--:|---|--:|---|--:|",
)


def _speed_row(run: Run) -> str:
    phases = " / ".join(f"{run.phases[p]:.1f}" for p in PHASES)
    engine = f"dask ×{run.workers}" if run.engine == "dask" else "single"
    return (
        f"| {run.label} | {engine} | {run.files} | {run.posts:,} | {run.stored:,} "
        f"| {run.seconds:,.1f} | {run.posts_per_s:,.0f} | {phases} | {run.cpu_seconds:,.0f} "
        f"| {run.others_cores:.2f} | {run.incidents} |"
    )


def _memory_row(run: Run) -> str:
    phases = " / ".join(  # "–": the phase was shorter than a sample
        f"{run.phase_peaks_mb[p]:,.0f}" if p in run.phase_peaks_mb else "–" for p in PHASES
    )
    workers = ", ".join(f"{mb:,.0f}" for mb in run.worker_mb) or "–"
    return (
        f"| {run.label} | {run.peak_tree_mb:,.0f} | {phases} | {run.client_mb:,.0f} "
        f"| {workers} | {run.maxrss_mb:,.0f} |"
    )


def _table(runs: list[Run]) -> list[str]:
    return [
        *_SPEED,
        *(_speed_row(r) for r in runs),
        "",
        *_MEMORY,
        *(_memory_row(r) for r in runs),
    ]


def _main_runs(runs: list[Run]) -> tuple[Run | None, Run | None]:
    biggest = max(r.archive_posts for r in runs)
    full = [r for r in runs if r.archive_posts == biggest]
    single = next((r for r in full if r.engine == "single"), None)
    dask = next((r for r in full if r.engine == "dask"), None)
    return single, dask


def _verdicts(runs: list[Run]) -> list[str]:
    lines = []
    single, dask = _main_runs(runs)
    if single and dask:
        speedup = dask.posts_per_s / single.posts_per_s
        verdict = "met" if speedup >= SPEEDUP_GOAL else "NOT met"
        part = dask.partition_posts_per_s / single.partition_posts_per_s
        lines.append(
            f"- Speed-up from {dask.workers} workers: {dask.posts_per_s:,.0f} vs "
            f"{single.posts_per_s:,.0f} posts/s = {speedup:.2f}× (whole command) against a goal "
            f"of {SPEEDUP_GOAL}× — {verdict}. Partitions phase alone: {part:.2f}×."
        )
        names = sorted(set(single.digests) | set(dask.digests))
        differ = [n for n in names if single.digests.get(n) != dask.digests.get(n)]
        shown = ", ".join(n for n in names if not n.startswith("charts/"))
        charts = sum(n.startswith("charts/") for n in names)
        lines.append(
            f"- Same output from both engines: {shown} and {charts} charts/*.png — "
            + ("byte-identical." if not differ else f"DIFFER: {', '.join(differ)}.")
        )
    singles = sorted((r for r in runs if r.engine == "single"), key=lambda r: r.archive_posts)
    if len(singles) >= 2:
        small, big = singles[0], singles[-1]
        growth = big.peak_tree_mb / small.peak_tree_mb - 1
        verdict = "met" if growth <= FLAT_TOLERANCE else "NOT met"
        lines.append(
            f"- Flat memory (single engine): peak RSS {small.peak_tree_mb:,.0f} MB at "
            f"{small.posts:,} posts vs {big.peak_tree_mb:,.0f} MB at {big.posts:,} "
            f"({growth:+.0%} for {big.posts / small.posts:.0f}× the archive; goal: within "
            f"{FLAT_TOLERANCE:.0%}) — {verdict}."
        )
        by_phase = "; ".join(
            f"{p} {small.phase_peaks_mb.get(p, 0):,.0f} → {big.phase_peaks_mb.get(p, 0):,.0f} MB"
            for p in PHASES[1:]
        )
        lines.append(f"- Peak RSS by phase, smaller → larger archive: {by_phase}.")
    return lines


def _notes(runs: list[Run]) -> list[str]:
    lines = []
    for run in runs:
        if run.engine == "dask" and run.parts_done:
            first, last = run.parts_done[0], run.parts_done[-1]
            lines.append(
                f"- {run.label}: first partition checkpointed at {first:.1f} s, last at "
                f"{last:.1f} s; CPU {run.cpu_seconds:,.0f} s over {run.seconds:,.0f} s wall = "
                f"{run.cpu_seconds / run.seconds:.2f} cores busy on average."
            )
        if run.others_cores > BUSY_CORES:
            lines.append(
                f"- {run.label}: other processes used {run.others_cores:.2f} cores on average "
                "meanwhile: the machine was not quiet, so its rates (and any speed-up) are low."
            )
        if any(v != v for v in run.phases.values()):
            lines.append(f"- {run.label}: a phase marker was missed (run shorter than a sample).")
    return lines


def _section(
    built: Archive, runs: list[Run], lines: list[str], command: str, args: argparse.Namespace
) -> str:
    per_file = built.posts / len(built.files)
    bursts = ", ".join(f"{s} {t:%m-%d %H:%M} ({m} min)" for s, t, m in burst_starts(built.days))
    loads = ", ".join(f"{r.load_before:.1f}" for r in runs)
    return "\n".join(
        [
            f"## {SECTION}",
            "",
            f"Command: `{command}`",
            "",
            f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- Machine: {os.cpu_count()} cores ({cpu_model()}), Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}; 1-minute "
            f"load average before each run: {loads} (the machine is shared)",
            f"- Code: {code_version()}",
            f"- Input: generated archive (seed {built.seed}, `bench/analyze_gen.py`): "
            f"{built.posts:,} Twitter v1.1 posts (originals and replies) copied from the bundled "
            f"sample with fresh ids, {built.authors:,} authors and times over "
            f"{built.days} days from {START:%Y-%m-%d} (daily cycle), {OUTAGE_SHARE:.0%} outage "
            f"complaints by the sample's labels plus {built.burst_posts:,} in injected bursts "
            f"({bursts}); {len(built.files)} gzip files (level {GZIP_LEVEL}) of ~{per_file:,.0f} "
            f"posts, one time slice each: {built.gzip_bytes / 1e6:,.0f} MB gzip, "
            f"{built.raw_bytes / 1e6:,.0f} MB raw, generated in {built.seconds:,.0f} s with "
            f"{args.jobs} processes.",
            f"- Each run: `outage-radar analyze FILES --out DIR --engine single` or `--engine dask "
            f"--workers {args.workers}` (a `LocalCluster`, one thread per worker process) as a "
            "subprocess, into a fresh folder. Partitions are files: with "
            f"{len(built.files)} files, {args.workers} workers get "
            f"{len(built.files) / args.workers:.0f} each. The smaller runs read the first files "
            "of the same archive (same file size, a shorter span).",
            "- posts/s = posts read / wall-clock seconds of the whole command (start-up, model "
            "load and the Dask cluster's start and stop included). Phases are timed from outside "
            "by the files the CLI writes: start-up until OUT exists (imports, model load); "
            "partitions until OUT/analysis.db exists (read, annotate, checkpoint); reduce until "
            "incidents.json exists (store the candidates, count, detect: serial); outputs until "
            'counts.parquet exists; report until exit (charts, report.html). "stored by the '
            "reduce\" = the partitions' candidate complaints that reach the work store. "
            "CPU = user + system seconds of the command and its waited-for children "
            "(`wait4`); others' CPU = what the rest of the machine used meanwhile, in cores on "
            f"average. Peak RSS is sampled every {args.interval} s with psutil: the tree's is "
            "the peak of the sum over the command and its descendants (Dask: the client, which "
            "also holds the scheduler and the nannies, plus each worker process), also per "
            "phase; client and workers are each process's own peak.",
            "",
            *lines,
            "",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
