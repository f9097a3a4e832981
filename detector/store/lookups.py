"""Batch lookups behind dedup: which ids are stored, and which fingerprints were seen lately.

Each takes a whole batch in one statement with one parameter (a PostgreSQL array, a JSON array
unpacked by SQLite's ``json_each``): batches hold thousands of posts, and compiling a statement
with thousands of parameters costs more than running it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from detector.store.bulk import epoch_day, json_text
from detector.store.schema import posts

__all__ = ["existing_ids", "one_of", "recent_fingerprints"]

# The fingerprints drive the join, one index probe each. There is deliberately no condition on
# created_at: with statistics lagging a bulk load, PostgreSQL combined it with the created_at
# index and read a million index entries per probe. Whole days are returned; callers compare
# the times themselves.
_PG_RECENT = text(
    "SELECT f.fingerprint, p.created_at "
    "FROM unnest(CAST(:prints AS varchar[])) AS f(fingerprint) "
    "CROSS JOIN LATERAL (SELECT created_at FROM posts "
    "  WHERE created_day = ANY(CAST(:days AS integer[])) AND fingerprint = f.fingerprint) AS p"
)


def existing_ids(conn: Connection, ids: Collection[str]) -> set[str]:
    """Return those of ``ids`` that are already stored."""
    if not ids:
        return set()
    return set(conn.scalars(select(posts.c.id).where(one_of(conn, posts.c.id, sorted(ids)))))


def recent_fingerprints(
    conn: Connection, prints: Collection[str], first: datetime, last: datetime
) -> dict[str, list[datetime]]:
    """Return when each of ``prints`` was stored, on the days from ``first`` to ``last``."""
    seen: dict[str, list[datetime]] = {}
    if not prints:
        return seen
    days = list(range(epoch_day(first), epoch_day(last) + 1))
    if conn.dialect.name == "postgresql":
        params = {"prints": sorted(prints), "days": days}
        rows: Any = conn.execute(_PG_RECENT, params)
    else:
        rows = conn.execute(
            select(posts.c.fingerprint, posts.c.created_at).where(
                posts.c.created_day.in_(days),
                one_of(conn, posts.c.fingerprint, sorted(prints)),
            )
        )
    for fingerprint, created in rows:
        seen.setdefault(fingerprint, []).append(created)
    return seen


def one_of(conn: Connection, column: Any, values: list[str]) -> Any:
    """``column IN values`` bound as one parameter (an array or a JSON list), whatever the size."""
    if conn.dialect.name == "postgresql":
        return column.in_(select(func.unnest(bindparam(None, values, type_=ARRAY(String)))))
    unpacked = func.json_each(bindparam(None, json_text(values), type_=String)).table_valued(
        "value"
    )
    return column.in_(select(unpacked.c.value))
