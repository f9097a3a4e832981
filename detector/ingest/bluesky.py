"""Bluesky ``app.bsky.feed.post`` records: Jetstream events and AppView post views."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from detector.errors import RecordError
from detector.ingest.base import RecordParser, Skipped, dict_at, optional_str, require_text
from detector.ingest.timestamps import parse_timestamp
from detector.models import Post, SourceKind

__all__ = ["BlueskyParser"]

_POST = "app.bsky.feed.post"
_EVENT_KINDS = frozenset({"identity", "account"})


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
        views = _views(record)
        if views:
            return isinstance(views[0], dict) and cls.sniff(views[0])
        return str(record.get("uri", "")).startswith("at://") and "record" in record

    def expand(self, document: Any) -> Iterator[Any]:
        """Yield the post views of AppView responses (``searchPosts``, ``getAuthorFeed``...)."""
        if isinstance(document, list):
            for item in document:
                yield from self.expand(item)
        elif isinstance(document, dict) and _views(document):
            yield from _views(document)
        else:
            yield document

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the post of a create commit, or of a post view with the post it quotes."""
        if "did" in record:
            return self._jetstream(record)
        uri = optional_str(record.get("uri"))
        if uri is None:
            raise RecordError("missing_id", "post view has no uri", field="uri")
        author = dict_at(record, "author")
        fallback = record.get("indexedAt")
        posts = [self._post(uri, dict_at(record, "record"), author, fallback, record)]
        quoted = _quoted_view(dict_at(record, "embed"))
        if quoted is not None:
            try:
                posts.append(
                    self._post(
                        str(quoted["uri"]),
                        dict_at(quoted, "value"),
                        dict_at(quoted, "author"),
                        quoted.get("indexedAt"),
                        {},
                    )
                )
            except ValueError:
                pass  # a broken quoted copy must not cost us the post that quotes it
        return posts

    def _jetstream(self, event: Mapping[str, Any]) -> list[Post] | Skipped:
        kind = event.get("kind")
        if kind != "commit":
            # Reasons are counted: only known kinds name their own, anything else is "unknown".
            known = isinstance(kind, str) and kind in _EVENT_KINDS
            return Skipped(f"{kind}_event" if known else "unknown_event")
        commit = dict_at(event, "commit")
        collection = commit.get("collection")
        if collection != _POST:
            return Skipped("not_a_post")
        operation = commit.get("operation")
        if operation not in ("create", "update"):
            return Skipped("delete_operation" if operation == "delete" else "unknown_operation")
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


def _views(document: Mapping[str, Any]) -> list[Any]:
    """The post views of an AppView response: ``posts`` (search) or ``feed[].post`` (feeds)."""
    posts = document.get("posts")
    if isinstance(posts, list) and "uri" not in document:
        return posts
    feed = document.get("feed")
    if isinstance(feed, list) and "uri" not in document:
        return [item.get("post") if isinstance(item, dict) else item for item in feed]
    return []


def _quoted_view(embed: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``#viewRecord`` of a quoted post in a post view's embed, when it is a post."""
    record = dict_at(embed, "record")
    if str(embed.get("$type", "")).startswith("app.bsky.embed.recordWithMedia"):
        record = dict_at(record, "record")
    value = dict_at(record, "value")
    if isinstance(record.get("uri"), str) and value.get("$type") == _POST:
        return record
    return None


def _quoted_uri(embed: Mapping[str, Any]) -> str | None:
    record = dict_at(embed, "record")
    if "record" in record:  # app.bsky.embed.recordWithMedia nests the quoted record once more
        record = dict_at(record, "record")
    uri = record.get("uri")
    return f"bluesky:{uri}" if isinstance(uri, str) and _POST in uri else None
