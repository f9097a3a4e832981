"""What every ``outage-radar`` command shares: consoles, the ``--db`` option, error exits."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from detector.config import Settings
from detector.errors import DetectorError
from detector.store.sql import SqlStore

__all__ = ["DbOption", "err", "fail", "open_store", "out"]

out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLite file or database URL [env: OUTAGE_RADAR_DATABASE_URL]."),
]


def fail(exc: DetectorError) -> typer.Exit:
    """Print ``exc`` as one error line and return the exit to raise (code 2)."""
    err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def open_store(settings: Settings) -> SqlStore:
    """Open (and migrate) the store the settings name."""
    return SqlStore(settings.database_url)
