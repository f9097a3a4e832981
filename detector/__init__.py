"""outage-radar: find service outages from what people post.

The library works without the API: read posts (``read_file``), store them (``SqlStore``),
and ingest whole archives (``ingest_paths``).
"""

from __future__ import annotations

from detector.clock import Clock, FixedClock, SystemClock
from detector.config import Settings, get_settings
from detector.errors import (
    ConfigError,
    CorruptArchive,
    DetectorError,
    InputError,
    RecordError,
    SourceNotFound,
    StoreError,
    UnknownFormat,
    UnknownService,
)
from detector.ingest.files import ReadOptions, read_file
from detector.ingest.generic import ColumnMapping
from detector.ingest.service import IngestSummary, ingest_paths
from detector.models import GeoPoint, Place, Post, SourceKind
from detector.store.sql import SqlStore

__all__ = [
    "Clock",
    "ColumnMapping",
    "ConfigError",
    "CorruptArchive",
    "DetectorError",
    "FixedClock",
    "GeoPoint",
    "IngestSummary",
    "InputError",
    "Place",
    "Post",
    "ReadOptions",
    "RecordError",
    "Settings",
    "SourceKind",
    "SourceNotFound",
    "SqlStore",
    "StoreError",
    "SystemClock",
    "UnknownFormat",
    "UnknownService",
    "get_settings",
    "ingest_paths",
    "read_file",
]
