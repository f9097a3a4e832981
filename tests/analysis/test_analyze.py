"""``analyze_archive`` and ``outage-radar analyze``: the pipeline over archives, offline."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from detector.analysis.dask_engine import DaskEngine
from detector.analysis.partition import Partition, PartitionOptions, PartitionResult
from detector.analysis.runner import AnalysisResult, SingleEngine, analyze_archive
from detector.cli import app
from detector.nlp.analyzer import Analyzer
from detector.spikes.truth import read_truth

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
TWEETS = SAMPLES / "posts" / "tweets-2021-11-18_21.jsonl.gz"
FORUM = SAMPLES / "posts" / "teslamotorsclub-2021-11.jsonl.gz"
OUTPUTS = (
    "incidents.json",
    "incidents.csv",
    "counts.parquet",
    "quarantine.jsonl",
    "report.html",
)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load()


@pytest.fixture(scope="module")
def sample(analyzer: Analyzer, tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    """The bundled sample analysed once, scored against its known incidents."""
    out = tmp_path_factory.mktemp("sample") / "out"
    truth = read_truth(SAMPLES / "truth.csv")
    return analyze_archive([SAMPLES / "posts"], out, analyzer, truth=truth)


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three files: the forum's posts and two slices of the tweets around the Tesla outage
    (with a malformed line in one of them)."""
    folder = tmp_path_factory.mktemp("archive")
    shutil.copy(FORUM, folder / "a-forum.jsonl.gz")
    with gzip.open(TWEETS, "rt", encoding="utf-8") as lines:
        tesla = [line for line in lines if "2021-11-19T2" in line or "Fri Nov 19 2" in line]
    assert len(tesla) > 2000
    half = len(tesla) // 2
    _write_gz(folder / "b-tweets.jsonl.gz", tesla[:half])
    _write_gz(folder / "c-tweets.jsonl.gz", [*tesla[half:], "{not json\n"])
    return folder


