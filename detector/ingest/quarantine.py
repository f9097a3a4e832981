"""The quarantine: malformed records appended to a JSON lines file, with where and why."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import IO

import orjson

from detector.ingest.base import Quarantined

__all__ = ["QuarantineWriter"]


class QuarantineWriter:
    """Appends quarantined records to ``path``; the file is only created when one arrives.

    Use it as a context manager so the file is closed at the end of the run.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.written = 0
        self._file: IO[bytes] | None = None

    def write(self, item: Quarantined) -> None:
        """Append one record (a no-op when the writer has no path)."""
        if self.path is None:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
        self._file.write(orjson.dumps(item.as_dict()) + b"\n")
        self.written += 1

    def close(self) -> None:
        """Flush and close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> QuarantineWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
