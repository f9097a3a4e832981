"""Assemble the archived Twitter stream: plan events, build records in time order, add notices.

Events live on a heap so that processing one can schedule follow-ups (retweets, support replies,
duplicate complaints) that are then handled in time order too.
"""

from __future__ import annotations

import heapq
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from samplegen.compose import Composer, Draft
from samplegen.phrases_incident import ELON_BACK, ELON_CHECKING
from samplegen.plan import (
    INCIDENTS,
    TESLA_CURVE,
    WINDOW_END,
    WINDOW_START,
    sample_curve,
    waking_time,
)
from samplegen.services import SERVICE_BY_SLUG, SERVICES, Service
from samplegen.twitter import TweetFactory
from samplegen.users import User, UserPool

__all__ = ["Stream", "build_stream"]

_INTENTS = (
    ("smalltalk", 22.0),
    ("other_complaint", 17.0),
    ("question", 11.0),
    ("praise", 11.0),
    ("joke", 8.0),
)
_TESLA_REGIONS = (
    ("us_pacific", 25.0),
    ("us_mountain", 5.0),
    ("us_central", 12.0),
    ("us_eastern", 18.0),
    ("ca_east", 5.0),
    ("ca_west", 3.5),
    ("gb", 4.0),
    ("ie", 0.5),
    ("de", 3.5),
    ("no", 5.0),
    ("nl", 3.5),
    ("fr", 0.8),
    ("es", 0.4),
    ("it", 0.4),
    ("kr", 6.0),
    ("au_east", 4.5),
    ("au_west", 0.6),
    ("jp", 0.4),
    ("pt", 0.2),
)
_INCIDENT_SYMPTOMS = {
    "discord": ("feature_broken", "feature_broken", "down_unavailable", "connectivity_network"),
    "coinbase": ("login_auth", "payments", "error_message"),
    "psn": ("login_auth", "login_auth", "error_message", "connectivity_network"),
    "verizon": ("connectivity_network",),
}
_ELON_CHECKING_AT = datetime(2021, 11, 19, 21, 24, tzinfo=UTC)
_ELON_BACK_AT = datetime(2021, 11, 19, 21, 50, 37, tzinfo=UTC)


@dataclass(order=True)
class Event:
    """Something to post at ``when``; ``seq`` keeps equal times in a stable order."""

    when: datetime
    seq: int
    kind: str = field(compare=False)
    user: User = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


@dataclass
class Stream:
    """The finished stream: ordered JSON lines and one label per generated tweet."""

    lines: list[str]
    labels: dict[str, dict[str, Any]]
    malformed: list[dict[str, str]]
    tweets: list[dict[str, Any]]


