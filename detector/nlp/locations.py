"""Where a post's writer is: places named in the text, the profile location, coordinates.

Each place found is resolved through the gazetteer to a country, subdivision and city with a
point, a confidence, and whether it says where the writer is or only names a place. Names are
matched on token n-grams by their gazetteer key; city names must be capitalised in running text
(or written in a script without case) and common words ("Reading", "Mobile") never match alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from detector.models import Post
from detector.nlp.gazetteer import Gazetteer, Place
from detector.nlp.geo_records import Admin1, City, Country, name_key
from detector.pickling import fast_pickling

__all__ = ["LocationExtractor", "LocationMention"]

_TOKEN_RE = re.compile(r"\w+(?:\.\w+)*\.?")  # "Florida's", "Manitoba-Ontario": names end at ' and -
_MAX_WORDS = 4
_UNSPACED_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Words before or after a place that put the writer there ("here in Seoul", "Oslo too").
_WRITER_BEFORE = re.compile(
    r"(?:here in|live in|living in|from|same in|also in|me in|us in|down in|out in|"
    r"in|at|aqui em|aquí en|ici à|hier in|qui a)\s*$",
    re.IGNORECASE,
)
_WRITER_AFTER = re.compile(r"^\s*(?:here|too|as well|also|aqui|aquí|ici|hier|也|도)\b", re.I)
_KIND = {Country: "country", Admin1: "admin1", City: "city"}
_PLACE_PREPOSITION = re.compile(r"\b(?:in|from|at|near|around|across|outside)\s+$", re.I)
# Words that name a kind of place, not a place ("Silicon Valley, CA" is not The Valley, AI).
_GENERIC = frozenset(
    "valley north south east west city town island islands bay lake river mountain mountains "
    "beach park central capital coast county state province region district".split()
)
_FLAG_RE = re.compile(r"[\U0001F1E6-\U0001F1FF]{2}")


@fast_pickling
@dataclass(frozen=True, slots=True)
class LocationMention:
    """One place tied to a post.

    ``source`` is ``text``, ``profile``, ``coordinates`` or ``place`` (the network's geotag);
    ``start``/``end`` are offsets into the text or the profile string (``None`` for points).
    ``writer`` is True when it says where the writer is, False when a place is only named.
    """

    source: str
    type: str
    surface: str
    country: str
    admin1: str | None
    city: str | None
    lat: float | None
    lon: float | None
    confidence: float
    writer: bool
    start: int | None = None
    end: int | None = None


class LocationExtractor:
    """Finds places in posts; build it once from a gazetteer and reuse it.

    Examples
    --------
    >>> ex = LocationExtractor(Gazetteer.load())
    >>> [(m.country, m.city, m.writer) for m in ex.from_text("tesla app down here in Seoul")]
    [('KR', 'Seoul', True)]
    >>> ex.from_profile("Nashville, TN").admin1
    'US-TN'
    """

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self._keys = gazetteer.name_keys()
        self._abbreviations = gazetteer.abbreviations()

    def locate(
        self, post: Post, *, countries: frozenset[str] = frozenset()
    ) -> list[LocationMention]:
        """All places tied to ``post``: geotag first, then text, then profile.

        ``countries`` are where the post's service operates (Verizon: US): an ambiguous name
        ("Georgia") is read as the place there.
        """
        found: list[LocationMention] = []
        if post.coordinates is not None:
            point = self._from_point(post.coordinates.lat, post.coordinates.lon)
            if point is not None:
                found.append(point)
        if post.place is not None and post.place.country_code:
            found.append(
                self._from_place(
                    post.place.full_name or post.place.name or "", post.place.country_code
                )
            )
        found.extend(self.from_text(post.text, countries=countries))
        if post.author_location:
            profile = self.from_profile(post.author_location, countries=countries)
            if profile is not None:
                found.append(profile)
        return found

    def from_text(
        self, text: str, *, countries: frozenset[str] = frozenset()
    ) -> list[LocationMention]:
        """Places named in running text (``countries``: see :meth:`locate`)."""
        return [
            self._mention(place, "text", text, start, end, strict=True)
            for place, start, end in self._places(text, strict=True, hint=countries)
        ]

    def from_profile(
        self, location: str, *, countries: frozenset[str] = frozenset()
    ) -> LocationMention | None:
        """The most precise place in a profile location ("Sydney, NSW" → Sydney, AU-NSW); a
        flag emoji alone ("🇳🇴") gives its country."""
        places = self._places(location, strict=False, hint=countries)
        if not places:
            flag = _FLAG_RE.search(location)
            nation = self.gazetteer.country(_flag_country(flag.group())) if flag else None
            if flag is None or nation is None:
                return None
            return self._build(nation, "profile", flag.group(), 0.6, True, *flag.span())
        rank = {City: 2, Admin1: 1, Country: 0}
        place, start, end = max(places, key=lambda p: rank[type(p[0])])
        mention = self._mention(place, "profile", location, start, end, strict=False)
        return mention

    def _places(
        self, text: str, *, strict: bool, hint: frozenset[str] = frozenset()
    ) -> list[tuple[Place, int, int]]:
        tokens = [(m.group().rstrip("."), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]
        spans: list[tuple[str, int, int]] = []
        i = 0
        while i < len(tokens):
            for size in range(min(_MAX_WORDS, len(tokens) - i), 0, -1):
                start, end = tokens[i][1], tokens[i + size - 1][1] + len(tokens[i + size - 1][0])
                surface = text[start:end]
                if self._is_name(surface, strict=strict, after_comma=_after_comma(text, start)):
                    spans.append((surface, start, end))
                    i += size - 1
                    break
            i += 1
        if _UNSPACED_RE.search(text):
            spans.extend(self._unspaced_spans(text, spans))
        spans.sort(key=lambda s: s[1])
        return [
            (place, start, end)
            for place, start, end in self._resolve(spans, hint)
            if not strict
            or _named_plainly(place, text[start:end])
            or _after_preposition(text, start)
        ]

    def _is_name(self, surface: str, *, strict: bool, after_comma: bool) -> bool:
        if surface in self._abbreviations:
            return after_comma or not strict or len(surface) > 2
        key = name_key(surface)
        if key not in self._keys or len(key) < 3 or key in _GENERIC:
            return False
        if self.gazetteer.is_stopword(surface) and (strict or not surface[0].isupper()):
            return False  # "Reading, UK" in a profile is the town; "reading" in a post is not
        if surface.islower() and surface.isascii() and len(surface) <= 4:
            return False  # "she", "wa", "nyc"-like lowercase shorts are words, not places
        # In running text a lowercase word is a word, not a city ("nice", "mobile", "bath").
        return (
            not strict
            or not surface[0].isalpha()
            or surface[0].isupper()
            or (not surface.isascii())
        )

    def _unspaced_spans(
        self, text: str, taken: list[tuple[str, int, int]]
    ) -> list[tuple[str, int, int]]:
        found = []
        covered = {i for _, s, e in taken for i in range(s, e)}
        i = 0
        while i < len(text):
            for size in (5, 4, 3, 2):
                piece = text[i : i + size]
                if (
                    len(piece) == size
                    and _UNSPACED_RE.match(piece)
                    and name_key(piece) in (self._keys)
                    and not covered.intersection(range(i, i + size))
                ):
                    found.append((piece, i, i + size))
                    i += size - 1
                    break
            i += 1
        return found

    def _resolve(
        self, spans: list[tuple[str, int, int]], hint: frozenset[str]
    ) -> list[tuple[Place, int, int]]:
        # A subdivision or country named right after a place ("Athens, GA", "Paris, TX",
        # "Sydney, Australia") is its context, if the place exists there.
        resolved: list[tuple[Place, int, int]] = []
        for index, (surface, start, end) in enumerate(spans):
            following = spans[index + 1][0] if index + 1 < len(spans) else None
            place = self._in_context(surface, following) if following else None
            place = place or self._most_likely(surface, hint)
            if place is not None:
                resolved.append((place, start, end))
        return resolved

    def _most_likely(self, surface: str, hint: frozenset[str] = frozenset()) -> Place | None:
        """Without context: the candidate with the most people behind the name.

        Countries and subdivisions weigh more than a city of the same size, but a name that is
        only an alternate name of a region ("Athens" for Attica, "Portland" for a Jamaican
        parish) weighs much less than a city actually called that.
        """
        key = name_key(surface)
        candidates: list[Place] = [
            *self.gazetteer.countries_named(surface),
            *self.gazetteer.admin1_named(surface),
            *self.gazetteer.cities_named(surface),
        ]

        def weight(place: Place) -> float:
            if isinstance(place, City):
                return float(place.population)
            main = name_key(place.name) == key or surface in place.abbreviations
            # A region's population counts every town in it, so it is worth less than a city's.
            factor = (3.0 if isinstance(place, Country) else 0.5) if main else 0.05
            return place.population * factor

        if hint:
            preferred = [c for c in candidates if _country_of(c) in hint]
            candidates = preferred or candidates

        return max(candidates, key=weight, default=None)

    def _in_context(self, surface: str, following: str) -> Place | None:
        for admin1 in self.gazetteer.admin1_named(following):
            if self.gazetteer.cities_named(surface, country=admin1.country, admin1=admin1):
                return self.gazetteer.resolve(surface, admin1.country, admin1)
        for country in self.gazetteer.countries_named(following):
            if self.gazetteer.cities_named(surface, country=country.iso2) or (
                self.gazetteer.admin1_named(surface, country.iso2)
            ):
                return self.gazetteer.resolve(surface, country.iso2)
        return None

    def _mention(
        self, place: Place, source: str, text: str, start: int, end: int, *, strict: bool
    ) -> LocationMention:
        writer = not strict or bool(
            _WRITER_BEFORE.search(text[max(0, start - 16) : start])
            or _WRITER_AFTER.match(text[end : end + 12])
        )
        specific = {Country: 0.6, Admin1: 0.75, City: 0.85}[type(place)]
        confidence = specific if writer else specific - 0.3
        return self._build(place, source, text[start:end], confidence, writer, start, end)

    def _from_point(self, lat: float, lon: float) -> LocationMention | None:
        city = self.gazetteer.nearest_city(lat, lon)
        if city is None:
            return None
        mention = self._build(city, "coordinates", f"{lat:.4f},{lon:.4f}", 0.95, True, None, None)
        return replace(mention, lat=lat, lon=lon)

    def _from_place(self, name: str, country: str) -> LocationMention:
        places = [p for p, _, _ in self._places(name, strict=False)]
        inside = [p for p in places if _country_of(p) == country.upper()]
        if inside:
            best = max(inside, key=lambda p: {City: 2, Admin1: 1, Country: 0}[type(p)])
            return self._build(best, "place", name, 0.9, True, None, None)
        nation = self.gazetteer.country(country.upper())
        if nation is not None:
            return self._build(nation, "place", name, 0.9, True, None, None)
        return LocationMention(
            "place", "country", name, country.upper(), None, None, None, None, 0.9, True
        )

    def _build(
        self,
        place: Place,
        source: str,
        surface: str,
        confidence: float,
        writer: bool,
        start: int | None,
        end: int | None,
    ) -> LocationMention:
        admin1: str | None = None
        city: str | None = None
        if isinstance(place, City):
            city = place.name
            region = self.gazetteer.admin1(place.country, place.admin1) if place.admin1 else None
            admin1 = (region.iso or f"{region.country}-{region.code}") if region else None
        elif isinstance(place, Admin1):
            admin1 = place.iso or f"{place.country}-{place.code}"
        return LocationMention(
            source=source,
            type=_KIND[type(place)],
            surface=surface,
            country=_country_of(place),
            admin1=admin1,
            city=city,
            lat=place.lat,
            lon=place.lon,
            confidence=round(confidence, 2),
            writer=writer,
            start=start,
            end=end,
        )


def _country_of(place: Place) -> str:
    return place.iso2 if isinstance(place, Country) else place.country


def _after_comma(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return before.endswith(",") or before.lower().endswith((" in", " from"))


def _flag_country(flag: str) -> str:
    """ISO code of a flag emoji (two regional indicator letters)."""
    return "".join(chr(ord(char) - 0x1F1E6 + ord("A")) for char in flag)


def _named_plainly(place: Place, surface: str) -> bool:
    """True when ``surface`` is the place's own name, not one of its many alternate names.

    GeoNames lists words like "She", "But" or "One" as alternate names of towns; in running text
    such a name counts only after "in", "from"... ("flooding in One" is rare, "One more" is not).
    """
    key = name_key(surface)
    names = [place.name] + ([place.ascii_name] if isinstance(place, City) else [])
    return (
        any(name_key(name) == key for name in names)
        or " " in surface.strip()
        or not surface.isascii()
        or (not isinstance(place, City) and surface in place.abbreviations)
    )


def _after_preposition(text: str, start: int) -> bool:
    return bool(_PLACE_PREPOSITION.search(text[max(0, start - 12) : start]))
