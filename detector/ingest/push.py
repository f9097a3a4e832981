"""Posts pushed to the API (``POST /v1/posts``): records with the post fields' own names.

A pushed record is read like a generic record whose columns are named after the fields
(``id``, ``text``, ``created_at``, ``author_id``, ``author_handle``, ``author_location``, ``lang``,
``url``, ``title``, ``latitude``, ``longitude``, ``reply_to``, ``quote_of``, ``repost_of``,
``source_name``); anything else is kept in ``extra``. The id makes a push idempotent: the same
record pushed twice is stored once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from detector.errors import RecordError
from detector.ingest.base import Skipped
from detector.ingest.generic import MAPPABLE_FIELDS, ColumnMapping, GenericParser
from detector.models import Post

__all__ = ["RecordProblem", "parse_pushed"]

_MAPPING = ColumnMapping(columns={name: name for name in MAPPABLE_FIELDS})


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """Why record ``index`` of a push was refused, and the field at fault if known."""

    index: int
    field: str | None
    reason: str
    message: str


def parse_pushed(
    records: Sequence[Mapping[str, Any]], *, default_source: str = "api"
) -> tuple[list[Post], list[RecordProblem]]:
    """The posts of a push, and the problems of the records that are not posts.

    Examples
    --------
    >>> posts, problems = parse_pushed([
    ...     {"id": "1", "text": "tesla app down", "created_at": "2021-11-19T21:00:00Z"},
    ...     {"id": "2", "text": "", "created_at": "2021-11-19T21:00:00Z"},
    ... ])
    >>> [p.id for p in posts], [(q.index, q.field) for q in problems]
    (['generic:api:1'], [(1, 'text')])
    """
    posts: list[Post] = []
    problems: list[RecordProblem] = []
    for index, record in enumerate(records):
        parser = GenericParser(
            mapping=_MAPPING,
            source_name=None if record.get("source_name") else default_source,
        )
        try:
            parsed = parser.parse(record)
        except RecordError as exc:
            problems.append(RecordProblem(index, exc.field, exc.reason, str(exc)))
            continue
        if isinstance(parsed, Skipped):
            problems.append(RecordProblem(index, None, parsed.reason, parsed.reason))
            continue
        posts.extend(parsed)
    return posts, problems
