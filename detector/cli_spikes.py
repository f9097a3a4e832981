"""``outage-radar spikes ...``: run the spike detector on count series from other sources.

A Typer sub-app registered in ``detector/cli.py`` with ``app.add_typer(spikes, name="spikes")``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from detector.cli_common import err, fail
from detector.errors import DetectorError
from detector.spikes.engine import State
from detector.spikes.scoring import ScoredRow, read_series, score_series, write_scores

__all__ = ["spikes"]

spikes = typer.Typer(
    help="Run the spike detector on count series (your own metrics, Downdetector exports).",
    no_args_is_help=True,
)


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


@spikes.command()
def score(
    series: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns timestamp,value (ISO 8601 or epoch seconds; a regular step).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="CSV file to write (standard output when left out)."),
    ] = None,
    step_minutes: Annotated[
        int | None,
        typer.Option(
            "--step-minutes",
            min=1,
            help="Step of the series (the most common gap between rows when left out).",
        ),
    ] = None,
    warmup: Annotated[
        int,
        typer.Option(min=0, help="Rows that only teach the detector the level (scored 0, ok)."),
    ] = 60,
) -> None:
    """Write SERIES with the anomaly score (0-1, from the rows so far) and state of each row."""
    try:
        checked = read_series(series, step_minutes=step_minutes)
    except DetectorError as exc:
        raise fail(exc) from None
    for bad in checked.skipped_sample:
        where = f", field {bad.field!r}" if bad.field else ""
        _warn(f"{bad.file}: line {bad.line}{where}: {bad.detail}; row skipped")
    if checked.skipped > len(checked.skipped_sample):
        _warn(f"{_rows(checked.skipped - len(checked.skipped_sample), 'more row')} skipped")
    try:
        with (
            _sink(out) as sink,
            Progress(
                TextColumn("scoring"),
                BarColumn(),
                TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            ) as progress,
        ):
            task = progress.add_task("scoring", total=checked.rows)
            rows = score_series(checked, warmup=warmup)
            states = write_scores(_advancing(rows, lambda n: progress.advance(task, n)), sink)
    except DetectorError as exc:
        raise fail(exc) from None
    except BrokenPipeError:
        _quiet_stdout()  # the reader (e.g. `head`) has seen enough
        return
    except OSError as exc:
        target = out or "standard output"
        raise fail(DetectorError(f"{target}: cannot write: {exc.strerror}")) from None
    inferred = ", inferred" if checked.step_inferred else ""
    err.print(
        f"scored {sum(states.values()):,} rows (step {checked.step_minutes} min{inferred}): "
        f"{states[State.PROBLEMS]:,} in problems, {states[State.POSSIBLE]:,} in possible problems"
        + (f"; skipped {_rows(checked.skipped, 'bad row')}" if checked.skipped else "")
        + (f"; wrote {escape(str(out))}" if out is not None else ""),
        highlight=False,
        soft_wrap=True,
    )


def _rows(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@contextmanager
def _sink(out: Path | None) -> Iterator[TextIO]:
    if out is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with out.open("w", encoding="utf-8", newline="") as file:
        yield file


def _advancing(rows: Iterable[ScoredRow], advance: Callable[[int], None]) -> Iterator[ScoredRow]:
    done = 0
    for done, row in enumerate(rows, 1):
        yield row
        if done % 1024 == 0:
            advance(1024)
    advance(done % 1024)


def _quiet_stdout() -> None:
    # Python would report the broken pipe again when it flushes stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
