"""The synthetic author pool: ordinary people, bots, promo and news accounts, brands, Elon.

Every account is invented (names are drawn from common first names and word lists) except the
brand handles and ``@elonmusk``, which the brief requires as reply targets and authors.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from samplegen.geo import REGIONS, City, Region, location_text
from samplegen.grammar import pick
from samplegen.services import SERVICES

__all__ = ["User", "UserPool", "build_users", "twitter_time"]

TWITTER_EPOCH_MS = 1288834974657
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_FIRST: dict[str, tuple[str, ...]] = {
    "en": (
        "Mike",
        "Sarah",
        "Chris",
        "Jess",
        "Dave",
        "Ashley",
        "Matt",
        "Emily",
        "Josh",
        "Megan",
        "Ryan",
        "Lauren",
        "Kevin",
        "Rachel",
        "Tyler",
        "Nicole",
        "Brian",
        "Amanda",
        "Jason",
        "Kayla",
        "Andre",
        "Jasmine",
        "Marcus",
        "Priya",
        "Raj",
        "Carlos",
        "Maria",
        "Tom",
        "Katie",
        "Ben",
        "Olivia",
        "Liam",
        "Noah",
        "Ava",
        "Ethan",
        "Mia",
        "Jordan",
        "Taylor",
        "Sam",
        "Alex",
        "Dan",
        "Steph",
        "Greg",
        "Lisa",
        "Paul",
        "Nate",
        "Zoe",
        "Hannah",
        "Jake",
    ),
    "de": (
        "Lukas",
        "Anna",
        "Jonas",
        "Lea",
        "Felix",
        "Laura",
        "Max",
        "Julia",
        "Tobias",
        "Katrin",
        "Stefan",
        "Sabine",
        "Jan",
        "Sophie",
        "Tim",
        "Lena",
    ),
    "es": (
        "Javier",
        "Lucía",
        "Pablo",
        "Carmen",
        "Diego",
        "Sofía",
        "Alejandro",
        "Valentina",
        "Mateo",
        "Camila",
        "Andrés",
        "Paula",
    ),
    "fr": (
        "Julien",
        "Camille",
        "Thomas",
        "Manon",
        "Nicolas",
        "Chloé",
        "Antoine",
        "Léa",
        "Hugo",
        "Emma",
    ),
    "pt": (
        "João",
        "Ana",
        "Lucas",
        "Beatriz",
        "Gabriel",
        "Juliana",
        "Pedro",
        "Mariana",
        "Rafael",
        "Larissa",
    ),
    "it": ("Marco", "Giulia", "Luca", "Chiara", "Matteo", "Francesca", "Andrea", "Sara"),
    "ja": (
        "ゆうき",
        "さくら",
        "たくや",
        "みさき",
        "けんた",
        "あやか",
        "しょう",
        "なつみ",
        "だいすけ",
    ),
    "ko": ("민준", "서연", "지훈", "하은", "도윤", "수빈", "현우", "지민", "예준"),
    "nl": ("Daan", "Sanne", "Bram", "Lotte", "Thijs", "Femke", "Joris", "Eva"),
    "no": ("Ola", "Ingrid", "Lars", "Kari", "Erik", "Silje", "Magnus", "Nora", "Henrik"),
}
_LAST: dict[str, tuple[str, ...]] = {
    "en": (
        "Smith",
        "Johnson",
        "Lee",
        "Brown",
        "Garcia",
        "Miller",
        "Davis",
        "Wilson",
        "Nguyen",
        "Patel",
        "Kim",
        "Chen",
        "Taylor",
        "Walker",
        "Hall",
        "Young",
        "King",
        "Wright",
        "Lopez",
        "Hill",
        "Scott",
        "Green",
        "Baker",
        "Reyes",
        "Murphy",
        "O'Brien",
        "Cooper",
        "Ward",
    ),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"),
    "es": ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Ruiz"),
    "fr": ("Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent"),
    "pt": ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Ricci"),
    "ja": ("", "@低浮上", "🍙", "@趣味垢", ""),
    "ko": ("김", "이", "박", "최", "정", "강", "조"),
    "nl": ("de Jong", "Jansen", "de Vries", "Bakker", "Visser", "Smit"),
    "no": ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Berg", "Haugen"),
}
_ROMAN = {
    "ja": (
        "yuki",
        "sakura",
        "takuya",
        "misaki",
        "kenta",
        "ayaka",
        "sho",
        "natsumi",
        "daisuke",
        "haru",
        "ren",
        "mio",
    ),
    "ko": (
        "minjun",
        "seoyeon",
        "jihoon",
        "haeun",
        "doyoon",
        "subin",
        "hyunwoo",
        "jimin",
        "yejun",
        "kim",
        "park",
        "lee",
    ),
}
_WORDS = (
    "moon",
    "pixel",
    "coffee",
    "night",
    "taco",
    "ghost",
    "lucky",
    "wild",
    "blue",
    "sunny",
    "rad",
    "chill",
    "retro",
    "salty",
    "cosmic",
    "lazy",
    "snack",
    "vibe",
    "nova",
    "frost",
    "echo",
    "dusty",
    "mango",
    "zen",
    "turbo",
    "spicy",
    "storm",
    "gamer",
    "cat",
    "dog",
)
_EV_WORDS = (
    "model3",
    "modely",
    "tesla",
    "ev",
    "m3",
    "my",
    "plaid",
    "supercharged",
    "electric",
    "ludicrous",
    "fsd",
    "volts",
)
_BIOS = (
    "",
    "",
    "",
    "",
    "Dad. Engineer. Coffee addict ☕",
    "views my own",
    "she/her",
    "he/him | sports, food, complaining",
    "just here for the memes",
    "gamer | streamer",
    "nurse 👩‍⚕️ | dog mom",
    "Model 3 owner since 2019 ⚡",
    "Model Y LR | solar | EV nerd",
    "Tesla owner. FSD beta tester.",
    "software dev. opinions are my cat's",
    "🇺🇸🇲🇽",
    "Living my best life",
    "Photographer 📷",
    "I tweet about football and cars",
    "retired teacher, grandma of 3",
    "crypto since 2017 🚀",
    "music • travel • food",
    "Engineer @ somewhere",
    "coffee, code, cats",
    "Just a guy with a car",
    "⚡🚗 EV life",
    "hobby baker 🍞",
    "NYC ✈️ LA",
    "marathon runner 🏃",
    "Jesus | family | Tesla",
    "Musik, Autos, Bier",
    "Ingeniero. Viajero.",
    "Fan de séries",
    "게임 좋아함",
    "オタク垢です",
)
_SOURCES = (
    ('<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>', 46),
    ('<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>', 33),
    ('<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>', 16),
    ('<a href="http://twitter.com/#!/download/ipad" rel="nofollow">Twitter for iPad</a>', 3),
    ('<a href="https://about.twitter.com/products/tweetdeck" rel="nofollow">TweetDeck</a>', 2),
)
SOURCE_BOT = (
    '<a href="https://ifttt.com" rel="nofollow">IFTTT</a>',
    '<a href="https://dlvrit.com/" rel="nofollow">dlvr.it</a>',
    '<a href="https://buffer.com" rel="nofollow">Buffer</a>',
    '<a href="https://www.hootsuite.com" rel="nofollow">Hootsuite Inc.</a>',
)
_NEWS_ACCOUNTS = (
    ("EVInsiderNews", "EV Insider"),
    ("TechWireDaily", "Tech Wire Daily"),
    ("MarketPulseNow", "Market Pulse"),
    ("GameNewsHQ", "Game News HQ"),
    ("StreamBeatNews", "StreamBeat"),
    ("CryptoWireNews", "Crypto Wire"),
    ("GadgetLedger", "The Gadget Ledger"),
    ("WireSignalTech", "Wire Signal"),
    ("DailyChargeEV", "The Daily Charge"),
    ("BytePostNews", "BytePost"),
)
_PROMO = (
    "EVGearShop",
    "MatsForModel3",
    "CeramicProDet",
    "ChargeItHome",
    "DealsDaily247",
    "RestockRadar",
    "PhonePlanPros",
    "CyberMerchLab",
    "GiftCardDeals1",
    "TeslaTrimCo",
    "WinterEVKits",
    "PlanSwitchNow",
)
_BOTS = (
    "free_gift_crd01",
    "tsla_win_model3",
    "cryptocash_247",
    "tsla_ticker_bot",
    "growfollowsfast",
    "robux_free_2021",
    "giftcards_n0w",
    "teslagiveaway21",
)


@dataclass(slots=True)
class User:
    """One account. ``region``/``city`` are None for brands and bots without a home."""

    id: int
    screen_name: str
    name: str
    role: str
    lang: str
    region: Region | None
    city: City | None
    location: str | None
    description: str
    created_at: datetime
    followers: int
    friends: int
    statuses: int
    favourites: int
    verified: bool = False
    tesla_owner: bool = False
    activity: float = 1.0
    source: str = ""
    spam: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def country(self) -> str | None:
        """The account's true country (ISO2), or None for brands and bots."""
        return self.region.country if self.region is not None else None

    def as_twitter(self) -> dict[str, Any]:
        """Return the v1.1 ``user`` object (a realistic subset of its fields)."""
        return {
            "id": self.id,
            "id_str": str(self.id),
            "name": self.name,
            "screen_name": self.screen_name,
            "location": self.location,
            "url": None,
            "description": self.description or None,
            "protected": False,
            "verified": self.verified,
            "followers_count": self.followers,
            "friends_count": self.friends,
            "listed_count": self.followers // 90,
            "favourites_count": self.favourites,
            "statuses_count": self.statuses,
            "created_at": twitter_time(self.created_at),
            "utc_offset": None,
            "time_zone": None,
            "geo_enabled": self.extra.get("geo_enabled", False),
            "lang": None,
            "default_profile": self.extra.get("default_profile", True),
        }


