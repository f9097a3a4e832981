"""Partition results kept on disk, so an interrupted analysis resumes where it stopped.

Each finished partition is written to ``<checkpoint>/<key>.part`` (a zstd stream of pickled
frames: the counts first, then the candidates in chunks, so reading them back streams), by
writing a temporary file and renaming it: a partition is either wholly there or not at all.
The key changes with the input file (path, size, modification time) and the analysis
options, so a changed file or option is never answered from an old checkpoint. The folder is
the analysis's own working space, written and read only by outage-radar: pickle is used for
speed, so do not load checkpoints from elsewhere.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import IO, Any

import zstandard

from detector.analysis.partition import Candidate, Partition, PartitionResult

__all__ = ["Checkpoint"]

_FORMAT = 1
# Candidates per frame. The reduce holds one frame of every partition at once while it merges
# them (a 5,000-candidate frame is ~14 MB of objects), so frames are kept small.
_CHUNK = 500


class Checkpoint:
    """The finished partitions of one analysis, in folder ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, partition: Partition) -> Path:
        """Where ``partition``'s result is kept."""
        return self.root / f"{partition.key}.part"

    def done(self, partition: Partition) -> bool:
        """Whether ``partition`` finished in an earlier (or this) run."""
        return self.path(partition).exists()

    def save(self, partition: Partition, result: PartitionResult) -> None:
        """Keep ``result`` (atomically: a crash mid-write leaves no partial checkpoint)."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.path(partition)
        temporary = final.with_suffix(f".tmp{os.getpid()}")
        _write(temporary, replace(result, candidates=[]), result.candidates)
        temporary.replace(final)

    def header(self, partition: Partition) -> PartitionResult:
        """The partition's counts (without its candidates)."""
        with self._frames(partition) as frames:
            header = _header(next(frames))
        if header is None:
            raise ValueError(f"{self.path(partition)} is a spill file, not a partition")
        return header

    def candidates(self, partition: Partition) -> Iterator[Candidate]:
        """The partition's candidates, oldest first, read a chunk at a time."""
        return _candidates(self.path(partition))

    def spill(self, name: str, candidates: Iterable[Candidate]) -> Iterator[Candidate]:
        """Write ``candidates`` (a merged run, oldest first) to a spill file in the folder and
        return a stream reading them back a chunk at a time, deleting the file at its end."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{name}.spill"
        _write(path, None, candidates)
        return _candidates(path, delete=True)

    def clear(self) -> None:
        """Delete every kept partition (after a finished run)."""
        if not self.root.exists():
            return
        for path in self.root.iterdir():
            if path.suffix in (".part", ".spill") or ".tmp" in path.suffix:
                path.unlink()
        if not any(self.root.iterdir()):
            self.root.rmdir()

    def _frames(self, partition: Partition) -> _Frames:
        return _Frames(self.path(partition))


class _Frames:
    """The pickled frames of one checkpoint file, as a context-managed iterator."""

    def __init__(self, path: Path) -> None:
        self._file: IO[bytes] = path.open("rb")
        self._reader = zstandard.ZstdDecompressor().stream_reader(self._file)

    def __enter__(self) -> Iterator[Any]:
        return self._iterate()

    def __exit__(self, *_exc: object) -> None:
        self._reader.close()  # type: ignore[no-untyped-call]
        self._file.close()

    def _iterate(self) -> Iterator[Any]:
        while True:
            try:
                yield pickle.load(self._reader)  # our own files (see the module docstring)
            except EOFError:
                return


def _write(path: Path, header: PartitionResult | None, candidates: Iterable[Candidate]) -> None:
    """Write a header frame, then ``candidates`` in frames of ``_CHUNK``, durably."""
    with path.open("wb") as raw:
        with zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False) as out:
            _dump(out, {"format": _FORMAT, "header": header})
            items = iter(candidates)
            while chunk := list(islice(items, _CHUNK)):
                _dump(out, chunk)
        raw.flush()
        os.fsync(raw.fileno())


def _candidates(path: Path, *, delete: bool = False) -> Iterator[Candidate]:
    with _Frames(path) as frames:
        _header(next(frames))
        for chunk in frames:
            yield from chunk
    if delete:
        path.unlink()


def _dump(out: IO[bytes], value: object) -> None:
    pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)


def _header(frame: Any) -> PartitionResult | None:
    if not isinstance(frame, dict) or frame.get("format") != _FORMAT:
        raise ValueError("not a checkpoint of this version of outage-radar")
    header: PartitionResult | None = frame["header"]
    return header
