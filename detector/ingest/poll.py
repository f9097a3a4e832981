"""Polling a URL that serves posts as JSON lines (a collector's feed, an export endpoint).

Each poll is a conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the previous
answer), so an unchanged feed costs a 304 and nothing else. Each line is a pushed record (see
:mod:`detector.ingest.push`): posts already stored are not stored again, so a feed may repeat
its recent posts on every poll. A malformed line is quarantined and the rest goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import orjson

from detector.ingest.base import Quarantined
from detector.ingest.push import parse_pushed
from detector.ingest.quarantine import QuarantineWriter
from detector.models import Post

__all__ = ["FeedPoller"]


@dataclass
class FeedPoller:
    """Polls JSON-lines feeds, remembering each one's validators between polls."""

    client: httpx.Client
    validators: dict[str, dict[str, str]] = field(default_factory=dict)

    def poll(self, url: str, quarantine: QuarantineWriter) -> list[Post]:
        """The posts ``url`` serves now (none when it has not changed since the last poll).

        Raises
        ------
        httpx.HTTPError
            The feed cannot be fetched (the caller's job logs and counts it, and polls again
            next time).
        """
        response = self.client.get(url, headers=self.validators.get(url, {}))
        if response.status_code == 304:
            return []
        response.raise_for_status()
        remembered = {}
        if "etag" in response.headers:
            remembered["If-None-Match"] = response.headers["etag"]
        if "last-modified" in response.headers:
            remembered["If-Modified-Since"] = response.headers["last-modified"]
        self.validators[url] = remembered
        records: list[dict[str, object]] = []
        lines: list[int] = []
        for number, line in enumerate(response.content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                quarantine.write(_refused(url, number, "invalid_json", str(exc), line))
                continue
            if not isinstance(record, dict):
                quarantine.write(
                    _refused(url, number, "not_an_object", "a line must be a JSON object", line)
                )
                continue
            records.append(record)
            lines.append(number)
        posts, problems = parse_pushed(records, default_source="feed")
        for problem in problems:
            raw = orjson.dumps(records[problem.index])
            quarantine.write(
                _refused(
                    url, lines[problem.index], problem.reason, problem.message, raw, problem.field
                )
            )
        return posts


def _refused(
    url: str, line: int, reason: str, detail: str, raw: bytes, field: str | None = None
) -> Quarantined:
    return Quarantined(url, line, reason, detail, raw.decode("utf-8", "replace"), field)
