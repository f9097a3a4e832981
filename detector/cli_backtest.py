"""``outage-radar backtest``: how well the spike detector finds outages, on synthetic streams with
injected outages and on the bundled sample archive with its known incidents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from detector.cli_common import err, fail, out
from detector.errors import ConfigError, DetectorError
from detector.samples import sample_posts_dir

__all__ = ["backtest"]

_TITLE = "Spike detection backtest"


def backtest(
    services: Annotated[int, typer.Option(min=1, help="Synthetic services.")] = 200,
    weeks: Annotated[
        int, typer.Option(min=2, help="Weeks of 1-minute buckets (the first is warm-up).")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic streams.")] = 1,
    compare: Annotated[
        int, typer.Option(min=0, help="Services the other detectors (EWMA, Kleinberg) run on.")
    ] = 40,
    sample: Annotated[
        bool, typer.Option(help="Also replay the bundled sample and match its known incidents.")
    ] = True,
    results: Annotated[
        Path | None,
        typer.Option(help=f"Markdown file whose '## {_TITLE}' section is rewritten."),
    ] = Path("bench/RESULTS.md"),
) -> None:
    """Detection rate, time to detect (median, p90) and false alarms per service-week."""
    from detector.spikes.backtest import run_synthetic_backtest, synthetic_markdown
    from detector.spikes.synthetic import SyntheticConfig

    sections = []
    try:
        config = SyntheticConfig(services=services, weeks=weeks)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def advance(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = progress.add_task(f"{name:<12}", total=total)
                progress.update(tasks[name], completed=done)

            synthetic = run_synthetic_backtest(config, seed, compare=compare, on_progress=advance)
        sections.append(synthetic_markdown(synthetic))
        if sample:
            sections.append(_sample_section())
    except DetectorError as exc:
        raise fail(exc) from None
    except ValueError as exc:  # the synthetic configuration
        raise fail(ConfigError(str(exc))) from None
    body = "\n".join(sections)
    out.print(Markdown(body))
    if results is not None:
        from detector.results import write_section

        command = (
            f"outage-radar backtest --services {services} --weeks {weeks} --seed {seed} "
            f"--compare {compare}" + ("" if sample else " --no-sample")
        )
        write_section(_TITLE, f"## {_TITLE}\n\nCommand: `{command}`\n\n{body}", results)
        err.print(f"wrote the '{_TITLE}' section of {results}")


def _sample_section() -> str:
    from detector.archive_backtest import archive_markdown, run_archive_backtest
    from detector.nlp.analyzer import Analyzer
    from detector.spikes.truth import read_truth

    posts = sample_posts_dir()
    truth = read_truth(posts.parent / "truth.csv")
    with err.status("replaying the bundled sample through the pipeline"):
        result = run_archive_backtest([posts], truth, Analyzer.load())
    return "The bundled sample (`data/samples/`, known incidents in `truth.csv`):\n\n" + (
        archive_markdown(result)
    )
