"""Backtesting the whole pipeline on an archive with known incidents (the bundled sample).

The archive is replayed exactly as ``outage-radar replay`` would (annotate, count first reports,
detect minute by minute) into a throw-away SQLite store, and the incidents raised are matched
with the known ones: found or missed, how late, how far the start was off, and what was raised
that nobody listed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from detector.clock import SystemClock
from detector.config import get_settings
from detector.ingest.files import ReadOptions
from detector.ingest.quarantine import QuarantineWriter
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.spikes.backtest import alarm_of
from detector.spikes.incidents import Incident
from detector.spikes.truth import Alarm, Truth, TruthMatch, match_truth
from detector.store.incidents import list_incidents
from detector.store.sql import SqlStore

__all__ = ["ArchiveBacktest", "archive_markdown", "run_archive_backtest"]


@dataclass(frozen=True, slots=True)
class ArchiveBacktest:
    """Known incidents matched with what the pipeline raised on an archive."""

    posts: int
    seconds: float
    incidents: tuple[Incident, ...]
    matches: tuple[TruthMatch, ...]
    unmatched: tuple[Alarm, ...]


def run_archive_backtest(
    paths: Sequence[Path], truth: Sequence[Truth], analyzer: Analyzer
) -> ArchiveBacktest:
    """Replay ``paths`` through a fresh pipeline (in a temporary SQLite store, with the
    settings of the environment) and match the incidents it raises with ``truth``."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="outage-radar-backtest-") as folder:
        url = f"sqlite:///{Path(folder) / 'backtest.db'}"
        settings = get_settings(database_url=url, quarantine_path=Path(folder) / "q.jsonl")
        store = SqlStore(url)
        try:
            pipeline = Pipeline(store, analyzer, settings, clock=SystemClock())
            with QuarantineWriter(settings.quarantine_path) as quarantine:
                reading, _, detected = pipeline.replay(paths, ReadOptions(), quarantine)
            found = list_incidents(store.engine)
        finally:
            store.close()
    until = detected.last or max((i.detected_at for i in found), default=datetime.now(UTC))
    matches, unmatched = match_truth(truth, [alarm_of(i) for i in found], until=until)
    return ArchiveBacktest(
        posts=reading.stored,
        seconds=time.perf_counter() - began,
        incidents=tuple(sorted(found, key=lambda i: i.start)),
        matches=tuple(matches),
        unmatched=tuple(unmatched),
    )


def archive_markdown(result: ArchiveBacktest) -> str:
    """Per known incident: found or not, start and detection times, delay and start error."""
    lines = [
        f"{result.posts:,} posts replayed through the whole pipeline in {result.seconds:.0f} s; "
        f"{len(result.incidents)} incidents raised, {len(result.unmatched)} matching no known "
        f"incident.",
        "",
        "| service | known start (UTC) | found | incident start | detected at | delay (min) "
        "| start error (min) |",
        "|---|---|---|---|---|---:|---:|",
    ]
    for match in result.matches:
        known, alarm = match.truth, match.alarm
        if alarm is None:
            lines.append(f"| {known.service} | {known.start:%Y-%m-%d %H:%M} | no | | | | |")
            continue
        lines.append(
            f"| {known.service} | {known.start:%Y-%m-%d %H:%M} | yes | {alarm.start:%H:%M} | "
            f"{alarm.detected_at:%H:%M} | {match.delay:.0f} | {match.start_error:+.0f} |"
        )
    for alarm in result.unmatched:
        lines.append(
            f"| {alarm.service} (not known) | | false alarm? | {alarm.start:%Y-%m-%d %H:%M} | "
            f"{alarm.detected_at:%H:%M} | | |"
        )
    return "\n".join(lines) + "\n"
