"""``analyze_archive``: the whole pipeline over archived posts, without a server.

1. **Partitions** (one per input file) are read and annotated by an engine: one after the
   other in this process (``SingleEngine``), or in parallel on a Dask cluster
   (``detector.analysis.dask_engine``). Each finished partition is checkpointed in
   ``OUT/.checkpoint``, so a run that is interrupted resumes with the partitions still to do.
2. **Reduce**: the partitions' complaints, merged by time, are stored in a fresh work
   store ``OUT/analysis.db`` (SQLite, the live service's schema: ``outage-radar serve --db
   OUT/analysis.db`` browses it), counted and detected on, as a replay would.
3. **Outputs**: ``incidents.json``, ``incidents.csv``, ``counts.parquet``, ``quarantine.jsonl``
   (malformed records), ``report.html`` with ``charts/*.png``, and with known incidents
   (``truth``) how each was matched.

The same input and options give the same files, whatever the engine and however often the run
was interrupted: partitions do not depend on each other, and the reduce reads them back in
input order.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import zstandard

from detector.analysis.checkpoint import Checkpoint
from detector.analysis.outputs import write_outputs
from detector.analysis.partition import (
    Partition,
    PartitionOptions,
    PartitionResult,
    partitions_of,
    run_partition,
)
from detector.analysis.reduce import merge_candidates, reduce_candidates
from detector.config import get_settings
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.report import ReportInputs, write_report
from detector.spikes.backtest import alarm_of
from detector.spikes.incidents import Incident
from detector.spikes.truth import Alarm, Truth, TruthMatch, match_truth
from detector.store.incidents import list_incidents
from detector.store.sql import SqlStore

__all__ = [
    "AnalysisResult",
    "PartitionEngine",
    "Progress",
    "SingleEngine",
    "analyze_archive",
    "analyzer_identity",
]

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Done = Callable[[Partition, PartitionResult], None]


class Progress(Protocol):
    """Where an analysis reports how far it got (the CLI draws a progress bar)."""

    def start(self, partitions: Sequence[Partition], done: Sequence[Partition]) -> None:
        """The run begins: all partitions, and those finished in an earlier run."""

    def records(self, count: int) -> None:
        """``count`` more input records were read."""

    def finished(self, partition: Partition) -> None:
        """``partition`` is read, annotated and checkpointed."""


class PartitionEngine(Protocol):
    """Runs partitions (``run_partition``) and hands each result to ``done`` as it finishes,
    in any order, on the calling thread."""

    def run(
        self,
        partitions: Sequence[Partition],
        options: PartitionOptions,
        done: Done,
        records: Callable[[int], None],
    ) -> None:
        """Run ``partitions``; ``records`` may be told of records read as they are."""


class SingleEngine:
    """Runs the partitions one after the other in this process, with ``analyzer``."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def run(
        self,
        partitions: Sequence[Partition],
        options: PartitionOptions,
        done: Done,
        records: Callable[[int], None],
    ) -> None:
        """Run each partition in turn."""
        for partition in partitions:
            done(partition, run_partition(partition, options, self.analyzer, progress=records))


@dataclass(slots=True)
class AnalysisResult:
    """What an analysis read and found (its files are in ``out``)."""

    out: Path
    files: int = 0
    resumed: int = 0
    posts: int = 0
    in_range: int = 0
    reposts: int = 0
    outage_posts: int = 0
    stored: int = 0
    counted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    minutes: int = 0
    incidents: list[Incident] = field(default_factory=list)
    matches: list[TruthMatch] = field(default_factory=list)
    unmatched: list[Alarm] = field(default_factory=list)


