"""One ``outage-radar analyze`` run for ``bench/analyze.py``, watched from outside.

The CLI runs as a subprocess, as a user would run it, so memory and time are the real
process's. While it runs, a thread samples every ``interval`` seconds:

- the resident memory (RSS) of the process and of all its descendants (for the Dask engine: the
  client, which also hosts the scheduler and the nannies, and one process per worker), with
  psutil; the peak of their sum, and each process's own peak;
- the output folder, to time the phases without instrumenting ``detector/``: the CLI creates
  ``OUT`` once the model is loaded (``startup`` ends), ``OUT/.checkpoint/*.part`` as partitions
  finish, ``OUT/analysis.db`` when the reduce starts (``partitions`` end: reading and
  annotating, and for Dask starting and stopping the cluster), ``incidents.json`` when it has
  finished (``reduce``: storing, counting, detecting), ``counts.parquet`` when ``outputs``
  (incidents, counts) are written; ``report`` is the rest (charts, ``report.html``, exit).

When the process ends, ``os.wait4`` gives its CPU time (with its waited-for descendants: the
Dask workers) and its own ``ru_maxrss``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psutil  # installed with distributed (the `dask` extra), which the Dask run needs anyway

CLI = Path(sys.executable).with_name("outage-radar")
PHASES = ("startup", "partitions", "reduce", "outputs", "report")
# (marker, the phase it begins): latest first
_PHASE_AFTER = (
    ("counts", "report"),
    ("incidents", "outputs"),
    ("reduce", "reduce"),
    ("out", "partitions"),
)
_WORK_FILES = ("analysis.db", ".checkpoint")  # the run's work space, not its results
_SUMMARY = re.compile(
    r"([\d,]+) files.*?, ([\d,]+) posts \(([\d,]+) in range\), ([\d,]+) outage reports, "
    r"([\d,]+) counted; ([\d,]+) minutes scored"
)


@dataclass
class Run:
    """What one analysis run measured."""

    label: str
    engine: str
    workers: int
    archive_posts: int
    files: int
    out: str
    seconds: float = 0.0
    posts: int = 0
    outage_reports: int = 0
    counted: int = 0
    minutes: int = 0
    incidents: int = 0
    cpu_seconds: float = 0.0
    maxrss_mb: float = 0.0  # the CLI process's own ru_maxrss
    peak_tree_mb: float = 0.0  # the peak of the sampled sum over the process tree
    peaks_mb: dict[str, float] = field(default_factory=dict)  # each process's sampled peak
    phase_peaks_mb: dict[str, float] = field(default_factory=dict)  # the tree's, by phase
    stored: int = 0  # candidates the reduce stored (posts in OUT/analysis.db)
    others_cores: float = 0.0  # CPU other processes used meanwhile, in cores on average
    phases: dict[str, float] = field(default_factory=dict)
    parts_done: list[float] = field(default_factory=list)  # seconds at which each appeared
    load_before: float = 0.0
    digests: dict[str, str] = field(default_factory=dict)

    @property
    def posts_per_s(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0

    @property
    def partition_posts_per_s(self) -> float:
        seconds = self.phases.get("partitions", 0.0)
        return self.posts / seconds if seconds else 0.0

    @property
    def client_mb(self) -> float:
        return self.peaks_mb.get("client", 0.0)

    @property
    def worker_mb(self) -> list[float]:
        return [mb for name, mb in sorted(self.peaks_mb.items()) if name.startswith("worker")]


def run_analyze(
    label: str,
    paths: list[Path],
    out: Path,
    *,
    engine: str,
    workers: int,
    archive_posts: int,
    interval: float,
) -> Run:
    """Run ``outage-radar analyze PATHS --out OUT`` on ``engine`` (a fresh ``OUT``)."""
    shutil.rmtree(out, ignore_errors=True)
    command = [str(CLI), "analyze", *map(str, paths), "--out", str(out), "--engine", engine]
    if engine == "dask":
        command += ["--workers", str(workers)]
    run = Run(
        label, engine, workers if engine == "dask" else 1, archive_posts, len(paths), str(out)
    )
    run.load_before = os.getloadavg()[0]
    log = out.with_name(out.name + ".log")
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    busy_before = _busy_seconds()
    began = time.perf_counter()
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=env)
        watcher = _Watcher(process.pid, out, began, interval)
        watcher.start()
        assert process.stdout is not None
        with process.stdout:
            stdout = process.stdout.read().decode()
        _pid, status, usage = os.wait4(process.pid, 0)
        ended = time.perf_counter()
        busy = _busy_seconds() - busy_before
        process.returncode = os.waitstatus_to_exitcode(status)
        watcher.stop()
    out.with_name(out.name + ".out").write_text(stdout)
    run.seconds = ended - began
    if process.returncode != 0:
        raise RuntimeError(
            f"{label}: exit {process.returncode}; stdout:\n{stdout}\nstderr in {log}:\n"
            + log.read_text(errors="replace")[-3000:]
        )
    match = _SUMMARY.search(stdout)
    if match is None:
        raise RuntimeError(f"{label}: no summary line in the output:\n{stdout}")
    numbers = [int(g.replace(",", "")) for g in match.groups()]
    run.posts, run.outage_reports, run.counted, run.minutes = (
        numbers[1],
        numbers[3],
        numbers[4],
        numbers[5],
    )
    run.incidents = len(orjson.loads((out / "incidents.json").read_bytes()))
    run.cpu_seconds = usage.ru_utime + usage.ru_stime
    run.others_cores = max(0.0, busy - run.cpu_seconds) / run.seconds
    run.stored = _stored(out / "analysis.db")
    run.maxrss_mb = usage.ru_maxrss / 1024  # KiB on Linux
    run.peak_tree_mb = watcher.peak_tree / 2**20
    run.peaks_mb = {name: rss / 2**20 for name, rss in watcher.peaks().items()}
    run.phase_peaks_mb = {name: rss / 2**20 for name, rss in watcher.phase_peaks.items()}
    run.phases = watcher.phases(ended)
    run.parts_done = watcher.parts_done
    run.digests = _digests(out)
    return run


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, all processes)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _stored(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM posts").fetchone()[0])


def _digests(out: Path) -> dict[str, str]:
    """A digest of every result file in ``out`` (by relative path), the work space left out."""
    found = {}
    for path in sorted(out.rglob("*")):
        name = path.relative_to(out).as_posix()
        if path.is_file() and not name.startswith(_WORK_FILES):
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


class _Watcher(threading.Thread):
    """Samples the process tree's memory and the output folder (see the module)."""

    def __init__(self, pid: int, out: Path, began: float, interval: float) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.out = out
        self.began = began
        self.interval = interval
        self.peak_tree = 0
        self.phase_peaks: dict[str, int] = {}
        self.by_pid: dict[int, tuple[str, int]] = {}  # pid -> (role, peak rss)
        self.seen: dict[str, float] = {}  # marker -> seconds after start
        self.parts_done: list[float] = []
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        while not self._done.is_set():
            self._sample()
            self._done.wait(self.interval)

    def _sample(self) -> None:
        now = time.perf_counter() - self.began
        total = 0
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        for process in processes:
            try:
                rss = process.memory_info().rss
                role = self.by_pid.get(process.pid, (None, 0))[0] or _role(process, self.root)
            except psutil.Error:
                continue  # ended between listing and reading
            total += rss
            self.by_pid[process.pid] = (role, max(rss, self.by_pid.get(process.pid, (role, 0))[1]))
        self.peak_tree = max(self.peak_tree, total)
        phase = next(
            (name for mark, name in _PHASE_AFTER if mark in self.seen), "startup"
        )  # as of the previous sample: a marker only ends a phase once seen
        self.phase_peaks[phase] = max(total, self.phase_peaks.get(phase, 0))
        checkpoint = self.out / ".checkpoint"
        for marker, path in (
            ("out", self.out),
            ("reduce", self.out / "analysis.db"),
            ("incidents", self.out / "incidents.json"),
            ("counts", self.out / "counts.parquet"),
            ("report", self.out / "report.html"),
        ):
            if marker not in self.seen and path.exists():
                self.seen[marker] = now
        if "reduce" not in self.seen and checkpoint.is_dir():
            try:
                parts = sum(1 for p in checkpoint.iterdir() if p.suffix == ".part")
            except OSError:
                parts = len(self.parts_done)
            self.parts_done += [now] * max(0, parts - len(self.parts_done))

    def peaks(self) -> dict[str, int]:
        """Each process's peak RSS, named by role (``worker-1``...; ``other-*`` for helpers)."""
        named: dict[str, int] = {}
        counters: dict[str, int] = {}
        for _pid, (role, rss) in sorted(self.by_pid.items()):
            if role == "client":
                named[role] = rss
                continue
            counters[role] = counters.get(role, 0) + 1
            named[f"{role}-{counters[role]}"] = rss
        return named

    def phases(self, ended: float) -> dict[str, float]:
        """Seconds in each phase, from when the markers appeared (None when one was missed)."""
        total = ended - self.began
        ends = ("out", "reduce", "incidents", "counts")
        marks = [0.0, *(self.seen.get(m, float("nan")) for m in ends)]
        marks.append(total)
        return {name: marks[i + 1] - marks[i] for i, name in enumerate(PHASES)}


def _role(process: psutil.Process, root: psutil.Process) -> str:
    if process.pid == root.pid:
        return "client"
    command = " ".join(process.cmdline())
    if "resource_tracker" in command or "semaphore_tracker" in command:
        return "other"
    if "multiprocessing" in command or "spawn_main" in command or "forkserver" in command:
        return "worker"
    return "other"
