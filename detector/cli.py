"""The ``outage-radar`` command line: thin wrappers over library functions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from detector.cli_analyze import analyze
from detector.cli_apikey import apikey
from detector.cli_backtest import backtest
from detector.cli_common import (
    DbOption,
    FormatOption,
    MapOption,
    MappingFileOption,
    SourceNameOption,
    TimezoneOption,
    err,
    fail,
    open_store,
    out,
    read_options,
)
from detector.cli_detect import detect, incidents, replay
from detector.cli_listen import listen
from detector.cli_serve import serve
from detector.cli_spikes import spikes
from detector.clock import SystemClock
from detector.config import get_settings
from detector.console import render_stats, render_summary
from detector.errors import ConfigError, DetectorError
from detector.ingest.files import ReadOptions
from detector.ingest.generic import ColumnMapping
from detector.ingest.quarantine import QuarantineWriter
from detector.ingest.service import ingest_paths
from detector.models import Post, SourceKind
from detector.samples import sample_posts_dir

__all__ = ["app", "main"]

app = typer.Typer(
    name="outage-radar",
    help="Find service outages from what people post.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders to read.", show_default=False)
    ],
    fmt: FormatOption = None,
    source_name: SourceNameOption = None,
    column: MapOption = None,
    mapping_file: MappingFileOption = None,
    timezone: TimezoneOption = None,
    quarantine: Annotated[
        Path | None, typer.Option(help="Where malformed records go [default: quarantine.jsonl].")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Posts per transaction.")] = None,
    analyze: Annotated[
        bool,
        typer.Option(help="Annotate and count complaints as posts are stored (for `detect`)."),
    ] = True,
    db: DbOption = None,
) -> None:
    """Read posts from files (any supported format, optionally compressed) into the store,
    annotating each new post and recording its outage complaints."""
    try:
        settings = get_settings(database_url=db, quarantine_path=quarantine, batch_size=batch_size)
        clock = SystemClock()
        options = read_options(
            fmt,
            source_name,
            column,
            mapping_file,
            timezone,
            not_after=clock.now() + settings.future_tolerance,
        )
        store = open_store(settings)
    except DetectorError as exc:
        raise fail(exc) from None
    try:
        with (
            QuarantineWriter(settings.quarantine_path) as writer,
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,.0f} records"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as progress,
        ):
            task = progress.add_task("ingesting", total=None, rate="")

            def advance(n: int) -> None:
                progress.advance(task, n)
                speed = progress.tasks[task].speed
                progress.update(task, rate=f"{speed:,.0f} records/s" if speed else "")

            analyzed = None
            if analyze:
                from detector.nlp.analyzer import Analyzer
                from detector.pipeline import Pipeline

                pipeline = Pipeline(store, Analyzer.load(), settings, clock=clock)
                summary, analyzed = pipeline.ingest_paths(
                    paths, options, writer, on_progress=advance
                )
            else:
                summary = ingest_paths(
                    paths=paths,
                    store=store,
                    options=options,
                    quarantine=writer,
                    batch_size=settings.batch_size,
                    collapse_window=settings.collapse_window,
                    clock=clock,
                    on_progress=advance,
                )
    except DetectorError as exc:
        raise fail(exc) from None
    finally:
        store.close()
    out.print(render_summary(summary))
    if analyzed is not None:
        out.print(
            f"outage reports {analyzed.outage_posts:,}, counted {analyzed.counted:,} "
            "(first report per author and service); run `outage-radar detect` to score them"
        )
    if summary.quarantined:
        out.print(f"quarantined records: {settings.quarantine_path}")
    for failure in summary.failures:
        err.print(
            f"[red]error:[/red] {failure.path}: {failure.message}", highlight=False, soft_wrap=True
        )
    if not summary.ok:
        raise typer.Exit(code=1)


@app.command()
def demo(
    db: DbOption = None,
    samples: Annotated[
        Path | None, typer.Option(help="Folder of sample posts [default: data/samples/posts].")
    ] = None,
) -> None:
    """Replay the bundled sample (Tesla app outage, Nov 2021) through the whole pipeline and
    list the incidents found, with why they fired."""
    try:
        folder = samples or sample_posts_dir()
    except DetectorError as exc:
        raise fail(exc) from None
    replay(paths=[folder], db=db)
    incidents(db=db, explain=True)
    where = f" --db {db}" if db else ""
    out.print(
        f"\nBrowse it: [bold]outage-radar serve{where}[/bold], then open http://127.0.0.1:8000/"
    )


@app.command()
def stats(
    db: DbOption = None,
    top: Annotated[int, typer.Option(help="Rows per table.", min=1)] = 10,
) -> None:
    """Summarise what the store holds: sources, languages, days, busiest hours, last runs."""
    try:
        store = open_store(get_settings(database_url=db))
        try:
            result = store.stats(top=top)
        finally:
            store.close()
    except DetectorError as exc:
        raise fail(exc) from None
    out.print(render_stats(result))


@app.command()
def train(
    data: Annotated[
        Path | None, typer.Option(help="Labelled examples [default: data/training/examples.jsonl].")
    ] = None,
    models_dir: Annotated[
        Path | None, typer.Option("--models", help="Where models go [default: models/].")
    ] = None,
    version: Annotated[str, typer.Option(help="Model version (a folder per version).")] = "1",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train the outage-complaint classifier and save it with its scores in meta.json."""
    # Imported here: scikit-learn takes a second to import, and ingest does not need it.
    from detector.nlp.persist import default_models_dir
    from detector.nlp.training import default_training_path, train_and_save

    try:
        folder, scores = train_and_save(
            data=data or default_training_path(),
            models_dir=models_dir or default_models_dir(),
            version=version,
            seed=seed,
            trained_at=SystemClock().now().isoformat(timespec="seconds"),
        )
    except DetectorError as exc:
        raise fail(exc) from None
    table = Table(
        "split",
        "n",
        "outage",
        "precision",
        "recall",
        "F1",
        title="Outage classifier",
        title_justify="left",
    )
    for split, s in scores.items():
        table.add_row(
            split,
            f"{s.n:,}",
            f"{s.positives:,}",
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
        )
    out.print(table)
    out.print(f"saved {folder}")


