"""Twitter API v1.1 statuses, as found in archived streaming dumps (one JSON object per line)."""

from __future__ import annotations

from collections.abc import Mapping
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
from detector.models import GeoPoint, Place, Post, SourceKind

__all__ = ["TwitterV1Parser", "geojson_point", "twitter_place"]

# Stream messages that are not statuses; the v1.1 streaming docs list these envelopes.
_NOTICES = (
    "delete",
    "limit",
    "scrub_geo",
    "status_withheld",
    "user_withheld",
    "disconnect",
    "warning",
    "friends",
    "event",
    "status_deletion",
)
_CONSUMED = frozenset(
    {
        "id",
        "id_str",
        "created_at",
        "text",
        "full_text",
        "extended_tweet",
        "lang",
        "user",
        "coordinates",
        "place",
        "in_reply_to_status_id",
        "in_reply_to_status_id_str",
        "quoted_status_id",
        "quoted_status_id_str",
        "quoted_status",
        "retweeted_status",
        "geo",
    }
)
# How a profile looks (colours, avatar and banner URLs) is repeated in every status and says
# nothing about the post; it is most of a status's bytes, so it is not kept.
_PROFILE_LOOKS = frozenset(
    {
        "profile_background_color",
        "profile_background_image_url",
        "profile_background_image_url_https",
        "profile_background_tile",
        "profile_banner_url",
        "profile_image_url",
        "profile_image_url_https",
        "profile_link_color",
        "profile_sidebar_border_color",
        "profile_sidebar_fill_color",
        "profile_text_color",
        "profile_use_background_image",
        "default_profile",
        "default_profile_image",
    }
)
_USER_CONSUMED = frozenset({"id", "id_str", "screen_name", "location"}) | _PROFILE_LOOKS


class TwitterV1Parser(RecordParser):
    """Parses v1.1 statuses; retweeted and quoted originals become posts of their own."""

    format = "twitter-v1"
    kind = SourceKind.TWITTER

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """Statuses carry ``user`` and ``id_str``; notices are single-key envelopes."""
        if "user" in record and ("id_str" in record or "full_text" in record):
            return True
        return len(record) == 1 and next(iter(record)) in _NOTICES

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the status and any embedded original it retweets or quotes."""
        if "user" not in record and "text" not in record and "full_text" not in record:
            for key in _NOTICES:
                if key in record:
                    return Skipped(f"{key}_notice")
        posts = [self._status(record)]
        for key in ("retweeted_status", "quoted_status"):
            embedded = record.get(key)
            if isinstance(embedded, dict):
                try:
                    posts.append(self._status(embedded))
                except (RecordError, ValueError):
                    # A broken embedded copy must not cost us the status that carries it.
                    pass
        return posts

    def _status(self, record: Mapping[str, Any]) -> Post:
        native = optional_str(record.get("id_str")) or optional_str(record.get("id"))
        if native is None:
            raise RecordError("missing_id", "status has no id_str or id", field="id_str")
        user = dict_at(record, "user")
        handle = optional_str(user.get("screen_name"))
        retweeted = dict_at(record, "retweeted_status")
        quoted_id = optional_str(record.get("quoted_status_id_str")) or optional_str(
            dict_at(record, "quoted_status").get("id_str")
        )
        reply_id = optional_str(record.get("in_reply_to_status_id_str")) or optional_str(
            record.get("in_reply_to_status_id")
        )
        repost_id = optional_str(retweeted.get("id_str")) or optional_str(retweeted.get("id"))
        created = record.get("created_at")
        if created is None:
            raise RecordError("missing_timestamp", "status has no created_at", field="created_at")
        extra = remaining(record, _CONSUMED)
        user_extra = remaining(user, _USER_CONSUMED)
        if user_extra:
            extra["user"] = user_extra
        return Post(
            id=f"twitter:{native}",
            source_kind=SourceKind.TWITTER,
            source_name=self.source_name or "twitter",
            created_at=parse_timestamp(created, naive_tz=self.naive_tz),
            text=_full_text(record, retweeted),
            lang=_lang(record.get("lang")),
            author_id=optional_str(user.get("id_str")) or optional_str(user.get("id")),
            author_handle=handle,
            author_location=optional_str(user.get("location")),
            coordinates=geojson_point(record.get("coordinates")),
            place=twitter_place(record.get("place")),
            url=f"https://twitter.com/{handle or 'i/web'}/status/{native}",
            reply_to=f"twitter:{reply_id}" if reply_id else None,
            quote_of=f"twitter:{quoted_id}" if quoted_id else None,
            repost_of=f"twitter:{repost_id}" if repost_id else None,
            extra=extra,
        )


def _full_text(record: Mapping[str, Any], retweeted: Mapping[str, Any]) -> str:
    if retweeted:
        # A retweet's own text is cut at 140 characters; rebuild it from the original.
        original = _own_text(retweeted)
        author = optional_str(dict_at(retweeted, "user").get("screen_name"))
        if original and author:
            return f"RT @{author}: {original}"
    return require_text(_own_text(record))


def _own_text(record: Mapping[str, Any]) -> str | None:
    extended = record.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        text: object = extended["full_text"]
    else:
        text = record.get("full_text") or record.get("text")
    # The API escapes &, < and > in tweet text as HTML entities.
    return unescape(text) if isinstance(text, str) and text.strip() else None


def _lang(value: object) -> str | None:
    lang = optional_str(value)
    return None if lang in (None, "und") else lang


def geojson_point(value: object) -> GeoPoint | None:
    """Read a GeoJSON ``Point`` (``[lon, lat]`` order); None when absent or invalid.

    Examples
    --------
    >>> geojson_point({"type": "Point", "coordinates": [151.2, -33.87]})
    GeoPoint(lat=-33.87, lon=151.2)
    """
    if not isinstance(value, dict):
        return None
    pair = value.get("coordinates")
    if not isinstance(pair, list) or len(pair) != 2:
        return None
    try:
        return GeoPoint(lat=float(pair[1]), lon=float(pair[0]))
    except (TypeError, ValueError):
        return None


def twitter_place(value: object) -> Place | None:
    """Read a Twitter ``place`` object (v1.1 or v2 expansion)."""
    if not isinstance(value, dict):
        return None
    place = Place(
        name=optional_str(value.get("name")),
        full_name=optional_str(value.get("full_name")),
        country_code=optional_str(value.get("country_code")),
        place_type=optional_str(value.get("place_type")),
        id=optional_str(value.get("id")),
    )
    return place if place.as_dict() else None
