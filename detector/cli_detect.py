"""``outage-radar detect``, ``replay`` and ``incidents``: the pipeline from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from detector.cli_common import DbOption, err, fail, open_store, out
from detector.clock import SystemClock
from detector.config import Settings, get_settings
from detector.console import render_summary
from detector.errors import ConfigError, DetectorError
from detector.ingest.files import ReadOptions
from detector.ingest.quarantine import QuarantineWriter
from detector.pipeline import Pipeline
from detector.spikes.incidents import Incident, IncidentEvent
from detector.store.incidents import list_incidents

__all__ = ["detect", "incidents", "replay", "show_incidents"]


@contextmanager
def open_pipeline(settings: Settings) -> Iterator[Pipeline]:
    """A pipeline on the configured store with the shipped analyzer; closes the store."""
    from detector.nlp.analyzer import Analyzer

    store = open_store(settings)
    try:
        yield Pipeline(store, Analyzer.load(), settings, clock=SystemClock())
    finally:
        store.close()


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{option} must be an ISO 8601 time, got: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def detect(
    until: Annotated[
        str | None,
        typer.Option(help="Score minutes before this time [default: up to the newest post]."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Score every minute not yet scored (continuing from the saved state) and update incidents."""
    try:
        settings = get_settings(database_url=db)
        with open_pipeline(settings) as pipeline:
            result = pipeline.detect(until=_when(until, "--until"))
    except DetectorError as exc:
        raise fail(exc) from None
    if result.minutes == 0:
        out.print("nothing new to score")
        return
    out.print(
        f"scored {result.minutes:,} minutes ({result.first:%Y-%m-%d %H:%M} to "
        f"{result.last:%Y-%m-%d %H:%M} UTC): {len(result.events)} incident events"
    )
    _print_events(result.events)


def replay(
    paths: Annotated[list[Path], typer.Argument(help="Archived posts: files or folders.")],
    speed: Annotated[
        float | None,
        typer.Option(
            help="Replay N times faster than real time [default: as fast as possible].", min=0.001
        ),
    ] = None,
    quarantine: Annotated[
        Path | None, typer.Option(help="Where malformed records go [default: quarantine.jsonl].")
    ] = None,
    db: DbOption = None,
) -> None:
    """Feed archived posts through the pipeline in time order, as a live stream would have."""
    try:
        settings = get_settings(database_url=db, quarantine_path=quarantine)
        for path in paths:
            if not path.exists():
                raise ConfigError(f"{path}: no such file or folder")
        with (
            open_pipeline(settings) as pipeline,
            QuarantineWriter(settings.quarantine_path) as writer,
        ):
            options = ReadOptions(not_after=SystemClock().now() + settings.future_tolerance)
            reading, added, detected = pipeline.replay(
                paths, options, writer, speed=speed, on_events=_print_events
            )
    except DetectorError as exc:
        raise fail(exc) from None
    out.print(render_summary(reading))
    if reading.quarantined:
        out.print(f"quarantined records: {settings.quarantine_path}")
    out.print(
        f"outage reports {added.outage_posts:,}, counted {added.counted:,} "
        f"(first report per author and service); minutes scored {detected.minutes:,}; "
        f"incident events {len(detected.events)}"
    )
    for failure in reading.failures:
        err.print(
            f"[red]error:[/red] {failure.path}: {failure.message}", highlight=False, soft_wrap=True
        )
    if not reading.ok:
        raise typer.Exit(code=1)


def incidents(
    service: Annotated[str | None, typer.Option(help="Only this service (slug).")] = None,
    status: Annotated[str | None, typer.Option(help="open or resolved.")] = None,
    explain: Annotated[bool, typer.Option(help="Print each incident's explanation.")] = False,
    db: DbOption = None,
) -> None:
    """List the incidents in the store, newest first."""
    try:
        settings = get_settings(database_url=db)
        store = open_store(settings)
        try:
            found = list_incidents(store.engine, service=service, status=status)
        finally:
            store.close()
    except DetectorError as exc:
        raise fail(exc) from None
    show_incidents(found, explain=explain)


def show_incidents(found: list[Incident], *, explain: bool = False) -> None:
    """Print incidents as a table (and their explanations)."""
    if not found:
        out.print("no incidents")
        return
    table = Table(title="Incidents")
    table.add_column("service", no_wrap=True)
    table.add_column("start (UTC)", no_wrap=True)
    table.add_column("detected", no_wrap=True)
    table.add_column("end", no_wrap=True)
    table.add_column("worst", no_wrap=True)
    table.add_column("reports", justify="right")
    table.add_column("countries")
    table.add_column("errors, features")
    for incident in found:
        evidence = incident.evidence
        countries = " ".join(c["country"] for c in evidence.get("countries", [])[:6])
        symptoms = [e["name"] for e in evidence.get("errors", [])[:2]]
        symptoms += [f["name"] for f in evidence.get("features", [])[:2]]
        table.add_row(
            incident.service,
            f"{incident.start:%m-%d %H:%M}",
            f"{incident.detected_at:%H:%M}",
            f"{incident.end:%m-%d %H:%M}" if incident.end else "open",
            incident.peak_severity,
            f"{incident.observed_total:,.0f}",
            countries,
            ", ".join(symptoms),
        )
    out.print(table)
    if explain:
        now = SystemClock().now()
        for incident in found:
            out.print(f"[bold]{incident.id}[/bold]: {incident.explanation(now)}")


def _print_events(events: list[IncidentEvent]) -> None:
    for event in events:
        incident = event.incident
        err.print(
            f"{event.at:%Y-%m-%d %H:%M} UTC  {event.type:<18} {incident.service:<16} "
            f"{event.change} (start {incident.start:%H:%M}, severity {incident.severity})",
            highlight=False,
        )
