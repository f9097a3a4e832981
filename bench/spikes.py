"""Spike detection speed: every service's state, every minute, over weeks of 1-minute buckets.

The goal (spike detection issue): 10,000 services x 4 weeks of 1-minute buckets in under 10 s
on one core. The input is a seeded synthetic stream (``detector.spikes.synthetic``) with a zipf
spread of rates, so most services are quiet, as in a real catalogue; it is generated once and
cached under ``bench/out/``. Then, each in a fresh process so peak RSS is its own:

``array``
    :class:`~detector.spikes.arrayengine.ArrayEngine` steps every minute over all services
    (``step_arrays``).
``spike``
    The production path, :class:`~detector.spikes.engine.SpikeEngine` ``step`` with a dict of
    counts per minute, over the first ``--reference-minutes`` only (it is much slower).

Both engines know the whole catalogue from the start (every service added before the first
minute, in the same order), as a deployment watching a list of services would.

Only detection is timed (not generation, not loading). Both phases record the non-ok states of
the reference slice, so the run also shows whether the two engines agree at this scale.

Usage::

    taskset -c 0 python bench/spikes.py [--services 10000] [--weeks 4] [--write-results]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from results import code_version, cpu_model, write_section

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SEED = 20211119
GOAL_SECONDS = 10.0
SECTION = "Spike detection speed"


@dataclass(frozen=True)
class Stream:
    """The cached input: sparse (minute, service, count) cells, sorted by minute."""

    start: datetime
    minutes: int
    keys: list[str]
    groups: list[str]
    minute: NDArray[np.int32]
    service: NDArray[np.int32]
    count: NDArray[np.int32]
    outages: int

    @property
    def bounds(self) -> NDArray[np.int64]:
        """Where each minute's cells start (and, at ``minutes``, where the last ends)."""
        # minutes of the cells' own type: mixing types would copy all the cells to search them
        minutes = np.arange(self.minutes + 1, dtype=self.minute.dtype)
        return np.searchsorted(self.minute, minutes).astype(np.int64)


@dataclass
class Measurement:
    """One phase's timings (wall and CPU seconds of detection only) and memory."""

    phase: str
    minutes: int
    services: int
    seconds: float
    cpu_seconds: float
    non_ok: int
    reference_minutes: int
    reference_seconds: float
    reference_non_ok: int
    reference_digest: str
    rss_before_mb: float
    peak_rss_mb: float

    @property
    def minutes_per_s(self) -> float:
        return self.minutes / self.seconds

    @property
    def service_minutes_per_s(self) -> float:
        return self.minutes * self.services / self.seconds


# --------------------------------------------------------------------------------------------
# Input.
# --------------------------------------------------------------------------------------------


def input_path(services: int, weeks: int, seed: int) -> Path:
    """The cache file of a stream."""
    return OUT / f"spikes-{services}x{weeks}w-zipf-{seed}.npz"


def generate_input(services: int, weeks: int, seed: int) -> Path:
    """Generate the stream (zipf rate spread) and cache it; return the cache file."""
    path = input_path(services, weeks, seed)
    from detector.spikes.synthetic import SyntheticConfig, generate

    streams = generate(
        SyntheticConfig(services=services, weeks=weeks, rate_spread="zipf"), seed=seed
    )
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    # int32 halves the cached cells (and the detection process's input) against int64
    np.savez(
        partial,
        start=np.array(streams.start.isoformat()),
        minutes=np.array(streams.minutes),
        keys=np.array(streams.keys),
        groups=np.array(streams.groups),
        minute=streams.minute.astype(np.int32),
        service=streams.service.astype(np.int32),
        count=streams.count.astype(np.int32),
        outages=np.array(len(streams.truth)),
        complaints=np.array(int(streams.count.sum())),
        cells=np.array(len(streams.count)),
    )
    partial.replace(path)
    return path


def load_input(path: Path) -> Stream:
    """Read a cached stream."""
    with np.load(path) as data:
        return Stream(
            start=datetime.fromisoformat(str(data["start"])),
            minutes=int(data["minutes"]),
            keys=[str(k) for k in data["keys"]],
            groups=[str(g) for g in data["groups"]],
            minute=data["minute"],
            service=data["service"],
            count=data["count"],
            outages=int(data["outages"]),
        )


# --------------------------------------------------------------------------------------------
# Measurement: one phase per subprocess.
# --------------------------------------------------------------------------------------------


def _rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _digest(rows: list[tuple[int, int, int]]) -> str:
    """A fingerprint of (minute, series, state) rows, to compare two runs' states."""
    return hashlib.sha256(np.array(sorted(rows), dtype=np.int64).tobytes()).hexdigest()[:16]


