"""One partition of an archive (one input file), read and annotated on its own.

Reading and annotating are nearly all of an analysis's work and need nothing from other files,
so partitions run anywhere: one after the other in this process, or in parallel on a Dask
cluster. What a partition keeps is small: its counts, and the posts the analyzer flags as
complaints (about 1-5% of a typical stream) with their annotations, in time order: nothing else
reaches the counts, the detector or the outputs, so nothing else is carried to the reduce. Counting
first reports and detecting then run once over all partitions' complaints merged by time
(``detector.analysis.reduce``), which is what makes every engine give the same result.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson
import zstandard

from detector.errors import InputError, SourceNotFound
from detector.ingest.base import Quarantined, Skipped
from detector.ingest.files import ReadOptions, read_file
from detector.models import Post
from detector.nlp.analyzer import Analyzer, Annotation

__all__ = [
    "Candidate",
    "Partition",
    "PartitionOptions",
    "PartitionResult",
    "partitions_of",
    "run_partition",
]

Candidate = tuple[Post, Annotation]
_BATCH = 2000
_RECENT_POSTS = 20_000  # how far back in a file a reply's parent is looked for


@dataclass(frozen=True, slots=True)
class PartitionOptions:
    """What decides a partition's result (and so its checkpoint): the time range, the
    services wanted (None: all), how files are read, and which model annotates."""

    since: datetime | None = None
    until: datetime | None = None
    services: frozenset[str] | None = None
    read: ReadOptions = field(default_factory=ReadOptions)
    model: str = ""

    def fingerprint(self) -> str:
        """A stable digest of the options, for checkpoint keys."""
        read = self.read
        mapping = read.mapping
        parts = [
            self.since.isoformat() if self.since else "",
            self.until.isoformat() if self.until else "",
            ",".join(sorted(self.services)) if self.services is not None else "*",
            read.format or "",
            read.source_name or "",
            repr(mapping) if mapping is not None else "",
            read.not_after.isoformat() if read.not_after else "",
            self.model,
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Partition:
    """An input file, its place in the run, and the key of its checkpoint (which changes when
    the file or the options change)."""

    index: int
    path: Path
    key: str
    size: int


@dataclass(slots=True)
class PartitionResult:
    """What one partition yields: counts for the summary, quarantined records (compressed
    JSON lines), and the flagged complaints with their annotations, oldest first."""

    index: int
    path: str
    posts: int = 0
    in_range: int = 0
    reposts: int = 0
    outage_posts: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    quarantine: bytes = b""
    failure: str | None = None
    first: datetime | None = None
    last: datetime | None = None
    candidates: list[Candidate] = field(default_factory=list)


def partitions_of(paths: Sequence[Path], options: PartitionOptions) -> list[Partition]:
    """One partition per file (folders walked in name order), keyed by the file's path, size
    and modification time and by the options."""
    from detector.ingest.service import expand_paths

    found: list[Partition] = []
    for index, path in enumerate(expand_paths(paths)):
        try:
            stat = path.stat()
            size, stamp = stat.st_size, stat.st_mtime_ns
        except OSError:  # missing: the partition reports it when it runs
            size, stamp = 0, 0
        identity = f"{path.resolve()}\x1f{size}\x1f{stamp}\x1f{options.fingerprint()}"
        key = hashlib.sha256(identity.encode()).hexdigest()[:24]
        found.append(Partition(index, path, key, size))
    return found


@functools.cache
def _analyzer() -> Analyzer:
    """The analyzer of this process, loaded on first use (once per Dask worker process)."""
    return Analyzer.load()


def run_partition(
    partition: Partition,
    options: PartitionOptions,
    analyzer: Analyzer | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> PartitionResult:
    """Read and annotate one partition; a malformed record is quarantined and counted, a file
    that cannot be read to its end is reported in ``failure`` (what was read is kept).

    ``progress`` is told how many records were read, batch by batch.
    """
    analyzer = analyzer or _analyzer()
    result = PartitionResult(partition.index, str(partition.path))
    quarantine = io.BytesIO()
    recent: OrderedDict[str, Post] = OrderedDict()
    batch: list[Post] = []
    read_before = 0

    def annotate() -> None:
        nonlocal read_before
        if progress is not None:
            read = result.posts + result.skipped.total() + result.quarantined.total()
            progress(read - read_before)
            read_before = read
        if not batch:
            return
        notes = analyzer.annotate(batch, parents=lambda ids: _known(recent, ids))
        for post, note in zip(batch, notes, strict=True):
            if note.is_outage:
                result.outage_posts += 1
                if _wanted(note, options):
                    result.candidates.append((post, note))
        for post in batch:
            recent[post.id] = post
            if len(recent) > _RECENT_POSTS:
                recent.popitem(last=False)
        batch.clear()

    try:
        for item in _items(partition.path, options.read):
            if isinstance(item, Post):
                result.posts += 1
                if not _in_range(item.created_at, options):
                    continue
                result.in_range += 1
                result.reposts += item.is_repost
                result.first = min(result.first or item.created_at, item.created_at)
                result.last = max(result.last or item.created_at, item.created_at)
                batch.append(item)
                if len(batch) >= _BATCH:
                    annotate()
            elif isinstance(item, Skipped):
                result.skipped[item.reason] += 1
            else:
                result.quarantined[item.reason] += 1
                quarantine.write(orjson.dumps(item.as_dict()) + b"\n")
    except InputError as exc:
        result.failure = exc.message
    annotate()
    result.candidates.sort(key=lambda c: (c[0].created_at, c[0].id))
    if quarantine.tell():
        result.quarantine = zstandard.ZstdCompressor().compress(quarantine.getvalue())
    return result


def _items(path: Path, options: ReadOptions) -> Iterator[Post | Skipped | Quarantined]:
    if not path.exists():
        raise SourceNotFound(path)
    yield from read_file(path, options)


def _in_range(at: datetime, options: PartitionOptions) -> bool:
    return (options.since is None or at >= options.since) and (
        options.until is None or at < options.until
    )


def _wanted(note: Annotation, options: PartitionOptions) -> bool:
    if options.services is None:
        return True
    return any(m.slug in options.services for m in note.services)


def _known(recent: OrderedDict[str, Post], ids: Collection[str]) -> dict[str, Post]:
    return {i: recent[i] for i in ids if i in recent}
