"""Twitter API v1.1 records as archived streaming dumps hold them.

Covers snowflake ids, t.co links, entities with code-point indices, compat-mode truncation
(``truncated`` + ``extended_tweet``), retweets with a nested ``retweeted_status``, quote tweets with
``quoted_status``, replies, place/coordinates, and the ``delete``/``limit`` notices.
"""

from __future__ import annotations

import random
import re
import string
from datetime import UTC, datetime
from typing import Any

from samplegen.compose import Draft
from samplegen.geo import place_object, point_near
from samplegen.users import TWITTER_EPOCH_MS, User, UserPool, twitter_time

__all__ = ["TweetFactory", "weighted_length"]

_HASHTAG_RE = re.compile(r"(?<![\w&#])#(\w+)")
_MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")
_CASHTAG_RE = re.compile(r"(?<![\w$])\$([A-Z]{1,6})(?![\w])")
_TCO_CHARS = string.ascii_letters + string.digits
_URL_WEIGHT = 23
_LIMIT = 140


def _char_weight(ch: str) -> int:
    cp = ord(ch)
    if cp <= 0x10FF or 0x2000 <= cp <= 0x200D or 0x2010 <= cp <= 0x201F or 0x2032 <= cp <= 0x2037:
        return 1
    return 2


def weighted_length(text: str, urls: list[str]) -> int:
    """Twitter's weighted length: CJK and emoji count 2, every URL counts 23."""
    for url in urls:
        text = text.replace(url, "", 1)
    return sum(_char_weight(ch) for ch in text) + _URL_WEIGHT * len(urls)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class TweetFactory:
    """Builds tweet dicts; keeps the id registry so snowflakes never collide."""

    def __init__(self, rng: random.Random, pool: UserPool) -> None:
        self.rng = rng
        self.pool = pool
        self.used_ids: set[int] = set()

    def snowflake(self, ms: int) -> int:
        """A tweet id for ``ms``: ``((ms - epoch) << 22) | datacenter/worker/sequence bits``."""
        while True:
            tid = ((ms - TWITTER_EPOCH_MS) << 22) | self.rng.getrandbits(22)
            if tid not in self.used_ids:
                self.used_ids.add(tid)
                return tid

    def tco(self) -> str:
        """A fresh t.co short link."""
        return "https://t.co/" + "".join(self.rng.choice(_TCO_CHARS) for _ in range(10))

    # -- entities ------------------------------------------------------------------------------
    def _entities(
        self, text: str, urls: list[tuple[str, str]], limit: int | None = None
    ) -> dict[str, Any]:
        end = len(text) if limit is None else limit
        hashtags = [
            {"text": m.group(1), "indices": [m.start(), m.end()]}
            for m in _HASHTAG_RE.finditer(text)
            if m.end() <= end
        ]
        mentions = []
        for m in _MENTION_RE.finditer(text):
            user = self.pool.by_handle.get(m.group(1))
            if user is None or m.end() > end:
                continue
            mentions.append(
                {
                    "screen_name": user.screen_name,
                    "name": user.name,
                    "id": user.id,
                    "id_str": str(user.id),
                    "indices": [m.start(), m.end()],
                }
            )
        symbols = [
            {"text": m.group(1), "indices": [m.start(), m.end()]}
            for m in _CASHTAG_RE.finditer(text)
            if m.end() <= end
        ]
        url_entities = []
        search_from = 0
        for short, expanded in urls:
            pos = text.find(short, search_from)
            if pos < 0 or pos + len(short) > end:
                continue
            search_from = pos + len(short)
            display = expanded.split("://", 1)[-1]
            if len(display) > 26:
                display = display[:25] + "…"
            url_entities.append(
                {
                    "url": short,
                    "expanded_url": expanded,
                    "display_url": display,
                    "indices": [pos, pos + len(short)],
                }
            )
        return {
            "hashtags": hashtags,
            "urls": url_entities,
            "user_mentions": mentions,
            "symbols": symbols,
        }

    # -- tweets --------------------------------------------------------------------------------
    def tweet(
        self,
        draft: Draft,
        user: User,
        when: datetime,
        *,
        reply_to: dict[str, Any] | None = None,
        mention_reply: User | None = None,
        geo_rate: float = 0.04,
        coord_share: float = 0.35,
        quoted: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> dict[str, Any]:
        """Build an original tweet, reply or quote tweet from ``draft``."""
        ms = _ms(when) + self.rng.randrange(1000)
        tid = self.snowflake(ms)
        text = draft.text
        urls: list[tuple[str, str]] = []
        for expanded in draft.links:
            short = self.tco()
            text = text.replace("{LINK}", short, 1)
            urls.append((short, expanded))
        text = text.replace("{LINK}", "").strip()
        permalink = None
        if quoted is not None:
            q_user = quoted["user"]["screen_name"]
            expanded = f"https://twitter.com/{q_user}/status/{quoted['id_str']}"
            short = self.tco()
            permalink = {
                "url": short,
                "expanded": expanded,
                "display": f"twitter.com/{q_user}/statu…",
            }
            text = f"{text} {short}"
            urls.append((short, expanded))
        prefix = ""
        parent_user: dict[str, Any] | None = None
        if reply_to is not None:
            parent_user = reply_to["user"]
            prefix = f"@{parent_user['screen_name']} "
        elif mention_reply is not None:
            parent_user = mention_reply.as_twitter()
            prefix = f"@{mention_reply.screen_name} "
        full = prefix + text
        record: dict[str, Any] = {
            "created_at": twitter_time(datetime.fromtimestamp(ms / 1000, UTC)),
            "id": tid,
            "id_str": str(tid),
            "text": full,
            "source": source or user.source,
            "truncated": False,
            "in_reply_to_status_id": reply_to["id"] if reply_to else None,
            "in_reply_to_status_id_str": reply_to["id_str"] if reply_to else None,
            "in_reply_to_user_id": parent_user["id"] if parent_user else None,
            "in_reply_to_user_id_str": parent_user["id_str"] if parent_user else None,
            "in_reply_to_screen_name": parent_user["screen_name"] if parent_user else None,
            "user": user.as_twitter(),
            "geo": None,
            "coordinates": None,
            "place": None,
            "contributors": None,
        }
        if quoted is not None:
            record["quoted_status_id"] = quoted["id"]
            record["quoted_status_id_str"] = quoted["id_str"]
            record["quoted_status"] = self.snapshot(quoted, ms)
            record["quoted_status_permalink"] = permalink
        record["is_quote_status"] = quoted is not None
        short_urls = [u for u, _ in urls]
        if weighted_length(full, short_urls) > _LIMIT:
            self._truncate(record, full, urls, len(prefix), tid)
        else:
            record["entities"] = self._entities(full, urls)
        record.update({"quote_count": 0, "reply_count": 0, "retweet_count": 0, "favorite_count": 0})
        # Keep key order close to the real payload: entities after the counts.
        record["entities"] = record.pop("entities")
        record["favorited"] = False
        record["retweeted"] = False
        if urls:
            record["possibly_sensitive"] = False
        record["filter_level"] = "low"
        record["lang"] = self._detected_lang(draft, text)
        record["timestamp_ms"] = str(ms)
        if (
            user.city is not None
            and user.region is not None
            and user.role == "person"
            and self.rng.random() < geo_rate
        ):
            self._add_place(record, user, coord_share)
        return record

    def _truncate(
        self, record: dict[str, Any], full: str, urls: list[tuple[str, str]], start: int, tid: int
    ) -> None:
        budget = _LIMIT - 2 - _URL_WEIGHT
        used, cut = 0, 0
        for i, ch in enumerate(full):
            w = _char_weight(ch)
            if used + w > budget:
                break
            used += w
            cut = i + 1
        space = full.rfind(" ", 0, cut)
        if space > cut - 15 and space > 0:
            cut = space
        # Never cut through a link: drop a partial URL at the end.
        partial = full.rfind("https://", 0, cut)
        if partial >= 0 and " " not in full[partial:cut] and partial + 23 > cut:
            cut = partial
        head = full[:cut].rstrip()
        self_link = self.tco()
        expanded = f"https://twitter.com/i/web/status/{tid}"
        record["text"] = f"{head}… {self_link}"
        record["truncated"] = True
        entities = self._entities(
            record["text"], [u for u in urls if u[0] in head] + [(self_link, expanded)]
        )
        for url in entities["urls"]:
            if url["url"] == self_link:
                url["display_url"] = f"twitter.com/i/web/status/{str(tid)[:1]}…"
        record["entities"] = entities
        record["extended_tweet"] = {
            "full_text": full,
            "display_text_range": [start, len(full)],
            "entities": self._entities(full, urls),
        }

    def _detected_lang(self, draft: Draft, text: str) -> str:
        letters = sum(ch.isalpha() for ch in _MENTION_RE.sub("", re.sub(r"https://\S+", "", text)))
        if letters < 3:
            return "und"
        if draft.lang == "no" and self.rng.random() < 0.08:
            return "und"
        return draft.lang

    def _add_place(self, record: dict[str, Any], user: User, coord_share: float) -> None:
        assert user.city is not None and user.region is not None
        roll = self.rng.random()
        if roll < coord_share:
            lon, lat = point_near(user.city, self.rng)
            record["coordinates"] = {"type": "Point", "coordinates": [lon, lat]}
            # The legacy ``geo`` field holds the same point in [lat, lon] order.
            record["geo"] = {"type": "Point", "coordinates": [lat, lon]}
            record["place"] = place_object(user.city, user.region, "city")
            return
        kind = "city" if roll < 0.85 else ("admin" if roll < 0.96 else "country")
        record["place"] = place_object(user.city, user.region, kind)

    def snapshot(self, original: dict[str, Any], now_ms: int) -> dict[str, Any]:
        """A copy of ``original`` with engagement counts as seen at ``now_ms``."""
        age_min = max(0.0, (now_ms - int(original["timestamp_ms"])) / 60_000)
        followers = original["user"]["followers_count"]
        base = (1 + age_min) ** 0.6 * (1 + followers / 5000) ** 0.5
        rng = self.rng
        rts = int(base * rng.uniform(0.3, 1.5)) + 1
        copy = dict(original)
        copy.update(
            {
                "quote_count": int(rts * rng.uniform(0.0, 0.2)),
                "reply_count": int(base * rng.uniform(0.1, 1.0)),
                "retweet_count": rts,
                "favorite_count": int(rts * rng.uniform(1.5, 6.0)),
            }
        )
        copy.pop("retweeted_status", None)
        copy.pop("quoted_status", None)
        copy.pop("quoted_status_permalink", None)
        if copy.get("is_quote_status"):
            copy["is_quote_status"] = False
            copy.pop("quoted_status_id", None)
            copy.pop("quoted_status_id_str", None)
        return copy

    def retweet(self, original: dict[str, Any], user: User, when: datetime) -> dict[str, Any]:
        """A retweet: ``RT @orig: …`` text (cut at 140 with …) and the full nested original."""
        ms = max(_ms(when), int(original["timestamp_ms"]) + 1000) + self.rng.randrange(1000)
        tid = self.snowflake(ms)
        orig_user = original["user"]["screen_name"]
        body = original.get("extended_tweet", {}).get("full_text") or original["text"]
        text = f"RT @{orig_user}: {body}"
        if len(text) > _LIMIT:
            text = text[: _LIMIT - 1].rstrip() + "…"
        shift = len(f"RT @{orig_user}: ")
        src_entities = original.get("extended_tweet", {}).get("entities") or original["entities"]
        entities: dict[str, Any] = {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []}
        entities["user_mentions"].append(
            {
                "screen_name": orig_user,
                "name": original["user"]["name"],
                "id": original["user"]["id"],
                "id_str": original["user"]["id_str"],
                "indices": [3, 4 + len(orig_user)],
            }
        )
        for key in ("hashtags", "urls", "user_mentions", "symbols"):
            for ent in src_entities.get(key, []):
                start, end = ent["indices"][0] + shift, ent["indices"][1] + shift
                if end <= len(text) - (1 if text.endswith("…") else 0):
                    moved = dict(ent)
                    moved["indices"] = [start, end]
                    entities[key].append(moved)
        return {
            "created_at": twitter_time(datetime.fromtimestamp(ms / 1000, UTC)),
            "id": tid,
            "id_str": str(tid),
            "text": text,
            "source": user.source,
            "truncated": False,
            "in_reply_to_status_id": None,
            "in_reply_to_status_id_str": None,
            "in_reply_to_user_id": None,
            "in_reply_to_user_id_str": None,
            "in_reply_to_screen_name": None,
            "user": user.as_twitter(),
            "geo": None,
            "coordinates": None,
            "place": None,
            "contributors": None,
            "retweeted_status": self.snapshot(original, ms),
            "is_quote_status": False,
            "quote_count": 0,
            "reply_count": 0,
            "retweet_count": 0,
            "favorite_count": 0,
            "entities": entities,
            "favorited": False,
            "retweeted": False,
            "filter_level": "low",
            "lang": original["lang"],
            "timestamp_ms": str(ms),
        }

    @staticmethod
    def delete_notice(tweet: dict[str, Any], when_ms: int) -> dict[str, Any]:
        """A ``delete`` notice for ``tweet`` sent at ``when_ms``."""
        return {
            "delete": {
                "status": {
                    "id": tweet["id"],
                    "id_str": tweet["id_str"],
                    "user_id": tweet["user"]["id"],
                    "user_id_str": tweet["user"]["id_str"],
                },
                "timestamp_ms": str(when_ms),
            }
        }

    @staticmethod
    def limit_notice(track: int, when_ms: int) -> dict[str, Any]:
        """A ``limit`` notice: ``track`` tweets matched but were not delivered so far."""
        return {"limit": {"track": track, "timestamp_ms": str(when_ms)}}
