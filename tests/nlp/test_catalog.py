"""The service catalog: the shipped file is complete and valid; bad files fail by name."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from detector.errors import ConfigError, SourceNotFound, UnknownService
from detector.nlp.catalog import (
    CATEGORIES,
    Catalog,
    Service,
    Term,
    default_catalog_path,
    load_catalog,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def write_catalog(tmp_path: Path, entries: object) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return path


def entry(slug: str, **overrides: object) -> dict[str, object]:
    return {"slug": slug, "name": slug.title(), "category": "web", "aliases": [slug], **overrides}


# --- the shipped catalog ------------------------------------------------------------------------


def test_default_path_is_the_repo_data_file():
    path = default_catalog_path()
    assert path == Path(__file__).resolve().parents[2] / "data" / "services.yaml"


def test_shipped_catalog_is_large_and_covers_every_category(catalog):
    assert len(catalog) >= 300
    counts = Counter(service.category for service in catalog)
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 5


def test_tesla_has_the_names_people_use(catalog):
    tesla = catalog.by_slug("tesla")
    assert {"tesla", "tesla app", "teslamotors"} <= set(tesla.aliases)
    assert {"@Tesla", "@TeslaSupport"} <= set(tesla.handles)
    assert "#tesla" in tesla.hashtags
    assert tesla.category == "car_app"
    assert "model 3" in tesla.ambiguous


@pytest.mark.parametrize(
    ("source_name", "slug"),
    [
        ("teslamotorsclub", "tesla"),
        ("TeslaMotorsClub", "tesla"),
        ("r/teslamotors", "tesla"),
        ("R/TeslaMotors", "tesla"),
        ("r/discordapp", "discord"),
        ("r/psn", "psn"),
    ],
)
def test_forum_posts_inherit_the_forums_service(catalog, source_name, slug):
    service = catalog.for_source(source_name)
    assert service is not None
    assert service.slug == slug


@pytest.mark.parametrize("source_name", ["twitter", "bluesky", "mastodon.social", "r/askreddit"])
def test_general_sources_have_no_service(catalog, source_name):
    assert catalog.for_source(source_name) is None


@pytest.mark.parametrize(
    ("handle", "slug"),
    [
        ("@teslasupport", "tesla"),
        ("@TESLASUPPORT", "tesla"),
        ("TeslaSupport", "tesla"),
        ("@askplaystation", "psn"),
        ("@verizonsupport", "verizon"),
    ],
)
def test_handles_are_looked_up_case_insensitively(catalog, handle, slug):
    service = catalog.for_handle(handle)
    assert service is not None
    assert service.slug == slug


def test_unknown_handle_is_none(catalog):
    assert catalog.for_handle("@nobody_at_all") is None


def test_by_slug_ignores_case_and_rejects_unknown(catalog):
    assert catalog.by_slug("PSN").slug == "psn"
    with pytest.raises(UnknownService, match="no_such_service"):
        catalog.by_slug("no_such_service")


@pytest.mark.parametrize("slug", ["tesla", "discord", "coinbase", "psn", "verizon"])
def test_sample_incident_services_are_catalogued(catalog, slug):
    assert catalog.by_slug(slug).slug == slug


def test_terms_cover_every_kind_and_flag_ambiguous_words(catalog):
    terms = list(catalog.terms())
    assert all(isinstance(term, Term) for term in terms)
    kinds = {"alias", "app", "handle", "hashtag", "domain", "signature"}
    assert {term.kind for term in terms} == kinds
    assert Term("tesla app", "tesla", "alias", False) in terms
    assert Term("@TeslaSupport", "tesla", "handle", False) in terms
    assert Term("steam", "steam", "alias", True) in terms
    assert Term("#steam", "steam", "hashtag", True) in terms
    assert Term("phone as key", "tesla", "signature", True) in terms


def test_shared_ambiguous_aliases_are_the_only_collisions(catalog):
    owners: dict[str, set[str]] = {}
    for term in catalog.terms():
        if term.kind == "alias":
            owners.setdefault(term.text, set()).add(term.slug)
    shared = {text for text, slugs in owners.items() if len(slugs) > 1}
    assert "o2" in shared
    assert all(catalog.by_slug(slug).is_ambiguous(text) for text in shared for slug in owners[text])


def test_scripts_people_write_in_are_matched(catalog):
    aliases = {term.text: term.slug for term in catalog.terms() if term.kind == "alias"}
    assert aliases["넷플릭스"] == "netflix"
    assert aliases["카카오톡"] == "kakaotalk"
    assert aliases["ネットフリックス"] == "netflix"
    assert aliases["ドコモ"] == "docomo"


# --- validation ---------------------------------------------------------------------------------


def test_small_valid_file_loads(tmp_path):
    path = write_catalog(tmp_path, [entry("alpha", forums=["alphaforum"]), entry("beta")])
    catalog = load_catalog(path)
    assert [service.slug for service in catalog] == ["alpha", "beta"]
    assert catalog.for_source("AlphaForum") == catalog.by_slug("alpha")
    assert catalog.source == str(path)


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([entry("alpha"), entry("alpha", aliases=["other"])], r"entry 1 \('alpha'\), field 'slug'"),
        (
            [entry("alpha", aliases=["shared"]), entry("beta", aliases=["shared"])],
            r"entry 1 \('beta'\), field 'aliases': 'shared' also names 'alpha'",
        ),
        (
            [
                entry("alpha", aliases=["shared"], ambiguous=["shared"]),
                entry("beta", aliases=["shared"]),
            ],
            r"entry 1 \('beta'\), field 'aliases': 'shared'",
        ),
        (
            [entry("alpha", hashtags=["#down"]), entry("beta", hashtags=["#DOWN"])],
            r"entry 1 \('beta'\), field 'hashtags'",
        ),
        (
            [entry("alpha", handles=["@Same"]), entry("beta", handles=["@same"])],
            r"entry 1 \('beta'\), field 'handles': '@same' already belongs to 'alpha'",
        ),
        (
            [entry("alpha", forums=["r/x"]), entry("beta", forums=["r/x"])],
            r"entry 1 \('beta'\), field 'forums'",
        ),
        (
            [entry("alpha"), entry("beta", handles=["Beta"])],
            r"entry 1: service 'beta', field 'handles'",
        ),
        ([entry("alpha", hashtags=["alpha"])], r"entry 0: service 'alpha', field 'hashtags'"),
        (
            [entry("alpha", aliases=["Alpha"])],
            r"service 'alpha', field 'aliases': must be lowercase",
        ),
        ([entry("alpha", category="weather")], r"service 'alpha', field 'category'"),
        ([entry("Alpha")], r"service 'Alpha', field 'slug'"),
        ([entry("alpha", countries=["usa"])], r"service 'alpha', field 'countries'"),
        (
            [entry("alpha", countries=[False])],
            r"service 'alpha', field 'countries': must be a list",
        ),
        ([entry("alpha", domains=["https://alpha.com"])], r"service 'alpha', field 'domains'"),
        ([entry("alpha", ambiguous=["beta"])], r"service 'alpha', field 'ambiguous'"),
        (
            [entry("alpha", aliases=["a", "a"])],
            r"service 'alpha', field 'aliases': lists 'a' twice",
        ),
        ([entry("alpha", aliases=[])], r"service 'alpha', field 'aliases'"),
        ([entry("alpha", alias=["a"])], r"service 'alpha', field 'alias': unknown field"),
        ([{"slug": "alpha", "category": "web", "aliases": ["a"]}], r"field 'name'"),
        (["alpha"], r"entry 0: must be a mapping"),
        ({"alpha": entry("alpha")}, r"must be a list of services"),
    ],
)
def test_bad_entries_name_the_file_entry_and_field(tmp_path, entries, expected):
    path = write_catalog(tmp_path, entries)
    with pytest.raises(ConfigError, match=expected) as info:
        load_catalog(path)
    assert str(info.value).startswith(str(path))


def test_ambiguous_alias_may_be_shared(tmp_path):
    entries = [
        entry("alpha", aliases=["shared"], ambiguous=["shared"]),
        entry("beta", aliases=["shared"], ambiguous=["shared"], hashtags=["#shared"]),
    ]
    catalog = load_catalog(write_catalog(tmp_path, entries))
    assert {t.slug for t in catalog.terms() if t.text == "shared"} == {"alpha", "beta"}
    assert all(t.ambiguous for t in catalog.terms() if t.text in ("shared", "#shared"))


def test_invalid_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "services.yaml"
    path.write_text("- slug: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_catalog(path)


def test_missing_file_is_source_not_found(tmp_path):
    with pytest.raises(SourceNotFound):
        load_catalog(tmp_path / "absent.yaml")


def test_services_validate_when_built_directly():
    with pytest.raises(ConfigError, match="service 'x', field 'handles'"):
        Service(slug="x", name="X", category="web", aliases=("x",), handles=("x",))
