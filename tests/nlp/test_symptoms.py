"""Symptom extraction: categories, error codes and messages, broken features, recovery."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from detector.errors import ConfigError, SourceNotFound
from detector.nlp.symptom_rules import (
    SYMPTOM_CATEGORIES,
    PhraseScanner,
    default_symptoms_path,
    read_rules,
)
from detector.nlp.symptoms import SymptomReport, SymptomRules


@pytest.fixture(scope="module")
def rules() -> SymptomRules:
    return SymptomRules.load()


def assert_offsets(text: str, report: SymptomReport) -> None:
    for mention in (*report.errors, *report.features):
        assert text[mention.start : mention.end] == mention.surface, mention


# --- the Tesla app outage, 2021-11-19 -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "categories", "errors", "features"),
    [
        (
            "@TeslaSupport app says 500 server error, can't unlock my model 3",
            ("error_message", "feature_broken"),
            ["500 server error"],
            ["unlock"],
        ),
        (
            "Phone key not working, had to dig out the key card",
            ("feature_broken",),
            [],
            ["phone key"],
        ),
        (
            "Tesla app says car offline / can't connect to vehicle",
            ("error_message", "connectivity_network"),
            ["vehicle is offline", "unable to connect to vehicle"],
            [],
        ),
        (
            "The app shows my car at the wrong location",
            ("feature_broken",),
            [],
            ["location"],
        ),
        (
            "Tesla app down? Can't start my car, HTTP 503",
            ("down_unavailable", "feature_broken", "error_message"),
            ["503 service unavailable"],
            ["start"],
        ),
    ],
)
def test_tesla_outage_posts(rules, text, categories, errors, features):
    report = rules.extract(text)
    assert report.categories == categories
    assert [e.normalized for e in report.errors] == errors
    assert [f.feature for f in report.features] == features
    assert not report.recovered
    assert_offsets(text, report)


def test_tesla_error_mention_has_surface_and_offsets(rules):
    text = "@TeslaSupport app says 500 server error, can't unlock my model 3"
    (error,) = rules.extract(text).errors
    assert (error.kind, error.surface, error.start, error.end) == (
        "http",
        "500 server error",
        23,
        39,
    )


# --- categories in many languages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Netflix is down again", "down_unavailable"),
        ("is discord down for everyone??", "down_unavailable"),
        ("#psndown since 8pm", "down_unavailable"),
        ("Instagram keeps logging me out", "login_auth"),
        ("Discord keeps crashing on startup", "app_crash"),
        ("Verizon no signal all day", "connectivity_network"),
        ("Steam is super slow tonight, buffering forever", "slow_degraded"),
        ("Chase card declined at every store", "payments"),
        ("Power outage in Austin", "power"),
        ("Störung bei der Telekom", "down_unavailable"),
        ("Vodafone Netzstörung in Köln", "down_unavailable"),
        ("WhatsApp stürzt ab", "app_crash"),
        ("kein Internet seit heute morgen", "connectivity_network"),
        ("Stromausfall in Berlin", "power"),
        ("Zahlung fehlgeschlagen bei PayPal", "payments"),
        ("Instagram caído otra vez", "down_unavailable"),
        ("WhatsApp se cayó", "down_unavailable"),
        ("sin internet desde ayer", "connectivity_network"),
        ("apagón en Madrid", "power"),
        ("la app va muy lento", "slow_degraded"),
        ("panne SFR depuis ce matin", "down_unavailable"),
        ("Free en panne", "down_unavailable"),
        ("coupure de courant à Lyon", "power"),
        ("l'appli plante", "app_crash"),
        ("Instagram fora do ar", "down_unavailable"),
        ("Nubank não funciona", "down_unavailable"),
        ("falta de luz no bairro", "power"),
        ("WhatsApp non funziona", "down_unavailable"),
        ("TIM disservizio in corso", "down_unavailable"),
        ("senza corrente da due ore", "power"),
        ("LINEで障害発生中", "down_unavailable"),
        ("ツイッターにログインできない", "login_auth"),
        ("ネットに繋がらない", "connectivity_network"),
        ("停電した", "power"),
        ("アプリがクラッシュする", "app_crash"),
        ("インスタ重い", "slow_degraded"),
        ("카카오톡 서버 오류", "error_message"),
        ("네이버 장애", "down_unavailable"),
        ("카톡 먹통", "down_unavailable"),
        ("로그인이 안 돼요", "login_auth"),
        ("우리 동네 정전", "power"),
        ("微信崩了", "down_unavailable"),
        ("ВКонтакте не работает", "down_unavailable"),
    ],
)
def test_categories_across_languages(rules, text, category):
    assert category in rules.extract(text).categories


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("power outage in Austin", ("power",)),  # not down_unavailable: the longer cue wins
        ("panne de courant", ("power",)),
        ("Störung bei der Telekom, kein Internet", ("down_unavailable", "connectivity_network")),
        ("can't log in, session expired", ("login_auth", "error_message")),
        ("can't pay with my card", ("payments",)),
        ("no wifi and the map won't load", ("connectivity_network", "feature_broken")),
        ("the app is not working", ("down_unavailable",)),
        ("unlock not working", ("feature_broken",)),
    ],
)
def test_categories_in_order_of_first_occurrence(rules, text, categories):
    assert rules.extract(text).categories == categories


@pytest.mark.parametrize(
    "text",
    [
        "calm down, it's just a game",
        "it's not down for me",
        "down payment on a new car",
        "can't wait to unlock the new level",
        "upside down cake",
        "download the new update",
        "jet lag is brutal",
    ],
)
def test_ordinary_phrases_are_no_symptoms(rules, text):
    assert rules.extract(text).categories == ()


@pytest.mark.parametrize(
    ("text", "features"),
    [
        ("can't unlock or lock the car", ["unlock", "lock"]),
        ("Preconditioning and climate control not working", ["climate", "climate"]),
        ("Supercharger says charging stopped", ["charging", "charging"]),
        ("uploads fail, downloads are slow", ["upload", "download"]),
        ("checkout broken, payments failing", ["checkout", "payments"]),
        (
            "playback stuck, voice chat down, matchmaking broken",
            ["streaming", "voice chat", "matchmaking"],
        ),
        (
            "no notifications, DMs not sending, search broken",
            ["notifications", "messages", "search"],
        ),
        ("can't make calls or send texts, no signal", ["calls", "texts", "internet"]),
        ("no power since noon", ["power"]),
        ("can't log in to my account", ["login", "login"]),
        ("the error message says nothing", []),
        ("Entsperren geht nicht", ["unlock"]),
        ("no puedo desbloquear el coche", ["unlock"]),
        ("解錠できない", ["unlock"]),
        ("잠금 해제 안 돼", ["unlock"]),
    ],
)
def test_features_are_normalised(rules, text, features):
    report = rules.extract(text)
    assert [f.feature for f in report.features] == features
    assert_offsets(text, report)


def test_a_broken_login_means_login_auth(rules):
    assert rules.extract("can't log in").categories == ("login_auth",)


def test_a_feature_far_from_the_breakage_cue_is_not_broken(rules):
    text = "can't believe it. " + "x" * 60 + " anyway, the unlock animation is cool"
    assert "feature_broken" not in rules.extract(text).categories


# --- error codes and messages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("500 server error", "500 server error"),
        ("error 500", "500 server error"),
        ("err 500", "500 server error"),
        ("Error: 500", "500 server error"),
        ("HTTP 503", "503 service unavailable"),
        ("HTTP/1.1 503", "503 service unavailable"),
        ("status 502", "502 bad gateway"),
        ("500 internal server error", "500 server error"),
        ("502 Bad Gateway", "502 bad gateway"),
        ("504 Gateway Time-out", "504 gateway timeout"),
        ("getting 404s everywhere, error 404s", "404 not found"),
        ("Error 429", "429 too many requests"),
        ("error 507", "error 507"),
        ("código de error 500", "500 server error"),
        ("error del servidor 500", "500 server error"),
        ("Serverfehler 500", "500 server error"),
        ("erreur 503", "503 service unavailable"),
        ("エラー500で解錠できない", "500 server error"),
        ("500エラー", "500 server error"),
        ("오류 503", "503 service unavailable"),
        ("code 771", "code 771"),
        ("error code: BLZBNTBGS000003F8", "code BLZBNTBGS000003F8"),
        ("Error code 2002-3537", "code 2002-3537"),
        ("Cloudflare error 1020", "code 1020"),
        ("エラーコード：E-1234", "E-1234"),
        ("E-1234", "E-1234"),
        ("PS5 CE-34878-0 again", "CE-34878-0"),
        ("0x80070005 on xbox", "0x80070005"),
        ("error 0x80070005", "0x80070005"),
        ("Something went wrong. Tap to retry", "something went wrong"),
        ("unable to connect", "unable to connect"),
        ("Vehicle is offline", "vehicle is offline"),
        ("Your session has expired", "session expired"),
        ("connection timed out", "connection timed out"),
        ("Algo salió mal", "something went wrong"),
        ("Sitzung abgelaufen", "session expired"),
        ("une erreur s'est produite", "an error occurred"),
        ("algo deu errado", "something went wrong"),
        ("セッションの有効期限が切れました", "session expired"),
        ("서버에 연결할 수 없습니다", "unable to connect"),
    ],
)
def test_error_forms_are_normalised(rules, text, normalized):
    report = rules.extract(text)
    assert normalized in [e.normalized for e in report.errors]
    assert "error_message" in report.categories
    assert_offsets(text, report)


def test_a_message_inside_a_status_is_reported_once(rules):
    errors = rules.extract("503 Service Unavailable").errors
    assert [(e.kind, e.normalized) for e in errors] == [("http", "503 service unavailable")]


@pytest.mark.parametrize(
    "text",
    [
        "$500",
        "just paid $500 for this",
        "€500 error in my bill",
        "meet at 5:00",
        "back in 2021",
        "updated to iOS 15.1 yesterday",
        "500 followers!",
        "500 people in line",
        "call me at 555-123-4567",
        "+1 (800) 555-0199",
        "won 3-0 tonight",
        "final score 102-99",
        "use promo code 12345 for 20% off",
        "zip code 94103",
        "verification code 123456",
        "COVID-19",
        "CVE-2021-44228",
        "new F-150 lightning",
        "Boeing 737-800",
        "stuck on the 405",
        "version 5.0.1 is out",
        "Windows 10 and 4K 60fps",
        "top 500 error-free runs",
    ],
)
def test_numbers_that_are_no_error_codes(rules, text):
    assert rules.extract(text).errors == ()


# --- recovery -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "recovered"),
    [
        ("Tesla app is back up", True),
        ("working again!", True),
        ("fixed now, thanks", True),
        ("WhatsApp wieder da", True),
        ("ya funciona instagram", True),
        ("LINE復旧した", True),
        ("ça remarche", True),
        ("instagram voltou", True),
        ("카톡 복구됐네요", True),
        ("power is back", True),
        ("still not back up", False),
        ("not fixed yet", False),
        ("Telekom ist noch nicht wieder da", False),
        ("まだ復旧してない", False),
        ("Tesla app down", False),
    ],
)
def test_recovery(rules, text, recovered):
    assert rules.extract(text).recovered is recovered


def test_recovery_phrases_are_no_symptoms(rules):
    report = rules.extract("It's back up now, working again")
    assert report == SymptomReport(recovered=True)


def test_recovery_keeps_the_other_symptoms(rules):
    report = rules.extract("was down for an hour, back online now")
    assert report.categories == ("down_unavailable",)
    assert report.recovered


# --- odd input ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t", "🔥🔥🔥😭", "https://t.co/AbC123xyz", "@x #y"])
def test_texts_without_symptoms(rules, text):
    assert rules.extract(text) == SymptomReport()


def test_lowercase_that_changes_length_keeps_offsets(rules):
    # "İ".lower() is two characters; the scan must still report offsets into the original.
    text = "İİİ İstanbul: 500 server error, can't unlock, Türk Telekom çöktü"
    assert len(text.lower()) != len(text)
    report = rules.extract(text)
    assert [e.normalized for e in report.errors] == ["500 server error"]
    assert [f.feature for f in report.features] == ["unlock"]
    assert_offsets(text, report)


def test_a_very_long_text(rules):
    chunk = "lorem ipsum dolor sit amet 2021 $500 "
    text = chunk * (100_000 // len(chunk) + 1) + "HTTP 503, can't unlock"
    assert len(text) >= 100_000
    started = time.perf_counter()
    report = rules.extract(text)
    assert time.perf_counter() - started < 2.0
    assert [e.normalized for e in report.errors] == ["503 service unavailable"]
    assert report.categories == ("error_message", "feature_broken")
    assert_offsets(text, report)


def test_many_mentions_in_a_long_text(rules):
    text = "can't unlock, error 500. " * 4000
    report = rules.extract(text)
    assert len(report.errors) == len(report.features) == 4000
    assert report.categories == ("feature_broken", "error_message")
    assert_offsets(text, report)


# --- the phrase scanner ---------------------------------------------------------------------


def test_scanner_prefers_the_longest_phrase_and_respects_boundaries():
    scanner = PhraseScanner({"down": 1, "down payment": 2, "störung*": 3, "*ausfall": 4, "障害": 5})
    text = "Down payment. downtown. Störungen, Stromausfall; 障害発生, DOWN"
    assert [(surface, label) for _, _, surface, label in scanner.scan(text)] == [
        ("Down payment", 2),
        ("Störung", 3),
        ("ausfall", 4),
        ("障害", 5),
        ("DOWN", 1),
    ]


def test_scanner_apostrophes_and_spaces_are_flexible():
    scanner = PhraseScanner({"can't log in": "x", "서버 오류": "y"})
    found = [
        surface for _, _, surface, _ in scanner.scan("Cant  log in / can’t log\nin / 서버오류")
    ]
    assert found == ["Cant  log in", "can’t log\nin", "서버오류"]


def test_scanner_patterns():
    scanner = PhraseScanner({"down": "cue"}, {r"#\w*down\b": "tag"})
    assert [label for *_, label in scanner.scan("#PSNdown is down")] == ["tag", "cue"]


# --- the rules file -------------------------------------------------------------------------


def test_shipped_file_covers_every_category_in_eight_languages():
    shipped = yaml.safe_load(default_symptoms_path().read_text(encoding="utf-8"))
    for entry in shipped["categories"]:
        assert {"en", "de", "es", "fr", "pt", "it", "ja", "ko"} <= set(entry["cues"]), entry["name"]
    assert [e.name for e in read_rules(default_symptoms_path()).categories] == list(
        SYMPTOM_CATEGORIES
    )


def minimal() -> dict[str, Any]:
    return {
        "version": 1,
        "categories": [
            {"name": name, "cues": {"en": [f"cue {i}"]}}
            for i, name in enumerate(SYMPTOM_CATEGORIES)
        ],
        "messages": [{"name": "oops", "cues": {"en": ["oops"]}}],
        "features": [{"name": "unlock", "cues": {"en": ["unlock*"]}}],
        "recovery": {"en": ["back up"]},
        "ignore": {"en": ["calm down"]},
    }


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "symptoms.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


def test_minimal_file_loads(tmp_path):
    rules = SymptomRules.load(write(tmp_path, minimal()))
    report = rules.extract("cue 0 then cue 7 near unlocking, oops, back up")
    assert report.categories == ("down_unavailable", "feature_broken", "error_message")
    assert report.recovered


def edit(path: str, value: Any) -> dict[str, Any]:
    """A minimal file with the value at ``path`` ("categories.1.cues.en") replaced."""
    content = copy.deepcopy(minimal())
    *parents, last = path.split(".")
    node: Any = content
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return content


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (edit("categories.1.name", "sadness"), "categories entry 1 ('sadness'), field 'name'"),
        (edit("categories.2.cues.en", ["Error"]), "entry 2 ('error_message'), field 'cues.en'"),
        (edit("categories.2.cues.en", ["a  b"]), "field 'cues.en'"),
        (edit("categories.2.cues.en", ["a*b"]), "field 'cues.en'"),
        (edit("categories.2.cues.en", ["x", "x"]), "field 'cues.en': lists 'x' twice"),
        (
            edit("categories.3.cues", {"english": ["x"]}),
            "entry 3 ('app_crash'), field 'cues.english'",
        ),
        (edit("categories.3.cues", ["x"]), "entry 3 ('app_crash'), field 'cues'"),
        (
            edit("categories.4.patterns", ["(unclosed"]),
            "entry 4 ('connectivity_network'), field 'patterns[0]': invalid regular",
        ),
        (edit("categories.4.patterns", ["Down"]), "field 'patterns[0]': must be a lowercase"),
        (edit("categories.4.patterns", ["(?P<x>a)"]), "field 'patterns[0]'"),
        (edit("categories.5.colour", "red"), "entry 5 ('slow_degraded'), field 'colour': unknown"),
        (edit("categories.6", {"name": "payments"}), "entry 6 ('payments'), field 'cues'"),
        (edit("categories.7", "power"), "categories entry 7 (None): must be a mapping"),
        (edit("features.0.category", "grumpy"), "features entry 0 ('unlock'), field 'category'"),
        (edit("features.0.name", "Unlock"), "features entry 0 ('Unlock'), field 'name'"),
        (edit("messages.0.patterns", ["x"]), "messages entry 0 ('oops'), field 'patterns'"),
        (edit("recovery", {"en": "back up"}), "section 'recovery', field 'en'"),
        (edit("feature_window", -1), "field 'feature_window'"),
        (edit("extras", {}), "unknown section 'extras'"),
    ],
)
def test_bad_files_name_the_file_entry_and_field(tmp_path, content, expected):
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as raised:
        read_rules(path)
    assert str(path) in str(raised.value)
    assert expected in str(raised.value)


def test_a_missing_category_is_named(tmp_path):
    content = minimal()
    del content["categories"][8]
    with pytest.raises(ConfigError, match="missing entry 'power'"):
        read_rules(write(tmp_path, content))


def test_a_duplicate_entry_is_named(tmp_path):
    content = minimal()
    content["features"].append({"name": "unlock", "cues": {"en": ["open"]}})
    with pytest.raises(ConfigError, match=r"features entry 1 \('unlock'\), field 'name': already"):
        read_rules(write(tmp_path, content))


def test_an_ignored_phrase_may_not_be_a_cue(tmp_path):
    path = write(tmp_path, edit("ignore", {"en": ["cue 0"]}))
    with pytest.raises(ConfigError, match="section 'ignore': 'cue 0' is also a cue"):
        SymptomRules.load(path)


@pytest.mark.parametrize(("raw", "expected"), [("[1, 2]", "must be a mapping"), ("a: [", "YAML")])
def test_unreadable_files(tmp_path, raw, expected):
    path = tmp_path / "symptoms.yaml"
    path.write_text(raw, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        read_rules(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(SourceNotFound):
        SymptomRules.load(tmp_path / "nope.yaml")
