"""Named leases in the database, so that two server processes on one database never do the
same work (detect the same minutes, deliver to the same endpoint) at the same time.

Taking a lease is one conditional write (insert, or update where expired or already ours),
which both SQLite and PostgreSQL make atomic: of two processes racing, exactly one changes the
row. A holder that dies simply lets its lease expire; a successor on the same host need not
wait for that, since it can tell the holder is gone (:func:`release_dead_leases`).

Owners are named ``host:pid`` (:func:`owner_name`), which is what makes that possible.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from detector.store.schema import leases

__all__ = [
    "acquire_lease",
    "lease_holder",
    "owner_name",
    "parse_owner",
    "pid_alive",
    "process_name",
    "release_dead_leases",
    "release_lease",
]

log = logging.getLogger(__name__)


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


def lease_holder(engine: Engine, name: str, now: datetime) -> str | None:
    """Who holds lease ``name`` at ``now``; None when nobody does (never taken, given up or
    run out)."""
    with engine.connect() as conn:
        owner = conn.scalar(
            select(leases.c.owner).where(leases.c.name == name, leases.c.until > now)
        )
    return str(owner) if owner is not None else None


def release_lease(engine: Engine, name: str, owner: str) -> None:
    """Give lease ``name`` up, if ``owner`` holds it."""
    with engine.begin() as conn:
        conn.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))


def owner_name(host: str, pid: int) -> str:
    """The lease owner name of process ``pid`` on ``host``.

    Examples
    --------
    >>> owner_name("radar-1.example", 4242)
    'radar-1.example:4242'
    """
    return f"{host}:{pid}"


def process_name() -> str:
    """This process's name as a lease owner: ``host:pid``, which :func:`release_dead_leases`
    reads back after a crash."""
    return owner_name(socket.gethostname(), os.getpid())


def parse_owner(owner: str) -> tuple[str, int] | None:
    """Split an owner name into host and pid; ``None`` when it is not ``host:pid``.

    The pid is what follows the *last* ``:``, so a host that holds colons itself (an IPv6
    address, say) still parses.

    Examples
    --------
    >>> parse_owner("radar-1.example:4242")
    ('radar-1.example', 4242)
    >>> parse_owner("fe80::1:77")
    ('fe80::1', 77)
    >>> parse_owner("other-server") is None, parse_owner("host:0") is None
    (True, True)
    """
    host, colon, digits = owner.rpartition(":")
    # isascii: str.isdigit also accepts digits such as "²" that int() refuses.
    if not colon or not host or not (digits.isascii() and digits.isdigit()):
        return None
    pid = int(digits)
    # pid 0 and below are never a process: os.kill would signal a process group, or all.
    return (host, pid) if pid > 0 else None


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (signal 0 probes, sends nothing).

    A process we are not allowed to signal exists, so it counts as alive. ``pid`` must be
    positive (see :func:`parse_owner`).

    Examples
    --------
    >>> pid_alive(os.getpid())
    True
    """
    if pid <= 0:
        raise ValueError(f"pid must be positive, got: {pid}")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_leases(
    engine: Engine, host: str, *, alive: Callable[[int], bool] = pid_alive
) -> list[str]:
    """Delete the leases held by processes of ``host`` that no longer exist (a server that
    was killed); return their names, sorted.

    Call it once at startup, before taking leases: a server restarted after a crash then
    resumes at once instead of waiting for the dead process's leases to expire. Leases of
    other hosts (whose pids mean nothing here), of this process, of owners not named
    ``host:pid`` and of live processes are left alone, and a lease is deleted only while the
    dead owner still holds it.

    ``host`` must name this machine and its process table: two hosts that share a name but
    not their pids (containers with the host's name, each in its own pid namespace) must be
    given distinct names. On Windows nothing is released, since there ``os.kill`` with
    signal 0 does not probe but interrupts the process.

    Parameters
    ----------
    engine
        The store's engine.
    host
        This machine's name, as in the owners it writes (``socket.gethostname()``).
    alive
        Tells whether a pid of this machine is a live process.
    """
    if sys.platform == "win32":
        return []
    me = os.getpid()
    with engine.connect() as conn:
        held = conn.execute(select(leases.c.name, leases.c.owner)).all()
    released = []
    for name, owner in held:
        parsed = parse_owner(owner)
        if parsed is None or parsed[0] != host or parsed[1] == me or alive(parsed[1]):
            continue
        with engine.begin() as conn:
            # Conditional on the owner: a lease someone took over meanwhile stays theirs.
            gone = conn.execute(
                delete(leases).where(leases.c.name == name, leases.c.owner == owner)
            )
        if gone.rowcount == 1:
            log.info("released lease %s of %s: that process is gone", name, owner)
            released.append(name)
    return sorted(released)
