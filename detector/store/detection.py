"""Reads and writes of the detection tables: annotations, complaints, counts, detector state,
incidents and their events. Each function runs inside the caller's connection or transaction,
so the pipeline decides what is committed together (an incident change and its event are)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from detector.store.lookups import one_of
from detector.store.schema import (
    bucket_scores,
    complaints,
    detector_state,
    incident_events,
    incidents,
    post_annotations,
    posts,
)

__all__ = [
    "add_annotations",
    "add_bucket_scores",
    "add_complaints",
    "add_event",
    "complaint_evidence",
    "first_post_time",
    "insert_ignore",
    "last_counted",
    "load_state",
    "minute_counts",
    "save_state",
    "upsert_incident",
]


def insert_ignore(conn: Connection, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def add_annotations(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store annotation rows (``post_id, created_at, probability, is_outage, country, data``)."""
    if rows:
        conn.execute(insert_ignore(conn, post_annotations), list(rows))


def add_complaints(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store complaint rows (one per outage post and service)."""
    if rows:
        conn.execute(insert_ignore(conn, complaints), list(rows))


def last_counted(
    conn: Connection, pairs: Iterable[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], datetime]:
    """When each ``(service, author_key)`` last had a counted complaint at or after ``since``."""
    wanted = sorted(set(pairs))
    found: dict[tuple[str, str], datetime] = {}
    for first in range(0, len(wanted), 500):
        chunk = wanted[first : first + 500]
        rows = conn.execute(
            select(complaints.c.service, complaints.c.author_key, func.max(complaints.c.created_at))
            .where(
                complaints.c.counted.is_(True),
                complaints.c.created_at >= since,
                tuple_(complaints.c.service, complaints.c.author_key).in_(chunk),
            )
            .group_by(complaints.c.service, complaints.c.author_key)
        )
        for service, author, last in rows:
            found[(service, author)] = _aware(last)
    return found


def minute_counts(conn: Connection, first: int, last: int) -> dict[int, dict[str, int]]:
    """Counted complaints per minute and service, for minutes ``first`` to ``last`` inclusive."""
    rows = conn.execute(
        select(complaints.c.minute, complaints.c.service, func.count())
        .where(
            complaints.c.counted.is_(True),
            complaints.c.minute >= first,
            complaints.c.minute <= last,
        )
        .group_by(complaints.c.minute, complaints.c.service)
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for minute, service, count in rows:
        out[int(minute)][service] = int(count)
    return dict(out)


def first_post_time(conn: Connection) -> datetime | None:
    """When the earliest stored post was written (where history, and so exposure, begins)."""
    value = conn.scalar(select(func.min(posts.c.created_at)))
    return None if value is None else _aware(value)


def last_post_time(conn: Connection) -> datetime | None:
    """When the latest stored post was written."""
    value = conn.scalar(select(func.max(posts.c.created_at)))
    return None if value is None else _aware(value)


def load_state(conn: Connection, name: str) -> tuple[bytes, Any] | None:
    """The saved engine bytes and tracker state of detector ``name``, if any."""
    row = conn.execute(
        select(detector_state.c.engine, detector_state.c.tracker).where(
            detector_state.c.name == name
        )
    ).first()
    return None if row is None else (bytes(row[0]), row[1])


def save_state(conn: Connection, name: str, engine: bytes, tracker: Any, now: datetime) -> None:
    """Replace the saved state of detector ``name``."""
    values = {"engine": engine, "tracker": tracker, "updated_at": now}
    done = conn.execute(
        update(detector_state).where(detector_state.c.name == name).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(insert(detector_state).values(name=name, **values))


def upsert_incident(conn: Connection, row: Mapping[str, Any]) -> None:
    """Insert or replace one incident row."""
    done = conn.execute(update(incidents).where(incidents.c.id == row["id"]).values(**row))
    if done.rowcount == 0:
        conn.execute(insert(incidents).values(**row))


def add_event(conn: Connection, row: Mapping[str, Any]) -> bool:
    """Append an incident event to the outbox; False when the same event is already there
    (a replay after a crash regenerates it with the same id)."""
    seq = conn.scalar(select(func.coalesce(func.max(incident_events.c.seq), 0))) or 0
    result = conn.execute(insert_ignore(conn, incident_events), [{**row, "seq": seq + 1}])
    return bool(result.rowcount)


_SCORE_VALUES = ("observed", "expected", "score", "state")


def add_bucket_scores(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store observed/expected/score/state rows (replacing what a replay wrote before)."""
    if not rows:
        return
    # One upsert rather than a delete and an insert: the minutes are nearly always new, and
    # the delete's lookups cost more than the insert (a tenth of an archive's detection).
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(bucket_scores)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[bucket_scores.c.service, bucket_scores.c.minute],
            set_={name: statement.excluded[name] for name in _SCORE_VALUES},
        ),
        list(rows),
    )


def complaint_evidence(
    conn: Connection, service: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The counted complaints about ``service`` from ``start`` to ``end``, with what the
    analyzer found in each post and the post's text and source."""
    rows = conn.execute(
        select(
            complaints.c.post_id,
            complaints.c.created_at,
            complaints.c.country,
            complaints.c.source_kind,
            complaints.c.source_name,
            post_annotations.c.probability,
            post_annotations.c.data,
            posts.c.text,
            posts.c.url,
        )
        .select_from(
            complaints.join(
                post_annotations, post_annotations.c.post_id == complaints.c.post_id
            ).join(posts, posts.c.id == complaints.c.post_id)
        )
        .where(
            and_(
                complaints.c.service == service,
                complaints.c.counted.is_(True),
                complaints.c.created_at >= start,
                complaints.c.created_at < end,
            )
        )
        .order_by(complaints.c.created_at, complaints.c.post_id)
    ).mappings()
    return [dict(row) for row in rows]


def get_annotations(conn: Connection, post_ids: Sequence[str]) -> dict[str, Any]:
    """Stored annotation data by post id."""
    rows = conn.execute(
        select(post_annotations.c.post_id, post_annotations.c.data).where(
            one_of(conn, post_annotations.c.post_id, sorted(post_ids))
        )
    )
    return {str(post_id): data for post_id, data in rows}


def _aware(value: Any) -> datetime:
    from datetime import UTC

    moment: datetime = value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
