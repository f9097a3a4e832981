"""The storage contract every backend fulfils (SQLite and PostgreSQL share ``SqlStore``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from detector.models import Post

__all__ = ["AddResult", "IngestRun", "SourceCount", "Store", "StoreStats"]


@dataclass(frozen=True, slots=True)
class AddResult:
    """What happened to a batch of posts handed to the store.

    ``duplicates`` were already stored under the same id; ``collapsed`` repeat the same
    author's same words within the collapse window and are not stored again. ``kept`` are the
    posts that were new (what the pipeline goes on to annotate).
    """

    stored: int = 0
    duplicates: int = 0
    collapsed: int = 0
    kept: tuple[Post, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class IngestRun:
    """The record of one ingest run, kept so ``stats`` can say what was loaded and refused."""

    started_at: datetime
    finished_at: datetime
    paths: Sequence[str]
    summary: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SourceCount:
    """Posts stored for one source."""

    source_kind: str
    source_name: str
    posts: int
    reposts: int
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class StoreStats:
    """A summary of what the store holds."""

    posts: int
    reposts: int
    authors: int
    first: datetime | None
    last: datetime | None
    sources: list[SourceCount] = field(default_factory=list)
    languages: list[tuple[str, int]] = field(default_factory=list)
    per_day: list[tuple[str, int]] = field(default_factory=list)
    busiest_hours: list[tuple[datetime, int]] = field(default_factory=list)
    runs: list[IngestRun] = field(default_factory=list)


class Store(Protocol):
    """Where posts (and later classifications, counts and incidents) are kept."""

    def add_posts(self, posts: Sequence[Post], *, collapse_window: timedelta) -> AddResult:
        """Store new posts in one transaction, skipping known ids and collapsing repeats."""
        ...

    def get_post(self, post_id: str) -> Post | None:
        """Return the stored post with this id, or None."""
        ...

    def get_posts(self, post_ids: Collection[str]) -> dict[str, Post]:
        """Return the stored posts among these ids, by id."""
        ...

    def count_posts(self) -> int:
        """Return how many posts are stored."""
        ...

    def record_ingest_run(self, run: IngestRun) -> None:
        """Remember one ingest run and its summary."""
        ...

    def stats(self, *, top: int = 10) -> StoreStats:
        """Summarise the stored posts (sources, languages, days, busiest hours, last runs)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
