"""Where writers are: places in text, profile locations, geotags."""

from __future__ import annotations

import pytest

from detector.models import GeoPoint, Place
from detector.nlp.gazetteer import Gazetteer
from detector.nlp.locations import LocationExtractor
from tests.factories import make_post


@pytest.fixture(scope="module")
def extractor():
    return LocationExtractor(Gazetteer.load())


@pytest.mark.parametrize(
    ("text", "country", "city", "writer"),
    [
        ("tesla app down here in Seoul", "KR", "Seoul", True),
        ("500 server error in Melbourne too", "AU", "Melbourne", True),
        ("Oslo too, can't unlock", "NO", "Oslo", True),
        ("heard it's down in Toronto", "CA", "Toronto", True),
        ("the Paris office posted about it", "FR", "Paris", False),
        ("서울 테슬라 앱 서버 오류", "KR", "Seoul", False),
    ],
)
def test_places_in_text(extractor, text, country, city, writer):
    (mention,) = extractor.from_text(text)
    assert (mention.country, mention.city, mention.writer) == (country, city, writer)
    assert mention.source == "text"
    assert text[mention.start : mention.end] == mention.surface


@pytest.mark.parametrize(
    "text",
    ["i was reading the news", "mobile data is dead", "nice, the app works", "best day ever"],
)
def test_common_words_are_not_places(extractor, text):
    assert extractor.from_text(text) == []


def test_city_with_its_state_is_disambiguated(extractor):
    (paris, texas) = extractor.from_text("stuck in Paris, TX with no app")
    assert (paris.country, paris.admin1, paris.city) == ("US", "US-TX", "Paris")
    assert texas.type == "admin1"


@pytest.mark.parametrize(
    ("profile", "country", "admin1", "city"),
    [
        ("Nashville, TN", "US", "US-TN", "Nashville"),
        ("Sydney, NSW", "AU", "AU-NSW", "Sydney"),
        ("Toronto, ON", "CA", "CA-ON", "Toronto"),
        ("Seoul, Republic of Korea", "KR", None, "Seoul"),
        ("🇳🇴", "NO", None, None),
        ("Reading, UK", "GB", None, "Reading"),
    ],
)
def test_profile_locations(extractor, profile, country, admin1, city):
    mention = extractor.from_profile(profile)
    assert mention is not None and mention.writer
    assert mention.country == country and mention.city == city
    if admin1:
        assert mention.admin1 == admin1


@pytest.mark.parametrize("profile", ["somewhere over the rainbow", "she/her", "", "🙂"])
def test_profiles_without_a_place(extractor, profile):
    assert extractor.from_profile(profile) is None


def test_service_country_resolves_ambiguous_names(extractor):
    assert extractor.from_profile("Georgia").country == "GE"
    assert extractor.from_profile("Georgia", countries=frozenset({"US"})).admin1 == "US-GA"


def test_post_combines_geotag_text_and_profile(extractor):
    post = make_post(
        text="app down here in Sydney",
        coordinates=GeoPoint(lat=37.5665, lon=126.978),
        place=Place(full_name="Gangnam-gu, Seoul", country_code="KR"),
        author_location="Toronto, ON",
    )
    found = extractor.locate(post)
    assert [(m.source, m.country) for m in found] == [
        ("coordinates", "KR"),
        ("place", "KR"),
        ("text", "AU"),
        ("profile", "CA"),
    ]
    assert found[0].city == "Seoul" and found[0].lat == 37.5665


@pytest.mark.parametrize("text", ["", "😡", "https://t.co/x", "Seoul " * 20_000])
def test_odd_input(extractor, text):
    assert isinstance(extractor.from_text(text), list)
