"""Reading the gazetteer files and indexing records by name (helpers of :mod:`gazetteer`)."""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from detector.errors import InputError, SourceNotFound
from detector.nlp.geo_records import Admin1, City, Country, name_key
from detector.paths import project_path

__all__ = [
    "default_gazetteer_dir",
    "index_abbreviations",
    "index_names",
    "merge_by_population",
    "read_rows",
]

_R = TypeVar("_R", Country, Admin1, City)
_A = TypeVar("_A", Country, Admin1)
_RELATIVE = Path("data") / "gazetteer"


def default_gazetteer_dir(start: Path | None = None) -> Path:
    """Return ``data/gazetteer``: next to the installed package, or under ``start``.

    Raises
    ------
    SourceNotFound
        When neither the checkout nor ``start`` (default: the working directory) has it.

    Examples
    --------
    >>> default_gazetteer_dir().name
    'gazetteer'
    """
    return project_path(_RELATIVE, start=start, marker="cities.jsonl.gz")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read a gzip JSON-lines file into dicts.

    Raises
    ------
    SourceNotFound
        When the file is missing.
    InputError
        When it is not gzip or a line is not JSON.

    Examples
    --------
    >>> rows = read_rows(default_gazetteer_dir() / "countries.jsonl.gz")
    >>> next(r["name"] for r in rows if r["iso2"] == "JP")
    'Japan'
    """
    if not path.is_file():
        raise SourceNotFound(path)
    try:
        with gzip.open(path, "rb") as fh:
            return [orjson.loads(line) for line in fh if line.strip()]
    except (OSError, EOFError, orjson.JSONDecodeError) as exc:
        raise InputError(path, f"unreadable gazetteer file: {exc}") from exc


def index_names(
    records: Iterable[_R], names: Callable[[_R], Iterable[str]]
) -> dict[str, tuple[_R, ...]]:
    """Map each name key to its records, most populous first."""
    index: dict[str, list[_R]] = defaultdict(list)
    for record in sorted(records, key=lambda r: -r.population):
        for name in names(record):
            found = index[name_key(name)]
            if not found or found[-1] is not record:  # one record's names are adjacent
                found.append(record)
    return {key: tuple(found) for key, found in index.items()}


def index_abbreviations(records: Iterable[_A]) -> dict[str, tuple[_A, ...]]:
    """Map each abbreviation, exactly as written, to its records, most populous first."""
    index: dict[str, list[_A]] = defaultdict(list)
    for record in records:
        for abbreviation in record.abbreviations:
            index[abbreviation].append(record)
    return {k: tuple(sorted(v, key=lambda r: -r.population)) for k, v in index.items()}


def merge_by_population(first: tuple[_R, ...], second: tuple[_R, ...]) -> tuple[_R, ...]:
    """``first`` then ``second``, without repeats, the whole sorted by population."""
    merged = list(first)
    merged += [record for record in second if all(record is not kept for kept in first)]
    return tuple(sorted(merged, key=lambda r: -r.population))
