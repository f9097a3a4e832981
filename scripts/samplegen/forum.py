"""Teslamotorsclub-style forum posts in the project's forum schema.

Threads: the 2021-11-19 outage threads ("Tesla app down?" and "Phone key not working - 500 server
error") and a handful of ordinary background threads. About a quarter of replies quote an earlier
post, either as XenForo renders quotes to text or as BBCode.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from samplegen import phrases_incident as inc
from samplegen.compose import slugify
from samplegen.geo import REGIONS, Region
from samplegen.grammar import expand, pick, tidy
from samplegen.phrases_forum import BACKGROUND_THREADS, FORUM_HANDLES, OUTAGE_FORUM
from samplegen.plan import WINDOW_END, WINDOW_START, sample_curve, waking_time

__all__ = ["ForumPost", "build_forum"]

_REGION = {r.key: r for r in REGIONS}
_HANDLE_REGION = {
    "NorCalEV": "us_pacific",
    "FrozenNorway": "no",
    "SoCal_Sparky": "us_pacific",
    "TexasTesla": "us_central",
    "KiwiDriver": "au_east",
    "gtaModelY": "ca_east",
    "Bjorn_EV": "no",
    "MidwestM3": "us_central",
    "Jeff_in_Denver": "us_mountain",
    "HollandEV": "nl",
    "SeoulTesla": "kr",
    "AussieM3": "au_east",
    "Rob_UK_M3": "gb",
    "Dutch_Driver": "nl",
    "OsloEV": "no",
    "PNW_Y": "us_pacific",
    "BayAreaBob": "us_pacific",
    "Sunny_FL": "us_eastern",
    "CanuckEV": "ca_west",
    "MelbourneY": "au_east",
    "berliner_ev": "de",
    "JerseyY": "us_eastern",
    "Atl_Tesla": "us_eastern",
    "MontrealM3": "ca_east",
    "Busan_EV": "kr",
    "GlasgowGreen": "gb",
}
_OTHER_REGIONS = (
    ("us_pacific", 30),
    ("us_mountain", 6),
    ("us_central", 14),
    ("us_eastern", 22),
    ("ca_east", 5),
    ("ca_west", 4),
    ("gb", 5),
    ("de", 3),
    ("no", 4),
    ("nl", 3),
    ("au_east", 4),
)
_MORE_NAMES = (
    "mike",
    "dave",
    "sarah",
    "kris",
    "tom",
    "jen",
    "alex",
    "pat",
    "lars",
    "nina",
    "raj",
    "chen",
    "owen",
    "maya",
    "luis",
    "hank",
    "greta",
    "ivan",
    "noor",
    "zack",
)
_REPLY_CHATTER = (
    "+1",
    "Thanks, that's helpful.",
    "Same experience here.",
    "Good to know, thanks!",
    "Agreed.",
    "This is the way.",
    "Following.",
    "Interesting, thanks for sharing.",
)
_JOKES = (
    "My wallet hurts just reading this thread.",
    "Step one: buy a Tesla. Step two: join TMC. Step three: never leave.",
    "I'll just wait for the Cybertruck.",
)
_OUTAGE_CURVE = (
    (0, 0.5),
    (5, 1.5),
    (15, 2.2),
    (45, 2.4),
    (90, 1.8),
    (150, 0.9),
    (240, 0.35),
    (330, 0.1),
    (400, 0),
)
_OUTAGE_START = datetime(2021, 11, 19, 21, 4, 0, tzinfo=UTC)
_CHECKING = datetime(2021, 11, 19, 21, 24, tzinfo=UTC)
_BACK = datetime(2021, 11, 19, 21, 50, 37, tzinfo=UTC)


@dataclass(slots=True)
class Member:
    """A forum account with an optional profile location."""

    handle: str
    member_id: int
    region: Region
    city_name: str
    location: str | None


@dataclass(slots=True)
class ForumPost:
    """One post before ids are assigned; ``plain`` is the body without quotes (for quoting)."""

    thread_id: str
    title: str
    when: datetime
    author: Member
    body: str
    plain: str
    label: dict[str, Any]
    post_number: int = 0
    post_id: int = 0


def _members(rng: random.Random) -> list[Member]:
    names = list(FORUM_HANDLES)
    for name in _MORE_NAMES:
        names.append(f"{name}{rng.randrange(1, 999)}")
        names.append(f"{name.title()}_{pick(rng, ('M3', 'MY', 'EV', 'LR', 'P', 'S'))}")
    ids = rng.sample(range(1_000, 190_000), len(names))
    members = []
    for name, mid in zip(names, ids, strict=True):
        key = (
            _HANDLE_REGION.get(name)
            or rng.choices([k for k, _ in _OTHER_REGIONS], [w for _, w in _OTHER_REGIONS])[0]
        )
        region = _REGION[key]
        city = region.cities[rng.randrange(len(region.cities))]
        if rng.random() < 0.28:
            location = None
        elif region.country in ("US", "CA", "AU"):
            location = pick(
                rng,
                (
                    f"{city.name}, {city.admin}",
                    city.name,
                    f"{city.admin_name}",
                    f"{city.name}, {city.admin}",
                ),
            )
        else:
            location = pick(
                rng, (f"{city.name}, {region.country_name}", city.name, region.country_name)
            )
        members.append(Member(name, mid, region, city.name, location))
    return members


def _label(
    intent: str,
    is_outage: bool,
    member: Member,
    symptom: str | None = None,
    error: str | None = None,
    feature: str | None = None,
) -> dict[str, Any]:
    return {
        "intent": intent,
        "is_outage": is_outage,
        "service": "tesla",
        "symptom": symptom,
        "error": error,
        "feature": feature,
        "country": member.region.country,
        "lang": "en",
    }


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class _ForumBuilder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}:forum")
        self.members = _members(self.rng)
        self.posts: list[ForumPost] = []

    def member(self, outage: bool = False) -> Member:
        if outage and self.rng.random() < 0.3:
            pool = [m for m in self.members if m.handle in _HANDLE_REGION]
            return pool[self.rng.randrange(len(pool))]
        return self.members[self.rng.randrange(len(self.members))]

    def outage_body(self, member: Member, when: datetime) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        slots: dict[str, Any] = {
            k: v
            for k, v in inc.TESLA.items()
            if k not in ("clauses", "frames", "tags", "loc", "anyone")
        }
        slots["app"] = ("the app", "the Tesla app", "my app", "the app")
        slots["city"] = member.city_name
        slots["model"] = ("Model 3", "Model Y", "M3", "MY", "car")
        clauses: tuple[tuple[str, str, str], ...] = inc.TESLA["clauses"]  # type: ignore[assignment]
        clause, symptom, feature = pick(rng, clauses)
        filled = expand(clause, slots, rng)
        slots.update(
            clause=filled,
            clause_cap=_cap(filled),
            clause2=expand(pick(rng, clauses)[0], slots, rng),
            ctx_cap=tuple(_cap(c) for c in inc.TESLA["ctx"]),
        )  # type: ignore[union-attr]
        if when < _CHECKING:
            weights = {"complaint": 80, "tips": 10, "joke": 4}
        elif when < _BACK:
            weights = {"complaint": 68, "elon_a": 12, "tips": 12, "joke": 5}
        elif when < datetime(2021, 11, 19, 23, 0, tzinfo=UTC):
            weights = {
                "still": 30,
                "complaint": 38,
                "elon_b": 8,
                "tips": 8,
                "recovered": 9,
                "joke": 6,
            }
        else:
            weights = {"recovered": 42, "still": 30, "complaint": 14, "joke": 5, "tips": 9}
        kind = rng.choices(list(weights), list(weights.values()))[0]
        if kind in ("complaint", "still"):
            text = expand(pick(rng, OUTAGE_FORUM[kind]), slots, rng)
            error = "500" if "500" in text else None
            if error and symptom == "down_unavailable":
                symptom = "error_message"
            return tidy(text), _label("outage_complaint", True, member, symptom, error, feature)
        if kind == "recovered":
            return expand(pick(rng, OUTAGE_FORUM["recovered"]), slots, rng), _label(
                "smalltalk", False, member
            )
        if kind == "joke":
            return pick(rng, OUTAGE_FORUM["joke"]), _label("joke", False, member)
        if kind.startswith("elon"):
            options = OUTAGE_FORUM["elon"][:2] if kind == "elon_a" else OUTAGE_FORUM["elon"][2:]
            text = pick(rng, options)
            if "not fixed" in text:
                return text, _label(
                    "outage_complaint", True, member, "down_unavailable", None, "mobile_app"
                )
            return text, _label("reply_chatter", False, member)
        return pick(rng, OUTAGE_FORUM["tips"]), _label("reply_chatter", False, member)

    def outage_thread(
        self, thread_id: str, title: str, start: datetime, scale: float, opener: str
    ) -> None:
        rng = self.rng
        times = sample_curve(rng, start, _OUTAGE_CURVE, scale=scale)
        starter = next(
            m
            for m in self.members
            if m.region.country == "US" and m.location is not None and rng.random() < 0.3
        )
        first = start + timedelta(seconds=rng.uniform(5, 55))
        self.add(
            thread_id,
            title,
            first,
            starter,
            opener,
            _label("question", True, starter, "error_message", "500", "mobile_app"),
        )
        for when in times:
            if when <= first:
                continue
            member = self.member(outage=True)
            body, label = self.outage_body(member, when)
            self.add(thread_id, title, when, member, body, label)

    def background_threads(self) -> None:
        rng = self.rng
        for thread in BACKGROUND_THREADS:
            per_day = int(thread["per_day"])  # type: ignore[call-overload]
            times = sorted(waking_time(rng, -6) for _ in range(per_day * 4))
            title, thread_id = str(thread["title"]), str(thread["thread_id"])
            for when in times:
                member = self.member()
                intent = rng.choices(
                    ("smalltalk", "question", "other_complaint", "praise", "reply_chatter", "joke"),
                    (35, 25, 15, 10, 10, 5),
                )[0]
                if intent == "reply_chatter":
                    body = pick(rng, _REPLY_CHATTER)
                elif intent == "joke":
                    body = pick(rng, _JOKES)
                else:
                    options: tuple[str, ...] = thread[intent]  # type: ignore[assignment]
                    body = " ".join(rng.sample(options, k=min(len(options), rng.randint(1, 2))))
                self.add(thread_id, title, when, member, body, _label(intent, False, member))

    def add(
        self,
        thread_id: str,
        title: str,
        when: datetime,
        member: Member,
        body: str,
        label: dict[str, Any],
    ) -> None:
        self.posts.append(ForumPost(thread_id, title, when, member, body, body, label))

    def finish(self) -> list[ForumPost]:
        rng = self.rng
        self.posts.sort(key=lambda p: (p.when, p.thread_id))
        post_id, last = 6_528_000, WINDOW_START
        first_numbers = {
            str(t["thread_id"]): int(t["first_post"])  # type: ignore[call-overload]
            for t in BACKGROUND_THREADS
        }
        counters: dict[str, int] = {}
        by_thread: dict[str, list[ForumPost]] = {}
        for post in self.posts:
            gap = (post.when - last).total_seconds()
            post_id += max(1, int(gap * 0.04) + rng.randrange(0, 4))
            last = post.when
            post.post_id = post_id
            counters[post.thread_id] = (
                counters.get(post.thread_id, first_numbers.get(post.thread_id, 1) - 1) + 1
            )
            post.post_number = counters[post.thread_id]
            earlier = by_thread.setdefault(post.thread_id, [])
            if earlier and post.post_number > 1 and rng.random() < 0.25:
                quoted = earlier[-1 - rng.randrange(min(len(earlier), 5))]
                post.body = self.quote(quoted, post.body)
            earlier.append(post)
        return [p for p in self.posts if WINDOW_START <= p.when < WINDOW_END]

    def quote(self, quoted: ForumPost, reply: str) -> str:
        text = quoted.plain
        if len(text) > 220:
            text = text[:220].rsplit(" ", 1)[0] + "..."
        if self.rng.random() < 0.5:
            return f"{quoted.author.handle} said:\n{text}\nClick to expand...\n{reply}"
        return (
            f'[QUOTE="{quoted.author.handle}, post: {quoted.post_id}, member: '
            f'{quoted.author.member_id}"]{text}[/QUOTE]\n{reply}'
        )


def build_forum(seed: int) -> list[dict[str, Any]]:
    """Return forum records (thread by thread, in post order), each with a ``_label``."""
    builder = _ForumBuilder(seed)
    builder.outage_thread(
        "245123",
        "Tesla app down?",
        _OUTAGE_START,
        0.68,
        "Is anyone else getting a 500 server error in the app? Can't unlock "
        "the car with my phone and the app says the car is offline. Using the "
        "key card for now.",
    )
    builder.outage_thread(
        "245127",
        "Phone key not working - 500 server error",
        _OUTAGE_START + timedelta(minutes=8),
        0.14,
        "Phone key stopped working about 10 minutes ago and the app just shows "
        "500 Server Error. Anyone else?",
    )
    builder.background_threads()
    posts = builder.finish()
    posts.sort(key=lambda p: (int(p.thread_id), p.post_number))
    records = []
    for p in posts:
        url = (
            f"https://teslamotorsclub.com/tmc/threads/{slugify(p.title)}.{p.thread_id}/"
            f"post-{p.post_id}"
        )
        record: dict[str, Any] = {
            "forum": "teslamotorsclub",
            "thread_id": p.thread_id,
            "thread_title": p.title,
            "post_number": p.post_number,
            "post_id": str(p.post_id),
            "author": p.author.handle,
            "author_id": str(p.author.member_id),
            "author_location": p.author.location,
            "timestamp": p.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "body": p.body,
            "url": url,
            "lang": "en",
        }
        if builder.rng.random() < 0.05:
            del record["author_id"]
        record["_label"] = dict(p.label, id=f"forum:teslamotorsclub:{p.post_id}")
        records.append(record)
    return records
