"""Seeded generator of Twitter API v1.1 stream lines for the ingest benchmark.

Real field names and sizes (full ``user`` objects, ``entities``, ``extended_tweet`` for long
posts, retweets with a nested ``retweeted_status``, places, delete and limit notices), so that
parsing and storing cost what they cost on real archives.
"""

from __future__ import annotations

import gzip
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

SEED = 20211119
GENERATOR_VERSION = 3

# --------------------------------------------------------------------------------------------
# Input generation: Twitter API v1.1 statuses as archived from the streaming API.
# --------------------------------------------------------------------------------------------

_TWITTER_EPOCH_MS = 1288834974657
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SOURCES = (
    '<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
    '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>',
    '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
    '<a href="https://about.twitter.com/products/tweetdeck" rel="nofollow">TweetDeck</a>',
    '<a href="http://twitter.com/#!/download/ipad" rel="nofollow">Twitter for iPad</a>',
    '<a href="https://ifttt.com" rel="nofollow">IFTTT</a>',
)
_LANGS = (
    ("en", 55),
    ("es", 9),
    ("ja", 9),
    ("pt", 6),
    ("und", 5),
    ("ar", 3),
    ("fr", 3),
    ("tr", 2),
    ("ko", 2),
    ("de", 2),
    ("in", 2),
    ("it", 1),
    ("th", 1),
)
_WORDS = (
    "the app is down again can't log in why does my car not unlock anyone else having issues "
    "with right now outage server error 500 just me or is it broken phone key not working "
    "tried restarting still nothing support says they are looking into it seriously this is "
    "the third time this week lol ugh please fix today morning tonight customers waiting "
    "service status page says all systems operational but clearly not great love new update "
    "watching game with friends coffee weather rain sun happy birthday thanks everyone "
    "music video live stream ticket sale concert traffic train delayed late work meeting "
    "school home weekend holiday vote election news breaking market stock price crypto "
    "bitcoin moon launch rocket rocket photo dog cat pizza dinner lunch gym run"
).split()
_INTL = (
    "アプリが落ちてる",
    "ログインできない",
    "障害",
    "今日は",
    "ありがとう",
    "サーバー",
    "no funciona",
    "caída",
    "otra vez",
    "não consigo entrar",
    "fora do ar",
    "hoje",
    "ça ne marche pas",
    "panne",
    "geht nicht",
    "Störung",
    "çalışmıyor",
    "안돼요",
)
_EMOJI = ("😂", "😭", "🙄", "🔥", "❤️", "🤬", "👍", "🚗", "⚡", "💀", "🙏", "✨")
_HASHTAGS = ("outage", "down", "tesla", "AWS", "fail", "help", "NowPlaying", "BTS", "NFL", "news")
_PLACES = (
    ("Los Angeles", "Los Angeles, CA", "US", "United States", "city", -118.67, 33.70),
    ("Manhattan", "Manhattan, NY", "US", "United States", "city", -74.03, 40.68),
    ("London", "London, England", "GB", "United Kingdom", "city", -0.51, 51.29),
    ("Tokyo", "Tokyo, Japan", "JP", "Japan", "admin", 138.94, 35.50),
    ("São Paulo", "São Paulo, Brasil", "BR", "Brasil", "city", -46.83, -24.01),
    ("Berlin", "Berlin, Deutschland", "DE", "Deutschland", "city", 13.09, 52.34),
    ("Texas", "Texas, USA", "US", "United States", "admin", -106.65, 25.84),
)
_LOCATIONS = (
    "",
    "",
    "",
    "Los Angeles, CA",
    "NYC",
    "London",
    "Tokyo",
    "Earth",
    "she/her",
    "Texas, USA",
    "Brasil",
    "Paris, France",
    "somewhere",
    "Berlin",
    "🌍",
    "Toronto, Ontario",
)


def _twitter_time(moment: datetime) -> str:
    return (
        f"{_WEEKDAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000 {moment.year}"
    )


def _snowflake(rng: random.Random, ms: int) -> int:
    return ((ms - _TWITTER_EPOCH_MS) << 22) | rng.getrandbits(22)


