"""The registry of record formats, in the order they are tried when sniffing content."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, tzinfo
from typing import Any

from detector.errors import ConfigError
from detector.ingest.base import RecordParser
from detector.ingest.bluesky import BlueskyParser
from detector.ingest.forum import DiscourseParser, ForumParser
from detector.ingest.generic import ColumnMapping, GenericParser
from detector.ingest.mastodon import MastodonParser
from detector.ingest.reddit import RedditParser
from detector.ingest.twitter_v1 import TwitterV1Parser
from detector.ingest.twitter_v2 import TwitterV2Parser

__all__ = ["FORMATS", "make_parser", "sniff_format"]

# Most specific first: a v2 response has `data`, v1.1 statuses have `user`, forum rows `forum`.
_SNIFF_ORDER: tuple[type[RecordParser], ...] = (
    BlueskyParser,
    MastodonParser,
    RedditParser,
    DiscourseParser,
    ForumParser,
    TwitterV1Parser,
    TwitterV2Parser,
)
_ALL: tuple[type[RecordParser], ...] = (*_SNIFF_ORDER, GenericParser)
FORMATS: dict[str, type[RecordParser]] = {parser.format: parser for parser in _ALL}


def sniff_format(records: Iterable[Any]) -> str | None:
    """Return the name of the first format that recognises one of ``records``, or None.

    Examples
    --------
    >>> sniff_format([{"subreddit": "teslamotors", "created_utc": 1637355792, "body": "down?"}])
    'reddit'
    """
    for record in records:
        if isinstance(record, list):
            record = next((item for item in record if isinstance(item, dict)), None)
        if not isinstance(record, Mapping):
            continue
        for parser in _SNIFF_ORDER:
            if parser.sniff(record):
                return parser.format
    return None


def make_parser(
    name: str,
    *,
    source_name: str | None = None,
    mapping: ColumnMapping | None = None,
    naive_tz: tzinfo = UTC,
) -> RecordParser:
    """Build the parser for format ``name``.

    Raises
    ------
    ConfigError
        For an unknown format, or ``generic`` without a column mapping.
    """
    if name not in FORMATS:
        raise ConfigError(f"unknown format {name!r}; known: {', '.join(sorted(FORMATS))}")
    if name == GenericParser.format:
        if mapping is None:
            raise ConfigError("format 'generic' needs a column mapping (--map or --mapping)")
        return GenericParser(mapping=mapping, source_name=source_name)
    return FORMATS[name](source_name=source_name, naive_tz=naive_tz)