@app.command()
def classify(
    text: Annotated[str, typer.Argument(help="The post to classify.", show_default=False)],
    models_dir: Annotated[
        Path | None, typer.Option("--models", help="Where models are [default: models/].")
    ] = None,
) -> None:
    """Print the annotation of TEXT: outage probability, services, symptoms, places."""
    # Imported here: scikit-learn takes a second to import, and ingest does not need it.
    from detector.nlp.analyzer import Analyzer

    try:
        analyzer = Analyzer.load(models_dir=models_dir, locations="all")
    except DetectorError as exc:
        raise fail(exc) from None
    post = Post(
        id="generic:cli:1",
        source_kind=SourceKind.GENERIC,
        source_name="cli",
        created_at=SystemClock().now(),
        text=text if text.strip() else " .",
    )
    (annotation,) = analyzer.annotate([post])
    out.print_json(data={"text": text, **annotation.as_dict()})


@app.command()
def annotate(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders to read.", show_default=False)
    ],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="JSON lines file to write.")],
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="Record format (detected if left out).")
    ] = None,
    text_column: Annotated[
        str | None, typer.Option(help="Plain CSV/JSONL: the column holding the text.")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Plain CSV/JSONL: the id column.")] = None,
    locations: Annotated[
        str, typer.Option(help="Extract places for 'likely' complaints only, or for 'all' posts.")
    ] = "likely",
    quarantine: Annotated[
        Path | None, typer.Option(help="Where malformed records go [default: quarantine.jsonl].")
    ] = None,
    models_dir: Annotated[
        Path | None, typer.Option("--models", help="Where models are [default: models/].")
    ] = None,
) -> None:
    """Annotate posts from files into JSON lines (one object per post), without storing them."""
    from detector.nlp.analyzer import Analyzer
    from detector.nlp.annotate import annotate_paths

    if locations not in ("likely", "all"):
        raise fail(ConfigError(f"--locations must be 'likely' or 'all', got: {locations!r}"))
    try:
        settings = get_settings(quarantine_path=quarantine)
        mapping = None
        if text_column is not None:
            columns = {"text": text_column, **({"id": id_column} if id_column else {})}
            mapping = ColumnMapping(columns=columns, undated=SystemClock().now())
        options = ReadOptions(format=fmt or ("generic" if mapping else None), mapping=mapping)
        analyzer = Analyzer.load(models_dir=models_dir, locations=locations)
    except DetectorError as exc:
        raise fail(exc) from None
    with (
        out_path.open("wb") as sink,
        QuarantineWriter(settings.quarantine_path) as writer,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,.0f} posts"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("annotating", total=None)
        summary = annotate_paths(
            paths=paths,
            options=options,
            analyzer=analyzer,
            out=sink,
            quarantine=writer,
            on_progress=lambda n: progress.advance(task, n),
        )
    out.print(
        f"annotated {summary.posts:,} posts ({summary.outages:,} outage reports) "
        f"into {out_path}; quarantined {summary.quarantined.total():,}"
    )
    for failure in summary.failures:
        err.print(
            f"[red]error:[/red] {failure.path}: {failure.message}", highlight=False, soft_wrap=True
        )
    if summary.failures:
        raise typer.Exit(code=1)


@app.command()
def evaluate(
    shared: Annotated[
        Path, typer.Option(help="Public labelled tweet sets (WNUT17, BTC, IDRISI), if present.")
    ] = Path("../shared/data"),
    models_dir: Annotated[
        Path | None, typer.Option("--models", help="Where models are [default: models/].")
    ] = None,
    samples: Annotated[
        Path | None,
        typer.Option(help="Labelled sample archive (posts/, labels.jsonl.gz) [default: bundled]."),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(help="Markdown file whose '## NLP quality' section is rewritten."),
    ] = Path("bench/RESULTS.md"),
) -> None:
    """Print held-out, sample-archive and location scores as JSON, and write them to RESULTS."""
    from detector.nlp.analyzer import Analyzer
    from detector.nlp.quality import measure_quality
    from detector.results import write_section

    try:
        analyzer = Analyzer.load(models_dir=models_dir)
        report = measure_quality(
            analyzer,
            now=SystemClock().now(),
            samples_dir=samples or sample_posts_dir().parent,
            shared_dir=shared,
        )
    except DetectorError as exc:
        raise fail(exc) from None
    out.print_json(data=report.as_dict())
    if results is not None:
        command = "outage-radar evaluate" + (
            f" --shared {shared}" if shared != Path("../shared/data") else ""
        )
        write_section("NLP quality", report.markdown(command), results)
        err.print(f"wrote the NLP quality section of {results}")


app.command()(detect)
app.command()(replay)
app.command()(incidents)
app.add_typer(spikes, name="spikes")
app.command()(backtest)
app.command()(analyze)
app.command()(serve)
app.command()(listen)
app.add_typer(apikey, name="apikey")


def main() -> None:
    """Entry point of the ``outage-radar`` console script."""
    app()
