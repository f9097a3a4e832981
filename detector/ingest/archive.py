"""Open input files as binary streams, decompressing by content, not by file name."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import zstandard

from detector.errors import CorruptArchive, InputError, SourceNotFound

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["PARQUET_MAGIC", "compression_of", "open_input"]

PARQUET_MAGIC = b"PAR1"
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_BUFFER = 1 << 16
_DECODE_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError)


def compression_of(head: bytes) -> str | None:
    """Name the compression of a stream from its first bytes, or None when it is plain.

    Examples
    --------
    >>> compression_of(b"\\x1f\\x8b\\x08"), compression_of(b'{"id": 1}')
    ('gzip', None)
    """
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class _Guarded(io.RawIOBase):
    """Turns the decompressors' assorted exceptions into one ``CorruptArchive`` naming the file."""

    def __init__(self, inner: _Readable, path: Path, compression: str) -> None:
        super().__init__()
        self._inner = inner
        self._path = path
        self._compression = compression

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._inner.read(len(view))
        except _DECODE_ERRORS as exc:
            raise CorruptArchive(self._path, f"corrupt {self._compression} data: {exc}") from None
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _ZstdReader:
    """Decompresses concatenated zstd frames, and fails on a truncated one.

    ``ZstdDecompressor.stream_reader`` ends quietly when the input stops mid-frame, so a cut
    download would read as a shorter file; here a frame still open at end of input is an error.
    """

    _CHUNK = 1 << 15  # small input slices bound the output of one decompress call

    def __init__(self, raw: _Readable) -> None:
        # Pushshift dumps are written with --long=31, which needs the larger window.
        self._context = zstandard.ZstdDecompressor(max_window_size=2**31)
        self._raw = raw
        self._frame = self._context.decompressobj()
        self._in_frame = False
        self._pending = bytearray()
        self._done = False

    def read(self, size: int = -1, /) -> bytes:
        while not self._done and (size < 0 or len(self._pending) < size):
            chunk = self._raw.read(self._CHUNK)
            if not chunk:
                self._done = True
                if self._in_frame:
                    raise EOFError("zstd data ends in the middle of a frame (truncated file?)")
            while chunk:
                self._in_frame = True
                self._pending += self._frame.decompress(chunk)
                chunk = b""
                if self._frame.eof:
                    chunk = self._frame.unused_data
                    self._frame = self._context.decompressobj()
                    self._in_frame = False
        size = len(self._pending) if size < 0 else min(size, len(self._pending))
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data

    def close(self) -> None:
        self._raw.close()


@contextmanager
def open_input(path: Path) -> Iterator[io.BufferedReader]:
    """Open ``path`` for reading, transparently decompressing gzip, bzip2, xz and zstd.

    The result is buffered, so ``peek`` shows the first decompressed bytes for format detection.

    Raises
    ------
    SourceNotFound
        When the file does not exist.
    InputError
        When the file cannot be opened.
    CorruptArchive
        When the compressed data is damaged (possibly later, while reading).
    """
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise SourceNotFound(path) from None
    except OSError as exc:
        raise InputError(path, f"cannot open: {exc.strerror}") from None
    try:
        compression = compression_of(raw.read(8))
        raw.seek(0)
        inner: _Readable
        if compression == "gzip":
            inner = gzip.GzipFile(fileobj=raw, mode="rb")
        elif compression == "bzip2":
            inner = bz2.BZ2File(raw, mode="rb")
        elif compression == "xz":
            inner = lzma.LZMAFile(raw, mode="rb")
        elif compression == "zstd":
            inner = _ZstdReader(raw)
        else:
            inner = raw
        stream: io.BufferedReader = io.BufferedReader(
            _Guarded(inner, path, compression or "plain"), _BUFFER
        )
        yield stream
    finally:
        raw.close()
