"""A real uvicorn server on the bundled sample, started once for the session.

The sample (``data/samples/posts``) is replayed once into a temporary SQLite file (five
incidents: discord, tesla, coinbase, psn, verizon). ``live_server`` serves it with the app the
``serve`` command builds, its lifespan opening the store and loading the analyzer; other
servers (another database, a database that is down) start through ``serve_app``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from detector.config import Settings
from detector.ingest.files import ReadOptions
from detector.ingest.quarantine import QuarantineWriter
from detector.nlp.analyzer import Analyzer
from detector.pipeline import Pipeline
from detector.store.sql import SqlStore

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
START_TIMEOUT = 60.0  # the lifespan loads the model: seconds, more on a busy machine
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL and the app it serves (for ``app.state``)."""

    url: str
    app: FastAPI


@contextmanager
def serve_app(app: FastAPI, *, timeout: float = START_TIMEOUT) -> Iterator[LiveServer]:
    """Run ``app`` under uvicorn on a free port of 127.0.0.1 in a background thread, until
    ``/health`` answers (whatever its status); stop it on exit, within ``STOP_TIMEOUT``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound before the thread starts: no race for the port
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        app, lifespan="on", ws="none", log_config=None, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True
    )
    thread.start()
    try:
        _wait_until_answering(url, server, thread, timeout)
        yield LiveServer(url, app)
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        sock.close()
        assert not thread.is_alive(), "the test server did not stop in time"


def _wait_until_answering(
    url: str, server: uvicorn.Server, thread: threading.Thread, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the test server stopped while starting (see the log above)")
        if server.started:
            try:
                httpx.get(f"{url}/health", timeout=5.0)
                return
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    server.should_exit = True
    raise TimeoutError(f"the test server did not answer within {timeout} s")


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a SQLite file holding the replayed sample (built once per session)."""
    folder = tmp_path_factory.mktemp("api-sample")
    url = f"sqlite:///{folder / 'radar.db'}"
    settings = _clean_settings(database_url=url)
    store = SqlStore(url)
    try:
        pipeline = Pipeline(store, Analyzer.load(), settings)
        with QuarantineWriter(folder / "quarantine.jsonl") as quarantine:
            pipeline.replay([SAMPLES / "posts"], ReadOptions(), quarantine)
    finally:
        store.close()
    return url


@pytest.fixture(scope="session")
def live_server(sample_db: str) -> Iterator[LiveServer]:
    """The API on the sample, as ``outage-radar serve`` builds it."""
    with serve_app(create_app(_clean_settings(database_url=sample_db))) as server:
        yield server


@pytest.fixture(scope="session")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client of the live server."""
    with httpx.Client(base_url=live_server.url, timeout=60.0) as http:
        yield http


@pytest.fixture(scope="session")
def analyzer(live_server: LiveServer) -> Analyzer:
    """The analyzer the live server loaded, for other servers (loading takes seconds)."""
    loaded: Analyzer = live_server.app.state.analyzer
    return loaded


def _clean_settings(**values: str) -> Settings:
    """Settings from these values and defaults only: session fixtures run outside the
    per-test environment cleaner, so the developer's OUTAGE_RADAR_* must not leak in."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("OUTAGE_RADAR_"):
                patch.delenv(name)
        return Settings(**values)
