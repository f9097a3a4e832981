"""The outage classifier: learns, round-trips through disk, and behaves on odd input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.errors import ConfigError, ModelError, ModelNotFound
from detector.nlp.classifier import make_pipeline, outage_probabilities
from detector.nlp.persist import latest_model_dir, load_model, save_model
from detector.nlp.training import Example, Scores, evaluate, load_examples, train

TINY = [
    ("instagram is down again??", 1),
    ("@TeslaSupport app says 500 server error, can't unlock my car", 1),
    ("cant log into my chase app, keeps saying something went wrong", 1),
    ("netflix keeps crashing on my tv 😡", 1),
    ("no signal at all on verizon since this morning", 1),
    ("power's been out for 3 hours #PGE", 1),
    ("Discord-Störung? Nachrichten werden nicht gesendet", 1),
    ("テスラのアプリ 障害 ですか", 1),
    ("love the new spotify wrapped!!", 0),
    ("tesla stock is down 5% today", 0),
    ("my netflix price went up again, cancelling", 0),
    ("customer service put me on hold for an hour smh", 0),
    ("anyone want to get pizza tonight", 0),
    ("Get 50% off our premium plan 👉 https://t.co/abc", 0),
    ("i'm so down for a movie tonight lol", 0),
    ("the package arrived damaged, box crushed", 0),
]


@pytest.fixture(scope="module")
def model():
    return make_pipeline(min_df=1, seed=0).fit([t for t, _ in TINY], [y for _, y in TINY])


def test_overfits_tiny_data(model):
    probabilities = outage_probabilities(model, [t for t, _ in TINY])
    assert [int(p >= 0.5) for p in probabilities] == [y for _, y in TINY]


def test_same_seed_same_model(model):
    again = make_pipeline(min_df=1, seed=0).fit([t for t, _ in TINY], [y for _, y in TINY])
    texts = ["is discord down", "nice weather"]
    assert np.array_equal(outage_probabilities(model, texts), outage_probabilities(again, texts))


def test_batch_equals_single(model):
    texts = [t for t, _ in TINY]
    batch = outage_probabilities(model, texts)
    single = np.array([outage_probabilities(model, [t])[0] for t in texts])
    assert np.allclose(batch, single)


@pytest.mark.parametrize(
    "text",
    ["", " ", "😡😡😡", "https://t.co/abc", "a" * 100_000, "Netflix 다운 ダウン caído 🙄", "\x00"],
)
def test_odd_input_gets_a_probability(model, text):
    (p,) = outage_probabilities(model, [text])
    assert 0.0 <= p <= 1.0


def test_no_texts_no_probabilities(model):
    assert outage_probabilities(model, []).shape == (0,)


def test_save_load_round_trip_gives_identical_scores(model, tmp_path):
    folder = save_model(model, folder=tmp_path / "outage-classifier-1", meta={"name": "x"})
    saved = load_model(folder)
    texts = [t for t, _ in TINY]
    assert np.array_equal(
        outage_probabilities(saved.model, texts), outage_probabilities(model, texts)
    )
    assert saved.meta["libraries"]["scikit-learn"]
    assert len(saved.meta["sha256"]) == 64


def test_tampered_model_is_refused(model, tmp_path):
    folder = save_model(model, folder=tmp_path / "m-1", meta={})
    with (folder / "model.joblib").open("ab") as fh:
        fh.write(b"x")
    with pytest.raises(ModelError, match="does not match the sha256"):
        load_model(folder)


def test_missing_model_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelNotFound, match="outage-radar train"):
        latest_model_dir("outage-classifier", tmp_path)
    with pytest.raises(ModelNotFound):
        load_model(tmp_path)


def test_latest_version_wins(model, tmp_path):
    for version in ("1", "2", "10"):
        save_model(model, folder=tmp_path / f"outage-classifier-{version}", meta={})
    (tmp_path / "outage-classifier-old").mkdir()
    assert latest_model_dir("outage-classifier", tmp_path).name == "outage-classifier-10"


def test_scores():
    scores = Scores.of([1, 1, 0, 0], [0.9, 0.1, 0.8, 0.2], ["en", "de", "en", "de"])
    assert (scores.precision, scores.recall, scores.f1) == (0.5, 0.5, 0.5)
    assert scores.by_language["de"]["recall"] == 0.0
    assert scores.as_dict()["positives"] == 2


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"label": 1}, "field 'text'"),
        ({"text": "x", "label": 2}, "field 'label'"),
        ({"text": "x", "label": 1, "split": "validation"}, "field 'split'"),
    ],
)
def test_bad_examples_name_the_line_and_field(tmp_path, row, message):
    path = _write(tmp_path / "ex.jsonl", [{"text": "ok", "label": 0}, row])
    with pytest.raises(ConfigError, match=f"ex.jsonl:2: {message}"):
        load_examples(path)


def test_train_uses_only_the_train_split():
    examples = [Example(t, y, split="train") for t, y in TINY] + [
        Example("zzz unseen", 1, split="test")
    ]
    model = train(examples, seed=0, min_df=1)
    scores = evaluate(model, [e for e in examples if e.split == "train"])
    assert scores.f1 == 1.0
    with pytest.raises(ConfigError, match="needs outage and non-outage"):
        train([Example("a", 1)], seed=0)


def test_cli_train_and_classify(tmp_path):
    rows = [
        {"text": t, "label": y, "lang": "en", "split": split}
        for split in ("train", "dev", "test")
        for t, y in TINY
    ]
    data = _write(tmp_path / "examples.jsonl", rows)
    runner = CliRunner()
    result = runner.invoke(
        app, ["train", "--data", str(data), "--models", str(tmp_path / "m"), "--version", "3"]
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "m" / "outage-classifier-3" / "meta.json").read_text())
    assert meta["training_data"]["per_split"] == {"train": 16, "dev": 16, "test": 16}
    assert meta["scores"]["test"]["n"] == 16
    result = runner.invoke(
        app, ["classify", "is instagram down again??", "--models", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["is_outage"] and record["outage_probability"] > 0.5


def test_cli_classify_without_a_model(tmp_path):
    result = CliRunner().invoke(app, ["classify", "x", "--models", str(tmp_path)])
    assert result.exit_code == 2
    assert "outage-radar train" in result.stderr
