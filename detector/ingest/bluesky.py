"""Bluesky ``app.bsky.feed.post`` records: Jetstream events and AppView post views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from detector.errors import RecordError
from detector.ingest.base import RecordParser, Skipped, dict_at, optional_str, require_text
from detector.ingest.timestamps import parse_timestamp
from detector.models import Post, SourceKind

__all__ = ["BlueskyParser"]

_POST = "app.bsky.feed.post"


class BlueskyParser(RecordParser):
    """Parses Jetstream commit events (``kind: commit``) and post views (``uri`` + ``record``).

    Only created posts carry text; deletes, likes, reposts and identity events are skipped.
    """

    format = "bluesky"
    kind = SourceKind.BLUESKY

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """Jetstream events have ``did`` and ``time_us``; post views an ``at://`` uri."""
        if "did" in record and ("time_us" in record or "commit" in record):
            return True
        return str(record.get("uri", "")).startswith("at://") and "record" in record

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the post of a create commit or a post view."""
        if "did" in record:
            return self._jetstream(record)
        uri = str(record["uri"])
        author = dict_at(record, "author")
        fallback = record.get("indexedAt")
        return [self._post(uri, dict_at(record, "record"), author, fallback, record)]

    def _jetstream(self, event: Mapping[str, Any]) -> list[Post] | Skipped:
        kind = event.get("kind")
        if kind != "commit":
            return Skipped(f"{kind or 'unknown'}_event")
        commit = dict_at(event, "commit")
        collection = commit.get("collection")
        if collection != _POST:
            return Skipped("not_a_post")
        operation = commit.get("operation")
        if operation not in ("create", "update"):
            return Skipped(f"{operation}_operation")
        did, rkey = optional_str(event.get("did")), optional_str(commit.get("rkey"))
        if did is None or rkey is None:
            raise RecordError("missing_id", "commit has no did or rkey", field="commit.rkey")
        uri = f"at://{did}/{_POST}/{rkey}"
        fallback = event.get("time_us")
        return [self._post(uri, dict_at(commit, "record"), {"did": did}, fallback, event)]

    def _post(
        self,
        uri: str,
        body: Mapping[str, Any],
        author: Mapping[str, Any],
        fallback_time: object,
        envelope: Mapping[str, Any],
    ) -> Post:
        created = body.get("createdAt", fallback_time)
        if created is None:
            raise RecordError("missing_timestamp", "post has no createdAt", field="createdAt")
        did = optional_str(author.get("did")) or uri[5:].split("/", 1)[0]
        rkey = uri.rsplit("/", 1)[-1]
        langs = body.get("langs")
        parent = dict_at(dict_at(body, "reply"), "parent").get("uri")
        extra = {k: v for k, v in body.items() if k not in ("text", "createdAt", "langs")}
        extra.update({k: v for k, v in envelope.items() if k not in ("commit", "record", "author")})
        return Post(
            id=f"bluesky:{uri}",
            source_kind=SourceKind.BLUESKY,
            source_name=self.source_name or "bluesky",
            created_at=parse_timestamp(created, naive_tz=self.naive_tz, field="createdAt"),
            text=require_text(body.get("text"), field="record.text"),
            lang=optional_str(langs[0]) if isinstance(langs, list) and langs else None,
            author_id=did,
            author_handle=optional_str(author.get("handle")),
            url=f"https://bsky.app/profile/{did}/post/{rkey}",
            reply_to=f"bluesky:{parent}" if isinstance(parent, str) else None,
            quote_of=_quoted_uri(dict_at(body, "embed")),
            extra=extra,
        )


def _quoted_uri(embed: Mapping[str, Any]) -> str | None:
    record = dict_at(embed, "record")
    if "record" in record:  # app.bsky.embed.recordWithMedia nests the quoted record once more
        record = dict_at(record, "record")
    uri = record.get("uri")
    return f"bluesky:{uri}" if isinstance(uri, str) and _POST in uri else None
