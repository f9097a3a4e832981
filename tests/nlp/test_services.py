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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PSNエラー NP-40833-8", ["psn"]),  # a Latin name runs straight into Japanese
        ("TESLA'S APP LOGGED ME OUT", ["tesla"]),
        ("Telekom-Störung seit heute morgen", ["deutsche_telekom"]),
        ("t-mobile no signal", ["tmobile"]),
        ("Verizonn down for y'all too?", ["verizon"]),
        ("dsicord app not working", ["discord"]),
    ],
)
def test_how_people_actually_write_names(matcher, text, expected):
    assert slugs(matcher, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Steam is dead, logged out and back in, nope", ["steam"]),
        ("getting np-40833-8 every time I try to sign in", ["psn"]),
        ("phone as key is dead again", ["tesla"]),
        # a sure name leaves ordinary words as words
        ("netflix keeps buffering, steam from my tea fogging the screen", ["netflix"]),
    ],
)
def test_a_likely_complaint_vouches_for_ambiguous_names(matcher, text, expected):
    assert slugs(matcher, text, complaint=True) == expected


@pytest.mark.parametrize(
    "text", ["switch is down", "the hotel discard pile", "getting np-40833-8 every time"]
)
def test_misspellings_and_signatures_need_a_complaint_or_a_cue(matcher, text):
    assert slugs(matcher, text) == []


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
