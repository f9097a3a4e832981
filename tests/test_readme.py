"""The README's two commands stay true, and the bundled sample is what its script writes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detector.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEMO = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/outage-radar demo"
TESTS = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert DEMO in readme
    assert TESTS in readme
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert TESTS in ci_lines


def test_demo_replays_the_sample_and_explains_the_tesla_incident(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the demo writes its database and quarantine here
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "outage-radar.db").exists()
    out = result.stdout
    # The sample holds exactly three deliberately malformed lines (data/samples/README.md).
    for reason in ("bad_timestamp", "invalid_json", "missing_text"):
        assert f"quarantined: {reason}" in out
    assert len((tmp_path / "quarantine.jsonl").read_text().splitlines()) == 3
    table = out[out.index("Incidents") :]
    tesla = next(line for line in table.splitlines() if "│ tesla" in line)
    assert "11-19 21:00" in tesla and "500 server error" in tesla
    assert "US" in tesla and "KR" in tesla
    assert "outage reports about tesla since 2021-11-19 21:00 UTC" in " ".join(out.split())


@pytest.mark.slow
def test_sample_files_are_reproduced_by_their_seeded_script(tmp_path):
    subprocess.run(
        [sys.executable, "scripts/generate_samples.py", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    committed = ROOT / "data" / "samples"
    for path in sorted(committed.rglob("*.gz")) + [committed / "truth.csv"]:
        relative = path.relative_to(committed)
        regenerated = (tmp_path / relative).read_bytes()
        assert hashlib.sha256(regenerated).digest() == hashlib.sha256(path.read_bytes()).digest(), (
            relative
        )