def twitter_time(moment: datetime) -> str:
    """Format ``moment`` the way v1.1 does: ``Fri Nov 19 21:03:12 +0000 2021`` (locale-free)."""
    m = moment.astimezone(UTC)
    return (
        f"{_DAYS[m.weekday()]} {_MONTHS[m.month - 1]} {m.day:02d} "
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d} +0000 {m.year}"
    )


def _user_id(created: datetime, rng: random.Random) -> int:
    """Old accounts have small sequential ids; accounts since mid-2015 have snowflake ids."""
    cutoff = datetime(2015, 6, 1, tzinfo=UTC)
    if created < cutoff:
        start = datetime(2007, 1, 1, tzinfo=UTC)
        frac = (created - start) / (cutoff - start)
        return int(1_000_000 + frac**1.6 * 3_300_000_000) + rng.randrange(1000)
    ms = int(created.timestamp() * 1000) - TWITTER_EPOCH_MS
    return (ms << 22) | rng.getrandbits(22)


def _handle(lang: str, first: str, last: str, owner: bool, rng: random.Random) -> str:
    base_first = pick(rng, _ROMAN[lang]) if lang in _ROMAN else first
    base_first = base_first.encode("ascii", "ignore").decode() or pick(rng, _WORDS)
    clean_last = "".join(ch for ch in last if ch.isascii() and ch.isalnum())
    n = str(
        rng.choice((rng.randrange(10, 99), rng.randrange(1970, 2006), rng.randrange(100, 9999)))
    )
    patterns = [
        f"{base_first}{clean_last}",
        f"{base_first}_{clean_last}{n[-2:]}",
        f"{base_first}{n}",
        f"{pick(rng, _WORDS)}{pick(rng, _WORDS)}{n[-2:]}",
        f"the{base_first}{clean_last[:1]}",
        f"{base_first.lower()}_{pick(rng, _WORDS)}",
        f"{base_first}{clean_last[:1]}_",
        f"x{pick(rng, _WORDS)}x{n[-2:]}",
        f"{base_first.lower()}.{clean_last.lower()}",
    ]
    if owner:
        patterns += [
            f"{pick(rng, _EV_WORDS)}_{base_first.lower()}",
            f"{base_first}{pick(rng, _EV_WORDS).title()}",
            f"{pick(rng, _EV_WORDS)}{base_first}{n[-2:]}",
        ]
    handle = pick(rng, patterns).replace(".", "_").replace("'", "")
    if rng.random() < 0.5:
        handle = handle.lower()
    return handle[:15]


