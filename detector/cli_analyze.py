"""``outage-radar analyze``: the whole pipeline over archives, into a folder of results."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from detector.cli_common import (
    FormatOption,
    MapOption,
    MappingFileOption,
    SourceNameOption,
    TimezoneOption,
    err,
    fail,
    out,
    read_options,
)
from detector.errors import ConfigError, DetectorError
from detector.spikes.truth import read_truth

if TYPE_CHECKING:
    from detector.analysis.partition import Partition
    from detector.analysis.runner import AnalysisResult, PartitionEngine
    from detector.nlp.analyzer import Analyzer

__all__ = ["analyze"]


def analyze(
    paths: Annotated[
        list[Path], typer.Argument(help="Archive files or folders to read.", show_default=False)
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the results (created; reused to resume).")
    ] = Path("analysis"),
    since: Annotated[
        datetime | None,
        typer.Option("--from", help="Only posts written from this time (UTC unless zoned)."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option("--to", help="Only posts written before this time (UTC unless zoned)."),
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Only these services (repeatable).", show_default=False),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="Known incidents (CSV: service,start,end) to score the results on."),
    ] = None,
    bucket: Annotated[
        int, typer.Option(help="Minutes per bucket in counts.parquet (1, 5, 15 or 60).")
    ] = 5,
    engine: Annotated[
        str, typer.Option(help="Where partitions run: single (this process) or dask.")
    ] = "single",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://HOST:8786); default: a LocalCluster."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="LocalCluster workers [default: one per core].", min=1)
    ] = None,
    keep_checkpoint: Annotated[
        bool, typer.Option(help="Keep the finished partitions in OUT/.checkpoint afterwards.")
    ] = False,
    fmt: FormatOption = None,
    source_name: SourceNameOption = None,
    column: MapOption = None,
    mapping_file: MappingFileOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Run the whole pipeline over archived posts, without a server, into OUT:
    incidents.json/.csv, counts.parquet, report.html with PNG charts, quarantine.jsonl, and
    analysis.db (browse it with `outage-radar serve --db OUT/analysis.db`). An interrupted run
    resumes where it stopped when run again with the same arguments."""
    # Imported here: pandas, scikit-learn and the model load only for this command.
    from detector.analysis.partition import PartitionOptions
    from detector.analysis.runner import analyze_archive
    from detector.nlp.analyzer import Analyzer

    began = time.perf_counter()
    try:
        if bucket not in (1, 5, 15, 60):
            raise ConfigError(f"--bucket must be 1, 5, 15 or 60, got: {bucket}")
        options = PartitionOptions(
            since=_utc(since),
            until=_utc(until),
            services=frozenset(service) if service else None,
            read=read_options(fmt, source_name, column, mapping_file, timezone),
        )
        known = read_truth(truth) if truth is not None else None
        analyzer = Analyzer.load()
        runner = _engine(engine, scheduler, workers, analyzer)
        with _Bar() as bar:
            result = analyze_archive(
                paths,
                out_dir,
                analyzer,
                options=options,
                engine=runner,
                truth=known,
                bucket_minutes=bucket,
                keep_checkpoint=keep_checkpoint,
                progress=bar,
            )
    except DetectorError as exc:
        raise fail(exc) from None
    _print(result, time.perf_counter() - began)
    if result.failures:
        raise typer.Exit(code=1)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _engine(
    name: str, scheduler: str | None, workers: int | None, analyzer: Analyzer
) -> PartitionEngine:
    from detector.analysis.runner import SingleEngine

    if name == "single":
        if scheduler is not None:
            raise ConfigError("--scheduler needs --engine dask")
        return SingleEngine(analyzer)
    if name == "dask":
        from detector.analysis.dask_engine import DaskEngine

        return DaskEngine(scheduler=scheduler, workers=workers)
    raise ConfigError(f"--engine must be single or dask, got: {name!r}")


class _Bar:
    """A progress bar over the input's bytes, with records read per second and an ETA."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[records]:,} records"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        self.task: TaskID | None = None
        self.count = 0
        self.began = time.perf_counter()

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def start(self, partitions: Sequence[Partition], done: Sequence[Partition]) -> None:
        """Size the bar: every partition's bytes, those resumed already counted."""
        total = sum(p.size for p in partitions)
        label = f"analysing {len(partitions)} files" + (f" ({len(done)} resumed)" if done else "")
        self.task = self.progress.add_task(label, total=total, records=0, rate="")
        self.progress.update(self.task, completed=sum(p.size for p in done))
        self.began = time.perf_counter()

    def records(self, count: int) -> None:
        """Count records read and show the rate."""
        if self.task is None:
            return
        self.count += count
        rate = self.count / max(time.perf_counter() - self.began, 1e-9)
        self.progress.update(self.task, records=self.count, rate=f"{rate:,.0f} records/s")

    def finished(self, partition: Partition) -> None:
        """Move the bar by the partition's bytes."""
        if self.task is not None:
            self.progress.advance(self.task, partition.size)


def _print(result: AnalysisResult, seconds: float) -> None:
    resumed = f" ({result.resumed} from the checkpoint)" if result.resumed else ""
    out.print(
        f"{result.files:,} files{resumed}, {result.posts:,} posts "
        f"({result.in_range:,} in range), {result.outage_posts:,} outage reports, "
        f"{result.counted:,} counted; {result.minutes:,} minutes scored in {seconds:.1f} s",
        highlight=False,
    )
    if result.quarantined:
        reasons = ", ".join(f"{r} {n}" for r, n in result.quarantined.most_common())
        out.print(
            f"quarantined {result.quarantined.total():,} records ({reasons}): "
            f"{result.out / 'quarantine.jsonl'}",
            highlight=False,
        )
    for path, message in result.failures:
        err.print(f"[red]error:[/red] {path}: {message}", highlight=False, soft_wrap=True)
    table = Table("service", "start (UTC)", "detected", "end", "severity", "peak", "countries")
    for incident in result.incidents:
        countries = ", ".join(c["country"] for c in incident.evidence.get("countries", [])[:5])
        table.add_row(
            incident.service,
            f"{incident.start:%Y-%m-%d %H:%M}",
            f"{incident.detected_at:%H:%M}",
            f"{incident.end:%Y-%m-%d %H:%M}" if incident.end else "open",
            incident.severity,
            f"{incident.peak_ratio:.1f}x",
            countries,
        )
    out.print(table)
    if result.matches or result.unmatched:
        found = sum(1 for m in result.matches if m.alarm is not None)
        out.print(
            f"known incidents found: {found}/{len(result.matches)}; "
            f"incidents matching none: {len(result.unmatched)}",
            highlight=False,
        )
    out.print(f"results in {result.out}/", highlight=False)
