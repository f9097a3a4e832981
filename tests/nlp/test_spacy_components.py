"""The spaCy components show what the Analyzer's matchers find, on tokens."""

from __future__ import annotations

import pytest
import spacy

from detector.nlp.analyzer import Analyzer
from detector.nlp.spacy_components import COMPONENTS, build_nlp

TESLA = "@TeslaSupport the app says 500 server error, can't unlock my car here in Seoul"
TEXTS = [
    TESLA,
    "instagram down again?? here in Toronto",
    "love the new spotify wrapped lol",
    "PSN login error, code WS-37505-0",
    "Is Frobnicator down for anyone?",
    "エラー500で解錠できない 東京",
    "",
    "😡😡😡",
]


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.load()


@pytest.fixture(scope="module")
def nlp(analyzer):
    return build_nlp(analyzer)


def summary(doc):
    """Everything the components set, as plain data."""
    return {
        "p": doc._.outage_probability,
        "services": doc._.services,
        "service_spans": [(s.start_char, s.end_char, s.label_) for s in doc.spans["services"]],
        "symptom_spans": [(s.start_char, s.end_char, s.label_) for s in doc.spans["symptoms"]],
        "categories": doc._.symptom_categories,
        "recovered": doc._.recovered,
        "ents": [(e.start_char, e.end_char, e.label_, e._.place) for e in doc.ents],
    }


def test_the_components_are_in_the_pipeline(nlp):
    assert nlp.pipe_names == list(COMPONENTS)


def test_the_tesla_reply(nlp):
    doc = nlp(TESLA)
    assert doc._.outage_probability > 0.5
    (service,) = doc.spans["services"]
    assert (service.text, service.label_) == ("@TeslaSupport", "tesla")
    assert doc._.services == ("tesla",)
    error = next(s for s in doc.spans["symptoms"] if s.label_ == "http")
    assert error.text == "500 server error"
    assert error.id_ == "500 server error"
    assert "unlock" in [s.label_ for s in doc.spans["symptoms"]]
    assert {"error_message", "feature_broken"} <= set(doc._.symptom_categories)
    (seoul,) = doc.ents
    assert (seoul.text, seoul.label_) == ("Seoul", "GPE")
    assert (seoul._.place.country, seoul._.place.city) == ("KR", "Seoul")
    assert seoul._.place.writer and seoul._.place.lat is not None


def test_batch_equals_single(nlp):
    batch = [summary(doc) for doc in nlp.pipe(TEXTS, batch_size=3)]
    single = [summary(nlp(text)) for text in TEXTS]
    assert batch == single


@pytest.mark.parametrize("text", ["", "😡😡😡", " ", "🇳🇴🇳🇴"])
def test_empty_and_emoji_only_texts(nlp, text):
    doc = nlp(text)
    assert 0.0 <= doc._.outage_probability <= 1.0
    assert doc._.services == () and list(doc.spans["services"]) == []
    assert list(doc.ents) == []


@pytest.mark.parametrize("text", TEXTS)
def test_spans_are_the_matchers_findings(nlp, analyzer, text):
    """One code path: every span covers a mention the matcher returned, and only those."""
    doc = nlp(text)
    complaint = doc._.outage_probability >= analyzer.threshold
    services = analyzer.services.find(text, complaint=complaint)
    assert doc._.services == tuple(m.slug for m in services)
    assert covers(doc.spans["services"], [(m.start, m.end, m.slug) for m in services])
    report = analyzer.symptoms.extract(text)
    expected = [(e.start, e.end, e.kind) for e in report.errors]
    assert covers(
        doc.spans["symptoms"], expected + [(f.start, f.end, f.feature) for f in report.features]
    )
    assert {s.id_ for s in doc.spans["symptoms"] if s.id_} == {e.normalized for e in report.errors}
    assert doc._.symptom_categories == report.categories
    assert {e._.place for e in doc.ents} <= set(analyzer.places.from_text(text))


def covers(spans, mentions):
    """Each span contains its mention (in order), and zero-width mentions have none."""
    mentions = sorted(m for m in mentions if m[1] > m[0])
    found = sorted((s.start_char, s.end_char, s.label_) for s in spans)
    return len(found) == len(mentions) and all(
        s <= start and end <= e and label == m_label
        for (s, e, label), (start, end, m_label) in zip(found, mentions, strict=True)
    )


def test_a_forum_post_names_its_service_without_a_span(nlp):
    doc = nlp.make_doc("can't unlock my car, anyone else?")
    doc._.source_name = "r/teslamotors"
    doc = nlp(doc)
    assert doc._.services == ("tesla",)
    assert list(doc.spans["services"]) == []


def test_ents_from_another_component_are_kept(nlp):
    doc = nlp.make_doc("Acme Corp outage here in Seoul")
    doc.ents = [doc.char_span(0, 9, "ORG")]
    doc = nlp(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Acme Corp", "ORG"), ("Seoul", "GPE")]


def test_nlp_initialize_shares_one_analyzer(analyzer):
    nlp = spacy.blank("en")
    for name in COMPONENTS:
        nlp.add_pipe(name)
    with pytest.raises(RuntimeError, match="detector_outage has no Analyzer"):
        nlp("instagram down")
    nlp.get_pipe("detector_outage").initialize(nlp=nlp, analyzer=analyzer)
    nlp.initialize()  # the others take the analyzer the first one holds; nothing is loaded
    assert all(nlp.get_pipe(name).analyzer is analyzer for name in COMPONENTS)
    assert nlp("instagram down")._.services == ("instagram",)


def test_spans_key_is_configurable(analyzer):
    nlp = spacy.blank("xx")
    nlp.add_pipe("detector_services", config={"spans_key": "brands"})
    nlp.get_pipe("detector_services").initialize(analyzer=analyzer)
    doc = nlp("netflix error 500 again")
    assert [s.label_ for s in doc.spans["brands"]] == ["netflix"]
    assert "services" not in doc.spans
