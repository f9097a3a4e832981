"""The serial end of an analysis: every partition's complaints, merged by time, are stored,
counted and detected on, exactly as ``Pipeline.replay`` does for a live stream.

Only what the partitions kept reaches the store (the posts flagged as complaints, with their
annotations), so this step is small next to reading and annotating, and its memory stays flat:
partitions are read back from their checkpoints a chunk at a time and merged lazily, at most
``_FAN_IN`` at once (more are first merged in groups into spill files, as an external sort
does), so neither the archive's size nor its number of files changes what is held.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from detector.analysis.partition import Candidate
from detector.pipeline import AnalyzeResult, DetectResult, Pipeline

__all__ = ["merge_candidates", "reduce_candidates"]

_BATCH = 2000
_FAN_IN = 32
_MINUTE = timedelta(minutes=1)


def merge_candidates(
    streams: Sequence[Iterable[Candidate]],
    spill: Callable[[str, Iterable[Candidate]], Iterable[Candidate]],
    *,
    fan_in: int = _FAN_IN,
) -> Iterator[Candidate]:
    """``streams`` (each oldest first) merged by time and id, reading at most ``fan_in`` of
    them at once: beyond that, groups of ``fan_in`` are merged into runs that ``spill`` writes
    to disk and streams back, until few enough remain."""
    if fan_in < 2:
        raise ValueError(f"fan_in must be at least 2, got {fan_in}")
    runs = list(streams)
    level = 0
    while len(runs) > fan_in:
        runs = [
            spill(f"merge-{level}-{number}", _merged(runs[first : first + fan_in]))
            for number, first in enumerate(range(0, len(runs), fan_in))
        ]
        level += 1
    return _merged(runs)


def reduce_candidates(
    pipeline: Pipeline,
    candidates: Iterable[Candidate],
    *,
    start: datetime | None,
    end: datetime | None,
) -> tuple[AnalyzeResult, DetectResult]:
    """Store, count and detect over ``candidates`` (oldest first, see ``merge_candidates``).

    Detection runs from ``start`` (the first post of the archive, stored or not) to ``end``
    (its last), after every batch as a replay does, so an incident that ended inside the
    archive is resolved.
    """
    total, detected = AnalyzeResult(), DetectResult()
    batch: list[Candidate] = []
    lateness = pipeline.settings.detect_lateness

    def flush() -> None:
        if not batch:
            return
        total.add(_record(pipeline, batch))
        watermark = batch[-1][0].created_at - lateness
        batch.clear()
        detected.add(pipeline.detect(until=watermark, start=start))

    for candidate in candidates:
        batch.append(candidate)
        if len(batch) >= _BATCH:
            flush()
    flush()
    if end is not None:
        detected.add(pipeline.detect(until=end + _MINUTE, start=start))
    return total, detected


def _merged(streams: Sequence[Iterable[Candidate]]) -> Iterator[Candidate]:
    return heapq.merge(*streams, key=lambda c: (c[0].created_at, c[0].id))


def _record(pipeline: Pipeline, batch: Sequence[Candidate]) -> AnalyzeResult:
    """Store a batch (duplicates across files and collapsed repeats drop out here) and record
    the annotations of what was kept."""
    store = pipeline.store
    added = store.add_posts(
        [post for post, _ in batch], collapse_window=pipeline.settings.collapse_window
    )
    notes = {post.id: note for post, note in batch}
    kept = list(added.kept)
    return pipeline.record(kept, [notes[post.id] for post in kept], stored=added.stored)
