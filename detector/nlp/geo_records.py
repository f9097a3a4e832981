"""Gazetteer records (:class:`Country`, :class:`Admin1`, :class:`City`) and name keys.

The records are frozen value objects built from the JSON lines of ``data/gazetteer/``; they check
their coordinates and codes at construction. :func:`name_key` is the one normalisation every
name lookup goes through, so "São Paulo", "sao paulo" and "SAO PAULO" find the same city.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Admin1", "City", "Country", "name_key"]

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʻ": "'"})


def name_key(text: str) -> str:
    """Normalise a place name for lookup: NFKC, case-folded, spaces collapsed, Latin accents off.

    Accents are removed only from Latin letters, so Japanese voiced kana keep their marks.

    Parameters
    ----------
    text
        A place name as written.

    Returns
    -------
    str
        The lookup key.

    Examples
    --------
    >>> name_key("  São   Paulo ")
    'sao paulo'
    >>> name_key("Zürich") == name_key("ZURICH")
    True
    >>> name_key("ガーナ")
    'ガーナ'
    """
    key = " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES).split())
    if key.isascii():
        return key
    out: list[str] = []
    for char in unicodedata.normalize("NFD", key):
        if unicodedata.combining(char) and out and ord(out[-1]) < 0x250:
            continue  # a mark on a Latin letter
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def _check_point(lat: float | None, lon: float | None) -> None:
    if lat is not None and not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude must be within [-90, 90], got: {lat}")
    if lon is not None and not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude must be within [-180, 180], got: {lon}")


def _check_iso2(code: str) -> None:
    if len(code) != 2 or not code.isalpha() or not code.isupper():
        raise ValueError(f"country code must be two capital letters, got: {code!r}")


@dataclass(frozen=True, slots=True)
class Country:
    """A country (ISO 3166-1) with the names people write for it.

    ``names`` match case-insensitively; ``abbreviations`` ("US", "U.K.") only as written, since
    "us" is a pronoun. ``lat``/``lon`` are the capital's (``None`` where nobody lives).
    """

    iso2: str
    iso3: str
    name: str
    names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    capital: str | None
    lat: float | None
    lon: float | None
    population: int

    def __post_init__(self) -> None:
        _check_iso2(self.iso2)
        _check_point(self.lat, self.lon)

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> Country:
        """Build from one line of ``countries.jsonl.gz``."""
        return cls(
            iso2=row["iso2"],
            iso3=row["iso3"],
            name=row["name"],
            names=tuple(row["names"]),
            abbreviations=tuple(row["abbreviations"]),
            capital=row["capital"],
            lat=row["lat"],
            lon=row["lon"],
            population=row["population"],
        )


@dataclass(frozen=True, slots=True)
class Admin1:
    """A first-level subdivision: a state, province, region or prefecture.

    ``code`` is GeoNames' admin1 code (what :attr:`City.admin1` holds: "TX", "08" for Ontario),
    ``iso`` the ISO 3166-2 code ("US-TX", "CA-ON") when one was matched. ``abbreviations``
    ("TN", "NSW", "ON") only match as written. ``lat``/``lon`` is the population-weighted
    centroid of its places.
    """

    country: str
    code: str
    iso: str | None
    name: str
    names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    lat: float
    lon: float
    population: int

    def __post_init__(self) -> None:
        _check_iso2(self.country)
        _check_point(self.lat, self.lon)
        if self.iso is not None and not self.iso.startswith(f"{self.country}-"):
            raise ValueError(f"ISO 3166-2 code must start with {self.country}-, got: {self.iso!r}")

    @property
    def key(self) -> tuple[str, str]:
        """``(country, code)``, the key cities refer to."""
        return (self.country, self.code)

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> Admin1:
        """Build from one line of ``admin1.jsonl.gz``."""
        return cls(
            country=row["country"],
            code=row["code"],
            iso=row["iso"],
            name=row["name"],
            names=tuple(row["names"]),
            abbreviations=tuple(row["abbreviations"]),
            lat=row["lat"],
            lon=row["lon"],
            population=row["population"],
        )


@dataclass(frozen=True, slots=True)
class City:
    """A GeoNames populated place of 15,000 people or more (or a capital)."""

    geonameid: int
    name: str
    ascii_name: str
    names: tuple[str, ...]
    country: str
    admin1: str | None
    lat: float
    lon: float
    population: int
    timezone: str

    def __post_init__(self) -> None:
        _check_iso2(self.country)
        _check_point(self.lat, self.lon)
        if self.population < 0:
            raise ValueError(f"population must not be negative, got: {self.population}")

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> City:
        """Build from one line of ``cities.jsonl.gz``."""
        return cls(
            geonameid=row["id"],
            name=row["name"],
            ascii_name=row["ascii"],
            names=tuple(row["names"]),
            country=row["country"],
            admin1=row["admin1"],
            lat=row["lat"],
            lon=row["lon"],
            population=row["population"],
            timezone=row["tz"],
        )
