"""Domain records: frozen, typed value objects that validate when they are built."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from detector.pickling import fast_pickling

__all__ = ["GeoPoint", "Place", "Post", "RawFields", "SourceKind", "post_id"]


class SourceKind(StrEnum):
    """The kind of network or archive a post comes from."""

    TWITTER = "twitter"
    FORUM = "forum"
    REDDIT = "reddit"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    GENERIC = "generic"


def post_id(kind: SourceKind, *parts: str) -> str:
    """Build the source-qualified id of a post.

    Examples
    --------
    >>> post_id(SourceKind.TWITTER, "1461812345")
    'twitter:1461812345'
    >>> post_id(SourceKind.FORUM, "teslamotorsclub", "6543210")
    'forum:teslamotorsclub:6543210'
    """
    if not parts or any(not p for p in parts):
        raise ValueError(f"post id needs non-empty parts, got: {parts!r}")
    return ":".join((kind.value, *parts))


@fast_pickling
@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 point in degrees.

    Examples
    --------
    >>> GeoPoint(lat=37.57, lon=126.98)
    GeoPoint(lat=37.57, lon=126.98)
    """

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude must be within [-90, 90], got: {self.lat}")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"longitude must be within [-180, 180], got: {self.lon}")


@fast_pickling
@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """A named place attached to a post by its network (Twitter ``place``, a forum profile...)."""

    name: str | None = None
    full_name: str | None = None
    country_code: str | None = None
    place_type: str | None = None
    id: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Return the non-empty fields as a plain dict (for JSON storage)."""
        return {k: v for k in _PLACE_FIELDS if (v := getattr(self, k))}


class RawFields(Mapping[str, Any]):
    """The raw record's remaining fields, held as compact JSON and decoded when first read.

    Archives carry kilobytes of fields per post that are rarely looked at; as one bytes object
    they cost a fraction of the memory, the garbage collector never walks them, and the store
    writes them without encoding them again.

    Examples
    --------
    >>> raw = RawFields.of({"source": "Twitter for iPhone", "retweet_count": 3})
    >>> raw.json
    b'{"source":"Twitter for iPhone","retweet_count":3}'
    >>> raw["retweet_count"], len(raw)
    (3, 2)
    """

    __slots__ = ("_decoded", "json")

    def __init__(self, json: bytes) -> None:
        self.json = json
        self._decoded: dict[str, Any] | None = None

    @classmethod
    def of(cls, fields: Mapping[str, Any] | None) -> RawFields:
        """Wrap ``fields`` (values that JSON cannot hold are kept as their ``str``)."""
        if isinstance(fields, RawFields):
            return fields
        if not fields:
            return _NO_FIELDS
        return cls(orjson.dumps(fields, default=str, option=orjson.OPT_NON_STR_KEYS))

    def _fields(self) -> dict[str, Any]:
        if self._decoded is None:
            self._decoded = orjson.loads(self.json)
        return self._decoded

    def __getitem__(self, key: str) -> Any:
        return self._fields()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields())

    def __len__(self) -> int:
        return len(self._fields())

    def __repr__(self) -> str:
        return f"RawFields({self._fields()!r})"


_NO_FIELDS = RawFields(b"{}")
_PLACE_FIELDS = ("name", "full_name", "country_code", "place_type", "id")
_URL_RE = re.compile(r"https?://\S+")


@fast_pickling
@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """One normalised post from any source.

    ``id`` is qualified by its source kind (``twitter:123``, ``forum:teslamotorsclub:987``),
    so ids from different networks never collide. ``reply_to``, ``quote_of`` and ``repost_of``
    hold ids in the same form. ``extra`` keeps the raw record's fields that have no column here.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> p = Post(id="twitter:1", source_kind=SourceKind.TWITTER, source_name="twitter",
    ...          created_at=datetime(2021, 11, 19, 21, 3, tzinfo=UTC), text="tesla app down?")
    >>> p.is_repost
    False
    """

    id: str
    source_kind: SourceKind
    source_name: str
    created_at: datetime
    text: str
    lang: str | None = None
    author_id: str | None = None
    author_handle: str | None = None
    author_location: str | None = None
    coordinates: GeoPoint | None = None
    place: Place | None = None
    url: str | None = None
    title: str | None = None
    reply_to: str | None = None
    quote_of: str | None = None
    repost_of: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id.startswith(self.source_kind.value + ":"):
            raise ValueError(
                f"post id must start with {self.source_kind.value + ':'!r}, got: {self.id!r}"
            )
        if not self.source_name:
            raise ValueError(f"post {self.id} needs a source name, got: {self.source_name!r}")
        offset = self.created_at.utcoffset()
        if offset is None:
            raise ValueError(f"created_at must be timezone-aware, got: {self.created_at!r}")
        if offset or self.created_at.tzinfo is not UTC:
            object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))
        if not self.text.strip():
            raise ValueError(f"post {self.id} has no text")
        if type(self.extra) is not RawFields:
            object.__setattr__(self, "extra", RawFields.of(self.extra))

    @property
    def is_repost(self) -> bool:
        """True for retweets/boosts/reposts: they echo another post and are not new reports."""
        return self.repost_of is not None

    @property
    def fingerprint(self) -> str | None:
        """A key shared by posts of the same author with the same words.

        Links and whitespace are ignored, so a bot re-posting one text with fresh short links
        still collapses. ``None`` when the author is unknown.

        Examples
        --------
        >>> from datetime import UTC, datetime
        >>> def mk(i, t):
        ...     return Post(id=f"twitter:{i}", source_kind=SourceKind.TWITTER,
        ...                 source_name="twitter", created_at=datetime(2021, 1, 1, tzinfo=UTC),
        ...                 text=t, author_id="42")
        >>> mk(1, "App down https://t.co/a").fingerprint == mk(2, "app  down https://t.co/b").fingerprint
        True
        """
        author = self.author_id or self.author_handle
        if author is None:
            return None
        text = self.text.casefold()
        if "http" in text or "www." in text:
            text = _URL_RE.sub("", text)
        key = f"{self.source_kind.value}|{author}|{' '.join(text.split())}".encode()
        return hashlib.blake2b(key, digest_size=16).hexdigest()
