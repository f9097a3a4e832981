"""The offline gazetteer: countries, first-level subdivisions and cities, looked up by name.

The data ships in ``data/gazetteer/`` (built from GeoNames by ``scripts/build_gazetteer.py``;
nothing is downloaded at run time). A :class:`Gazetteer` is loaded once and passed in. It looks up
*names*, the spans a matcher found: it does not scan free text.

Names match case-insensitively and without accents; abbreviations ("US", "TN", "NSW") only as
written. ``stoplist`` holds place names that are also common words ("reading", "nice", "best"):
a matcher should not take them as places on their own.

Examples
--------
>>> gaz = Gazetteer.load()
>>> gaz.resolve("Paris").country
'FR'
>>> paris_tx = gaz.resolve("Paris", context_admin1="TX")
>>> (paris_tx.country, paris_tx.admin1)
('US', 'TX')
>>> gaz.is_stopword("Reading")
True
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TypeVar

from detector.errors import SourceNotFound
from detector.nlp.geo_index import (
    default_gazetteer_dir,
    index_abbreviations,
    index_names,
    merge_by_population,
    read_rows,
)
from detector.nlp.geo_records import Admin1, City, Country, name_key

__all__ = ["Admin1", "City", "Country", "Gazetteer", "Place", "default_gazetteer_dir"]

log = logging.getLogger(__name__)

Place = Country | Admin1 | City
_R = TypeVar("_R", Country, Admin1, City)
_KIND_RANK = {Country: 2, Admin1: 1, City: 0}


class Gazetteer:
    """Read-only lookups over countries, admin1 subdivisions and cities.

    Build it with :meth:`load` (the shipped data) or directly from records (tests, small
    fixtures).

    Parameters
    ----------
    countries, admin1s, cities
        The records.
    stoplist
        Place names that are common words, in any case (stored as name keys).

    Examples
    --------
    >>> gaz = Gazetteer.load()
    >>> gaz.country("KR").name
    'South Korea'
    >>> [a.name for a in gaz.admin1_named("NSW")]
    ['New South Wales']
    >>> gaz.admin1_named("nsw")
    ()
    """

    def __init__(
        self,
        *,
        countries: Iterable[Country],
        admin1s: Iterable[Admin1],
        cities: Iterable[City],
        stoplist: Iterable[str] = (),
    ) -> None:
        self.countries = tuple(countries)
        self.admin1s = tuple(admin1s)
        self.cities = tuple(cities)
        self.stoplist = frozenset(name_key(word) for word in stoplist)
        self._by_iso2 = {c.iso2: c for c in self.countries}
        self._by_admin1_key = {a.key: a for a in self.admin1s}
        self._by_admin1_iso = {a.iso: a for a in self.admin1s if a.iso is not None}
        self._country_names = index_names(self.countries, lambda c: (c.name, *c.names))
        self._country_abbr = index_abbreviations(self.countries)
        self._admin1_names = index_names(self.admin1s, lambda a: (a.name, *a.names))
        self._admin1_abbr = index_abbreviations(self.admin1s)
        self._city_names = index_names(self.cities, lambda c: (c.name, c.ascii_name, *c.names))
        self._grid: dict[tuple[int, int], list[City]] | None = None

    @classmethod
    def load(cls, path: Path | str | None = None) -> Gazetteer:
        """Load the gazetteer files from ``path`` (default: :func:`default_gazetteer_dir`).

        A gazetteer never changes once loaded, so each folder is read once per process.

        Raises
        ------
        SourceNotFound
            When the folder or one of its files is missing.
        InputError
            When a file is damaged.

        Examples
        --------
        >>> len(Gazetteer.load().countries) > 200
        True
        """
        folder = Path(path) if path is not None else default_gazetteer_dir()
        return _load(folder.resolve())

    @classmethod
    def _read(cls, folder: Path) -> Gazetteer:
        stoplist = folder / "stoplist.txt"
        if not stoplist.is_file():
            raise SourceNotFound(stoplist)
        words = [w for w in stoplist.read_text(encoding="utf-8").splitlines() if w.strip()]
        gazetteer = cls(
            countries=map(Country.from_json, read_rows(folder / "countries.jsonl.gz")),
            admin1s=map(Admin1.from_json, read_rows(folder / "admin1.jsonl.gz")),
            cities=map(City.from_json, read_rows(folder / "cities.jsonl.gz")),
            stoplist=words,
        )
        log.debug("loaded gazetteer from %s: %d cities", folder, len(gazetteer.cities))
        return gazetteer

    def country(self, iso2: str) -> Country | None:
        """Return the country with this ISO 3166-1 alpha-2 code, or ``None``.

        Examples
        --------
        >>> Gazetteer.load().country("de").name
        'Germany'
        """
        return self._by_iso2.get(iso2.upper())

    def admin1(self, country: str, code: str) -> Admin1 | None:
        """Return the subdivision a city refers to by ``(country, admin1 code)``, or ``None``.

        Examples
        --------
        >>> Gazetteer.load().admin1("CA", "08").name
        'Ontario'
        """
        return self._by_admin1_key.get((country.upper(), code))

    def countries_named(self, text: str) -> tuple[Country, ...]:
        """Countries called ``text`` (a name in any case, or an abbreviation as written).

        Examples
        --------
        >>> gaz = Gazetteer.load()
        >>> [c.iso2 for c in gaz.countries_named("대한민국")], gaz.countries_named("us")
        (['KR'], ())
        >>> [c.iso2 for c in gaz.countries_named("U.S.")]
        ['US']
        """
        return merge_by_population(
            self._country_abbr.get(text.strip(), ()), self._by_name(self._country_names, text)
        )

    def admin1_named(self, text: str, country: str | None = None) -> tuple[Admin1, ...]:
        """Subdivisions called ``text``, optionally in one ``country``; most populous first.

        Examples
        --------
        >>> gaz = Gazetteer.load()
        >>> [(a.country, a.name) for a in gaz.admin1_named("WA")]
        [('US', 'Washington'), ('AU', 'Western Australia')]
        >>> [a.iso for a in gaz.admin1_named("ON", country="CA")]
        ['CA-ON']
        """
        found = merge_by_population(
            self._admin1_abbr.get(text.strip(), ()), self._by_name(self._admin1_names, text)
        )
        return tuple(a for a in found if country is None or a.country == country.upper())

    def cities_named(
        self, text: str, country: str | None = None, admin1: str | Admin1 | None = None
    ) -> tuple[City, ...]:
        """Cities called ``text``, most populous first, optionally within a country or admin1.

        ``admin1`` is an :class:`Admin1`, its ISO 3166-2 code ("US-TX"), its GeoNames code
        ("TX"; with ``country``) or an abbreviation ("TX", "ON").

        Examples
        --------
        >>> gaz = Gazetteer.load()
        >>> [c.country for c in gaz.cities_named("Paris")][0]
        'FR'
        >>> len(gaz.cities_named("Paris", country="US")) > 0
        True
        >>> [c.admin1 for c in gaz.cities_named("paris", admin1="US-TX")]
        ['TX']
        """
        found = self._by_name(self._city_names, text)
        if country is not None:
            found = tuple(c for c in found if c.country == country.upper())
        if admin1 is not None:
            keys = self._admin1_keys(admin1, country)
            found = tuple(c for c in found if (c.country, c.admin1) in keys)
        return found

    def resolve(
        self,
        name: str,
        context_country: str | None = None,
        context_admin1: str | Admin1 | None = None,
    ) -> Place | None:
        """The place ``name`` most likely means: in the given context first, then the biggest.

        Candidates in ``context_admin1`` win, then those in ``context_country``; among equals a
        country beats a subdivision, which beats a city, then the larger population wins
        ("Georgia" is the country, unless the context is the US). A subdivision gives way to
        the biggest city of the same name inside it ("New York" is the city).

        Examples
        --------
        >>> gaz = Gazetteer.load()
        >>> gaz.resolve("Georgia").name, gaz.resolve("Georgia", context_country="US").name
        ('Georgia', 'Georgia')
        >>> type(gaz.resolve("Georgia", context_country="US")).__name__
        'Admin1'
        >>> gaz.resolve("New York").name
        'New York City'
        >>> gaz.resolve("Nowhere-on-Earth") is None
        True
        """
        keys = self._admin1_keys(context_admin1, context_country) if context_admin1 else set()
        countries = {context_country.upper()} if context_country else {cc for cc, _ in keys}
        candidates: list[Place] = [
            *self.countries_named(name),
            *self.admin1_named(name),
            *self.cities_named(name),
        ]

        def score(place: Place) -> tuple[bool, bool, int, int]:
            if isinstance(place, Country):
                where, in_admin1 = place.iso2, False
            elif isinstance(place, Admin1):
                where, in_admin1 = place.country, place.key in keys
            else:
                where, in_admin1 = place.country, (place.country, place.admin1) in keys
            return (in_admin1, where in countries, _KIND_RANK[type(place)], place.population)

        best = max(candidates, key=score, default=None)
        if isinstance(best, Admin1):
            # "Seoul", "Tokyo", "New York": the city of the same name inside it is more precise
            inside = [
                c for c in candidates if isinstance(c, City) and (c.country, c.admin1) == best.key
            ]
            if inside and score(inside[0])[:2] == score(best)[:2]:
                return inside[0]
        return best

    def name_keys(self) -> frozenset[str]:
        """Every name key (see ``name_key``) of a country, subdivision or city, for matchers."""
        return (
            frozenset(self._country_names)
            | frozenset(self._admin1_names)
            | frozenset(self._city_names)
        )

    def abbreviations(self) -> frozenset[str]:
        """Every abbreviation ("US", "NSW", "TN"), exactly as written."""
        return frozenset(self._country_abbr) | frozenset(self._admin1_abbr)

    def nearest_city(self, lat: float, lon: float) -> City | None:
        """The gazetteer city closest to a point (within about 1.5 degrees), or ``None``.

        Examples
        --------
        >>> Gazetteer.load().nearest_city(37.56, 126.97).name
        'Seoul'
        """
        if self._grid is None:  # built on first use: most runs never see coordinates
            self._grid = {}
            for city in self.cities:
                self._grid.setdefault((int(city.lat // 1), int(city.lon // 1)), []).append(city)
        grid = self._grid
        cell = (int(lat // 1), int(lon // 1))
        near = [
            city
            for dlat in (-1, 0, 1)
            for dlon in (-1, 0, 1)
            for city in grid.get((cell[0] + dlat, cell[1] + dlon), ())
        ]
        return min(near, key=lambda c: (c.lat - lat) ** 2 + (c.lon - lon) ** 2, default=None)

    def is_stopword(self, name: str) -> bool:
        """Whether ``name`` is a place name that is also a common word ("Reading", "nice").

        Examples
        --------
        >>> Gazetteer.load().is_stopword("Mobile"), Gazetteer.load().is_stopword("Seoul")
        (True, False)
        """
        return name_key(name) in self.stoplist

    @staticmethod
    def _by_name(index: dict[str, tuple[_R, ...]], text: str) -> tuple[_R, ...]:
        return index.get(name_key(text), ())

    def _admin1_keys(self, admin1: str | Admin1, country: str | None) -> set[tuple[str, str]]:
        if isinstance(admin1, Admin1):
            return {admin1.key}
        if admin1 in self._by_admin1_iso:
            return {self._by_admin1_iso[admin1].key}
        if country is not None and (country.upper(), admin1) in self._by_admin1_key:
            return {(country.upper(), admin1)}
        return {a.key for a in self.admin1_named(admin1, country)}


@cache
def _load(folder: Path) -> Gazetteer:
    return Gazetteer._read(folder)