def _write_gz(path: Path, lines: Sequence[str]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(lines)


def _outputs(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS if (folder / name).exists()}


# --- the sample --------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_tesla_outage_is_found_with_its_symptoms_and_countries(sample):
    tesla = [i for i in sample.incidents if i.service == "tesla"]
    assert len(tesla) == 1
    incident = tesla[0]
    assert incident.start <= datetime(2021, 11, 19, 21, 10, tzinfo=UTC)
    assert incident.detected_at <= datetime(2021, 11, 19, 21, 15, tzinfo=UTC)
    assert incident.end is not None
    countries = {c["country"] for c in incident.evidence["countries"]}
    assert {"US", "KR", "AU"} <= countries
    assert "500 server error" in {e["name"] for e in incident.evidence["errors"]}
    assert "unlock" in {f["name"] for f in incident.evidence["features"]}


@pytest.mark.slow
def test_every_known_incident_is_scored(sample):
    assert [m.found for m in sample.matches] == [True] * 5
    assert sample.unmatched == []
    assert sample.posts > 40_000 and sample.quarantined.total() == 3


@pytest.mark.slow
def test_the_incident_files_say_the_same(sample):
    listed = orjson.loads((sample.out / "incidents.json").read_bytes())
    assert [i["id"] for i in listed] == [i.id for i in sample.incidents]
    assert all(i["explanation"] for i in listed)
    table = pd.read_csv(sample.out / "incidents.csv")
    tesla = table[table["service"] == "tesla"].iloc[0]
    assert "500 server error" in tesla["top_errors"]
    assert "US" in tesla["countries"]


@pytest.mark.slow
def test_the_report_shows_each_incident_with_its_chart(sample):
    page = (sample.out / "report.html").read_text(encoding="utf-8")
    for incident in sample.incidents:
        assert incident.id in page
    assert "500 server error" in page and "<svg" in page
    charts = sorted(p.name for p in (sample.out / "charts").iterdir())
    assert len(charts) == len(sample.incidents)
    assert all((sample.out / "charts" / c).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for c in charts)


@pytest.mark.slow
def test_counts_hold_reports_and_baseline_per_service_and_country(sample):
    counts = pd.read_parquet(sample.out / "counts.parquet")
    assert list(counts.columns) == [
        "service",
        "country",
        "bucket_start",
        "observed",
        "expected",
        "state",
    ]
    tesla = counts[(counts["service"] == "tesla") & (counts["country"] == "")]
    at = tesla.set_index("bucket_start")
    outage = at.loc[pd.Timestamp("2021-11-19 21:15", tz="UTC")]
    assert outage["state"] == "problems"
    assert outage["observed"] > 20 * outage["expected"]
    korea = counts[(counts["service"] == "tesla") & (counts["country"] == "KR")]
    assert korea["observed"].sum() > 0
    # The countries' reports add up to at most the service's (some writers are not located).
    assert korea["observed"].sum() <= tesla["observed"].sum()


# --- resuming, engines, bad input --------------------------------------------------------------


class Interrupted(Exception):
    """Stands in for a run killed part-way."""


class CountingEngine(SingleEngine):
    """The single engine, recording which partitions it ran and stopping after ``stop_after``."""

    def __init__(self, analyzer: Analyzer, stop_after: int | None = None) -> None:
        super().__init__(analyzer)
        self.ran: list[str] = []
        self.stop_after = stop_after

    def run(
        self,
        partitions: Sequence[Partition],
        options: PartitionOptions,
        done: Callable[[Partition, PartitionResult], None],
        records: Callable[[int], None],
    ) -> None:
        def counted(partition: Partition, result: PartitionResult) -> None:
            done(partition, result)
            self.ran.append(partition.path.name)
            if self.stop_after is not None and len(self.ran) >= self.stop_after:
                raise Interrupted

        super().run(partitions, options, counted, records)


def test_an_interrupted_run_resumes_and_gives_what_an_unbroken_run_gives(
    analyzer, small_archive, tmp_path
):
    unbroken = CountingEngine(analyzer)
    analyze_archive([small_archive], tmp_path / "unbroken", analyzer, engine=unbroken)

    first = CountingEngine(analyzer, stop_after=2)
    with pytest.raises(Interrupted):
        analyze_archive([small_archive], tmp_path / "resumed", analyzer, engine=first)
    assert first.ran == ["a-forum.jsonl.gz", "b-tweets.jsonl.gz"]
    second = CountingEngine(analyzer)
    result = analyze_archive([small_archive], tmp_path / "resumed", analyzer, engine=second)
    assert second.ran == ["c-tweets.jsonl.gz"]  # the finished files are not read again
    assert result.resumed == 2
    assert _outputs(tmp_path / "resumed") == _outputs(tmp_path / "unbroken")
    assert not (tmp_path / "resumed" / ".checkpoint").exists()


def test_a_changed_file_is_read_again(analyzer, small_archive, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(small_archive, archive)
    engine = CountingEngine(analyzer)
    analyze_archive([archive], tmp_path / "out", analyzer, engine=engine, keep_checkpoint=True)
    forum = archive / "a-forum.jsonl.gz"
    forum.write_bytes(forum.read_bytes())  # same content, a new modification time
    again = CountingEngine(analyzer)
    analyze_archive([archive], tmp_path / "out", analyzer, engine=again, keep_checkpoint=True)
    assert again.ran == ["a-forum.jsonl.gz"]


@pytest.mark.slow
def test_the_dask_engine_gives_the_single_engines_files(analyzer, small_archive, tmp_path):
    analyze_archive([small_archive], tmp_path / "single", analyzer)
    dask = DaskEngine(workers=2)
    result = analyze_archive([small_archive], tmp_path / "dask", analyzer, engine=dask)
    assert result.incidents
    assert _outputs(tmp_path / "dask") == _outputs(tmp_path / "single")


def test_bad_files_are_reported_and_the_rest_is_analysed(analyzer, small_archive, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(small_archive, archive)
    (archive / "d-broken.jsonl.gz").write_bytes(gzip.compress(b'{"id": 1}\n' * 100)[:-20])
    result = analyze_archive([archive, tmp_path / "missing.jsonl"], tmp_path / "out", analyzer)
    failed = {Path(path).name for path, _ in result.failures}
    assert failed == {"d-broken.jsonl.gz", "missing.jsonl"}
    assert [i.service for i in result.incidents] == ["tesla"]
    quarantined = (tmp_path / "out" / "quarantine.jsonl").read_bytes().splitlines()
    entries = [orjson.loads(line) for line in quarantined]
    assert any(e["file"].endswith("c-tweets.jsonl.gz") for e in entries)
    assert all({"file", "line", "reason"} <= set(e) for e in entries)


def test_time_range_and_services_narrow_the_analysis(analyzer, small_archive, tmp_path):
    options = PartitionOptions(
        since=datetime(2021, 11, 19, 20, 0, tzinfo=UTC),
        until=datetime(2021, 11, 19, 23, 0, tzinfo=UTC),
        services=frozenset({"discord"}),
    )
    result = analyze_archive([small_archive], tmp_path / "out", analyzer, options=options)
    assert result.incidents == []  # tesla's outage is not asked for
    assert result.first is not None and result.first >= options.since
    assert result.last is not None and result.last < options.until
    counts = pd.read_parquet(tmp_path / "out" / "counts.parquet")
    assert set(counts["service"]) <= {"discord"}


# --- the command -------------------------------------------------------------------------------


def test_the_command_writes_the_results_and_fails_on_a_bad_file(small_archive, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    answer = runner.invoke(app, ["analyze", str(small_archive), "--out", str(out)])
    assert answer.exit_code == 0, answer.output
    assert "tesla" in answer.output
    assert {p.name for p in out.iterdir()} >= {"incidents.json", "counts.parquet"}
    missing = runner.invoke(app, ["analyze", str(tmp_path / "nope.jsonl"), "--out", str(out)])
    assert missing.exit_code == 1
    assert "nope.jsonl" in missing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bucket", "7"], "--bucket"),
        (["--engine", "spark"], "--engine"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    ],
)
def test_bad_options_get_one_clear_line(small_archive, tmp_path, args, message):
    answer = CliRunner().invoke(app, ["analyze", str(small_archive), "--out", str(tmp_path), *args])
    assert answer.exit_code == 2
    assert message in answer.output


def test_counts_cover_archives_longer_than_one_query_window(tmp_path):
    from datetime import timedelta

    from detector.analysis.outputs import counts_frame
    from detector.store.schema import complaints
    from detector.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path / 'long.db'}")
    first = datetime(2021, 10, 1, 0, 3, tzinfo=UTC)  # not on a bucket boundary
    days = 28  # more than 5,000 five-minute buckets
    rows = []
    for day in range(days + 1):
        at = first + timedelta(days=day)
        rows.append(
            {
                "post_id": f"p{day}",
                "service": "tesla",
                "created_at": at,
                "minute": int(at.timestamp() // 60),
                "author_key": f"a{day}",
                "country": "US",
                "source_kind": "twitter",
                "source_name": "twitter",
                "counted": True,
            }
        )
    with store.engine.begin() as conn:
        conn.execute(complaints.insert(), rows)
    frame = counts_frame(store.engine, first, first + timedelta(days=days), 5)
    store.close()
    whole = frame[frame["country"] == ""]
    assert whole["observed"].sum() == days + 1
    assert frame[frame["country"] == "US"]["observed"].sum() == days + 1