def _run_array(stream: Stream, limit: int, reference: int) -> Measurement:
    from detector.spikes.arrayengine import ArrayEngine

    engine = ArrayEngine()
    for key, group in zip(stream.keys, stream.groups, strict=True):
        engine.series(key, group)
    bounds = stream.bounds
    non_ok, reference_seconds = 0, 0.0
    reference_rows: list[tuple[int, int, int]] = []
    rss_before = _rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    for m in range(limit):
        if m == reference:
            reference_seconds = time.perf_counter() - started
        lo, hi = bounds[m], bounds[m + 1]
        out = engine.step_arrays(
            stream.start + timedelta(minutes=m),
            stream.service[lo:hi].astype(np.int64),
            stream.count[lo:hi].astype(np.float64),
        )
        alerting = np.flatnonzero(out.state)
        non_ok += len(alerting)
        if m < reference:
            reference_rows.extend(
                (m, s, st)
                for s, st in zip(
                    out.hot[alerting].tolist(), out.state[alerting].tolist(), strict=True
                )
            )
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    reference = min(reference, limit)
    return Measurement(
        phase="array",
        minutes=limit,
        services=len(stream.keys),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        non_ok=non_ok,
        reference_minutes=reference,
        reference_seconds=reference_seconds if reference < limit else seconds,
        reference_non_ok=len(reference_rows),
        reference_digest=_digest(reference_rows),
        rss_before_mb=rss_before,
        peak_rss_mb=_rss_mb(),
    )


def _run_spike(stream: Stream, limit: int) -> Measurement:
    from detector.spikes.engine import SpikeEngine, State

    engine = SpikeEngine()
    for key, group in zip(stream.keys, stream.groups, strict=True):
        engine.series(key, group)
    bounds = stream.bounds
    rows: list[tuple[int, int, int]] = []
    rss_before = _rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    for m in range(limit):
        lo, hi = bounds[m], bounds[m + 1]
        counts = {
            stream.keys[s]: float(c)
            for s, c in zip(
                stream.service[lo:hi].tolist(), stream.count[lo:hi].tolist(), strict=True
            )
        }
        for score in engine.step(stream.start + timedelta(minutes=m), counts):
            if score.state != State.OK:
                rows.append((m, engine.keys[score.key], int(score.state)))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    return Measurement(
        phase="spike",
        minutes=limit,
        services=len(stream.keys),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        non_ok=len(rows),
        reference_minutes=limit,
        reference_seconds=seconds,
        reference_non_ok=len(rows),
        reference_digest=_digest(rows),
        rss_before_mb=rss_before,
        peak_rss_mb=_rss_mb(),
    )


def _worker(phase: str, path: Path, reference: int, profile: Path | None) -> Measurement:
    stream = load_input(path)
    limit = stream.minutes if phase == "array" else min(reference, stream.minutes)
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    if phase == "array":
        measured = _run_array(stream, limit, reference)
    else:
        measured = _run_spike(stream, limit)
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    return measured


