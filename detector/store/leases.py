"""Named leases in the database, so that two server processes on one database never do the
same work (detect the same minutes, deliver to the same endpoint) at the same time.

Taking a lease is one conditional write (insert, or update where expired or already ours),
which both SQLite and PostgreSQL make atomic: of two processes racing, exactly one changes the
row. A holder that dies simply lets its lease expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, or_, update
from sqlalchemy.exc import IntegrityError

from detector.store.schema import leases

__all__ = ["acquire_lease", "release_lease"]


def acquire_lease(
    engine: Engine, name: str, owner: str, now: datetime, duration: timedelta
) -> bool:
    """Take or renew lease ``name`` for ``owner`` until ``now + duration``; ``False`` when
    another owner holds it."""
    until = now + duration
    with engine.begin() as conn:
        taken = conn.execute(
            update(leases)
            .where(leases.c.name == name, or_(leases.c.owner == owner, leases.c.until <= now))
            .values(owner=owner, until=until)
        )
        if taken.rowcount == 1:
            return True
    try:
        with engine.begin() as conn:
            conn.execute(leases.insert().values(name=name, owner=owner, until=until))
    except IntegrityError:  # someone else holds it (or just took it)
        return False
    return True


def release_lease(engine: Engine, name: str, owner: str) -> None:
    """Give lease ``name`` up, if ``owner`` holds it."""
    with engine.begin() as conn:
        conn.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))
