"""Errors raised by the outage-radar library.

Every error derives from one root so callers (the CLI, the API) can catch the library's failures
without catching programming mistakes. The API maps these to HTTP codes in ``api/problems.py``;
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
    ├── UnknownService (LookupError)      no such service in the catalog
    ├── QueryError (ValueError)           a read query's parameter is invalid (cursor, range)
    ├── FeedError                         a polled feed cannot be fetched now
    └── AlertError                        an alert cannot be addressed, signed or verified
        ├── InvalidWebhook (ValueError)    a webhook field is not acceptable (names the field)
        ├── UnsafeURLError (ValueError)    webhook URL refused (scheme, credentials, address)
        ├── HostResolutionError (OSError)  webhook host does not resolve (may be transient)
        └── WebhookVerificationError (ValueError)  headers or signature do not check out
            └── WebhookTimestampError      signed, but outside the replay window
"""

from __future__ import annotations

from datetime import datetime, timedelta
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


class FeedError(DetectorError):
    """A polled feed cannot be fetched now (named in the message); polled again later."""


class AlertError(DetectorError):
    """An alert cannot be addressed, signed or verified."""


class InvalidWebhook(AlertError, ValueError):
    """A webhook endpoint field is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class UnsafeURLError(AlertError, ValueError):
    """A webhook URL is refused: not http(s), carries credentials, or reaches an address
    inside our own network (SSRF). ``address`` is the offending IP when there is one."""

    def __init__(self, url: str, reason: str, *, address: str | None = None) -> None:
        self.url = url
        self.reason = reason
        self.address = address
        super().__init__(f"{url}: {reason}")


class HostResolutionError(AlertError, OSError):
    """The host of a webhook URL does not resolve; DNS failures are often transient."""

    def __init__(self, url: str, host: str, detail: str) -> None:
        self.url = url
        self.host = host
        super().__init__(f"{url}: cannot resolve {host!r}: {detail}")


class WebhookVerificationError(AlertError, ValueError):
    """A received webhook's headers or signature do not check out."""


class WebhookTimestampError(WebhookVerificationError):
    """The signature is valid but ``webhook-timestamp`` is outside the tolerance: a replay,
    or a sender whose clock is off."""

    def __init__(self, timestamp: datetime, now: datetime, tolerance: timedelta) -> None:
        self.timestamp = timestamp
        self.now = now
        self.tolerance = tolerance
        offset = (timestamp - now).total_seconds()
        side = "ahead of" if offset > 0 else "behind"
        super().__init__(
            f"webhook timestamp {timestamp.isoformat()} is {abs(offset):.0f} s {side} "
            f"now ({now.isoformat()}); tolerance is {tolerance.total_seconds():.0f} s"
        )


class QueryError(DetectorError, ValueError):
    """A read query cannot run as asked: a damaged cursor, a range too long. ``param`` names
    the parameter at fault (the API reports it as a field error)."""

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        self.message = message
        super().__init__(f"{param}: {message}")
