"""Forum and status feeds: RSS/Atom and Discourse ``latest.json``, polled conditionally.

Each poll is one conditional GET of the configured URL, sending the validators of the last answer
(``If-None-Match``, ``If-Modified-Since``): a ``304 Not Modified`` costs the forum nothing and
hands over nothing. The settings name the format, or ``auto`` decides from the answer (JSON with
a ``topic_list`` is Discourse, anything else is read as RSS/Atom).

* **RSS/Atom** is parsed by feedparser, which copes with the feeds' many dialects. Every entry
  becomes a forum post (:class:`FeedEntryParser`). Feeds repeat their recent entries on every
  poll, so the ids handed over are remembered (the last ``_SEEN_LIMIT``, as short digests), and
  once ids have been forgotten an unknown entry no newer than the newest forgotten one is taken
  for one already handed over. The first poll hands over what the feed holds: a feed is a short
  window of recent entries, read in one request.
* **Discourse**: the listing gives each topic's highest post number. Only topics whose number
  moved past the one remembered are fetched (``/t/<slug>/<id>/<n>.json``, which holds the posts
  from ``n`` on) and only their newer posts are handed over. A topic not remembered (created
  since, or bumped from beyond the listing's first page) gives the posts written after the
  newest post time seen in earlier listings. The first poll only records where each topic
  stands: fetching every listed topic would cost a forum thirty requests for mostly old posts.

The checkpoint is compact JSON holding the validators and what was remembered, so a restarted
source neither repeats nor skips. Each poll that finds something new hands over one batch,
oldest post first.

An answer that is not a feed at all (a login page, broken XML, invalid JSON) is quarantined and
counted as a failed poll without ending the session: the forum is up, so reconnecting sooner
than the interval would not help, and the failures in a row still flag the source failing. HTTP
and network errors raise, and the source backs off.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser  # type: ignore[import-untyped]  # ships no type information
import httpx
import orjson

from detector.clock import Clock
from detector.errors import RecordError
from detector.ingest.base import optional_str
from detector.ingest.feed import FeedEntryParser, entry_key, entry_record
from detector.ingest.forum import DiscourseParser
from detector.ingest.live.base import PollingSource, SourceContext
from detector.ingest.live.settings import FeedSettings
from detector.ingest.timestamps import parse_timestamp
from detector.models import Post

__all__ = ["FeedSource"]

log = logging.getLogger(__name__)

_SEEN_LIMIT = 500  # entry ids remembered; far more than any feed repeats
_TOPIC_LIMIT = 500  # Discourse topics remembered, least recently moved forgotten first
_GONE = frozenset({403, 404, 410})  # a topic deleted or made private: skip it, do not retry
# Listings of a Discourse forum live under its base: /latest.json, /c/<slug>/<id>.json, /top...
_DISCOURSE_LISTING_RE = re.compile(r"/(?:latest|new|top|c|tag|tags)(?:[/.?]|$)")


def _digest(key: str) -> str:
    # Entry ids are often long URLs; 64 bits tell 500 of them apart and keep checkpoints small.
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


@dataclass
class _State:
    """What a feed source remembers between polls; its JSON is the checkpoint."""

    etag: str | None = None
    modified: str | None = None
    seen: OrderedDict[str, int] = field(default_factory=OrderedDict)
    """Digest of each entry id handed over -> its post's epoch seconds (0: quarantined)."""
    horizon: int | None = None
    """The newest post time among forgotten ids: an unknown entry this old was handed over."""
    topics: OrderedDict[int, int] = field(default_factory=OrderedDict)
    """Discourse topic id -> highest post number read."""
    watermark: str | None = None
    """The newest post time in Discourse listings read so far (None: none read yet)."""

    def copy(self) -> _State:
        return replace(self, seen=OrderedDict(self.seen), topics=OrderedDict(self.topics))

    def remember(self, digest: str, epoch: int) -> None:
        self.seen[digest] = epoch
        while len(self.seen) > _SEEN_LIMIT:
            _, forgotten = self.seen.popitem(last=False)
            self.horizon = max(self.horizon or 0, forgotten) or None

    def move_topic(self, topic: int, number: int) -> None:
        self.topics[topic] = number
        self.topics.move_to_end(topic)
        while len(self.topics) > _TOPIC_LIMIT:
            self.topics.popitem(last=False)

    def dump(self) -> str:
        data = {
            "etag": self.etag,
            "modified": self.modified,
            "seen": [[k, v] for k, v in self.seen.items()] or None,
            "horizon": self.horizon,
            "topics": [[k, v] for k, v in self.topics.items()] or None,
            "watermark": self.watermark,
        }
        return orjson.dumps({k: v for k, v in data.items() if v is not None}).decode()

    @classmethod
    def load(cls, checkpoint: str) -> _State:
        data = orjson.loads(checkpoint)
        return cls(
            etag=data.get("etag"),
            modified=data.get("modified"),
            seen=OrderedDict((str(k), int(v)) for k, v in data.get("seen", ())),
            horizon=data.get("horizon"),
            topics=OrderedDict((int(k), int(v)) for k, v in data.get("topics", ())),
            watermark=data.get("watermark"),
        )