class TweetFactory:
    """Builds realistic v1.1 statuses from a seeded RNG (same seed, same file)."""

    def __init__(self, seed: int, start: datetime) -> None:
        self.rng = random.Random(seed)
        self.clock_ms = int(start.timestamp() * 1000)
        self.users = [self._user(i) for i in range(20_000)]
        self.bots = self.users[:40]  # accounts that repeat one text: collapse fodder
        self.popular: list[dict[str, Any]] = []
        langs, weights = zip(*_LANGS, strict=True)
        self.langs: list[str] = list(langs)
        self.lang_weights: list[int] = list(weights)

    def _user(self, index: int) -> dict[str, Any]:
        rng = self.rng
        uid = rng.randrange(10**6, 1_500_000_000_000_000_000) if index else 13
        handle = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}{rng.randrange(10_000)}"[:15]
        created = datetime(2008, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(4 * 10**8))
        colour = f"{rng.getrandbits(24):06X}"
        image = f"http://pbs.twimg.com/profile_images/{rng.getrandbits(60)}/{handle}_normal.jpg"
        return {
            "id": uid,
            "id_str": str(uid),
            "name": f"{handle.title()} {rng.choice(_EMOJI)}",
            "screen_name": handle,
            "location": rng.choice(_LOCATIONS) or None,
            "url": f"https://t.co/{rng.getrandbits(40):x}" if rng.random() < 0.3 else None,
            "description": " ".join(rng.choices(_WORDS, k=rng.randrange(0, 20))) or None,
            "translator_type": "none",
            "protected": False,
            "verified": rng.random() < 0.01,
            "followers_count": int(rng.paretovariate(1.1) * 50),
            "friends_count": rng.randrange(5000),
            "listed_count": rng.randrange(100),
            "favourites_count": rng.randrange(100_000),
            "statuses_count": rng.randrange(200_000),
            "created_at": _twitter_time(created),
            "utc_offset": None,
            "time_zone": None,
            "geo_enabled": rng.random() < 0.3,
            "lang": None,
            "contributors_enabled": False,
            "is_translator": False,
            "profile_background_color": colour,
            "profile_background_image_url": "http://abs.twimg.com/images/themes/theme1/bg.png",
            "profile_background_image_url_https": "https://abs.twimg.com/images/themes/theme1/bg.png",
            "profile_background_tile": False,
            "profile_link_color": "1DA1F2",
            "profile_sidebar_border_color": "C0DEED",
            "profile_sidebar_fill_color": "DDEEF6",
            "profile_text_color": "333333",
            "profile_use_background_image": True,
            "profile_image_url": image,
            "profile_image_url_https": image.replace("http:", "https:"),
            "profile_banner_url": f"https://pbs.twimg.com/profile_banners/{uid}/{rng.getrandbits(31)}",
            "default_profile": rng.random() < 0.4,
            "default_profile_image": False,
            "following": None,
            "follow_request_sent": None,
            "notifications": None,
            "withheld_in_countries": [],
        }

    def _text(self, lang: str, long: bool) -> str:
        rng = self.rng
        n = rng.randrange(25, 50) if long else rng.randrange(3, 18)
        words = rng.choices(_WORDS, k=n)
        if lang not in ("en", "und"):
            words[rng.randrange(len(words))] = rng.choice(_INTL)
        if rng.random() < 0.3:
            words.append(rng.choice(_EMOJI))
        if rng.random() < 0.15:
            words.append("#" + rng.choice(_HASHTAGS))
        if rng.random() < 0.15:
            words.insert(0, "@" + rng.choice(self.users)["screen_name"])
        text = " ".join(words)
        return text[:280] if long else text[:140]

    def _entities(self, text: str, media: bool) -> dict[str, Any]:
        rng = self.rng
        entities: dict[str, Any] = {
            "hashtags": [
                {"text": m.group(1), "indices": [m.start(), m.end()]}
                for m in re.finditer(r"#(\w+)", text)
            ],
            "urls": [],
            "user_mentions": [
                {
                    "screen_name": m.group(1),
                    "name": m.group(1).title(),
                    "id": (uid := rng.randrange(10**6, 10**18)),
                    "id_str": str(uid),
                    "indices": [m.start(), m.end()],
                }
                for m in re.finditer(r"@(\w+)", text)
            ],
            "symbols": [],
        }
        if rng.random() < 0.2:
            short = f"https://t.co/{rng.getrandbits(50):x}"
            entities["urls"].append(
                {
                    "url": short,
                    "expanded_url": f"https://example.com/{rng.choice(_WORDS)}/"
                    f"{rng.getrandbits(32)}",
                    "display_url": f"example.com/{rng.choice(_WORDS)}…",
                    "indices": [len(text) + 1, len(text) + 24],
                }
            )
        if media:
            mid = rng.getrandbits(62)
            url = f"http://pbs.twimg.com/media/{mid:x}.jpg"
            size = {"w": 1200, "h": 900, "resize": "fit"}
            entities["media"] = [
                {
                    "id": mid,
                    "id_str": str(mid),
                    "indices": [len(text) + 1, len(text) + 24],
                    "media_url": url,
                    "media_url_https": url.replace("http:", "https:"),
                    "url": f"https://t.co/{rng.getrandbits(50):x}",
                    "display_url": "pic.twitter.com/abcdefghij",
                    "expanded_url": f"https://twitter.com/i/web/status/{mid}/photo/1",
                    "type": "photo",
                    "sizes": {
                        "thumb": {"w": 150, "h": 150, "resize": "crop"},
                        "medium": size,
                        "small": {"w": 680, "h": 510, "resize": "fit"},
                        "large": size,
                    },
                }
            ]
        return entities

    def status(self, ms: int, *, embedded: bool = False) -> dict[str, Any]:
        """One original status (no retweet), possibly long, geotagged, a reply or a quote."""
        rng = self.rng
        sid = _snowflake(rng, ms)
        lang = rng.choices(self.langs, self.lang_weights)[0]
        long = rng.random() < 0.15
        user = rng.choice(self.users)
        text = self._text(lang, long)
        if not embedded and rng.random() < 0.005:
            user = rng.choice(self.bots)
            text = f"Status update: {user['screen_name']} service monitor reports errors"
        media = rng.random() < 0.08
        entities = self._entities(text, media)
        status = _skeleton(rng, sid, ms, text, user)
        status.update(entities=entities, lang=lang)
        if media:
            status["extended_entities"] = {"media": entities["media"]}
            status["possibly_sensitive"] = False
        if long:
            cut = text[:116].rstrip()
            status["truncated"] = True
            status["text"] = f"{cut}… https://t.co/{rng.getrandbits(50):x}"
            status["display_text_range"] = [0, len(status["text"]) - 24]
            status["extended_tweet"] = {
                "full_text": text,
                "display_text_range": [0, len(text)],
                "entities": entities,
            }
            status["entities"] = self._entities(cut, False)
        if rng.random() < 0.2:
            target = rng.choice(self.users)
            rid = _snowflake(rng, ms - rng.randrange(1, 3_600_000))
            status.update(
                {
                    "in_reply_to_status_id": rid,
                    "in_reply_to_status_id_str": str(rid),
                    "in_reply_to_user_id": target["id"],
                    "in_reply_to_user_id_str": target["id_str"],
                    "in_reply_to_screen_name": target["screen_name"],
                }
            )
        if rng.random() < 0.03:
            name, full, cc, country, kind, lon, lat = rng.choice(_PLACES)
            box = [[[lon, lat], [lon + 0.5, lat], [lon + 0.5, lat + 0.4], [lon, lat + 0.4]]]
            status["place"] = {
                "id": f"{rng.getrandbits(64):016x}",
                "url": f"https://api.twitter.com/1.1/geo/id/{rng.getrandbits(64):016x}.json",
                "place_type": kind,
                "name": name,
                "full_name": full,
                "country_code": cc,
                "country": country,
                "bounding_box": {"type": "Polygon", "coordinates": box},
                "attributes": {},
            }
            if rng.random() < 0.3:
                plon, plat = lon + rng.random() * 0.5, lat + rng.random() * 0.4
                status["coordinates"] = {"type": "Point", "coordinates": [plon, plat]}
                status["geo"] = {"type": "Point", "coordinates": [plat, plon]}
        if not embedded and rng.random() < 0.04 and self.popular:
            quoted = rng.choice(self.popular)
            status.update(
                {
                    "is_quote_status": True,
                    "quoted_status_id": quoted["id"],
                    "quoted_status_id_str": quoted["id_str"],
                    "quoted_status": quoted,
                    "quoted_status_permalink": {
                        "url": f"https://t.co/{rng.getrandbits(50):x}",
                        "expanded": f"https://twitter.com/{quoted['user']['screen_name']}/status/"
                        f"{quoted['id_str']}",
                        "display": f"twitter.com/{quoted['user']['screen_name']}/…",
                    },
                }
            )
        return status

    def retweet(self, ms: int) -> dict[str, Any]:
        """A retweet: truncated ``RT @x: ...`` text and the full original in retweeted_status."""
        rng = self.rng
        if len(self.popular) < 500 or rng.random() < 0.2:
            original = self.status(ms - rng.randrange(60_000, 86_400_000), embedded=True)
            if len(self.popular) < 2000:
                self.popular.append(original)
            else:
                self.popular[rng.randrange(2000)] = original
        else:
            original = rng.choice(self.popular)
        original["retweet_count"] += 1
        author = original["user"]["screen_name"]
        body = original.get("extended_tweet", {}).get("full_text", original["text"])
        text = f"RT @{author}: {body}"
        if len(text) > 140:
            text = text[:139] + "…"
        sid = _snowflake(rng, ms)
        user = rng.choice(self.users)
        return {
            **_skeleton(rng, sid, ms, text, user),
            "retweeted_status": original,
            "entities": {
                "hashtags": [],
                "urls": [],
                "symbols": [],
                "user_mentions": [
                    {
                        "screen_name": author,
                        "name": original["user"]["name"],
                        "id": original["user"]["id"],
                        "id_str": original["user"]["id_str"],
                        "indices": [3, 4 + len(author)],
                    }
                ],
            },
            "lang": original["lang"],
        }

    def delete(self, ms: int) -> dict[str, Any]:
        """A stream delete notice."""
        rng = self.rng
        sid = _snowflake(rng, ms - rng.randrange(1, 10**9))
        user = rng.choice(self.users)
        return {
            "delete": {
                "status": {
                    "id": sid,
                    "id_str": str(sid),
                    "user_id": user["id"],
                    "user_id_str": user["id_str"],
                },
                "timestamp_ms": str(ms),
            }
        }

    def lines(self, count: int) -> Iterator[bytes]:
        """Yield ``count`` JSON lines: ~3% delete notices, ~0.1% limit notices, ~10% retweets."""
        rng = self.rng
        for _ in range(count):
            self.clock_ms += int(rng.expovariate(1 / 20))  # ~50 statuses/s, a 1% sample
            roll = rng.random()
            if roll < 0.03:
                record = self.delete(self.clock_ms)
            elif roll < 0.031:
                track = rng.randrange(10**5)
                record = {"limit": {"track": track, "timestamp_ms": str(self.clock_ms)}}
            else:
                if roll < 0.131:
                    record = self.retweet(self.clock_ms)
                else:
                    record = self.status(self.clock_ms)
                record["timestamp_ms"] = str(self.clock_ms)
            yield orjson.dumps(record) + b"\n"