def analyze_archive(
    paths: Sequence[Path],
    out: Path,
    analyzer: Analyzer,
    *,
    options: PartitionOptions | None = None,
    engine: PartitionEngine | None = None,
    truth: Sequence[Truth] | None = None,
    bucket_minutes: int = 5,
    keep_checkpoint: bool = False,
    progress: Progress | None = None,
    title: str | None = None,
) -> AnalysisResult:
    """Analyse ``paths`` into folder ``out`` (see the module); ``analyzer`` also does the
    reduce's counting, and the partitions' annotation with the default engine."""
    options = options or PartitionOptions()
    if not options.model:  # what annotates is part of every checkpoint's key
        options = replace(options, model=analyzer_identity(analyzer))
    engine = engine or SingleEngine(analyzer)
    out.mkdir(parents=True, exist_ok=True)
    partitions = partitions_of(paths, options)
    checkpoint = Checkpoint(out / ".checkpoint")
    finished = [p for p in partitions if _usable(checkpoint, p)]
    todo = [p for p in partitions if p not in finished]
    if progress is not None:
        progress.start(partitions, finished)

    def done(partition: Partition, result: PartitionResult) -> None:
        checkpoint.save(partition, result)
        if progress is not None:
            progress.finished(partition)

    engine.run(todo, options, done, progress.records if progress is not None else _ignore)
    headers = [checkpoint.header(p) for p in partitions]
    result = _summary(out, headers, resumed=len(finished))
    _write_quarantine(out / "quarantine.jsonl", headers)
    start = max(filter(None, (options.since, result.first)), default=None)
    end = (
        result.last
        if options.until is None or result.last is None
        else min(result.last, options.until - timedelta(minutes=1))
    )

    database = out / "analysis.db"
    for stale in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)  # the reduce starts afresh: it is cheap and deterministic
    url = f"sqlite:///{database}"
    store = SqlStore(url)
    try:
        settings = get_settings(database_url=url, quarantine_path=out / "quarantine.jsonl")
        pipeline = Pipeline(store, analyzer, settings, exclusive=True)  # its own work store
        merged = merge_candidates([checkpoint.candidates(p) for p in partitions], checkpoint.spill)
        analyzed, detected = reduce_candidates(pipeline, merged, start=start, end=end)
        result.stored, result.counted, result.minutes = (
            analyzed.stored,
            analyzed.counted,
            detected.minutes,
        )
        found = list_incidents(store.engine, limit=1_000_000)
        result.incidents = sorted(found, key=lambda i: (i.start, i.service, i.id))
        if truth is not None:
            until = detected.last or end or _EPOCH
            alarms = [alarm_of(i) for i in result.incidents]
            matches, unmatched = match_truth(truth, alarms, until=until)
            result.matches, result.unmatched = list(matches), list(unmatched)
        write_outputs(store.engine, result, bucket_minutes=bucket_minutes)
        shutil.rmtree(out / "charts", ignore_errors=True)  # no chart of an earlier run stays
        write_report(
            store.engine,
            out,
            title=title or _title(paths),
            inputs=ReportInputs(
                paths=tuple(paths),
                posts_read=result.in_range,
                outage_posts=result.outage_posts,
                quarantined=result.quarantined.total(),
                first=result.first,
                last=result.last,
            ),
            truth=result.matches if truth is not None else None,
            unmatched=result.unmatched if truth is not None else None,
        )
    finally:
        store.close()
    if not keep_checkpoint:
        checkpoint.clear()
    return result


def analyzer_identity(analyzer: Analyzer) -> str:
    """What in the analyzer decides which posts a partition keeps and how it annotates them."""
    return f"{analyzer.identity}|{analyzer.threshold}|{analyzer.extract_below}|{analyzer.locations}"


def _title(paths: Sequence[Path]) -> str:
    names = ", ".join(p.name for p in paths[:3]) + (", ..." if len(paths) > 3 else "")
    return f"Outage report: {names}"


def _usable(checkpoint: Checkpoint, partition: Partition) -> bool:
    """Whether ``partition`` has a checkpoint that reads back (a damaged one is redone)."""
    if not checkpoint.done(partition):
        return False
    try:
        checkpoint.header(partition)
    except Exception:  # any damage means: do the partition again
        log.warning("checkpoint of %s is unreadable; reading the file again", partition.path)
        return False
    return True


def _summary(out: Path, headers: Sequence[PartitionResult], *, resumed: int) -> AnalysisResult:
    result = AnalysisResult(out=out, files=len(headers), resumed=resumed)
    for header in headers:
        result.posts += header.posts
        result.in_range += header.in_range
        result.reposts += header.reposts
        result.outage_posts += header.outage_posts
        result.skipped.update(header.skipped)
        result.quarantined.update(header.quarantined)
        if header.failure is not None:
            result.failures.append((header.path, header.failure))
        if header.first is not None:
            result.first = min(result.first or header.first, header.first)
        if header.last is not None:
            result.last = max(result.last or header.last, header.last)
    return result


def _write_quarantine(path: Path, headers: Sequence[PartitionResult]) -> None:
    """All partitions' malformed records, in input order (no file when there are none)."""
    path.unlink(missing_ok=True)
    parts = [h.quarantine for h in headers if h.quarantine]
    if not parts:
        return
    decompress = zstandard.ZstdDecompressor()
    with path.open("wb") as file:
        for part in parts:
            file.write(decompress.decompress(part))


def _ignore(_count: int) -> None:
    pass
