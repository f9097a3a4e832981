"""Polling a JSON-lines feed over real HTTP on loopback: conditional requests, bad lines."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
import pytest

from detector.ingest.poll import FeedPoller
from detector.ingest.quarantine import QuarantineWriter


class Feed:
    """Serves ``body`` with an ETag; answers 304 to a matching ``If-None-Match``."""

    def __init__(self) -> None:
        self.body = b""
        self.etag = '"v1"'
        self.requests: list[dict[str, str]] = []
        self.status = 200

    @contextmanager
    def running(self) -> Iterator[str]:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                feed.requests.append({k.lower(): v for k, v in self.headers.items()})
                if feed.status != 200:
                    self.send_response(feed.status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if self.headers.get("if-none-match") == feed.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("etag", feed.etag)
                self.send_header("content-length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/feed.jsonl"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def lines(*records: object) -> bytes:
    return b"\n".join(r if isinstance(r, bytes) else orjson.dumps(r) for r in records) + b"\n"


def test_a_feed_is_read_then_only_refetched_when_it_changed(tmp_path):
    feed = Feed()
    feed.body = lines(
        {"id": "1", "text": "tesla app down, 500 server error", "created_at": "2021-11-19T21:02Z"},
        b"{broken",
        {"id": "2", "text": "", "created_at": "2021-11-19T21:03Z"},
        [1, 2],
        {"id": "3", "text": "cannot unlock my car", "created_at": "2021-11-19T21:04:00Z"},
    )
    with feed.running() as url, httpx.Client() as client:
        poller = FeedPoller(client)
        with QuarantineWriter(tmp_path / "q.jsonl") as quarantine:
            first = poller.poll(url, quarantine)
            again = poller.poll(url, quarantine)
            feed.etag = '"v2"'
            changed = poller.poll(url, quarantine)
    assert [p.id for p in first] == ["generic:feed:1", "generic:feed:3"]
    assert again == []  # 304: nothing new
    assert feed.requests[1]["if-none-match"] == '"v1"'
    assert len(changed) == 2
    refused = [orjson.loads(line) for line in (tmp_path / "q.jsonl").read_bytes().splitlines()]
    # each bad line once per time the feed was read (twice), naming the line and why
    assert [(r["line"], r["reason"]) for r in refused[:3]] == [
        (2, "invalid_json"),
        (4, "not_an_object"),
        (3, "missing_text"),
    ]
    assert all(r["file"] == url for r in refused)


def test_a_feed_that_fails_raises_for_the_job_to_count(tmp_path):
    feed = Feed()
    feed.status = 503
    with feed.running() as url, httpx.Client() as client:
        with (
            QuarantineWriter(tmp_path / "q.jsonl") as quarantine,
            pytest.raises(httpx.HTTPStatusError, match="503"),
        ):
            FeedPoller(client).poll(url, quarantine)  # a 503 must not look like an empty feed
