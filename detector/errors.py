"""Errors raised by the outage-radar library.

Every error derives from one root so callers (the CLI, the API) can catch the library's failures
without catching programming mistakes. The API maps these to HTTP codes in ``api/errors.py``;
nothing in ``detector/`` knows about HTTP.

::

    DetectorError
    ├── ConfigError (ValueError)          invalid settings or column mapping
    ├── InputError                        a whole input file cannot be read
    │   ├── SourceNotFound (FileNotFoundError)
    │   ├── CorruptArchive                 compressed stream is damaged
    │   ├── UnknownFormat (ValueError)     content matches no reader
    │   └── InvalidSeries (ValueError)     a count series is out of order or irregular
    ├── RecordError (ValueError)          one record is malformed (quarantined, never fatal)
    ├── StoreError                        the database cannot be opened or written
    ├── ModelError                        a trained model cannot be used
    │   └── ModelNotFound (FileNotFoundError)
    └── UnknownService (LookupError)      no such service in the catalog
"""

from __future__ import annotations

from pathlib import Path


class DetectorError(Exception):
    """Root of every error the library raises on purpose."""


class ConfigError(DetectorError, ValueError):
    """Settings or a column mapping are invalid."""


class InputError(DetectorError):
    """A whole input file cannot be read; carries the file it is about."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class SourceNotFound(InputError, FileNotFoundError):
    """The input path does not exist or is not readable."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, "no such file or directory")


class CorruptArchive(InputError):
    """A compressed input is damaged or truncated."""


class UnknownFormat(InputError, ValueError):
    """The content of a file matches none of the readers."""


class InvalidSeries(InputError, ValueError):
    """A count series cannot be scored as a whole (no usable header, rows out of time order,
    an irregular step); names the line and field at fault when there is one."""

    def __init__(
        self, path: Path | str, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.line = line
        self.field = field
        where = [f"line {line}"] if line is not None else []
        where += [f"field {field!r}"] if field else []
        super().__init__(path, ": ".join([", ".join(where), message]) if where else message)


class RecordError(DetectorError, ValueError):
    """One record cannot be turned into a post.

    ``reason`` is a short stable code used to count quarantined records
    (``invalid_json``, ``missing_text``, ``bad_timestamp``...), ``detail`` says what was wrong.
    """

    def __init__(self, reason: str, detail: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.field = field
        where = f" (field {field!r})" if field else ""
        super().__init__(f"{reason}{where}: {detail}")


class StoreError(DetectorError):
    """The store cannot be opened, migrated or written."""


class UnknownService(DetectorError, LookupError):
    """No service in the catalog has this slug."""

    def __init__(self, slug: str, catalog: str) -> None:
        self.slug = slug
        super().__init__(f"no service with slug {slug!r} in {catalog}")


class ModelError(DetectorError):
    """A trained model cannot be loaded or used (damaged, or written by another version)."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class ModelNotFound(ModelError, FileNotFoundError):
    """No trained model where one was expected."""

    def __init__(self, path: Path | str, hint: str = "train one with `outage-radar train`") -> None:
        super().__init__(path, f"no trained model here; {hint}")
