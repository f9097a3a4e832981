"""Twitter API v2: responses with ``data`` + ``includes``, and JSON lines of (flattened) tweets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from html import unescape
from typing import Any

from detector.errors import RecordError
from detector.ingest.base import (
    RecordParser,
    Skipped,
    dict_at,
    optional_str,
    remaining,
    require_text,
)
from detector.ingest.timestamps import parse_timestamp
from detector.ingest.twitter_v1 import geojson_point, twitter_place
from detector.models import Post, SourceKind

__all__ = ["TwitterV2Parser"]

_CONSUMED = frozenset(
    {
        "id",
        "text",
        "created_at",
        "lang",
        "author_id",
        "author",
        "geo",
        "referenced_tweets",
        "note_tweet",
        "_place",
    }
)
_TWITTER_EPOCH_MS = 1288834974657
_REFERENCE_FIELDS = {"replied_to": "reply_to", "quoted": "quote_of", "retweeted": "repost_of"}


class TwitterV2Parser(RecordParser):
    """Parses v2 tweets, joining each to its author and place from ``includes``.

    Flattened tweets (twarc2 style, with ``author`` and ``geo.place`` inlined) need no join.
    """

    format = "twitter-v2"
    kind = SourceKind.TWITTER

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """A response has ``data`` plus ``includes``/``meta``; a tweet has ``id``, ``text``..."""
        if "data" in record and any(k in record for k in ("includes", "meta", "matching_rules")):
            return True
        data = record.get("data")
        if isinstance(data, list) and data:
            data = data[0]
        if isinstance(data, dict) and "data" not in data:  # a lookup without expansions
            return cls.sniff(data)
        return (
            "id" in record
            and "text" in record
            and "user" not in record
            and any(k in record for k in ("author_id", "edit_history_tweet_ids", "author"))
        )

    def expand(self, document: Any) -> Iterator[Any]:
        """Yield each tweet of a response (and the referenced tweets it includes), joined."""
        if isinstance(document, list):
            for item in document:
                yield from self.expand(item)
            return
        if not isinstance(document, dict) or "data" not in document:
            yield document
            return
        includes = dict_at(document, "includes")
        users = _by_id(includes.get("users"))
        places = _by_id(includes.get("places"))
        data = document["data"]
        tweets = data if isinstance(data, list) else [data]
        referenced = includes.get("tweets")
        if isinstance(referenced, list):
            tweets = [*tweets, *referenced]
        seen: set[str] = set()
        for tweet in tweets:
            if not isinstance(tweet, dict):
                yield tweet
                continue
            if "id" in tweet:  # a reply to a tweet of the same page is also in includes
                if str(tweet["id"]) in seen:
                    continue
                seen.add(str(tweet["id"]))
            joined = dict(tweet)
            author = users.get(str(tweet.get("author_id")))
            if author is not None:
                joined["author"] = author
            place = places.get(str(dict_at(tweet, "geo").get("place_id")))
            if place is not None:
                joined["_place"] = place
            yield joined

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the tweet, and the referenced tweets a flattened (twarc2) tweet inlines."""
        posts = [self._tweet(record)]
        references = record.get("referenced_tweets")
        for item in references if isinstance(references, list) else []:
            if isinstance(item, dict) and "text" in item and "created_at" in item:
                try:
                    posts.append(self._tweet(item))
                except ValueError:
                    pass  # a broken inlined copy must not cost us the tweet that carries it
        return posts

    def _tweet(self, record: Mapping[str, Any]) -> Post:
        native = optional_str(record.get("id"))
        if native is None:
            raise RecordError("missing_id", "tweet has no id", field="id")
        created = record.get("created_at") or _snowflake_time(native)
        if created is None:
            raise RecordError("missing_timestamp", "tweet has no created_at", field="created_at")
        note = dict_at(record, "note_tweet").get("text")
        text = require_text(note if isinstance(note, str) and note.strip() else record.get("text"))
        text = unescape(text)  # the API escapes &, < and > as HTML entities
        author = dict_at(record, "author")
        geo = dict_at(record, "geo")
        place = record.get("_place") or geo.get("place") or (geo if "full_name" in geo else None)
        handle = optional_str(author.get("username"))
        links = _references(record.get("referenced_tweets"))
        return Post(
            id=f"twitter:{native}",
            source_kind=SourceKind.TWITTER,
            source_name=self.source_name or "twitter",
            created_at=parse_timestamp(created, naive_tz=self.naive_tz),
            text=text,
            lang=None if record.get("lang") in (None, "und") else optional_str(record["lang"]),
            author_id=optional_str(record.get("author_id")) or optional_str(author.get("id")),
            author_handle=handle,
            author_location=optional_str(author.get("location")),
            coordinates=geojson_point(geo.get("coordinates")),
            place=twitter_place(place),
            url=f"https://twitter.com/{handle or 'i/web'}/status/{native}",
            extra=remaining(record, _CONSUMED),
            **links,
        )


def _snowflake_time(native: str) -> int | None:
    """Epoch milliseconds encoded in a Twitter id (ids since Nov 2010); None for older ids.

    Requested fields are optional in v2, so ``created_at`` is often left out of exports.

    Examples
    --------
    >>> _snowflake_time("1462079183914618882")
    1637421816219
    """
    if not native.isdigit() or int(native) < 1 << 32:
        return None
    return (int(native) >> 22) + _TWITTER_EPOCH_MS


def _by_id(items: object) -> dict[str, Mapping[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {str(item["id"]): item for item in items if isinstance(item, dict) and "id" in item}


def _references(items: object) -> dict[str, str]:
    links: dict[str, str] = {}
    if not isinstance(items, list):
        return links
    for item in items:
        if isinstance(item, dict):
            field = _REFERENCE_FIELDS.get(str(item.get("type")))
            native = optional_str(item.get("id"))
            if field and native:
                links[field] = f"twitter:{native}"
    return links
