"""``outage-radar listen`` as a user runs it: a settings file with a feed on loopback, the
posts stored, Ctrl-C storing what was read before exiting, and a second process standing by
that takes over when the first is killed."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from detector.store.sources import load_checkpoints
from detector.store.sql import SqlStore
from tests.ingest.live.forum_server import Forum, frame, rss_without
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


@contextmanager
def listening(tmp_path: Path, name: str, settings: Path, url: str) -> Iterator[_Listener]:
    """``outage-radar listen`` as a background process whose output goes to a file; killed
    at the end if still running."""
    log = tmp_path / f"{name}.log"
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [EXECUTABLE, "listen", "--settings", str(settings), "--db", url, "--status-every", "1"],
            env=_environment({}),
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield _Listener(process, log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=CLI_TIMEOUT)


class _Listener:
    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def says(self, text: str) -> bool:
        return text in self.output()


def test_a_second_listener_stands_by_and_takes_over_when_the_first_is_killed(
    tmp_path: Path, forum: Forum
) -> None:
    recorded = frame("feed_rss.xml")
    forum.serve("/posts.rss", rss_without(recorded, 0), "application/rss+xml")
    settings = tmp_path / "outage-radar.yaml"
    settings.write_text(
        "jobs_interval_seconds: 1\n"
        "sources_check_seconds: 0.5\n"
        "sources:\n"
        f"  - {{kind: feed, name: tmc, url: '{forum.base}/posts.rss', interval_seconds: 0.2}}\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    store = SqlStore(url)
    with ExitStack() as running:
        first = running.enter_context(listening(tmp_path, "first", settings, url))
        wait_for("the first to store posts", lambda: store.count_posts() == 3, timeout=CLI_TIMEOUT)
        second = running.enter_context(listening(tmp_path, "second", settings, url))
        wait_for(
            "the second to stand by",
            lambda: second.says(
                f"the sources are read by {socket.gethostname()}:{first.process.pid}"
            ),
            timeout=CLI_TIMEOUT,
        )
        first.process.kill()  # no chance to give the lease up
        first.process.wait(timeout=CLI_TIMEOUT)
        forum.serve("/posts.rss", recorded, "application/rss+xml")  # a new post meanwhile
        wait_for(
            "the second to take over",
            lambda: second.says("reading the sources now"),
            timeout=CLI_TIMEOUT,
        )
        wait_for("the new post", lambda: store.count_posts() == 4, timeout=CLI_TIMEOUT)
        second.process.send_signal(signal.SIGINT)
        second.process.wait(timeout=CLI_TIMEOUT)
    store.close()
    assert second.process.returncode == 0, second.output()
    # It resumed from the checkpoint the killed one stored: one new post, not four.
    assert "stored 1 new posts of 1 read" in second.output()
