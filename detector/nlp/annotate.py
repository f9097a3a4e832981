"""Annotate files of posts into JSON lines: one analyzer record per post."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from detector.errors import InputError, SourceNotFound
from detector.ingest.base import Quarantined, Skipped
from detector.ingest.files import ReadOptions, read_file
from detector.ingest.quarantine import QuarantineWriter
from detector.ingest.service import FileFailure, expand_paths
from detector.models import Post
from detector.nlp.analyzer import Analyzer

__all__ = ["AnnotateSummary", "annotate_paths"]


@dataclass
class AnnotateSummary:
    """Counts of one annotation run."""

    posts: int = 0
    outages: int = 0
    skipped: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    failures: list[FileFailure] = field(default_factory=list)


def annotate_paths(
    *,
    paths: Sequence[Path],
    options: ReadOptions,
    analyzer: Analyzer,
    out: IO[bytes],
    quarantine: QuarantineWriter,
    batch_size: int = 2000,
    on_progress: Callable[[int], None] | None = None,
) -> AnnotateSummary:
    """Annotate every post under ``paths`` and write one JSON object per post to ``out``.

    Malformed records are quarantined and a file that cannot be read is reported, as in
    ingestion; reposts are annotated like any post (their ``repost_of`` is not followed).
    """
    summary = AnnotateSummary()
    batch: list[Post] = []

    def flush() -> None:
        for annotation in analyzer.annotate(batch):
            out.write(orjson.dumps(annotation.as_dict()) + b"\n")
            summary.outages += annotation.is_outage
        if on_progress is not None:
            on_progress(len(batch))
        batch.clear()

    for path in expand_paths(paths):
        try:
            if not path.exists():
                raise SourceNotFound(path)
            for item in read_file(path, options):
                if isinstance(item, Post):
                    summary.posts += 1
                    batch.append(item)
                    if len(batch) >= batch_size:
                        flush()
                elif isinstance(item, Skipped):
                    summary.skipped += 1
                elif isinstance(item, Quarantined):
                    summary.quarantined[item.reason] += 1
                    quarantine.write(item)
        except InputError as exc:
            summary.failures.append(FileFailure(exc.path, exc.message))
        flush()
    return summary