def _display(lang: str, first: str, last: str, owner: bool, rng: random.Random) -> str:
    if lang == "ko":
        return pick(rng, (f"{last}{first}", first, f"{first} ✨", f"{last}{first} 🚗"))
    if lang == "ja":
        return pick(
            rng, (f"{first}{last}", f"{first}", f"{first}🍜", f"{first}@{pick(rng, _WORDS)}")
        )
    forms = [
        f"{first} {last}",
        first,
        f"{first} {last[:1]}.",
        f"{first} {pick(rng, '🔥✨🌙🌴⚽🎮')}",
        f"{first.lower()}",
        f"{first} {last}",
    ]
    if owner:
        forms += [f"{first} ⚡", f"{first} | Model Y", f"{first} 🚗⚡"]
    return pick(rng, forms)


def _weighted(rng: random.Random, items: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in items)
    roll = rng.uniform(0, total)
    for item, w in items:
        roll -= w
        if roll <= 0:
            return item
    return items[-1][0]


@dataclass
class UserPool:
    """All accounts, with indexes for weighted picking by role and region."""

    people: list[User]
    by_handle: dict[str, User]
    brands: dict[str, User]
    news: list[User]
    promo: list[User]
    bots: list[User]
    elon: User
    _cum: list[float] = field(default_factory=list)
    _by_region: dict[str, list[User]] = field(default_factory=dict)
    _owners_by_region: dict[str, list[User]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = 0.0
        for u in self.people:
            total += u.activity
            self._cum.append(total)
            key = u.region.key if u.region else ""
            self._by_region.setdefault(key, []).append(u)
            if u.tesla_owner:
                self._owners_by_region.setdefault(key, []).append(u)

    def random_person(self, rng: random.Random) -> User:
        """Pick a person, weighted by how active they are."""
        i = bisect.bisect_left(self._cum, rng.uniform(0, self._cum[-1]))
        return self.people[min(i, len(self.people) - 1)]

    def in_region(
        self, rng: random.Random, region_key: str, *, owner: bool = False, predicate: Any = None
    ) -> User:
        """Pick a person from ``region_key`` (a Tesla owner when ``owner`` and any exist)."""
        pool = self._owners_by_region.get(region_key) if owner else None
        if not pool:
            pool = self._by_region[region_key]
        if predicate is not None:
            narrowed = [u for u in pool if predicate(u)]
            pool = narrowed or pool
        return pool[rng.randrange(len(pool))]


def _make_person(rng: random.Random, region: Region, created: datetime, taken: set[str]) -> User:
    lang = _weighted(rng, tuple((lg, int(p * 100)) for lg, p in region.langs))
    name_lang = lang if lang in _FIRST else "en"
    if region.country in ("DE", "NO", "NL", "FR", "ES", "IT", "MX", "AR", "BR", "PT", "JP", "KR"):
        name_lang = {
            "MX": "es",
            "AR": "es",
            "BR": "pt",
            "PT": "pt",
            "DE": "de",
            "NO": "no",
            "NL": "nl",
            "FR": "fr",
            "ES": "es",
            "IT": "it",
            "JP": "ja",
            "KR": "ko",
        }[region.country]
    first, last = pick(rng, _FIRST[name_lang]), pick(rng, _LAST[name_lang])
    owner = rng.random() < min(0.9, 0.07 * region.tesla)
    handle = _handle(name_lang, first, last, owner, rng)
    while handle.lower() in taken or len(handle) < 4:
        handle = (handle[:11] + str(rng.randrange(10, 9999)))[:15]
    taken.add(handle.lower())
    city = region.cities[rng.randrange(len(region.cities))]
    bio = pick(rng, _BIOS)
    if owner and rng.random() < 0.3:
        bio = pick(
            rng,
            (
                "Model 3 owner since 2019 ⚡",
                "Model Y LR | solar | EV nerd",
                "Tesla owner. FSD beta tester.",
                "⚡🚗 EV life",
                "$TSLA long",
            ),
        )
    followers = int(rng.paretovariate(1.1) * 40)
    return User(
        id=_user_id(created, rng),
        screen_name=handle,
        name=_display(name_lang, first, last, owner, rng),
        role="person",
        lang=lang,
        region=region,
        city=city,
        location=location_text(city, region, rng),
        description=bio,
        created_at=created,
        followers=min(followers, 250_000),
        friends=int(rng.paretovariate(1.3) * 80) % 7000,
        statuses=int(rng.paretovariate(0.9) * 300) % 400_000,
        favourites=int(rng.paretovariate(0.9) * 500) % 600_000,
        tesla_owner=owner,
        activity=min(rng.paretovariate(1.6), 40.0),
        source=_weighted(rng, _SOURCES),
        extra={"default_profile": rng.random() < 0.6, "geo_enabled": rng.random() < 0.3},
    )


def _account(
    rng: random.Random,
    handle: str,
    name: str,
    role: str,
    created: datetime,
    followers: int,
    verified: bool,
    description: str,
    source: str,
) -> User:
    return User(
        id=_user_id(created, rng),
        screen_name=handle,
        name=name,
        role=role,
        lang="en",
        region=None,
        city=None,
        location=pick(rng, ("", "Worldwide", None, "United States")),
        description=description,
        created_at=created,
        followers=followers,
        friends=rng.randrange(0, 900),
        statuses=rng.randrange(2_000, 90_000),
        favourites=rng.randrange(0, 5000),
        verified=verified,
        source=source,
        extra={"default_profile": False},
    )


def _created(rng: random.Random, earliest: int = 2007) -> datetime:
    start = datetime(earliest, 3, 1, tzinfo=UTC)
    end = datetime(2021, 11, 15, tzinfo=UTC)
    # Skew towards recent years: many accounts are a few years old.
    frac = rng.random() ** 0.7
    return start + timedelta(seconds=int((end - start).total_seconds() * frac))


def build_users(rng: random.Random, n_people: int) -> UserPool:
    """Create ``n_people`` people plus brand, news, promo and bot accounts, and Elon."""
    taken: set[str] = set()
    total_w = sum(r.weight for r in REGIONS)
    people: list[User] = []
    for region in REGIONS:
        count = round(n_people * region.weight / total_w)
        people.extend(_make_person(rng, region, _created(rng), taken) for _ in range(count))
    people.sort(key=lambda u: u.id)
    brands: dict[str, User] = {}
    web = '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>'
    for svc in SERVICES:
        for handle in (svc.handle, svc.support):
            if handle and handle.lower() not in taken:
                taken.add(handle.lower())
                brands[handle] = _account(
                    rng,
                    handle,
                    handle.replace("_", " "),
                    "brand",
                    _created(rng, 2008),
                    rng.randrange(200_000, 30_000_000),
                    True,
                    "Official account.",
                    pick(rng, (web, SOURCE_BOT[3])),
                )
    news = [
        _account(
            rng,
            h,
            n,
            "news",
            _created(rng, 2009),
            rng.randrange(8_000, 900_000),
            rng.random() < 0.4,
            "News, analysis and deals.",
            pick(rng, SOURCE_BOT),
        )
        for h, n in _NEWS_ACCOUNTS
    ]
    promo = [
        _account(
            rng,
            h,
            h,
            "promo",
            _created(rng, 2014),
            rng.randrange(300, 20_000),
            False,
            "Shop now 👇 DM for collabs",
            pick(rng, SOURCE_BOT),
        )
        for h in _PROMO
    ]
    bots = [
        _account(
            rng,
            h,
            h.replace("_", " ").title(),
            "bot",
            _created(rng, 2020),
            rng.randrange(5, 800),
            False,
            "🎁🎁🎁",
            pick(rng, SOURCE_BOT),
        )
        for h in _BOTS
    ]
    elon = User(
        id=44196397,
        screen_name="elonmusk",
        name="Elon Musk",
        role="elon",
        lang="en",
        region=REGIONS[2],
        city=REGIONS[2].cities[0],
        location="",
        description="",
        created_at=datetime(2009, 6, 2, 20, 12, 29, tzinfo=UTC),
        followers=65_412_839,
        friends=114,
        statuses=15_482,
        favourites=11_917,
        verified=True,
        source=_SOURCES[0][0],
        extra={"default_profile": False},
    )
    by_handle = {u.screen_name: u for u in (*people, *brands.values(), *news, *promo, *bots, elon)}
    return UserPool(people, by_handle, brands, news, promo, bots, elon)
