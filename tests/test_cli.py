"""The command line, through Typer's runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from detector.cli import app
from detector.store.sql import SqlStore
from tests.factories import tweet_v1

runner = CliRunner()


@pytest.fixture
def tweets(tmp_path):
    path = tmp_path / "tweets.jsonl"
    records = [
        tweet_v1("1", "@TeslaSupport 500 server error", user="a"),
        tweet_v1("2", "tesla app wont unlock", user="b"),
        {"limit": {"track": 3, "timestamp_ms": "1637355792000"}},
        "not json",
    ]
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


@pytest.mark.parametrize("command", [[], ["ingest"], ["stats"], ["demo"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_ingest_then_stats(tweets, tmp_path):
    db = tmp_path / "radar.db"
    quarantine = tmp_path / "q.jsonl"
    result = runner.invoke(
        app, ["ingest", str(tweets), "--db", str(db), "--quarantine", str(quarantine)]
    )
    assert result.exit_code == 0, result.output
    assert "stored" in result.output
    assert "quarantined: invalid_json" in result.output
    assert json.loads(quarantine.read_text())["line"] == 4
    store = SqlStore(f"sqlite:///{db}")
    assert store.count_posts() == 2
    store.close()

    result = runner.invoke(app, ["stats", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "2021-11-19 21:00" in result.output
    assert "twitter" in result.output


def test_database_url_from_the_environment(tweets, tmp_path):
    db = tmp_path / "env.db"
    result = runner.invoke(
        app,
        ["ingest", str(tweets), "--quarantine", str(tmp_path / "q")],
        env={"OUTAGE_RADAR_DATABASE_URL": str(db)},
    )
    assert result.exit_code == 0, result.output
    assert db.exists()


def test_generic_csv_with_a_column_mapping(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("when,msg,who\n2021-11-19 21:05:00,tesla app down again,kim\n")
    db = tmp_path / "radar.db"
    result = runner.invoke(
        app,
        [
            "ingest",
            str(path),
            "--db",
            str(db),
            "--source-name",
            "export",
            "--map",
            "created_at=when",
            "--map",
            "text=msg",
            "--map",
            "author_handle=who",
            "--timezone",
            "Asia/Seoul",
        ],
    )
    assert result.exit_code == 0, result.output
    store = SqlStore(f"sqlite:///{db}")
    (post,) = store.stats().sources
    assert post.first.isoformat() == "2021-11-19T12:05:00+00:00"
    store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "text"], "column mapping must look like field=column"),
        (["--map", "text=a"], "mapping needs a column for: created_at"),
        (["--format", "myspace"], "unknown format 'myspace'"),
        (["--mapping", "nope.yaml"], "nope.yaml: cannot read mapping file"),
    ],
)
def test_bad_options_get_one_clear_line(tweets, tmp_path, args, message):
    result = runner.invoke(app, ["ingest", str(tweets), "--db", str(tmp_path / "x.db"), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_unreadable_file_names_the_file_and_fails_after_the_rest(tweets, tmp_path):
    missing = tmp_path / ("long-folder-name-" * 4) / "missing.jsonl.gz"  # longer than a line
    db = tmp_path / "radar.db"
    result = runner.invoke(
        app,
        ["ingest", str(missing), str(tweets), "--db", str(db), "--quarantine", str(tmp_path / "q")],
    )
    assert result.exit_code == 1
    assert f"error: {missing}: no such file or directory\n" in result.stderr
    store = SqlStore(f"sqlite:///{db}")
    assert store.count_posts() == 2
    store.close()
