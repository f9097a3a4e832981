"""Finding the services a post names."""

from __future__ import annotations

import pytest

from detector.nlp.catalog import load_catalog
from detector.nlp.services import ServiceMatcher


@pytest.fixture(scope="module")
def matcher():
    return ServiceMatcher(load_catalog())


def slugs(matcher, text, **kw):
    return [m.slug for m in matcher.find(text, **kw)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@TeslaSupport app says 500 server error, can't unlock", ["tesla"]),
        ("tesla app down?", ["tesla"]),
        ("is the Tesla app down for everyone", ["tesla"]),
        ("#TeslaAppDown again", ["tesla"]),
        ("phone key stopped working #ModelY", ["tesla"]),
        ("tesla.com won't load", ["tesla"]),
        ("테슬라 앱 서버 오류", ["tesla"]),
        ("テスラのアプリが使えない", ["tesla"]),
        ("instagram and whatsapp both down wtf", ["instagram", "whatsapp"]),
        ("#InstagramDown", ["instagram"]),
    ],
)
def test_catalog_names(matcher, text, expected):
    assert slugs(matcher, text) == expected


def test_offsets_point_at_the_name(matcher):
    text = "ugh, the Tesla app is down"
    (mention,) = matcher.find(text)
    assert text[mention.start : mention.end] == mention.surface == "Tesla app"
    assert mention.kind == "alias"


@pytest.mark.parametrize(
    "text",
    [
        "steam rising from my coffee",
        "Chase the dream",
        "new model 3 colours look great",
    ],
)
def test_ambiguous_names_need_outage_context(matcher, text):
    assert slugs(matcher, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steam servers down again", ["steam"]),
        ("my model 3 app shows error", ["tesla"]),
    ],
)
def test_ambiguous_names_with_outage_context(matcher, text, expected):
    assert slugs(matcher, text) == expected


def test_forum_posts_inherit_the_forum_service(matcher):
    found = matcher.find("car won't unlock with my phone", source_name="teslamotorsclub")
    assert [(m.slug, m.kind) for m in found] == [("tesla", "forum")]


def test_text_mention_wins_over_forum(matcher):
    found = matcher.find("FordPass is down too", source_name="teslamotorsclub")
    assert [m.slug for m in found] == ["fordpass", "tesla"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is Frobnicator down for anyone?", ["unknown:frobnicator"]),
        ("Widgetly not working since noon", ["unknown:widgetly"]),
        ("STILL down", []),
        ("It is down", []),
        ("love this song", []),
    ],
)
def test_names_outside_the_catalog(matcher, text, expected):
    assert slugs(matcher, text) == expected


@pytest.mark.parametrize("text", ["", "😡😡", "https://t.co/x", "a " * 50_000])
def test_odd_input(matcher, text):
    assert isinstance(matcher.find(text), list)
