"""Ingest files into a store: read, quarantine, dedup, write in batches, summarise."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from detector.clock import Clock, SystemClock
from detector.errors import InputError, SourceNotFound
from detector.ingest.base import Quarantined, Skipped
from detector.ingest.files import ReadOptions, read_file
from detector.ingest.quarantine import QuarantineWriter
from detector.models import Post
from detector.store.base import AddResult, IngestRun, Store

__all__ = ["FileFailure", "IngestSummary", "expand_paths", "ingest_paths"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileFailure:
    """A file that could not be read to the end, and why."""

    path: str
    message: str


@dataclass
class IngestSummary:
    """Counts of one ingest run.

    ``posts`` counts parsed posts, embedded originals included (a retweet line gives two);
    ``stored + duplicates + collapsed == posts``.
    """

    files: int = 0
    posts: int = 0
    stored: int = 0
    duplicates: int = 0
    collapsed: int = 0
    reposts: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    failures: list[FileFailure] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Everything read: posts, skipped records and quarantined records."""
        return self.posts + self.skipped.total() + self.quarantined.total()

    @property
    def ok(self) -> bool:
        """True when every file was read to its end."""
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-able data."""
        return {
            "files": self.files,
            "read": self.read,
            "posts": self.posts,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "collapsed": self.collapsed,
            "reposts": self.reposts,
            "skipped": dict(sorted(self.skipped.items())),
            "quarantined": dict(sorted(self.quarantined.items())),
            "failures": [{"path": f.path, "message": f.message} for f in self.failures],
        }


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield the files named, walking directories in name order (hidden files are left out).

    Paths that do not exist are yielded as they are, so the reader reports them.
    """
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            yield path


def ingest_paths(
    *,
    paths: Sequence[Path],
    store: Store,
    options: ReadOptions,
    quarantine: QuarantineWriter,
    batch_size: int,
    collapse_window: timedelta,
    clock: Clock | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_batch: Callable[[AddResult], None] | None = None,
) -> IngestSummary:
    """Read every file under ``paths`` into ``store`` and return what happened.

    A malformed record is quarantined and counted; a file that cannot be read to its end is
    reported in ``failures`` and the run goes on with the next file. Posts read before the
    problem are stored: each batch is its own transaction.

    Parameters
    ----------
    on_progress
        Called with the number of records handled since the last call.
    on_batch
        Called after each stored batch (the pipeline annotates the posts it kept).
    """
    clock = clock or SystemClock()
    started = clock.now()
    summary = IngestSummary()
    batch: list[Post] = []

    def flush() -> None:
        if batch:
            result = store.add_posts(batch, collapse_window=collapse_window)
            summary.stored += result.stored
            summary.duplicates += result.duplicates
            summary.collapsed += result.collapsed
            batch.clear()
            if on_batch is not None:
                on_batch(result)

    for path in expand_paths(paths):
        summary.files += 1
        handled = 0
        try:
            if not path.exists():
                raise SourceNotFound(path)
            for item in read_file(path, options):
                handled += 1
                if isinstance(item, Post):
                    summary.posts += 1
                    summary.reposts += item.is_repost
                    batch.append(item)
                    if len(batch) >= batch_size:
                        flush()
                elif isinstance(item, Skipped):
                    summary.skipped[item.reason] += 1
                else:
                    _quarantine(item, summary, quarantine)
                if on_progress is not None and handled % 1000 == 0:
                    on_progress(1000)
        except InputError as exc:
            log.warning("%s", exc)
            summary.failures.append(FileFailure(exc.path, exc.message))
        flush()
        if on_progress is not None:
            on_progress(handled % 1000)
    store.record_ingest_run(
        IngestRun(
            started_at=started,
            finished_at=clock.now(),
            paths=[str(p) for p in paths],
            summary=summary.as_dict(),
        )
    )
    return summary


def _quarantine(item: Quarantined, summary: IngestSummary, writer: QuarantineWriter) -> None:
    summary.quarantined[item.reason] += 1
    writer.write(item)
    log.debug("quarantined %s:%d: %s %s", item.file, item.line, item.reason, item.detail)
