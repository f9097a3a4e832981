"""The bundled sample replayed once into a SQLite store, its report written once, and a small
store to write incidents into by hand.

The sample (``data/samples/posts``) raises five incidents (discord, tesla, coinbase, psn,
verizon), all matching ``data/samples/truth.csv``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from detector.config import Settings
from detector.ingest.files import ReadOptions
from detector.ingest.quarantine import QuarantineWriter
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.report import ReportInputs, write_report
from detector.spikes.backtest import alarm_of
from detector.spikes.truth import Alarm, TruthMatch, match_truth, read_truth
from detector.store.incidents import list_incidents
from detector.store.sql import SqlStore

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@dataclass(frozen=True)
class Sample:
    """The replayed sample: its store's URL and what the replay read."""

    url: str
    inputs: ReportInputs


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The sample replayed into a SQLite file, as ``outage-radar analyze`` runs it (once)."""
    folder = tmp_path_factory.mktemp("report-sample")
    url = f"sqlite:///{folder / 'radar.db'}"
    store = SqlStore(url)
    try:
        pipeline = Pipeline(store, Analyzer.load(), _clean_settings(database_url=url))
        with QuarantineWriter(folder / "quarantine.jsonl") as quarantine:
            reading, analyzed, detected = pipeline.replay(
                [SAMPLES / "posts"], ReadOptions(), quarantine
            )
    finally:
        store.close()
    inputs = ReportInputs(
        paths=(Path("data/samples/posts"),),
        posts_read=reading.stored,
        outage_posts=analyzed.outage_posts,
        quarantined=sum(reading.quarantined.values()),
        first=detected.first,
        last=detected.last,
        seconds=12.5,  # fixed: the page must not change with the machine's speed
    )
    return Sample(url, inputs)


@pytest.fixture(scope="session")
def sample_engine(sample: Sample) -> Iterator[Engine]:
    """An engine on the sample store."""
    store = SqlStore(sample.url)
    yield store.engine
    store.close()


@pytest.fixture(scope="session")
def sample_truth(sample_engine: Engine) -> tuple[list[TruthMatch], list[Alarm]]:
    """The sample's incidents matched with ``data/samples/truth.csv``, as the backtest does."""
    found = list_incidents(sample_engine)
    until = max(i.end or i.detected_at for i in found)
    return match_truth(read_truth(SAMPLES / "truth.csv"), [alarm_of(i) for i in found], until=until)


@pytest.fixture(scope="session")
def sample_report(
    sample: Sample,
    sample_engine: Engine,
    sample_truth: tuple[list[TruthMatch], list[Alarm]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The report of the sample with its known incidents (written once)."""
    matches, unmatched = sample_truth
    return write_report(
        sample_engine,
        tmp_path_factory.mktemp("report"),
        title="Sample report",
        inputs=sample.inputs,
        truth=matches,
        unmatched=unmatched,
    )


@pytest.fixture(scope="session")
def sample_html(sample_report: Path) -> str:
    """The text of the sample's report."""
    return sample_report.read_text(encoding="utf-8")


@pytest.fixture
def small_store(tmp_path: Path) -> Iterator[SqlStore]:
    """An empty SQLite store in a temporary file."""
    store = SqlStore(f"sqlite:///{tmp_path / 'small.db'}")
    yield store
    store.close()


def _clean_settings(**values: Any) -> Settings:
    """Settings from these values and defaults only (session fixtures run outside the
    per-test environment cleaner)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("OUTAGE_RADAR_"):
                patch.delenv(name)
        return Settings(**values)
