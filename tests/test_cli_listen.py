"""``outage-radar listen`` as a user runs it: a settings file with a feed on loopback, the
posts stored, and Ctrl-C storing what was read before exiting."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from detector.store.sources import load_checkpoints
from detector.store.sql import SqlStore
from tests.ingest.live.forum_server import Forum, frame
from tests.processes import CLI_TIMEOUT, EXECUTABLE, _environment, wait_for


@pytest.fixture
def forum() -> Iterator[Forum]:
    with Forum().running() as running:
        running.serve("/posts.rss", frame("feed_rss.xml"), "application/rss+xml")
        yield running


def test_listen_stores_the_feed_and_stops_cleanly_on_ctrl_c(tmp_path: Path, forum: Forum) -> None:
    settings = tmp_path / "outage-radar.yaml"
    settings.write_text(
        "jobs_interval_seconds: 1\n"
        "sources:\n"
        f"  - {{kind: feed, name: tmc, url: '{forum.base}/posts.rss', interval_seconds: 0.2}}\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    process = subprocess.Popen(
        [EXECUTABLE, "listen", "--settings", str(settings), "--db", url, "--status-every", "1"],
        env=_environment({}),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        store = SqlStore(url)
        try:
            wait_for("posts stored", lambda: store.count_posts() == 4 or None, timeout=CLI_TIMEOUT)
        finally:
            store.close()
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=CLI_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "listening to 1 sources" in output
    assert "SIGINT: storing what was read, then stopping" in output
    assert "stored 4 new posts of 4 read" in output
    store = SqlStore(url)
    try:
        assert set(load_checkpoints(store.engine)) == {"tmc"}
    finally:
        store.close()


def test_listen_without_sources_says_what_to_configure(tmp_path: Path) -> None:
    done = subprocess.run(
        [EXECUTABLE, "listen", "--db", f"sqlite:///{tmp_path / 'radar.db'}"],
        env=_environment({}),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 2
    assert "no live sources are configured" in done.stderr
    assert "docs/sources.md" in done.stderr
