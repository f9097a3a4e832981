"""Rich renderings of library results for the command line."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from detector.ingest.service import IngestSummary
from detector.store.base import StoreStats

__all__ = ["render_stats", "render_summary"]


def render_summary(summary: IngestSummary) -> Table:
    """The end-of-run table: read, stored, duplicates, quarantined per reason..."""
    table = Table(title="Ingest summary", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows: list[tuple[str, int]] = [
        ("files", summary.files),
        ("records read", summary.read),
        ("posts parsed (incl. embedded originals)", summary.posts),
        ("stored", summary.stored),
        ("duplicates (already stored)", summary.duplicates),
        ("collapsed (same author, same text)", summary.collapsed),
        ("reposts among posts", summary.reposts),
        ("skipped (not posts)", summary.skipped.total()),
        *((f"  skipped: {reason}", n) for reason, n in sorted(summary.skipped.items())),
        ("quarantined", summary.quarantined.total()),
        *((f"  quarantined: {reason}", n) for reason, n in sorted(summary.quarantined.items())),
    ]
    for label, count in rows:
        table.add_row(label, f"{count:,}")
    for failure in summary.failures:
        table.add_row(f"[red]failed: {failure.path}[/red]", failure.message)
    return table


def render_stats(stats: StoreStats) -> Group:
    """Tables describing what the store holds."""
    span = (
        f"{stats.first:%Y-%m-%d %H:%M} to {stats.last:%Y-%m-%d %H:%M} UTC"
        if stats.first and stats.last
        else "empty"
    )
    totals = Table(title="Store", show_header=False, title_justify="left")
    totals.add_column("what")
    totals.add_column("value", justify="right")
    totals.add_row("posts", f"{stats.posts:,}")
    totals.add_row("reposts", f"{stats.reposts:,}")
    totals.add_row("authors", f"{stats.authors:,}")
    totals.add_row("time span", span)

    sources = Table(
        "kind", "source", "posts", "reposts", "first", "last", title="Sources", title_justify="left"
    )
    for s in stats.sources:
        sources.add_row(
            s.source_kind,
            s.source_name,
            f"{s.posts:,}",
            f"{s.reposts:,}",
            f"{s.first:%Y-%m-%d %H:%M}",
            f"{s.last:%Y-%m-%d %H:%M}",
        )

    languages = Table("language", "posts", title="Languages", title_justify="left")
    for lang, n in stats.languages:
        languages.add_row(lang, f"{n:,}")

    days = Table("day (UTC)", "posts", title="Original posts per day", title_justify="left")
    for day, n in stats.per_day:
        days.add_row(day, f"{n:,}")

    hours = Table(
        "hour (UTC)", "posts", title="Busiest hours (original posts)", title_justify="left"
    )
    for hour, n in stats.busiest_hours:
        hours.add_row(f"{hour:%Y-%m-%d %H:00}", f"{n:,}")

    runs = Table(
        "finished (UTC)",
        "files",
        "stored",
        "duplicates",
        "collapsed",
        "quarantined",
        title="Last ingest runs",
        title_justify="left",
    )
    for run in stats.runs:
        summary = run.summary
        quarantined = sum(summary.get("quarantined", {}).values())
        runs.add_row(
            f"{run.finished_at:%Y-%m-%d %H:%M:%S}",
            str(summary.get("files", 0)),
            f"{summary.get('stored', 0):,}",
            f"{summary.get('duplicates', 0):,}",
            f"{summary.get('collapsed', 0):,}",
            f"{quarantined:,}",
        )
    return Group(totals, sources, languages, days, hours, runs)