class _Builder:
    def __init__(self, seed: int, pool: UserPool) -> None:
        self.rng = random.Random(f"{seed}:stream")
        self.pool = pool
        self.compose = Composer(random.Random(f"{seed}:text"))
        self.factory = TweetFactory(random.Random(f"{seed}:ids"), pool)
        self.heap: list[Event] = []
        self.seq = 0
        self.tweets: list[dict[str, Any]] = []
        self.labels: dict[str, dict[str, Any]] = {}
        self.recent: dict[str, list[dict[str, Any]]] = {"general": [], "tesla": []}
        self.elon: dict[str, dict[str, Any]] = {}
        self.tsla_price = 1096.38
        self.svc_weights = [s.weight for s in SERVICES]

    # -- planning --------------------------------------------------------------------------------
    def push(self, when: datetime, kind: str, user: User, **data: Any) -> None:
        if WINDOW_START <= when < WINDOW_END:
            self.seq += 1
            heapq.heappush(self.heap, Event(when, self.seq, kind, user, data))

    def pick_service(self) -> Service:
        return self.rng.choices(SERVICES, self.svc_weights)[0]

    def plan_background(self, n_people: int) -> None:
        rng, pool = self.rng, self.pool
        for _ in range(n_people):
            user = pool.random_person(rng)
            assert user.region is not None
            when = waking_time(rng, user.region.utc_offset)
            roll = rng.random()
            kind = (
                "bg"
                if roll < 0.7
                else "rt_any"
                if roll < 0.86
                else "reply"
                if roll < 0.96
                else "quote"
            )
            self.push(when, kind, user)
        for _ in range(n_people // 28):
            self.push(waking_time(rng, -5), "news", pool.news[rng.randrange(len(pool.news))])
        for _ in range(n_people // 36):
            self.push(waking_time(rng, -6), "ad", pool.promo[rng.randrange(len(pool.promo))])
        spam_bots = [b for b in pool.bots if b.screen_name != "tsla_ticker_bot"]
        for bot in spam_bots:
            when = WINDOW_START + timedelta(minutes=rng.uniform(0, 120))
            while when < WINDOW_END:
                self.push(when, "bot", bot)
                when += timedelta(minutes=rng.uniform(20, 150))
        ticker = pool.by_handle["tsla_ticker_bot"]
        for day in (18, 19):
            when = datetime(2021, 11, day, 14, 30, tzinfo=UTC)
            while when.hour < 21:
                self.push(when + timedelta(seconds=rng.uniform(0, 20)), "ticker", ticker)
                when += timedelta(minutes=30)

    def plan_tesla(self) -> None:
        rng, pool = self.rng, self.pool
        start = INCIDENTS[0].start
        regions = [r for r, _ in _TESLA_REGIONS]
        weights = [w for _, w in _TESLA_REGIONS]
        for when in sample_curve(rng, start, TESLA_CURVE):
            region = rng.choices(regions, weights)[0]
            user = pool.in_region(rng, region, owner=rng.random() < 0.93)
            roll = rng.random()
            kind = "tesla_reply" if roll < 0.07 else "tesla_quote" if roll < 0.1 else "tesla"
            self.push(when, kind, user)
        self.push(_ELON_CHECKING_AT, "elon", pool.elon, text=ELON_CHECKING, key="checking")
        self.push(_ELON_BACK_AT, "elon", pool.elon, text=ELON_BACK, key="back")
        curves = {
            ("checking", "elon_reply"): (
                (0, 0),
                (1, 7),
                (5, 6),
                (20, 3.2),
                (40, 1.5),
                (70, 0.8),
                (100, 0.3),
                (130, 0),
            ),
            ("back", "elon_reply"): (
                (0, 0),
                (1, 6),
                (6, 5.5),
                (25, 3.0),
                (60, 1.4),
                (120, 0.5),
                (180, 0.15),
                (200, 0),
            ),
            ("checking", "elon_rt"): ((0, 0), (1, 14), (10, 5), (30, 1.8), (90, 0.3), (150, 0)),
            ("back", "elon_rt"): ((0, 0), (1, 16), (10, 6), (30, 2), (90, 0.4), (160, 0)),
            ("checking", "elon_quote"): ((0, 0), (2, 0.6), (30, 0.2), (60, 0)),
            ("back", "elon_quote"): ((0, 0), (2, 0.8), (30, 0.3), (70, 0)),
        }
        for (key, kind), knots in curves.items():
            at = _ELON_CHECKING_AT if key == "checking" else _ELON_BACK_AT
            for when in sample_curve(rng, at + timedelta(seconds=20), knots):
                region = rng.choices(regions, weights)[0]
                user = pool.in_region(rng, region, owner=rng.random() < 0.7)
                self.push(when, kind, user, key=key)
        recovery = ((0, 0.1), (60, 0.5), (120, 0.8), (180, 0.6), (240, 0.3), (300, 0))
        for when in sample_curve(rng, datetime(2021, 11, 19, 22, 0, tzinfo=UTC), recovery):
            region = rng.choices(regions, weights)[0]
            self.push(when, "tesla_recovered", pool.in_region(rng, region, owner=True))
        for n in range(6):
            when = datetime(2021, 11, 19, 22, 12, tzinfo=UTC) + timedelta(
                minutes=n * 17 + 5 * rng.random()
            )
            self.push(when, "tesla_news", pool.news[rng.randrange(len(pool.news))], during=True)
        for n in range(5):
            when = datetime(2021, 11, 19, 23, 5, tzinfo=UTC) + timedelta(
                minutes=n * 80 + 30 * rng.random()
            )
            self.push(when, "tesla_news", pool.news[rng.randrange(len(pool.news))], during=False)

    def plan_incidents(self) -> None:
        rng, pool = self.rng, self.pool
        for incident in INCIDENTS[1:]:
            for when in sample_curve(rng, incident.start, incident.knots):
                if incident.service == "verizon":
                    user = pool.in_region(
                        rng,
                        "us_eastern",
                        predicate=lambda u: u.city is not None and u.city.admin == "GA",
                    )
                else:
                    user = pool.random_person(rng)
                self.push(when, "incident", user, service=incident.service)

    # -- processing ------------------------------------------------------------------------------
    def remember(self, topic: str, record: dict[str, Any]) -> None:
        bucket = self.recent[topic]
        bucket.append(record)
        if len(bucket) > 400:
            del bucket[:100]

    def emit(self, record: dict[str, Any], label: dict[str, Any] | None) -> dict[str, Any]:
        self.tweets.append(record)
        if label is not None:
            self.labels[record["id_str"]] = label
        return record

    def post(self, draft: Draft, user: User, when: datetime, **kwargs: Any) -> dict[str, Any]:
        user.statuses += 1
        record = self.factory.tweet(draft, user, when, **kwargs)
        self.emit(record, draft.label(f"twitter:{record['id_str']}", user.country))
        return record

    def label_of(self, record: dict[str, Any]) -> dict[str, Any] | None:
        return self.labels.get(record["id_str"])

    def retweet(self, original: dict[str, Any], user: User, when: datetime) -> None:
        label = self.label_of(original)
        record = self.factory.retweet(original, user, when)
        new_label = None
        if label is not None:
            new_label = dict(label, id=f"twitter:{record['id_str']}", country=user.country)
        self.emit(record, new_label)

    def spawn_retweets(self, record: dict[str, Any], mean: float, delay_min: float) -> None:
        followers = record["user"]["followers_count"]
        boost = min(4.0, 1 + followers / 20_000)
        count = min(60, int(self.rng.expovariate(1 / (mean * boost))) if mean > 0 else 0)
        when = datetime.fromtimestamp(int(record["timestamp_ms"]) / 1000, UTC)
        for _ in range(count):
            later = when + timedelta(minutes=self.rng.expovariate(1 / delay_min) + 0.2)
            self.push(later, "rt_of", self.pool.random_person(self.rng), target=record)

    def old_original(self, when: datetime) -> dict[str, Any]:
        """A tweet from before this stream (1 hour to 3 days old), for retweets and quotes."""
        rng = self.rng
        earlier = when - timedelta(minutes=rng.uniform(60, 4320))
        roll = rng.random()
        svc = self.pick_service()
        if roll < 0.12:
            author = self.pool.news[rng.randrange(len(self.pool.news))]
            draft = self.compose.news(svc, earlier)
        else:
            author = self.pool.random_person(rng)
            intent = rng.choices([i for i, _ in _INTENTS], [w for _, w in _INTENTS])[0]
            draft = self.compose.background(author, svc, intent)
        record = self.factory.tweet(draft, author, earlier, geo_rate=0.0)
        self.labels[record["id_str"]] = draft.label(f"twitter:{record['id_str']}", author.country)
        return record

    def handle(self, ev: Event) -> None:
        rng, compose, user, when = self.rng, self.compose, ev.user, ev.when
        kind = ev.kind
        if kind == "bg":
            svc = self.pick_service()
            outage_w = 2.0 if svc.slug == "tesla" else 4.5
            intents = [*_INTENTS, ("outage", outage_w)]
            intent = rng.choices([i for i, _ in intents], [w for _, w in intents])[0]
            if intent == "outage":
                self.complaint(user, svc, when, compose.outage(user, svc), rt_mean=0.15)
                return
            record = self.post(compose.background(user, svc, intent), user, when)
            self.remember("general", record)
            if rng.random() < 0.1:
                self.spawn_retweets(record, 1.5, 30)
        elif kind == "rt_any":
            pool = self.recent["general"]
            target = (
                pool[rng.randrange(len(pool))]
                if pool and rng.random() < 0.5
                else self.old_original(when)
            )
            self.retweet(target, user, when)
        elif kind == "rt_of":
            self.retweet(ev.data["target"], user, when)
        elif kind == "reply":
            pool = self.recent["general"]
            if not pool:
                return
            parent = pool[-1 - rng.randrange(min(len(pool), 150))]
            svc = SERVICE_BY_SLUG.get((self.label_of(parent) or {}).get("service") or "")
            self.post(compose.reply_chatter(user, svc), user, when, reply_to=parent)
        elif kind == "quote":
            pool = self.recent["general"]
            target = (
                pool[-1 - rng.randrange(min(len(pool), 150))] if pool else self.old_original(when)
            )
            label = self.label_of(target) or {}
            svc = SERVICE_BY_SLUG.get(label.get("service") or "")
            draft = compose.quote_comment(user, bool(label.get("is_outage")), svc)
            self.post(draft, user, when, quoted=target)
        elif kind == "news":
            record = self.post(compose.news(self.pick_service(), when), user, when)
            self.spawn_retweets(record, 0.6, 45)
        elif kind == "ad":
            self.post(compose.ad(user, self.pick_service()), user, when)
        elif kind == "bot":
            self.post(compose.bot_text(user, self.pick_service()), user, when)
        elif kind == "ticker":
            self.tsla_price *= 1 + rng.uniform(-0.008, 0.007)
            self.post(compose.ticker(when, self.tsla_price), user, when)
        elif kind == "brand_reply":
            svc = SERVICE_BY_SLUG[ev.data["service"]]
            self.post(compose.reply_chatter(user, svc), user, when, reply_to=ev.data["target"])
        elif kind == "dup":
            self.post(ev.data["draft"], user, when)
        else:
            self.handle_incident(ev)

    def complaint(
        self,
        user: User,
        svc: Service,
        when: datetime,
        draft: Draft,
        rt_mean: float,
        geo_rate: float = 0.04,
        coord_share: float = 0.35,
    ) -> dict[str, Any]:
        rng = self.rng
        support = self.pool.brands.get(svc.support or "") if svc.support else None
        mention = (
            support
            if (support is not None and rng.random() < 0.12 and not draft.text.startswith("@"))
            else None
        )
        record = self.post(
            draft, user, when, mention_reply=mention, geo_rate=geo_rate, coord_share=coord_share
        )
        self.remember("general", record)
        if mention is not None and rng.random() < 0.3:
            self.push(
                when + timedelta(minutes=rng.uniform(4, 50)),
                "brand_reply",
                mention,
                target=record,
                service=svc.slug,
            )
        if rng.random() < 0.0015:
            self.push(when + timedelta(minutes=rng.uniform(0.5, 6)), "dup", user, draft=draft)
        self.spawn_retweets(record, rt_mean, 25)
        return record

    def handle_incident(self, ev: Event) -> None:
        rng, compose, user, when, kind = self.rng, self.compose, ev.user, ev.when, ev.kind
        tesla = SERVICE_BY_SLUG["tesla"]
        if kind == "tesla":
            draft = compose.tesla_outage(user, when)
            geo = 0.07 if user.country != "US" else 0.03
            record = self.complaint(user, tesla, when, draft, rt_mean=0.45, geo_rate=geo)
            self.remember("tesla", record)
        elif kind == "tesla_reply":
            pool = self.recent["tesla"]
            if not pool:
                return
            parent = pool[-1 - rng.randrange(min(len(pool), 60))]
            record = self.post(compose.tesla_outage(user, when), user, when, reply_to=parent)
            self.remember("tesla", record)
        elif kind == "tesla_quote":
            pool = self.recent["tesla"]
            if not pool:
                return
            target = pool[-1 - rng.randrange(min(len(pool), 60))]
            draft = compose.quote_comment(user, True, tesla)
            self.post(draft, user, when, quoted=target)
        elif kind == "elon":
            draft = Draft(ev.data["text"], "en", "news", False, "tesla")
            record = self.post(draft, user, when.replace(microsecond=0))
            self.elon[ev.data["key"]] = record
        elif kind in ("elon_reply", "elon_quote", "elon_rt"):
            target = self.elon.get(ev.data["key"])
            if target is None:
                return
            if kind == "elon_rt":
                self.retweet(target, user, when)
                return
            draft = compose.elon_reply(user, when)
            if kind == "elon_reply":
                self.post(draft, user, when, reply_to=target)
            else:
                self.post(draft, user, when, quoted=target)
        elif kind == "tesla_recovered":
            self.post(compose.tesla_recovery(user), user, when)
        elif kind == "tesla_news":
            record = self.post(compose.tesla_news(when, ev.data["during"]), user, when)
            self.spawn_retweets(record, 6.0, 30)
        elif kind == "incident":
            svc = SERVICE_BY_SLUG[ev.data["service"]]
            if rng.random() < 0.07 and user.lang == "en":
                draft = compose.outage_joke(svc, user)
            else:
                draft = compose.outage(
                    user,
                    svc,
                    question_p=0.3,
                    incident=True,
                    symptoms=_INCIDENT_SYMPTOMS[svc.slug],
                )
            geo, coords = (0.22, 0.3) if svc.slug == "verizon" else (0.04, 0.35)
            self.complaint(user, svc, when, draft, rt_mean=0.12, geo_rate=geo, coord_share=coords)

    def run(self) -> None:
        while self.heap:
            self.handle(heapq.heappop(self.heap))

    # -- finishing -----------------------------------------------------------------------------
    def finish(self) -> Stream:
        rng = self.rng
        tweets = self.tweets
        entries: list[tuple[float, int, str]] = []
        order = 0
        malformed = self.malform(tweets)
        for record in tweets:
            order += 1
            ms = int(record["timestamp_ms"])
            jitter = rng.uniform(-3500, 3500) if rng.random() < 0.12 else 0.0
            bad = record.get("_malformed")
            if bad:
                record.pop("_malformed")
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            if bad == "truncated_json":
                line = line[: int(len(line) * 0.62)]
            entries.append((ms + jitter, order, line))
        for record in rng.sample(tweets, k=int(len(tweets) * 0.005)):
            delay = rng.expovariate(1 / 2_400_000) + 20_000
            at = int(int(record["timestamp_ms"]) + delay)
            if at < int(WINDOW_END.timestamp() * 1000):
                order += 1
                notice = TweetFactory.delete_notice(record, at)
                entries.append((at, order, json.dumps(notice, separators=(",", ":"))))
        for _ in range(40):  # deletions of tweets posted before the stream began
            author = self.pool.random_person(rng)
            at = int(waking_time(rng, -6).timestamp() * 1000)
            old_id = self.factory.snowflake(at - int(rng.uniform(3.6e6, 9e8)))
            notice = {
                "delete": {
                    "status": {
                        "id": old_id,
                        "id_str": str(old_id),
                        "user_id": author.id,
                        "user_id_str": str(author.id),
                    },
                    "timestamp_ms": str(at),
                }
            }
            order += 1
            entries.append((at, order, json.dumps(notice, separators=(",", ":"))))
        track = 0
        limit_times = [
            datetime(2021, 11, 19, 21, 41, 12, tzinfo=UTC) + timedelta(minutes=9 * i)
            for i in range(7)
        ]
        limit_times += [
            datetime(2021, 11, 20, 20, 2, 40, tzinfo=UTC),
            datetime(2021, 11, 20, 20, 17, 5, tzinfo=UTC),
        ]
        for at_dt in limit_times:
            track += rng.randrange(8, 140)
            at = int(at_dt.timestamp() * 1000) + rng.randrange(1000)
            order += 1
            entries.append(
                (at, order, json.dumps(TweetFactory.limit_notice(track, at), separators=(",", ":")))
            )
        entries.sort()
        for n, (_, _, line) in enumerate(entries, 1):
            for bad in malformed:
                if f'"id_str":"{bad["id_str"]}"' in line[:200]:
                    bad["line"] = str(n)
        return Stream([line for _, _, line in entries], self.labels, malformed, tweets)

    def malform(self, tweets: list[dict[str, Any]]) -> list[dict[str, str]]:
        """Break exactly three background tweets in the documented ways; drop their labels."""
        picks = {
            "truncated_json": datetime(2021, 11, 18, 9, 14, tzinfo=UTC),
            "impossible_date": datetime(2021, 11, 20, 10, 0, tzinfo=UTC),
            "no_text": datetime(2021, 11, 21, 3, 30, tzinfo=UTC),
        }
        # Tweets embedded in a retweet, quote or reply chain stay intact.
        referenced = {
            t[key]["id_str"]
            for t in tweets
            for key in ("retweeted_status", "quoted_status")
            if key in t
        } | {t["in_reply_to_status_id_str"] for t in tweets if t.get("in_reply_to_status_id_str")}
        out = []
        for kind, near in picks.items():
            near_ms = near.timestamp() * 1000
            candidates = [
                t
                for t in tweets
                if "retweeted_status" not in t
                and t["id_str"] not in referenced
                and not t.get("truncated")
                and "_malformed" not in t
                and not t.get("in_reply_to_status_id")
                and not t.get("is_quote_status")
                and not (self.labels.get(t["id_str"]) or {}).get("is_outage")
            ]
            record = min(candidates, key=lambda t: abs(int(t["timestamp_ms"]) - near_ms))
            record["_malformed"] = kind
            self.labels.pop(record["id_str"], None)
            if kind == "impossible_date":
                record["created_at"] = "Wed Nov 31 10:00:00 +0000 2021"
            elif kind == "no_text":
                record.pop("text", None)
                record.pop("extended_tweet", None)
            out.append(
                {"kind": kind, "id_str": record["id_str"], "timestamp_ms": record["timestamp_ms"]}
            )
        return out


def build_stream(seed: int, pool: UserPool, n_background: int) -> Stream:
    """Plan and build the whole Twitter stream."""
    builder = _Builder(seed, pool)
    builder.plan_background(n_background)
    builder.plan_tesla()
    builder.plan_incidents()
    builder.run()
    return builder.finish()
