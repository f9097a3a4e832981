"""``outage-radar evaluate``: the scores it measures and the RESULTS.md section it writes."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.nlp.analyzer import Analyzer
from detector.nlp.quality import measure_quality
from tests.factories import tweet_v1

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.load()


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A tiny labelled archive: a Tesla complaint, an answer to it, and everyday chatter."""
    tweets = [
        tweet_v1("101", "Tesla app down? 500 server error, here in Seoul"),
        tweet_v1("102", "@owner same, can't unlock my car", in_reply_to_status_id_str="101"),
        tweet_v1("103", "what a lovely morning"),
    ]
    labels = [
        {"id": "twitter:101", "is_outage": True, "service": "tesla", "country": "KR", "lang": "en"},
        {"id": "twitter:102", "is_outage": True, "service": "tesla", "country": None, "lang": "en"},
        {"id": "twitter:103", "is_outage": False, "service": None, "country": None, "lang": "en"},
    ]
    (tmp_path / "posts").mkdir()
    with gzip.open(tmp_path / "posts" / "tweets.jsonl.gz", "wb") as fh:
        fh.write(b"\n".join(orjson.dumps(t) for t in tweets) + b"\n")
    with gzip.open(tmp_path / "labels.jsonl.gz", "wb") as fh:
        fh.write(b"\n".join(orjson.dumps(row) for row in labels) + b"\n")
    return tmp_path


def test_sample_scores_count_answers_by_their_conversation(analyzer, samples, tmp_path):
    report = measure_quality(analyzer, now=NOW, samples_dir=samples, shared_dir=tmp_path / "none")
    sample = report.sample
    assert sample is not None
    assert (sample.outage.precision, sample.outage.recall) == (1.0, 1.0)
    assert (sample.with_service, sample.service_right) == (2, 2)  # the reply inherits Tesla
    assert (sample.with_country, sample.located, sample.country_right) == (1, 1, 1)
    assert report.held_out.n > 500 and report.held_out.f1 > 0.85


def test_without_samples_only_held_out_scores(analyzer):
    report = measure_quality(analyzer, now=NOW, samples_dir=None, shared_dir=None)
    assert report.sample is None and report.locations == {}
    assert "| outage F1 (P / R) | data/training test split |" in report.markdown("cmd")


def test_cli_evaluate_writes_its_section_and_keeps_the_others(samples, tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmarks\n\n## Ingest\n\nkept\n\n## NLP quality\n\nstale numbers\n")
    args = ["evaluate", "--samples", str(samples), "--shared", str(tmp_path / "none")]
    result = CliRunner().invoke(app, [*args, "--results", str(results)])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["sample_archive"]["service_right"] == 1.0
    text = results.read_text()
    assert "## Ingest\n\nkept" in text and "stale numbers" not in text
    assert (
        "| writer's country right | sample outage posts located by the analyzer | 1 | 1.000 |"
        in text
    )
    assert "wnut17_dev: not found" in text