def run_phase(phase: str, path: Path, reference: int, profile: Path | None) -> Measurement:
    """Run ``phase`` on the cached stream ``path`` in a fresh interpreter."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", phase, str(path)]
    command += ["--reference-minutes", str(reference)]
    if profile is not None:
        command += ["--profile", str(profile)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return Measurement(**json.loads(done.stdout.strip().splitlines()[-1]))


# --------------------------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------------------------


def _summary(path: Path) -> dict[str, float]:
    # only the small arrays (an npz loads what is asked for): this process starts the workers,
    # and a worker's peak RSS starts from this process's
    with np.load(path) as data:
        services, minutes, cells = len(data["keys"]), int(data["minutes"]), int(data["cells"])
        return {
            "services": services,
            "minutes": minutes,
            "complaints": int(data["complaints"]),
            "cells": cells,
            "share": cells / (services * minutes),
            "outages": int(data["outages"]),
            "mb": path.stat().st_size / 1e6,
        }


def _table(results: list[Measurement]) -> str:
    rows = [
        "| engine | minutes | services | detection (s) | CPU (s) | minutes/s | "
        "service-minutes/s | non-ok states | peak RSS (MB) | RSS before (MB) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    names = {"array": "ArrayEngine.step_arrays", "spike": "SpikeEngine.step"}
    for m in results:
        rows.append(
            f"| {names[m.phase]} | {m.minutes:,} | {m.services:,} | {m.seconds:,.1f} | "
            f"{m.cpu_seconds:,.1f} | {m.minutes_per_s:,.0f} | {m.service_minutes_per_s:,.0f} | "
            f"{m.non_ok:,} | {m.peak_rss_mb:,.0f} | {m.rss_before_mb:,.0f} |"
        )
    return "\n".join(rows)


def _verdicts(results: list[Measurement]) -> list[str]:
    lines = []
    array = next((m for m in results if m.phase == "array"), None)
    spike = next((m for m in results if m.phase == "spike"), None)
    if array is not None:
        verdict = "met" if array.seconds < GOAL_SECONDS else "NOT met"
        lines.append(
            f"- ArrayEngine: {array.services:,} services x {array.minutes:,} minutes in "
            f"{array.seconds:,.1f} s against a goal of {GOAL_SECONDS:.0f} s — {verdict}."
        )
    if array is not None and spike is not None:
        from detector.spikes.engine import DetectorConfig

        grace = DetectorConfig().grace_minutes
        same = (
            array.reference_minutes == spike.reference_minutes
            and array.reference_digest == spike.reference_digest
        )
        lines.append(
            f"- Over the first {spike.minutes:,} minutes (the first {grace:,} of them the "
            "engines' warm-up, states held at ok): SpikeEngine "
            f"{spike.seconds:,.1f} s, "
            f"ArrayEngine {array.reference_seconds:,.1f} s "
            f"({spike.seconds / array.reference_seconds:,.0f}x); non-ok states "
            f"{spike.reference_non_ok:,} vs {array.reference_non_ok:,}, "
            + ("identical (series, minute, state)." if same else "NOT identical.")
        )
    return lines


def _section(path: Path, results: list[Measurement], command: str) -> str:
    info = _summary(path)
    load = os.getloadavg()[0]
    return "\n".join(
        [
            f"## {SECTION}",
            "",
            f"Command: `{command}`",
            "",
            f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- Machine: {os.cpu_count()} cores ({cpu_model()}), Python "
            f"{platform.python_version()}, numpy {np.__version__}, {platform.system()} "
            f"{platform.release()}; pinned to one core (`taskset -c 0`); load average "
            f"{load:.1f} when the report was written",
            f"- Code: {code_version()}",
            f"- Input: `detector.spikes.synthetic`, seed {SEED}, zipf rate spread: "
            f"{info['services']:,.0f} services x {info['minutes']:,.0f} one-minute buckets, "
            f"{info['complaints']:,.0f} complaints in {info['cells']:,.0f} non-zero "
            f"(service, minute) cells ({info['share']:.1%} of all), {info['outages']:,.0f} "
            f"injected outages; cached as {info['mb']:,.0f} MB.",
            "- Each engine runs in a fresh subprocess with default settings and every service "
            "added before the first minute; only detection is timed (generation and loading "
            "are not). Peak RSS is the process's `ru_maxrss`; RSS before is its peak once the "
            "input (int32 cells) is loaded. non-ok states = (service, minute) pairs in "
            "possible problems or problems.",
            "",
            _table(results),
            "",
            *_verdicts(results),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--services", type=int, default=10_000, help="services [10000]")
    parser.add_argument("--weeks", type=int, default=4, help="weeks of 1-minute buckets [4]")
    parser.add_argument(
        "--reference-minutes",
        type=int,
        default=1440,
        help="minutes SpikeEngine.step runs over, for comparison; 0 to skip [1440]",
    )
    parser.add_argument(
        "--profile-dir", type=Path, help="write a cProfile file per phase into this folder"
    )
    parser.add_argument(
        "--write-results", action="store_true", help=f"write the {SECTION} section of RESULTS.md"
    )
    parser.add_argument("--worker", nargs=2, metavar=("PHASE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.generate:
        generate_input(args.services, args.weeks, SEED)
        return 0

    if args.worker:
        phase, path = args.worker
        measured = _worker(phase, Path(path), args.reference_minutes, args.profile)
        print(json.dumps(asdict(measured)))
        return 0

    started = time.perf_counter()
    path = input_path(args.services, args.weeks, SEED)
    if not path.exists():
        # in a subprocess: generating peaks at gigabytes, and a child process would start
        # with this process's peak RSS as its own
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--generate"]
            + ["--services", str(args.services), "--weeks", str(args.weeks)],
            check=True,
        )
    info = _summary(path)
    print(
        f"input {path.name}: {info['complaints']:,.0f} complaints in {info['cells']:,.0f} "
        f"non-zero cells ({info['share']:.1%}), {info['outages']:,.0f} outages "
        f"(ready in {time.perf_counter() - started:,.0f} s)",
        flush=True,
    )
    phases = ["array"] + (["spike"] if args.reference_minutes > 0 else [])
    results = []
    for phase in phases:
        profile = args.profile_dir / f"spikes-{phase}.prof" if args.profile_dir else None
        if profile is not None:
            profile.parent.mkdir(parents=True, exist_ok=True)
        m = run_phase(phase, path, args.reference_minutes, profile)
        results.append(m)
        print(
            f"{phase:>6}: {m.minutes:,} minutes in {m.seconds:,.1f} s (CPU {m.cpu_seconds:,.1f}"
            f" s) = {m.minutes_per_s:,.0f} minutes/s, {m.non_ok:,} non-ok states, peak RSS "
            f"{m.peak_rss_mb:,.0f} MB",
            flush=True,
        )
    print()
    print(_table(results))
    print("\n".join(_verdicts(results)))
    if args.write_results:
        command = "python bench/spikes.py " + " ".join(argv if argv is not None else sys.argv[1:])
        if os.sched_getaffinity(0) == {0}:
            command = "taskset -c 0 " + command
        write_section(SECTION, _section(path, results, command.strip()))
        print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
