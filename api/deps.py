"""What routes depend on, read from ``app.state`` (set up by ``create_app`` and its lifespan).

Tests swap any of them through ``app.dependency_overrides``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints

from detector.clock import Clock
from detector.config import Settings
from detector.nlp.analyzer import Analyzer
from detector.store.sql import SqlStore

__all__ = [
    "AnalyzerDep",
    "ClockDep",
    "SettingsDep",
    "StoreDep",
    "UtcDatetime",
    "Word",
    "get_analyzer",
    "get_clock",
    "get_settings",
    "get_store",
]


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> SqlStore:
    """The store the lifespan opened."""
    store: SqlStore = request.app.state.store
    return store


def get_analyzer(request: Request) -> Analyzer:
    """The analyzer the lifespan loaded."""
    analyzer: Analyzer = request.app.state.analyzer
    return analyzer


def get_clock(request: Request) -> Clock:
    """The app's clock (``SystemClock`` unless one was injected)."""
    clock: Clock = request.app.state.clock
    return clock


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[SqlStore, Depends(get_store)]
AnalyzerDep = Annotated[Analyzer, Depends(get_analyzer)]
ClockDep = Annotated[Clock, Depends(get_clock)]


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


def _rfc3339(value: object) -> object:
    # Pydantic would also take Unix timestamps and offset-less times; the API documents
    # RFC 3339 date-times, so it takes those only.
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2021-11-19T21:00:00Z")
    return value


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


#: A query time: must carry its offset (naive times are refused), converted to UTC.
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_utc)]
#: A short query string; NUL is refused here because PostgreSQL refuses it in text.
Word = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]
