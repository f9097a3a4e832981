"""RSS and Atom entries (as feedparser reads them) as forum posts.

:func:`entry_record` turns one of feedparser's entries into plain JSON-able fields, and
:class:`FeedEntryParser` turns those into a :class:`~detector.models.Post`, so that a malformed
entry is quarantined like any other record while the rest of the feed goes on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from detector.errors import RecordError
from detector.ingest.base import RecordParser, Skipped, optional_str, remaining
from detector.ingest.text import html_to_text
from detector.ingest.timestamps import parse_timestamp
from detector.models import Post, SourceKind, post_id

__all__ = ["FeedEntryParser", "entry_key", "entry_record"]

# Forum software ends every entry with the same line (Discourse: "Read full topic", phpBB:
# "Statistics: Posted by <name> — <date>"); the author did not write it.
_TRAILER_RE = re.compile(r"\n(?:Read full topic|Statistics: Posted by [^\n]*)\Z")
_ENTRY_CONSUMED = frozenset(
    {"id", "link", "title", "author", "published", "updated", "summary", "content", "lang"}
)


class FeedEntryParser(RecordParser):
    """Parses one RSS/Atom entry, as plain fields made by :func:`entry_record`, into a post.

    Parameters
    ----------
    source_name
        The forum's name, which qualifies the post ids (a feed does not name itself reliably).

    Examples
    --------
    >>> parser = FeedEntryParser(source_name="tmc")
    >>> [post] = parser.parse({"id": "t-1", "title": "App down?", "summary": "<p>500s</p>",
    ...                        "published": "Fri, 19 Nov 2021 21:03:12 +0000"})
    >>> post.id, post.text, post.created_at.isoformat()
    ('forum:tmc:t-1', '500s', '2021-11-19T21:03:12+00:00')
    """

    format = "feed_entry"
    kind = SourceKind.FORUM

    def __init__(self, *, source_name: str) -> None:
        super().__init__(source_name=source_name)
        self.forum = source_name

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """Entries have an id or link and a summary or content."""
        has_body = "summary" in record or "content" in record
        return has_body and ("id" in record or "link" in record)

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the entry's post: its content (else summary) as text, else its title.

        Raises
        ------
        RecordError
            ``missing_id`` without id and link, ``missing_timestamp`` without a published or
            updated date, ``missing_text`` without content, summary or title.
        """
        native = entry_key(record)
        if native is None:
            raise RecordError("missing_id", "entry has no id or link", field="id")
        when = "published" if optional_str(record.get("published")) else "updated"
        if optional_str(record.get(when)) is None:
            raise RecordError(
                "missing_timestamp", "entry has no published or updated date", field="published"
            )
        title = optional_str(record.get("title"))
        body = optional_str(record.get("content")) or optional_str(record.get("summary"))
        if body is not None:
            text = _TRAILER_RE.sub("", html_to_text(body))
            if not text:
                return Skipped("quote_only")  # a reply that only quotes reports nothing new
        elif title is not None:
            text = title  # a titles-only feed: the title is all the author wrote
        else:
            raise RecordError(
                "missing_text", "entry has no content, summary or title", field="summary"
            )
        return [
            Post(
                id=post_id(SourceKind.FORUM, self.forum, native),
                source_kind=SourceKind.FORUM,
                source_name=self.forum,
                created_at=parse_timestamp(record[when], naive_tz=self.naive_tz, field=when),
                text=text,
                lang=optional_str(record.get("lang")),
                author_handle=optional_str(record.get("author")),
                url=optional_str(record.get("link")),
                title=title,
                extra=remaining(record, _ENTRY_CONSUMED),
            )
        ]


def entry_key(record: Mapping[str, Any]) -> str | None:
    """Return the entry's own id (Atom ``id``, RSS ``guid``), else its link."""
    return optional_str(record.get("id")) or optional_str(record.get("link"))


def entry_record(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields of a feedparser entry that a post needs, as plain JSON values.

    Dates are feedparser's UTC reading of the feed's own spelling, as ISO 8601; a date it could
    not read stays as written, to be refused by name. Plain values also make a quarantined
    entry readable.
    """
    # A plain copy: FeedParserDict maps a missing "updated" to "published" with a warning.
    plain = dict(entry)
    content = plain.get("content")
    parts = [
        part
        for part in (content if isinstance(content, list) else ())
        if isinstance(part, Mapping) and optional_str(part.get("value"))
    ]
    body = parts[0]["value"] if parts else None  # Atom content, RSS content:encoded
    detail = parts[0] if parts else plain.get("summary_detail")
    title = plain.get("title")
    title_detail = plain.get("title_detail")
    if isinstance(title, str) and isinstance(title_detail, Mapping):
        if "html" in str(title_detail.get("type")):  # Atom's type="html" titles: "A &bull; B"
            title = html_to_text(title)
    tags = [t.get("term") for t in plain.get("tags") or () if isinstance(t, Mapping)]
    record = {
        "id": plain.get("id"),
        "link": plain.get("link"),
        "title": title,
        "author": plain.get("author"),
        "published": _feed_date(plain, "published"),
        "updated": _feed_date(plain, "updated"),
        "summary": plain.get("summary"),
        "content": body,
        "lang": detail.get("language") if isinstance(detail, Mapping) else None,
        "tags": [t for t in tags if isinstance(t, str) and t] or None,
    }
    return {key: value for key, value in record.items() if value is not None}


def _feed_date(entry: Mapping[str, Any], name: str) -> str | None:
    parsed = entry.get(f"{name}_parsed")
    if isinstance(parsed, time.struct_time):
        try:
            return datetime(*parsed[:6], tzinfo=UTC).isoformat()
        except ValueError:
            pass  # out of range: let the written date be refused by name
    return optional_str(entry.get(name))
