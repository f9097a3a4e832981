"""What every ``outage-radar`` command shares: consoles, the ``--db`` option, error exits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from detector.config import Settings
from detector.errors import DetectorError
from detector.ingest.files import ReadOptions
from detector.ingest.formats import FORMATS
from detector.ingest.generic import ColumnMapping
from detector.store.sql import SqlStore

__all__ = [
    "DbOption",
    "FormatOption",
    "MapOption",
    "MappingFileOption",
    "SettingsFileOption",
    "SourceNameOption",
    "TimezoneOption",
    "err",
    "fail",
    "open_store",
    "out",
    "read_options",
]

out = Console()
err = Console(stderr=True)

SettingsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        help="YAML settings file (live sources and any setting) [env: OUTAGE_RADAR_SETTINGS_FILE].",
        dir_okay=False,
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLite file or database URL [env: OUTAGE_RADAR_DATABASE_URL]."),
]

# How input files are read (``ingest``, ``analyze``): pass them on to ``read_options``.
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help=f"Record format; detected from the content when left out. "
        f"One of: {', '.join(FORMATS)}.",
    ),
]
SourceNameOption = Annotated[
    str | None, typer.Option(help="Source name for every post, e.g. teslamotorsclub.")
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map", "-m", help="Generic format: field=column (repeatable).", show_default=False
    ),
]
MappingFileOption = Annotated[
    Path | None, typer.Option("--mapping", help="Generic format: YAML/JSON/TOML mapping file.")
]
TimezoneOption = Annotated[
    str | None, typer.Option(help="Generic format: zone of timestamps written without one.")
]


def read_options(
    fmt: str | None,
    source_name: str | None,
    column: list[str] | None,
    mapping_file: Path | None,
    timezone: str | None,
    *,
    not_after: datetime | None = None,
) -> ReadOptions:
    """The ``ReadOptions`` the shared reading options ask for (a mapping file wins over
    ``--map`` pairs)."""
    mapping = None
    if mapping_file is not None:
        mapping = ColumnMapping.from_file(mapping_file)
    elif column:
        mapping = ColumnMapping.from_pairs(column, timezone=timezone)
    return ReadOptions(format=fmt, source_name=source_name, mapping=mapping, not_after=not_after)


def fail(exc: DetectorError) -> typer.Exit:
    """Print ``exc`` as one error line and return the exit to raise (code 2)."""
    err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def open_store(settings: Settings) -> SqlStore:
    """Open (and migrate) the store the settings name."""
    return SqlStore(settings.database_url)