class FeedSource(PollingSource):
    """Polls an RSS/Atom feed or a Discourse forum's listing (see the module docstring).

    Parameters
    ----------
    settings
        The feed's entry of the settings file.
    clock
        Tells the time for health; the wall clock by default.
    seed
        Seeds the backoff jitter (tests).
    """

    kind = "feed"

    def __init__(
        self, settings: FeedSettings, *, clock: Clock | None = None, seed: int | None = None
    ) -> None:
        super().__init__(settings, clock=clock, seed=seed)
        self.feed = settings
        url = urlsplit(settings.url)
        self.forum = settings.source_name or url.hostname or settings.name
        listing = _DISCOURSE_LISTING_RE.search(url.path)
        prefix = url.path[: listing.start()] if listing else ""
        self.forum_base = f"{url.scheme}://{url.netloc}{prefix}"
        """Where a Discourse forum's topics are (``/t/...``): the listing URL's stem."""
        self._state = _State()
        self._frames = 0  # numbers the entries and answers read, for the quarantine

    @property
    def interval_seconds(self) -> float:
        """The configured time between polls."""
        return self.feed.interval_seconds

    def resume(self, checkpoint: str | None) -> None:
        """Restore the validators, ids and topic positions a checkpoint holds."""
        self._state = _State()
        if checkpoint is None:
            return
        try:
            self._state = _State.load(checkpoint)
        except (ValueError, TypeError, AttributeError) as exc:
            # Starting afresh repeats a feed's recent entries (dropped by id downstream);
            # refusing to start would lose every post from now on.
            log.warning("source %s: unreadable checkpoint, starting afresh: %s", self.name, exc)

    def poll(self, ctx: SourceContext, client: httpx.Client) -> float | None:
        """Fetch the feed if it changed and hand over its new posts with the new checkpoint."""
        state = self._state.copy()
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.modified:
            headers["If-Modified-Since"] = state.modified
        response = client.get(self.feed.url, headers=headers)
        if response.status_code == httpx.codes.NOT_MODIFIED:
            ctx.connected()
            ctx.received()
            return None
        response.raise_for_status()
        ctx.connected()
        posts = self._read(ctx, client, response, state)
        if posts is None:
            return None  # not a feed: refused, counted, and its validators not kept
        ctx.received()
        state.etag = response.headers.get("etag")
        state.modified = response.headers.get("last-modified")
        checkpoint = state.dump()
        if (posts or checkpoint != self.checkpoint()) and ctx.emit(
            sorted(posts, key=lambda post: post.created_at), checkpoint
        ):
            self._state = state
        return None

    # --- reading an answer ----------------------------------------------------------------

    def _read(
        self, ctx: SourceContext, client: httpx.Client, response: httpx.Response, state: _State
    ) -> list[Post] | None:
        body = response.content
        json_like = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")
        if self.feed.format == "discourse" or (self.feed.format == "auto" and json_like):
            try:
                document = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                self._refuse(ctx, "invalid_json", str(exc), body)
                return None
            topics = document.get("topic_list") if isinstance(document, dict) else None
            if not isinstance(topics, dict) or not isinstance(topics.get("topics"), list):
                self._refuse(ctx, "invalid_feed", "JSON without a topic_list", body)
                return None
            return self._read_listing(ctx, client, topics["topics"], state)
        # bytes, never str: feedparser would take a str for a URL or a file name to open.
        parsed = feedparser.parse(
            body,
            response_headers={
                "content-type": response.headers.get("content-type", ""),
                "content-location": str(response.url),  # resolves relative links
            },
        )
        entries = parsed.get("entries") or []
        if not entries and (parsed.get("bozo") or not parsed.get("version")):
            detail = str(parsed.get("bozo_exception") or "no feed version and no entries")
            self._refuse(ctx, "invalid_feed", detail, body)
            return None
        return self._read_entries(ctx, entries, state)

    def _refuse(self, ctx: SourceContext, reason: str, detail: str, body: bytes) -> None:
        ctx.refuse(self._next_frame(), reason, detail, body)
        ctx.failed(f"{reason}: {detail}")

    def _next_frame(self) -> int:
        self._frames += 1
        return self._frames

    def _read_entries(
        self, ctx: SourceContext, entries: Iterable[Mapping[str, Any]], state: _State
    ) -> list[Post]:
        parser = FeedEntryParser(source_name=self.forum)
        fresh: list[Post] = []
        read: list[tuple[str, int]] = []
        for entry in entries:
            record = entry_record(entry)
            key = entry_key(record)
            digest = _digest(key) if key is not None else None
            if digest is not None and digest in state.seen:
                continue  # repeated by the feed: handed over (or refused) before
            posts = ctx.parse(parser, record, self._next_frame())
            epoch = max((int(post.created_at.timestamp()) for post in posts), default=0)
            if state.horizon is None or epoch == 0 or epoch > state.horizon:
                fresh.extend(posts)
            if digest is not None:
                read.append((digest, epoch))
        # Oldest first, so that the ids forgotten first are those of the oldest posts.
        for digest, epoch in sorted(read, key=lambda item: item[1]):
            state.remember(digest, epoch)
        return fresh

    def _read_listing(
        self,
        ctx: SourceContext,
        client: httpx.Client,
        topics: list[Any],
        state: _State,
    ) -> list[Post]:
        listed = [
            topic
            for topic in topics
            if isinstance(topic, dict)
            and isinstance(topic.get("id"), int)
            and isinstance(topic.get("highest_post_number"), int)
        ]
        times = [_when(t.get("last_posted_at") or t.get("bumped_at")) for t in listed]
        newest = max((t for t in times if t is not None), default=None)
        watermark = _when(state.watermark)
        if watermark is None:
            # First listing: note where each topic stands; what follows is new.
            for topic in reversed(listed):
                state.move_topic(topic["id"], topic["highest_post_number"])
            state.watermark = (newest or self.clock.now()).isoformat()
            return []
        posts: list[Post] = []
        for topic in reversed(listed):  # least recently bumped first
            known = state.topics.get(topic["id"])
            if known is not None and topic["highest_post_number"] <= known:
                continue
            posts.extend(self._read_topic(ctx, client, topic, known, watermark, state))
        if newest is not None and newest > watermark:
            state.watermark = newest.isoformat()
        return posts

    def _read_topic(
        self,
        ctx: SourceContext,
        client: httpx.Client,
        topic: Mapping[str, Any],
        known: int | None,
        watermark: datetime,
        state: _State,
    ) -> list[Post]:
        topic_id, highest = topic["id"], topic["highest_post_number"]
        created = _when(topic.get("created_at"))
        if known is not None:
            start = known + 1
        elif created is not None and created > watermark:
            start = 1  # a new topic: all of it is new
        else:
            start = highest  # bumped from beyond what was listed: its last posts are the new ones
        slug = optional_str(topic.get("slug"))
        where = f"{slug}/{topic_id}" if slug else str(topic_id)
        # /t/<slug>/<id>/<n>.json holds a few posts before n and up to 15 from n on; more
        # than that are read in the next poll, from where this one stopped.
        response = client.get(f"{self.forum_base}/t/{where}/{start}.json")
        if response.status_code in _GONE:
            ctx.failed(f"topic {topic_id}: HTTP {response.status_code}")
            state.move_topic(topic_id, highest)
            return []
        response.raise_for_status()
        ctx.received()
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            self._refuse(ctx, "invalid_json", f"topic {topic_id}: {exc}", response.content)
            state.move_topic(topic_id, highest)
            return []
        parser = DiscourseParser(source_name=self.forum)
        posts: list[Post] = []
        top = known or 0
        for record in parser.expand(document):
            number = record.get("post_number") if isinstance(record, dict) else None
            if not isinstance(number, int):
                detail = f"topic {topic_id}: post without a post_number"
                ctx.refuse(self._next_frame(), "invalid_record", detail, orjson.dumps(record))
                continue
            if number <= (known or 0):
                continue  # read before
            if known is None:
                written = _when(record.get("created_at"))
                if written is not None and written <= watermark:
                    continue  # written before the listings this source has read
            top = max(top, number)
            for post in ctx.parse(parser, record, self._next_frame()):
                # Discourse links posts relative to the forum; a stored link must stand alone.
                url = f"{self.forum_base}{post.url}" if post.url and post.url[:1] == "/" else None
                posts.append(replace(post, url=url or post.url))
        # Nothing past the last read: the rest were deleted or hidden; do not ask again.
        state.move_topic(topic_id, top if top > (known or 0) else highest)
        return posts


def _when(value: object) -> datetime | None:
    if optional_str(value) is None:
        return None
    try:
        return parse_timestamp(value)
    except RecordError:
        return None
