"""Names people read instead of codes: services from the catalog, countries from the gazetteer,
symptom categories in words. Each source is read once per process; a code it does not know is
shown as it is."""

from __future__ import annotations

from functools import cache

from detector.errors import UnknownService
from detector.nlp.catalog import Catalog, load_catalog
from detector.nlp.gazetteer import Gazetteer

__all__ = ["country_name", "service_name", "symptom_label"]

_SYMPTOMS = {
    "down_unavailable": "Down or unavailable",
    "login_auth": "Can't log in",
    "error_message": "Error messages",
    "app_crash": "App crashes",
    "connectivity_network": "No connection or signal",
    "slow_degraded": "Slow or degraded",
    "payments": "Payments failing",
    "feature_broken": "A feature is broken",
    "power": "Power outage",
}


def service_name(slug: str) -> str:
    """The service's name in the catalog, or the slug for one it does not list.

    Examples
    --------
    >>> service_name("tesla"), service_name("unknown:acme")
    ('Tesla', 'unknown:acme')
    """
    try:
        return _catalog().by_slug(slug).name
    except UnknownService:
        return slug


def country_name(iso2: str) -> str:
    """The country's English name for an ISO 3166-1 alpha-2 code, or the code when unknown.

    Examples
    --------
    >>> country_name("KR"), country_name("ZZ")
    ('South Korea', 'ZZ')
    """
    country = _gazetteer().country(iso2)
    return iso2 if country is None else country.name


def symptom_label(category: str) -> str:
    """A symptom category in words.

    Examples
    --------
    >>> symptom_label("login_auth"), symptom_label("new_thing")
    ("Can't log in", 'New thing')
    """
    return _SYMPTOMS.get(category) or category.replace("_", " ").capitalize()


@cache
def _catalog() -> Catalog:
    return load_catalog()


def _gazetteer() -> Gazetteer:
    return Gazetteer.load()  # cached per folder by the gazetteer itself
