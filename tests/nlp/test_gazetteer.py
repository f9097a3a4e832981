"""The shipped gazetteer data and its lookups (no network, no build-time packages)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import pytest

from detector.errors import InputError, SourceNotFound
from detector.nlp.gazetteer import Admin1, City, Country, Gazetteer, default_gazetteer_dir
from detector.nlp.geo_records import name_key

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


@pytest.fixture(scope="module")
def build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_gazetteer", REPO / "scripts/build_gazetteer.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    cos = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(min(1.0, cos))


def test_shipped_files_are_small_and_counted() -> None:
    folder = default_gazetteer_dir()
    total = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    assert total < 12 * 1024 * 1024
    gaz = Gazetteer.load(folder)
    assert len(gaz.countries) >= 249
    assert len(gaz.admin1s) > 3000
    assert len(gaz.cities) > 30_000
    # cities15000 also lists capitals and seats below 15,000 people: only a few
    assert sum(c.population < 15_000 for c in gaz.cities) < 100


@pytest.mark.parametrize(
    ("text", "iso2"),
    [
        ("USA", "US"),
        ("U.S.", "US"),
        ("America", "US"),
        ("united states", "US"),
        ("UK", "GB"),
        ("Britain", "GB"),
        ("Deutschland", "DE"),
        ("España", "ES"),
        ("espana", "ES"),
        ("대한민국", "KR"),
        ("한국", "KR"),
        ("Korea", "KR"),
        ("日本", "JP"),
        ("North Korea", "KP"),
        ("Ivory Coast", "CI"),
    ],
)
def test_country_names(gaz: Gazetteer, text: str, iso2: str) -> None:
    assert [c.iso2 for c in gaz.countries_named(text)] == [iso2]


@pytest.mark.parametrize("text", ["us", "usa", "uk", "Us"])
def test_country_abbreviations_are_case_sensitive(gaz: Gazetteer, text: str) -> None:
    assert gaz.countries_named(text) == ()


def test_country_record(gaz: Gazetteer) -> None:
    kr = gaz.country("KR")
    assert kr is not None and kr.iso3 == "KOR" and kr.capital == "Seoul"
    assert kr.lat is not None and kr.lon is not None
    assert km(kr.lat, kr.lon, 37.57, 126.98) < 20
    assert gaz.country("ZZ") is None


@pytest.mark.parametrize(
    ("text", "country", "iso", "name"),
    [
        ("NSW", "AU", "AU-NSW", "New South Wales"),
        ("VIC", "AU", "AU-VIC", "Victoria"),
        ("TN", "US", "US-TN", "Tennessee"),
        ("Tennessee", "US", "US-TN", "Tennessee"),
        ("ON", "CA", "CA-ON", "Ontario"),
        ("BC", "CA", "CA-BC", "British Columbia"),
        ("Québec", "CA", "CA-QC", "Quebec"),
        ("Bavaria", "DE", "DE-BY", "Bayern"),
    ],
)
def test_admin1_spot_checks(gaz: Gazetteer, text: str, country: str, iso: str, name: str) -> None:
    found = gaz.admin1_named(text, country=country)
    assert [(a.iso, a.name) for a in found] == [(iso, name)]


@pytest.mark.parametrize("text", ["tn", "nsw", "On", "on", "Tn"])
def test_admin1_abbreviations_are_case_sensitive(gaz: Gazetteer, text: str) -> None:
    assert gaz.admin1_named(text) == ()


def test_admin1_links_cities(gaz: Gazetteer) -> None:
    toronto = gaz.cities_named("Toronto", country="CA")[0]
    assert toronto.admin1 is not None
    ontario = gaz.admin1("CA", toronto.admin1)
    assert ontario is not None and ontario.iso == "CA-ON"
    assert km(ontario.lat, ontario.lon, toronto.lat, toronto.lon) < 500


def test_seoul(gaz: Gazetteer) -> None:
    seoul = gaz.resolve("Seoul")
    assert isinstance(seoul, City)
    assert seoul.country == "KR"
    assert km(seoul.lat, seoul.lon, 37.57, 126.98) < 20
    assert gaz.resolve("서울") == seoul


def test_paris_by_population_then_context(gaz: Gazetteer) -> None:
    paris = gaz.resolve("Paris")
    assert isinstance(paris, City) and paris.country == "FR"
    for context in ({"context_admin1": "TX"}, {"context_admin1": "US-TX"}):
        texan = gaz.resolve("Paris", **context)
        assert isinstance(texan, City)
        assert (texan.country, texan.admin1) == ("US", "TX")
    american = gaz.resolve("Paris", context_country="US")
    assert isinstance(american, City) and american.country == "US"


def test_cities_sorted_by_population_and_filtered(gaz: Gazetteer) -> None:
    cities = gaz.cities_named("Springfield")
    assert len(cities) > 3
    assert [c.population for c in cities] == sorted((c.population for c in cities), reverse=True)
    assert all(c.admin1 == "IL" for c in gaz.cities_named("Springfield", admin1="IL"))
    assert gaz.cities_named("sao paulo")[0].name == "São Paulo"
    assert gaz.cities_named("Paris", country="JP") == ()


def test_resolve_kinds(gaz: Gazetteer) -> None:
    assert isinstance(gaz.resolve("Georgia"), Country)
    state = gaz.resolve("Georgia", context_country="US")
    assert isinstance(state, Admin1) and state.iso == "US-GA"
    assert gaz.resolve("Atlantis-under-the-sea") is None


@pytest.mark.parametrize(
    "word", ["Reading", "reading", "best", "time", "mobile", "nice", "of", "police", "salem"]
)
def test_stoplist_has_common_words(gaz: Gazetteer, word: str) -> None:
    assert gaz.is_stopword(word)


@pytest.mark.parametrize("name", ["Seoul", "London", "Paris", "Tokyo", "Texas", "China", "Japan"])
def test_stoplist_spares_real_places(gaz: Gazetteer, name: str) -> None:
    assert not gaz.is_stopword(name)


def test_name_key_folds_latin_only() -> None:
    assert name_key("ZÜRICH") == name_key("zurich")
    assert name_key("Côte d’Ivoire") == "cote d'ivoire"
    assert name_key("ガーナ") == "ガーナ"


def test_load_reports_missing_and_damaged_files(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound):
        Gazetteer.load(tmp_path)
    (tmp_path / "stoplist.txt").write_text("best\n", encoding="utf-8")
    for name in ("countries.jsonl.gz", "admin1.jsonl.gz", "cities.jsonl.gz"):
        (tmp_path / name).write_bytes(b"not gzip")
    with pytest.raises(InputError):
        Gazetteer.load(tmp_path)


def test_records_validate() -> None:
    with pytest.raises(ValueError, match="latitude"):
        City(1, "X", "X", (), "US", None, 91.0, 0.0, 1, "UTC")
    with pytest.raises(ValueError, match="country code"):
        Country("usa", "USA", "US", (), (), None, None, None, 1)
    with pytest.raises(ValueError, match="US-"):
        Admin1("US", "TX", "MX-TX", "Texas", (), (), 31.0, -97.0, 1)


@pytest.mark.parametrize("name", ["countries.jsonl.gz", "admin1.jsonl.gz"])
def test_build_writer_is_deterministic_and_canonical(
    build_script: ModuleType, tmp_path: Path, name: str
) -> None:
    shipped = default_gazetteer_dir() / name
    with gzip.open(shipped, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    first, second = tmp_path / "a.gz", tmp_path / "b.gz"
    assert build_script.write_jsonl_gz(rows, first) == len(rows)
    build_script.write_jsonl_gz(rows, second)
    assert first.read_bytes() == second.read_bytes() == shipped.read_bytes()


def test_build_helpers(build_script: ModuleType) -> None:
    assert build_script.fold("São Paulo") == "Sao Paulo"
    assert build_script.fold("東京") == "東京"
    lat, lon = build_script.centroid([(10.0, 179.0, 1), (10.0, -179.0, 1)])
    assert lat == pytest.approx(10.0, abs=0.1) and abs(lon) == pytest.approx(180.0, abs=0.01)
