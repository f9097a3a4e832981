"""Forum posts: the project's scraped-forum schema (JSON lines or CSV) and Discourse topic JSON.

Scraped-forum schema, one post per JSON line or CSV row (``docs/formats.md``):

=================  ========  =======================================================
field              required  meaning
=================  ========  =======================================================
forum              yes*      the forum's source name, e.g. ``teslamotorsclub``
                             (*or pass ``--source-name``)
thread_id          no        the thread's id on the forum
thread_title       no        the thread's title
post_number        no        position of the post in its thread (1 = opening post)
post_id            yes*      the post's id on the forum (*or thread_id + post_number)
author             no        the author's handle
author_id          no        the author's id on the forum
author_location    no        the location on the author's profile, as written
timestamp          yes       ISO 8601 (naive = UTC), epoch seconds/ms, or Twitter's format
body               yes       the post's text; quoted earlier posts are stripped
url                no        link to the post
lang               no        language code
reply_to_post_id   no        the post id this one answers
=================  ========  =======================================================
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from detector.errors import RecordError
from detector.ingest.base import RecordParser, Skipped, dict_at, optional_str, remaining
from detector.ingest.text import html_to_text, strip_forum_quotes
from detector.ingest.timestamps import parse_timestamp
from detector.models import Post, SourceKind

__all__ = ["DiscourseParser", "ForumParser"]

_FORUM_CONSUMED = frozenset(
    {
        "forum",
        "post_id",
        "timestamp",
        "body",
        "author",
        "author_id",
        "author_location",
        "thread_title",
        "url",
        "lang",
        "reply_to_post_id",
        "quoted",
    }
)
_DISCOURSE_CONSUMED = frozenset(
    {
        "id",
        "created_at",
        "raw",
        "cooked",
        "username",
        "user_id",
        "topic_title",
        "_reply_to_id",
    }
)
_SMALL_ACTION = 3  # Discourse post_type of "closed the topic", "pinned globally"...


def _body_text(body: str, quoted: str | None = None) -> str:
    if quoted:
        body = body.replace(quoted, "\n")
    if "<" in body and ">" in body:
        body = html_to_text(body)
    return strip_forum_quotes(body)


class ForumParser(RecordParser):
    """Parses the scraped-forum schema above."""

    format = "forum"
    kind = SourceKind.FORUM

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """Forum rows name their forum and carry a body."""
        return "body" in record and ("forum" in record or "thread_title" in record)

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the post with quoted text removed; a post that is only a quote is skipped."""
        forum = self.source_name or optional_str(record.get("forum"))
        if forum is None:
            raise RecordError("missing_source", "no forum name; pass --source-name", field="forum")
        native = optional_str(record.get("post_id"))
        if native is None:
            thread, number = optional_str(record.get("thread_id")), record.get("post_number")
            if thread is None or optional_str(number) is None:
                raise RecordError(
                    "missing_id", "no post_id (or thread_id and post_number)", field="post_id"
                )
            native = f"{thread}-{number}"
        if optional_str(record.get("timestamp")) is None:
            raise RecordError("missing_timestamp", "post has no timestamp", field="timestamp")
        body = record.get("body")
        if not isinstance(body, str) or not body.strip():
            raise RecordError("missing_text", "post has no body", field="body")
        text = _body_text(body, optional_str(record.get("quoted")))
        if not text:
            return Skipped("quote_only")
        parent = optional_str(record.get("reply_to_post_id"))
        return [
            Post(
                id=f"forum:{forum}:{native}",
                source_kind=SourceKind.FORUM,
                source_name=forum,
                created_at=parse_timestamp(
                    record["timestamp"], naive_tz=self.naive_tz, field="timestamp"
                ),
                text=text,
                lang=optional_str(record.get("lang")),
                author_id=optional_str(record.get("author_id")),
                author_handle=optional_str(record.get("author")),
                author_location=optional_str(record.get("author_location")),
                url=optional_str(record.get("url")),
                title=optional_str(record.get("thread_title")),
                reply_to=f"forum:{forum}:{parent}" if parent else None,
                extra=remaining(record, _FORUM_CONSUMED),
            )
        ]


class DiscourseParser(RecordParser):
    """Parses Discourse topic JSON (``/t/<id>.json``) and ``/posts.json`` listings."""

    format = "discourse"
    kind = SourceKind.FORUM

    @classmethod
    def sniff(cls, record: Mapping[str, Any]) -> bool:
        """Topics have a ``post_stream``; listings ``latest_posts``; posts ``cooked`` HTML."""
        return (
            "post_stream" in record
            or "latest_posts" in record
            or ("cooked" in record and "topic_id" in record)
        )

    def expand(self, document: Any) -> Iterator[Any]:
        """Yield the posts of a topic or listing, each with its topic's title."""
        if isinstance(document, list):
            for item in document:
                yield from self.expand(item)
            return
        if not isinstance(document, dict):
            yield document
            return
        if "post_stream" in document:
            title = document.get("title")
            posts = dict_at(document, "post_stream").get("posts")
            posts = posts if isinstance(posts, list) else []
            # Replies name their parent by its number in the topic; the post id is what we store.
            ids = {
                p.get("post_number"): p.get("id")
                for p in posts
                if isinstance(p, dict) and isinstance(p.get("post_number"), int)
            }
            for post in posts:
                if isinstance(post, dict):
                    number = post.get("reply_to_post_number")
                    parent = ids.get(number) if isinstance(number, int) else None
                    post = {**post, "topic_title": title, "_reply_to_id": parent}
                yield post
        elif "latest_posts" in document:
            latest = document["latest_posts"]
            yield from latest if isinstance(latest, list) else []
        else:
            yield document

    def parse(self, record: Mapping[str, Any]) -> list[Post] | Skipped:
        """Return the post; its Markdown source is used when present, else the cooked HTML."""
        native = optional_str(record.get("id"))
        if native is None:
            raise RecordError("missing_id", "post has no id", field="id")
        if "created_at" not in record:
            raise RecordError("missing_timestamp", "post has no created_at", field="created_at")
        if record.get("user_deleted") or record.get("deleted_at"):
            return Skipped("deleted")
        if record.get("post_type") == _SMALL_ACTION or record.get("action_code"):
            return Skipped("small_action")  # "closed the topic", "pinned"...
        raw = record.get("raw")
        if isinstance(raw, str) and raw.strip():
            text = strip_forum_quotes(raw)
        elif isinstance(record.get("cooked"), str):
            text = html_to_text(record["cooked"])
        else:
            raise RecordError("missing_text", "post has no raw or cooked text", field="cooked")
        if not text:
            return Skipped("quote_only")
        forum = self.source_name or "discourse"
        slug, topic = optional_str(record.get("topic_slug")), optional_str(record.get("topic_id"))
        number = optional_str(record.get("post_number"))
        parent = optional_str(record.get("_reply_to_id"))
        return [
            Post(
                id=f"forum:{forum}:{native}",
                source_kind=SourceKind.FORUM,
                source_name=forum,
                created_at=parse_timestamp(record["created_at"], naive_tz=self.naive_tz),
                text=text,
                author_id=optional_str(record.get("user_id")),
                author_handle=optional_str(record.get("username")),
                url=f"/t/{slug}/{topic}/{number}" if slug and topic and number else None,
                title=optional_str(record.get("topic_title"))
                or optional_str(record.get("topic_title_headline")),
                reply_to=f"forum:{forum}:{parent}" if parent else None,
                extra=remaining(record, _DISCOURSE_CONSUMED),
            )
        ]
