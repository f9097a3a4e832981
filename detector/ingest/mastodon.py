"""Mastodon statuses as returned by the REST and streaming APIs (HTML content)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from detector.errors import RecordError
from detector.ingest.base import (
    RecordParser,
    Skipped,
    dict_at,
    optional_str,
    remaining,
    require_text,
)
from detector.ingest.text import html_to_text
from detector.ingest.timestamps import parse_timestamp
from detector.models import Post, SourceKind

__all__ = ["MastodonParser"]

_CONSUMED = frozenset(
    {
        "id",
        "uri",
        "url",
        "created_at",
        "content",
        "language",
        "account",
        "reblog",
        "spoiler_text",
    }
)


class MastodonParser(RecordParser):
    """Parses statuses; a boost becomes a repost linked to the boosted status, which is kept too.

    Ids use the status URI, which is the same on every instance, so one status fetched through
    two instances is stored once.
    """

    format = "mastodon"
    kind = SourceKind.MASTODON

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """Statuses have HTML ``content`` and an ``account`` object."""
        return "content" in record and isinstance(record.get("account"), dict)

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the status, and the boosted original when it is a boost."""
        boosted = record.get("reblog")
        if isinstance(boosted, dict):
            original = self._status(boosted, None)
            return [self._status(record, original), original]
        return [self._status(record, None)]

    def _status(self, record: Mapping[str, Any], boosted: Post | None) -> Post:
        uri = optional_str(record.get("uri")) or optional_str(record.get("url"))
        if uri is None:
            raise RecordError("missing_id", "status has no uri", field="uri")
        if "created_at" not in record:
            raise RecordError("missing_timestamp", "status has no created_at", field="created_at")
        account = dict_at(record, "account")
        instance = urlsplit(uri).hostname or "mastodon"
        acct = optional_str(account.get("acct"))
        if acct and "@" not in acct:
            acct = f"{acct}@{instance}"
        if boosted is not None:
            text = boosted.text
        else:
            text = require_text(html_to_text(str(record.get("content") or "")), field="content")
        return Post(
            id=f"mastodon:{uri}",
            source_kind=SourceKind.MASTODON,
            source_name=self.source_name or instance,
            created_at=parse_timestamp(record["created_at"], naive_tz=self.naive_tz),
            text=text,
            lang=optional_str(record.get("language")),
            author_id=optional_str(account.get("url")) or acct,
            author_handle=acct,
            url=optional_str(record.get("url")) or uri,
            title=optional_str(record.get("spoiler_text")),
            repost_of=boosted.id if boosted is not None else None,
            extra=remaining(record, _CONSUMED),
        )
