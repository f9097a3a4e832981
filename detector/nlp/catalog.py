"""The service catalog: which services exist and every way people name them.

Each entry of ``data/services.yaml`` becomes a frozen :class:`Service`. A :class:`Catalog` checks
the whole file when it is built (unique slugs, handles, domains and forums; an alias or hashtag
shared by two services only when both mark it ambiguous) and then answers lookups from in-memory
indexes, so the file is read once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import yaml

from detector.errors import ConfigError, SourceNotFound, UnknownService
from detector.paths import project_path
from detector.yamlio import load_yaml

__all__ = ["CATEGORIES", "Catalog", "Service", "Term", "default_catalog_path", "load_catalog"]

CATEGORIES: tuple[str, ...] = tuple(
    "ai bank car_app cloud crypto delivery gaming isp messaging mobile music payments productivity"
    " shopping smart_home social streaming transport travel utility web".split()
)
"""Allowed values of ``Service.category``."""

_RELATIVE = Path("data") / "services.yaml"
_SLUG = re.compile(r"[a-z][a-z0-9_]*")
_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "handles": (re.compile(r"@\w{1,15}", re.ASCII), "must be '@' then 1-15 letters, digits or _"),
    "hashtags": (re.compile(r"#\w+"), "must be '#' then letters, digits or '_'"),
    "domains": (re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}"), "must be a host like 'x.com'"),
    "countries": (re.compile(r"[A-Z]{2}"), "must be an ISO 3166-1 alpha-2 code like 'US'"),
}
_LISTS = (
    "aliases",
    "handles",
    "hashtags",
    "apps",
    "domains",
    "forums",
    "countries",
    "ambiguous",
    "signatures",
)
_TERM_FIELDS = ("aliases", "apps", "handles", "hashtags", "domains", "signatures")


class Term(NamedTuple):
    """One surface form to match in text, the service it names, and how it is written."""

    text: str
    slug: str
    kind: str  # alias, app, handle, hashtag, domain or signature
    ambiguous: bool


@dataclass(frozen=True, slots=True)
class Service:
    """One service people report outages of, with every way they name it.

    Aliases are lowercase; ``ambiguous`` lists the aliases that are ordinary words or name other
    things, so they count only next to outage talk. ``signatures`` are lowercase phrases that
    only this service's users write without naming it (Tesla's "phone as key", PlayStation's
    error "np-40833-8"); they always count as ambiguous. Hashtags and app names whose lowercase text
    is an ambiguous alias are ambiguous too.

    Examples
    --------
    >>> s = Service(slug="steam", name="Steam", category="gaming",
    ...             aliases=("steam",), ambiguous=("steam",))
    >>> s.is_ambiguous("Steam")
    True
    """

    slug: str
    name: str
    category: str
    aliases: tuple[str, ...]
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    forums: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    signatures: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _SLUG.fullmatch(self.slug):
            self._fail("slug", f"must match {_SLUG.pattern}, got: {self.slug!r}")
        if not self.name.strip():
            self._fail("name", f"must not be blank, got: {self.name!r}")
        if self.category not in CATEGORIES:
            self._fail(
                "category", f"must be one of {', '.join(CATEGORIES)}, got: {self.category!r}"
            )
        if not self.aliases:
            self._fail("aliases", "must list at least one alias")
        for name in _LISTS:
            self._check_list(name, getattr(self, name))
        unknown = set(self.ambiguous) - set(self.aliases)
        if unknown:
            self._fail("ambiguous", f"must name aliases of the service, got: {sorted(unknown)!r}")

    def is_ambiguous(self, text: str) -> bool:
        """Whether ``text`` (an alias, app name or hashtag) needs outage context to count."""
        return text.lower().removeprefix("#") in self.ambiguous

    def _check_list(self, name: str, values: tuple[str, ...]) -> None:
        seen: set[str] = set()
        for value in values:
            problem = _problem(name, value)
            if problem:
                self._fail(name, f"{problem}, got: {value!r}")
            if value.lower() in seen:
                self._fail(name, f"lists {value!r} twice")
            seen.add(value.lower())

    def _fail(self, field: str, message: str) -> NoReturn:
        raise ConfigError(f"service {self.slug!r}, field {field!r}: {message}")


def _problem(name: str, value: str) -> str | None:
    """Say what is wrong with one list value of a service, or ``None`` when it is fine."""
    if not value or value != " ".join(value.split()):
        return "must be non-empty without stray spaces"
    if name in ("aliases", "ambiguous", "forums", "signatures") and value != value.lower():
        return "must be lowercase"
    rule = _RULES.get(name)
    if rule and not rule[0].fullmatch(value):
        return rule[1]
    return None


class Catalog:
    """All services, checked together, with case-insensitive lookups.

    Parameters
    ----------
    services
        The entries, in file order.
    source
        Where they came from, quoted in error messages.

    Raises
    ------
    ConfigError
        When two entries share a slug, handle, domain or forum, or an alias, app name or
        hashtag without both marking it ambiguous.

    Examples
    --------
    >>> catalog = load_catalog()
    >>> catalog.for_source("TeslaMotorsClub").slug
    'tesla'
    >>> catalog.for_handle("@teslasupport").name
    'Tesla'
    """

    def __init__(self, services: Iterable[Service], *, source: str = "<memory>") -> None:
        self.source = source
        self._services = tuple(services)
        self._by_slug: dict[str, Service] = {}
        self._unique: dict[str, dict[str, Service]] = {"handles": {}, "domains": {}, "forums": {}}
        # An alias, app name or hashtag may name two services only if both call it ambiguous.
        claims: dict[str, Service] = {}
        for index, service in enumerate(self._services):
            where = f"{source}: entry {index} ({service.slug!r})"
            first = self._by_slug.setdefault(service.slug, service)
            if first is not service:
                raise ConfigError(f"{where}, field 'slug': already used by an earlier entry")
            for field, table in self._unique.items():
                for value in getattr(service, field):
                    owner = table.setdefault(value.casefold(), service)
                    if owner is not service:
                        raise ConfigError(
                            f"{where}, field {field!r}: {value!r} already belongs to {owner.slug!r}"
                        )
            for field in ("aliases", "apps", "hashtags"):
                for surface in {value.lower() for value in getattr(service, field)}:
                    owner = claims.setdefault(surface, service)
                    if owner is not service and not (
                        service.is_ambiguous(surface) and owner.is_ambiguous(surface)
                    ):
                        raise ConfigError(
                            f"{where}, field {field!r}: {surface!r} also names {owner.slug!r}; "
                            "list it under 'ambiguous' in both to share it"
                        )

    @classmethod
    def from_yaml(cls, path: Path | str) -> Catalog:
        """Read and check a catalog file: a YAML list of service mappings.

        Raises
        ------
        SourceNotFound
            When the file does not exist.
        ConfigError
            When the YAML is invalid or an entry breaks a rule; the message names the file,
            the entry and the field.
        """
        path = Path(path)
        if not path.is_file():
            raise SourceNotFound(path)
        try:
            raw = load_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(raw, list):
            raise ConfigError(f"{path}: must be a list of services, got: {type(raw).__name__}")
        services = []
        for index, entry in enumerate(raw):
            try:
                services.append(_service_from_mapping(entry))
            except ConfigError as exc:
                raise ConfigError(f"{path}: entry {index}: {exc}") from exc
        return cls(services, source=str(path))

    def __len__(self) -> int:
        return len(self._services)

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services)

    def by_slug(self, slug: str) -> Service:
        """Return the service with this slug (any case); raise ``UnknownService`` if none."""
        try:
            return self._by_slug[slug.lower()]
        except KeyError:
            raise UnknownService(slug, str(self.source)) from None

    def for_source(self, source_name: str) -> Service | None:
        """Return the service a forum or subreddit (``Post.source_name``) is about, if any."""
        return self._unique["forums"].get(source_name.strip().casefold())

    def for_handle(self, handle: str) -> Service | None:
        """Return the service owning an account, given with or without its leading ``@``."""
        return self._unique["handles"].get("@" + handle.strip().removeprefix("@").casefold())

    def terms(self) -> Iterator[Term]:
        """Yield every surface form (aliases, apps, handles, hashtags, domains, signatures)."""
        for service in self._services:
            for field in _TERM_FIELDS:
                kind = "alias" if field == "aliases" else field[:-1]
                for text in getattr(service, field):
                    ambiguous = kind == "signature" or (
                        kind not in ("handle", "domain") and service.is_ambiguous(text)
                    )
                    yield Term(text, service.slug, kind, ambiguous)


def _service_from_mapping(entry: Any) -> Service:
    """Build a service from one YAML mapping, checking field names and types."""
    if not isinstance(entry, Mapping):
        raise ConfigError(f"must be a mapping, got: {type(entry).__name__}")
    slug = entry.get("slug")
    label = f"service {slug!r}"
    allowed = {f.name for f in fields(Service)}
    unknown = sorted(str(key) for key in entry if key not in allowed)
    if unknown:
        raise ConfigError(f"{label}, field {unknown[0]!r}: unknown field")
    values: dict[str, Any] = {}
    for name in ("slug", "name", "category"):
        if not isinstance(entry.get(name), str):
            raise ConfigError(
                f"{label}, field {name!r}: must be a string, got: {entry.get(name)!r}"
            )
        values[name] = entry[name]
    for name in _LISTS:
        items = entry.get(name) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{label}, field {name!r}: must be a list of strings, got: {items!r}")
        values[name] = tuple(items)
    return Service(**values)


def default_catalog_path(start: Path | None = None) -> Path:
    """Return ``data/services.yaml``: next to the installed package, or under ``start``.

    Raises
    ------
    SourceNotFound
        When neither the checkout nor ``start`` (default: the working directory) has it.

    Examples
    --------
    >>> default_catalog_path().name
    'services.yaml'
    """
    return project_path(_RELATIVE, start=start)


def load_catalog(path: Path | str | None = None) -> Catalog:
    """Read the catalog at ``path``, or the bundled one (see :func:`default_catalog_path`).

    Examples
    --------
    >>> load_catalog().by_slug("PSN").name
    'PlayStation Network'
    """
    return Catalog.from_yaml(default_catalog_path() if path is None else path)
