"""``outage-radar listen``: the live sources, detection and webhooks, without the API."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from detector.cli_common import DbOption, SettingsFileOption, err, fail, open_store, out
from detector.clock import SystemClock
from detector.config import get_settings, use_settings_file
from detector.errors import ConfigError, DetectorError
from detector.ingest.live.base import SourceHealth

__all__ = ["listen"]


def listen(
    settings_file: SettingsFileOption = None,
    db: DbOption = None,
    status_every: Annotated[
        float, typer.Option(help="Print the sources' health every this many seconds.", min=1)
    ] = 60.0,
) -> None:
    """Read the live sources of the settings file (Bluesky, Mastodon, Reddit, feeds) into the
    database, detect incidents and deliver webhooks, until Ctrl-C or SIGTERM (then what was
    read is stored, and the next start resumes where this one stopped)."""
    from detector.nlp.analyzer import Analyzer
    from detector.runtime import Runtime

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        use_settings_file(settings_file)
        settings = get_settings(database_url=db, jobs_enabled=True)
        if not any(source.enabled for source in settings.sources):
            raise ConfigError(
                "no live sources are configured: add `sources:` to the settings file"
                " (OUTAGE_RADAR_SETTINGS_FILE or --settings; see docs/sources.md)"
            )
        store = open_store(settings)
    except ValidationError as exc:  # a setting out of range, a source entry without its url
        raise fail(ConfigError(f"invalid settings: {exc}")) from exc
    except DetectorError as exc:
        raise fail(exc) from exc
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        err.print(f"{signal.Signals(signum).name}: storing what was read, then stopping")
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    runtime = Runtime(store, Analyzer.load(), settings, SystemClock())
    try:
        runtime.start()
        live = runtime.live
        assert live is not None  # sources are configured and jobs are on
        out.print(f"listening to {len(live.sources)} sources; Ctrl-C stops")
        reading = live.reading
        if not reading:
            out.print(_standing_by(live.reader))
        while not stopping.wait(status_every):
            if live.reading != reading:
                reading = live.reading
                out.print("reading the sources now" if reading else _standing_by(live.reader))
            out.print(_status_table(live.health()))
    finally:
        runtime.stop()
        store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if runtime.live is not None:
        stats = runtime.live.intake_stats()
        out.print(f"stored {stats.stored:,} new posts of {stats.posts:,} read")


def _standing_by(reader: str | None) -> str:
    return (
        f"standing by: the sources are read by {reader or 'another process'}"
        " (this process takes over when it stops)"
    )


def _status_table(healths: list[SourceHealth]) -> Table:
    table = Table("source", "kind", "status", "posts", "posts/min", "lag", "errors", "last error")
    for h in healths:
        lag = f"{h.lag_seconds:.0f} s" if h.lag_seconds is not None else "-"
        table.add_row(
            h.name,
            h.kind,
            h.status,
            f"{h.posts_total:,}",
            f"{h.posts_per_minute:.1f}",
            lag,
            str(h.errors),
            (h.last_error or "")[:60],
        )
    return table
