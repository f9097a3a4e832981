"""Small builders for test data."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from detector.models import Post, SourceKind

_ids = itertools.count(1)
BASE_TIME = datetime(2021, 11, 19, 21, 0, tzinfo=UTC)


def make_post(**overrides: Any) -> Post:
    """A valid tweet-like post; any field can be overridden."""
    n = next(_ids)
    fields: dict[str, Any] = {
        "id": f"twitter:{1000 + n}",
        "source_kind": SourceKind.TWITTER,
        "source_name": "twitter",
        "created_at": BASE_TIME + timedelta(seconds=n),
        "text": f"@TeslaSupport app says 500 server error, can't unlock my car #{n}",
        "lang": "en",
        "author_id": f"u{n}",
        "author_handle": f"owner{n}",
    }
    fields.update(overrides)
    return Post(**fields)


def tweet_v1(
    id_str: str, text: str, *, user: str = "owner", when: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A minimal but real-shaped Twitter v1.1 status."""
    return {
        "created_at": when or "Fri Nov 19 21:03:12 +0000 2021",
        "id": int(id_str),
        "id_str": id_str,
        "text": text,
        "user": {"id": 42, "id_str": "42", "screen_name": user, "location": "Seoul"},
        "lang": "en",
        **extra,
    }


def jsonl(*records: Any) -> bytes:
    """Encode records as JSON lines; ``bytes`` items are written as they are (broken lines)."""
    import orjson

    return b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records)


def write_jsonl(path: Any, *records: Any) -> Any:
    """Write ``records`` as JSON lines to ``path`` and return the path."""
    path.write_bytes(jsonl(*records))
    return path


def read_items(path: Any, **options: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """Read ``path`` with ``ReadOptions(**options)``; return (posts, skipped, quarantined)."""
    from detector.ingest.base import Quarantined, Skipped
    from detector.ingest.files import ReadOptions, read_file

    items = list(read_file(path, ReadOptions(**options)))
    posts = [i for i in items if isinstance(i, Post)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    quarantined = [i for i in items if isinstance(i, Quarantined)]
    assert len(posts) + len(skipped) + len(quarantined) == len(items)
    return posts, skipped, quarantined
