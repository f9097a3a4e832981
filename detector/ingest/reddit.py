"""Reddit dumps: Pushshift / Arctic Shift NDJSON submissions and comments."""

from __future__ import annotations

from collections.abc import Mapping
from html import unescape
from typing import Any

from detector.errors import RecordError
from detector.ingest.base import RecordParser, Skipped, optional_str, remaining, require_text
from detector.ingest.text import strip_forum_quotes
from detector.ingest.timestamps import parse_timestamp
from detector.models import Post, SourceKind

__all__ = ["RedditParser"]

_GONE = frozenset({"[deleted]", "[removed]", ""})
_GONE_REASONS = {"[deleted]": "deleted", "[removed]": "removed", "": "empty"}
_CONSUMED = frozenset(
    {
        "id",
        "name",
        "created_utc",
        "title",
        "selftext",
        "body",
        "subreddit",
        "author",
        "author_fullname",
        "permalink",
        "parent_id",
        "crosspost_parent",
        "link_title",
    }
)


class RedditParser(RecordParser):
    """Submissions become ``reddit:t3_<id>`` posts (title + body), comments ``reddit:t1_<id>``."""

    format = "reddit"
    kind = SourceKind.REDDIT

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """Dump records name their subreddit and carry ``created_utc``."""
        return "subreddit" in record and "created_utc" in record

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the submission or comment; removed and deleted ones are skipped."""
        is_comment = "body" in record and "title" not in record
        native = optional_str(record.get("id"))
        fullname = optional_str(record.get("name"))
        if fullname is None:
            if native is None:
                raise RecordError("missing_id", "record has no id or name", field="id")
            fullname = f"{'t1' if is_comment else 't3'}_{native}"
        if "created_utc" not in record or record["created_utc"] in (None, ""):
            raise RecordError("missing_timestamp", "record has no created_utc", field="created_utc")
        created = parse_timestamp(
            record["created_utc"], naive_tz=self.naive_tz, field="created_utc"
        )
        title = _clean(record.get("title"))
        if is_comment:
            body = _clean(record.get("body"))
            if body is None:
                gone = optional_str(record.get("body")) or ""
                return Skipped(_GONE_REASONS.get(gone, "quote_only"))
            text = require_text(body, field="body")
            title = _clean(record.get("link_title"))
        else:
            parts = [p for p in (title, _clean(record.get("selftext"))) if p]
            text = require_text("\n\n".join(parts), field="title")
        author = optional_str(record.get("author"))
        subreddit = optional_str(record.get("subreddit"))
        permalink = optional_str(record.get("permalink"))
        parent = optional_str(record.get("parent_id"))
        crosspost = optional_str(record.get("crosspost_parent"))
        return [
            Post(
                id=f"reddit:{fullname}",
                source_kind=SourceKind.REDDIT,
                source_name=self.source_name or (f"r/{subreddit}" if subreddit else "reddit"),
                created_at=created,
                text=text,
                author_id=optional_str(record.get("author_fullname")),
                author_handle=None if author in _GONE else author,
                url=f"https://www.reddit.com{permalink}"
                if permalink and permalink.startswith("/")
                else permalink,
                title=title,
                reply_to=f"reddit:{parent}" if is_comment and parent else None,
                repost_of=f"reddit:{crosspost}" if crosspost else None,
                extra=remaining(record, _CONSUMED),
            )
        ]


def _clean(value: object) -> str | None:
    # Dumps keep Reddit's HTML escaping (&amp; &gt;) and Markdown quotes of other comments.
    text = optional_str(value)
    if text is None or text in _GONE:
        return None
    return strip_forum_quotes(unescape(text)) or None