def _skeleton(
    rng: random.Random, sid: int, ms: int, text: str, user: dict[str, Any]
) -> dict[str, Any]:
    """The fields every v1.1 status has, in the API's order, with their usual values."""
    return {
        "created_at": _twitter_time(datetime.fromtimestamp(ms / 1000, UTC)),
        "id": sid,
        "id_str": str(sid),
        "text": text,
        "source": rng.choice(_SOURCES),
        "truncated": False,
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None,
        "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None,
        "user": user,
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
        "is_quote_status": False,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
    }


def input_file(count: int, out: Path) -> Path:
    """Return the cached input of ``count`` lines, generating it first if needed."""
    path = out / f"tweets-v11-{count}-s{SEED}-g{GENERATOR_VERSION}.jsonl.gz"
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    started = time.perf_counter()
    factory = TweetFactory(SEED, datetime(2021, 11, 19, 18, 0, tzinfo=UTC))
    raw = 0
    with gzip.open(partial, "wb", compresslevel=6) as out:
        chunk: list[bytes] = []
        for line in factory.lines(count):
            chunk.append(line)
            raw += len(line)
            if len(chunk) == 5000:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    partial.rename(path)
    print(
        f"generated {path.name}: {count:,} lines, {raw / 1e6:,.0f} MB raw, "
        f"{path.stat().st_size / 1e6:,.0f} MB gzip, {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return path
