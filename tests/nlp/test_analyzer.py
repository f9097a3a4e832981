"""The analyzer cascade on the reference case: Tesla owners on 2021-11-19."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from detector.ingest.files import ReadOptions, read_file
from detector.models import Post
from detector.nlp.analyzer import Analyzer, writer_location
from tests.factories import make_post

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.load()


def test_a_tesla_complaint_is_fully_annotated(analyzer):
    post = make_post(
        text="@TeslaSupport app says 500 server error, can't unlock my car. here in Seoul",
        author_location="Bay Area",
    )
    (annotation,) = analyzer.annotate([post])
    assert annotation.is_outage
    assert [s.slug for s in annotation.services] == ["tesla"]
    assert {"error_message", "feature_broken"} <= set(annotation.symptoms.categories)
    assert [e.normalized for e in annotation.symptoms.errors] == ["500 server error"]
    assert [f.feature for f in annotation.symptoms.features] == ["unlock"]
    assert annotation.country == "KR"  # "here in Seoul" beats the profile
    record = annotation.as_dict()
    assert record["id"] == post.id
    assert orjson.loads(orjson.dumps(record)) == record


def test_unlikely_posts_skip_extraction(analyzer):
    (annotation,) = analyzer.annotate([make_post(text="love the new spotify wrapped lol")])
    assert not annotation.is_outage
    assert annotation.services == () and annotation.locations == ()


def test_locations_for_every_post_when_asked(analyzer):
    everything = Analyzer(
        model=analyzer.model,
        catalog=analyzer.catalog,
        gazetteer=analyzer.places.gazetteer,
        symptoms=analyzer.symptoms,
        locations="all",
    )
    (annotation,) = everything.annotate([make_post(text="sunny day in Melbourne")])
    assert annotation.country == "AU"


def test_batch_equals_single(analyzer):
    posts = [make_post(text=t) for t in ("instagram down?", "nice weather", "PSN login error")]
    batch = [a.as_dict() for a in analyzer.annotate(posts)]
    single = [analyzer.annotate([p])[0].as_dict() for p in posts]
    assert batch == single


def test_answers_take_the_service_of_the_post_they_answer(analyzer):
    parent = make_post(text="Tesla app down for anyone else? 500 server error")
    reply = make_post(text="@owner1 same here, can't unlock my car", reply_to=parent.id)
    quote = make_post(text="happening to me too, car won't unlock", quote_of=reply.id)
    (annotation,) = analyzer.annotate([reply], parents=None)
    assert annotation.services == ()  # nothing to go on without the conversation

    in_batch = analyzer.annotate([parent, reply, quote])
    assert [[(s.slug, s.kind) for s in a.services] for a in in_batch] == [
        [("tesla", "alias")],
        [("tesla", "reply")],
        [("tesla", "quote")],  # two posts up the conversation
    ]
    asked: list[set[str]] = []

    def lookup(ids):
        asked.append(set(ids))
        return {parent.id: parent} if parent.id in ids else {}

    (from_store,) = analyzer.annotate([reply], parents=lookup)
    assert [(s.slug, s.kind) for s in from_store.services] == [("tesla", "reply")]
    assert asked == [{parent.id}]


def test_answers_to_unknown_posts_stay_unattributed(analyzer):
    reply = make_post(text="same here, can't unlock my car", reply_to="twitter:404")
    (annotation,) = analyzer.annotate([reply], parents=lambda _ids: {})
    assert annotation.is_outage and annotation.services == ()


@pytest.mark.parametrize("text", [".", "😡", "https://t.co/x", "x" * 100_000, "Tesla 다운 ダウン"])
def test_odd_texts(analyzer, text):
    (annotation,) = analyzer.annotate([make_post(text=text)])
    assert 0.0 <= annotation.outage_probability <= 1.0


def test_threshold_validation(analyzer):
    with pytest.raises(ValueError, match="extract_below"):
        Analyzer(
            model=analyzer.model,
            catalog=analyzer.catalog,
            gazetteer=analyzer.places.gazetteer,
            symptoms=analyzer.symptoms,
            threshold=0.5,
            extract_below=0.7,
        )


def test_writer_location_prefers_geotags_then_text_then_profile(analyzer):
    post = make_post(text="down here in Oslo", author_location="Toronto, ON")
    assert writer_location(analyzer.places.locate(post)).country == "NO"
    assert writer_location([]) is None


def test_tesla_sample_outage_posts(analyzer):
    """On the sample's Tesla outage evening, most flagged posts name Tesla, the 500 error and
    unlock show up among the symptoms, and the writers come from the US, Korea and Australia."""
    labels = {}
    with gzip.open(SAMPLES / "labels.jsonl.gz") as fh:
        for line in fh:
            row = orjson.loads(line)
            if row["is_outage"] and row["service"] == "tesla":
                labels[row["id"]] = row
    posts = [
        item
        for path in sorted((SAMPLES / "posts").glob("*.gz"))
        for item in read_file(path, ReadOptions())
        if isinstance(item, Post) and item.id in labels and not item.is_repost
    ]
    assert len(posts) > 1000
    annotations = analyzer.annotate(posts)
    flagged = [a for a in annotations if a.is_outage]
    assert len(flagged) / len(posts) > 0.8
    # Measured 0.81 (answers take Tesla from the post they answer when it is in the batch); the
    # rest ("car won't unlock with my phone") name no service and answer nothing.
    named = sum(1 for a in flagged if any(s.slug == "tesla" for s in a.services))
    assert named / len(flagged) > 0.78
    errors = {e.normalized for a in flagged for e in a.symptoms.errors}
    features = {f.feature for a in flagged for f in a.symptoms.features}
    assert "500 server error" in errors and "unlock" in features
    countries = {a.country for a in flagged}
    assert {"US", "CA", "KR", "AU", "NO"} <= countries


def test_cli_classify_prints_the_annotation():
    from typer.testing import CliRunner

    from detector.cli import app

    result = CliRunner().invoke(app, ["classify", "instagram down again?? here in Toronto"])
    assert result.exit_code == 0, result.output
    record = orjson.loads(result.stdout)
    assert record["is_outage"] and record["country"] == "CA"
    assert [s["slug"] for s in record["services"]] == ["instagram"]


def test_cli_annotate_files_and_plain_csv(tmp_path):
    from typer.testing import CliRunner

    from detector.cli import app

    csv = tmp_path / "texts.csv"
    csv.write_text("msg_id,msg\n7,PSN login error again\n8,what a lovely morning\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "annotate",
            str(csv),
            "--out",
            str(out),
            "--text-column",
            "msg",
            "--id-column",
            "msg_id",
            "--quarantine",
            str(tmp_path / "q.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["id"] for r in rows] == ["generic:generic:7", "generic:generic:8"]
    assert [r["is_outage"] for r in rows] == [True, False]
    assert rows[0]["services"][0]["slug"] == "psn"
