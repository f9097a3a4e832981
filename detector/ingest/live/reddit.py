"""Reddit: new submissions and comments of chosen subreddits, polled from the JSON listings.

Each poll reads ``/r/<sub>/new.json`` (and ``/r/<sub>/comments.json``) per subreddit. Listings
run newest first; the source remembers the newest id it handed over per listing (Reddit ids are
base 36 counters, so they compare as numbers) and hands over only what is newer, oldest first.
When a whole page is new, a burst came in since the last poll and it pages back with ``after``.

Reddit meters requests in ``X-Ratelimit-*`` headers: once ``Remaining`` is used up no request
goes out until ``Reset`` has passed, and a 429's ``Retry-After`` holds them likewise. The hold
outlives a failed session, so a restart does not hammer a server that asked for quiet.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from detector.errors import FeedError
from detector.ingest.live.base import PollingSource
from detector.ingest.reddit import RedditParser

if TYPE_CHECKING:
    from detector.clock import Clock
    from detector.ingest.live.base import SourceContext
    from detector.ingest.live.settings import RedditSettings
    from detector.models import Post

__all__ = ["RedditSource"]

log = logging.getLogger(__name__)

_MAX_PAGES = 10  # pages read back after a burst; more than this between two polls is a gap
_MAX_HOLD_SECONDS = 900.0  # Reddit's window is 10 minutes; a longer hold is a bogus header
_ID = re.compile(r"[0-9a-z]{1,16}")


@dataclass(frozen=True, slots=True)
class _Listing:
    subreddit: str
    feed: str  # "new" (submissions) or "comments"

    @property
    def key(self) -> str:
        # Subreddit names are case-insensitive: the checkpoint survives a respelled setting.
        return f"r/{self.subreddit.lower()}/{self.feed}"


class _Held(Exception):
    """A rate limit stops requests until the hold ends; the listing is read after it."""


class RedditSource(PollingSource):
    """Polls the ``new`` (and ``comments``) listings of the configured subreddits.

    The checkpoint is a compact JSON object of the newest id handed over per listing, e.g.
    ``{"r/sysadmin/comments":"lz0k9h0","r/sysadmin/new":"1gz8s6p"}``.

    Parameters
    ----------
    settings
        This source's settings entry.
    clock
        Tells the time (health, post dates, ``Retry-After`` dates).
    seed
        Seeds the backoff jitter (tests).

    Examples
    --------
    >>> from detector.ingest.live.settings import RedditSettings
    >>> source = RedditSource(RedditSettings(name="reddit-it", subreddits=["sysadmin"]))
    >>> source.kind, source.interval_seconds, source.checkpoint()
    ('reddit', 60.0, None)
    """

    kind = "reddit"
    settings: RedditSettings

    def __init__(
        self, settings: RedditSettings, *, clock: Clock | None = None, seed: int | None = None
    ) -> None:
        super().__init__(settings, clock=clock, seed=seed)
        self._parser = RedditParser(source_name=settings.source_name)
        self._base_url = settings.base_url.rstrip("/")
        feeds = ("new", "comments") if settings.comments else ("new",)
        self._listings = [_Listing(sub, feed) for sub in settings.subreddits for feed in feeds]
        self._newest: dict[str, str] = {}
        self._queue: list[_Listing] = []  # listings of this round not read yet
        self._hold_until = 0.0  # time.monotonic() before which no request goes out
        self._number = 0  # numbers answers and records for the quarantine

    @property
    def interval_seconds(self) -> float:
        """Time between polls (from the settings)."""
        return self.settings.interval_seconds

    def resume(self, checkpoint: str | None) -> None:
        """Restore the newest id per listing; an unreadable checkpoint starts afresh."""
        self._newest = {}
        self._queue = []
        if checkpoint is None:
            return
        try:
            saved = orjson.loads(checkpoint)
            if not isinstance(saved, dict):
                raise ValueError(f"expected an object, got {type(saved).__name__}")
        except ValueError as exc:
            # Refusing to start would stall the source for good; a fresh start costs one page.
            log.warning(
                "source %s: ignoring unreadable checkpoint %r (%s)", self.name, checkpoint, exc
            )
            return
        keys = {listing.key for listing in self._listings}
        self._newest = {
            key: value
            for key, value in saved.items()
            if key in keys and isinstance(value, str) and _ID.fullmatch(value)
        }

    def poll(self, ctx: SourceContext, client: httpx.Client) -> float | None:
        """Read each listing once (or the ones a rate limit held back last time) and hand the
        new posts over in one batch; return the rate limit's wait, if any."""
        if (held := self._held_for()) > 0:
            return held  # a hold from an earlier poll or session is still running
        if not self._queue:
            self._queue = list(self._listings)
        posts: list[Post] = []
        newest: dict[str, str] = {}
        failures: list[tuple[_Listing, httpx.HTTPError]] = []
        attempted = 0
        while self._queue and not ctx.stopping and self._held_for() <= 0:
            listing = self._queue[0]
            attempted += 1
            try:
                found = self._read(ctx, client, listing)
            except _Held:
                break  # this listing stays first in the queue for the next poll
            except httpx.HTTPError as exc:
                failures.append((listing, exc))
            else:
                if found is not None:
                    posts.extend(found[0])
                    if found[1] is not None:
                        newest[listing.key] = found[1]
            self._queue.pop(0)
        if ctx.stopping:
            # ``stop`` closed the client under a request: that failure is not the server's.
            return None
        if failures and len(failures) == attempted:
            # One error for the failed poll (counted by the session loop, which backs off).
            detail = "; ".join(f"{failed.key}: {_describe(error)}" for failed, error in failures)
            last = failures[-1][1]
            raise FeedError(f"reddit {self.name}: every listing failed: {detail}") from last
        # Failures are counted after the answers so a poll that lost a listing leaves the source
        # one error in, whichever listing answered first.
        for failed, error in failures:
            log.warning("source %s: %s failed: %s", self.name, failed.key, _describe(error))
            ctx.failed(error)
        merged = {**self._newest, **newest}
        posts.sort(key=lambda post: post.created_at)  # stable: id order among equal times
        if not ctx.emit(posts, _encode(merged)):
            return None  # stopping; the checkpoint did not move
        self._newest = merged
        held = self._held_for()
        if held <= 0:
            return None
        # Held mid-round: the rest waits only for the reset; after a full round, for both.
        return held if self._queue else max(held, self.interval_seconds)

    # --- one listing --------------------------------------------------------------------------

    def _read(
        self, ctx: SourceContext, client: httpx.Client, listing: _Listing
    ) -> tuple[list[Post], str | None] | None:
        """The new posts of ``listing``, oldest first, and its newest id; None when its first
        page was malformed (quarantined)."""
        remembered = self._newest.get(listing.key)
        floor = _rank(remembered) if remembered is not None else None
        fresh: dict[int, Any] = {}
        after: str | None = None
        for page in range(1, _MAX_PAGES + 1):
            if page > 1 and self._held_for() > 0:
                # Handing over the newer pages alone would move the newest id past the older
                # ones: read the whole burst again after the hold.
                raise _Held
            response = self._get(ctx, client, listing, after)
            decoded = self._decode(ctx, response, listing)
            if decoded is None:
                if page == 1:
                    return None
                log.warning(
                    "source %s: %s page %d malformed; may miss posts", self.name, listing.key, page
                )
                break
            children, after = decoded
            reached_old = False
            for child in children:
                rank = _child_rank(child)
                if rank is None:
                    if not reached_old:
                        fresh.setdefault(-len(fresh) - 1, child)  # unordered: parse quarantines it
                    continue
                if floor is not None and rank <= floor:
                    reached_old = True
                else:
                    fresh.setdefault(rank, child)  # pages shift as posts arrive: no repeats
            # A first start takes the current page only; otherwise page back through a burst.
            if floor is None or reached_old or after is None:
                break
        else:
            log.warning(
                "source %s: more than %d pages new in %s since the last poll; older ones missed",
                self.name,
                _MAX_PAGES,
                listing.key,
            )
        posts: list[Post] = []
        for rank in sorted(fresh):
            self._number += 1
            child = fresh[rank]
            record = child.get("data") if isinstance(child, dict) else child
            posts.extend(ctx.parse(self._parser, record, self._number))
        ranked = [rank for rank in fresh if rank >= 0]  # all newer than ``remembered``
        return posts, _to_base36(max(ranked)) if ranked else remembered

    def _get(
        self, ctx: SourceContext, client: httpx.Client, listing: _Listing, after: str | None
    ) -> httpx.Response:
        params: dict[str, str | int] = {"limit": self.settings.limit, "raw_json": 1}
        if after is not None:
            params["after"] = after
        url = f"{self._base_url}/r/{listing.subreddit}/{listing.feed}.json"
        response = client.get(url, params=params)
        self._note_limits(response)
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            wait = _seconds(response.headers.get("retry-after"), self.clock)
            if wait is None:
                wait = _seconds(response.headers.get("x-ratelimit-reset"), self.clock)
            self._hold(self.interval_seconds if wait is None else wait, listing, "429")
            # An error, but one retried after the hold rather than at once by the backoff.
            ctx.failed(
                httpx.HTTPStatusError(
                    f"429 Too Many Requests for {url}", request=response.request, response=response
                )
            )
            raise _Held
        response.raise_for_status()
        ctx.connected()
        ctx.received()
        return response

    def _decode(
        self, ctx: SourceContext, response: httpx.Response, listing: _Listing
    ) -> tuple[list[Any], str | None] | None:
        """The children and ``after`` of a listing answer; None (quarantined) when malformed."""
        self._number += 1
        raw = response.content
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            ctx.refuse(self._number, "invalid_json", f"{listing.key}: {exc}", raw)
            return None
        data = document.get("data") if isinstance(document, dict) else None
        children = data.get("children") if isinstance(data, dict) else None
        after = data.get("after") if isinstance(data, dict) else None
        if (
            not isinstance(document, dict)
            or document.get("kind") != "Listing"
            or not isinstance(children, list)
            or not (after is None or isinstance(after, str))
        ):
            detail = f"{listing.key}: not a Listing with data.children"
            ctx.refuse(self._number, "invalid_listing", detail, raw)
            return None
        return children, after or None

    # --- rate limits --------------------------------------------------------------------------

    def _note_limits(self, response: httpx.Response) -> None:
        remaining = _number(response.headers.get("x-ratelimit-remaining"))
        if remaining is None or remaining >= 1:
            return
        reset = _number(response.headers.get("x-ratelimit-reset"))
        used = response.headers.get("x-ratelimit-used", "?")
        listing = response.request.url.path
        self._hold(self.interval_seconds if reset is None else reset, listing, f"{used} used")

    def _hold(self, seconds: float, where: _Listing | str, why: str) -> None:
        seconds = min(max(seconds, 0.0), _MAX_HOLD_SECONDS)
        self._hold_until = max(self._hold_until, time.monotonic() + seconds)
        name = where.key if isinstance(where, _Listing) else where
        log.info(
            "source %s: rate limited at %s (%s); pausing %.1f s", self.name, name, why, seconds
        )

    def _held_for(self) -> float:
        return self._hold_until - time.monotonic()


def _encode(newest: dict[str, str]) -> str:
    return orjson.dumps(newest, option=orjson.OPT_SORT_KEYS).decode()


def _rank(reddit_id: str) -> int:
    return int(reddit_id, 36)


def _to_base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if not number:
            return text


def _child_rank(child: Any) -> int | None:
    data = child.get("data") if isinstance(child, dict) else None
    if not isinstance(data, dict):
        return None
    native = data.get("id")
    if not isinstance(native, str):
        # ``name`` is the fullname, ``t3_<id>``; int(…, 36) alone would accept "1_0" or " 10".
        name = data.get("name")
        native = name.partition("_")[2] if isinstance(name, str) else None
    if native is None or not _ID.fullmatch(native.lower()):
        return None
    return _rank(native.lower())


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _seconds(value: str | None, clock: Clock) -> float | None:
    """Seconds from a ``Retry-After`` (a number of seconds or an HTTP date)."""
    if value is None:
        return None
    if (number := _number(value)) is not None:
        return number
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return (when - clock.now()).total_seconds()


def _describe(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}"
