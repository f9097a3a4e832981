"""Leases, and releasing those of a process that died (a killed server's successor on the same
host resumes at once), on SQLite and PostgreSQL, with a real dead pid."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from detector.store.leases import (
    acquire_lease,
    owner_name,
    parse_owner,
    pid_alive,
    release_dead_leases,
    release_lease,
)
from detector.store.schema import leases

HOST = socket.gethostname()
HOLD = timedelta(hours=1)  # far longer than any test: only a release frees these


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped: nothing answers to it."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    assert not pid_alive(child.pid)
    return child.pid


def owners(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(leases.c.name, leases.c.owner)).all())


def test_a_lease_is_held_until_released_or_expired(store, clock):
    engine = store.engine
    assert acquire_lease(engine, "detect", "a", clock.now(), HOLD)
    assert acquire_lease(engine, "detect", "a", clock.now(), HOLD)  # renewed by its holder
    assert not acquire_lease(engine, "detect", "b", clock.now(), HOLD)
    release_lease(engine, "detect", "b")  # not b's to give up
    assert owners(engine) == {"detect": "a"}
    assert acquire_lease(engine, "detect", "b", clock.now() + HOLD, HOLD)  # expired
    release_lease(engine, "detect", "b")
    assert owners(engine) == {}


def test_the_leases_of_a_dead_process_on_this_host_are_released(store, clock):
    engine = store.engine
    dead = owner_name(HOST, dead_pid())
    elsewhere = owner_name("another-host", dead_pid())  # its pids mean nothing here
    kept = {
        "mine": owner_name(HOST, os.getpid()),
        "parent": owner_name(HOST, os.getppid()),  # alive, and not us
        "elsewhere": elsewhere,
        "named": "other-server",  # not host:pid
    }
    for name in ("detect", "webhook:abc"):
        assert acquire_lease(engine, name, dead, clock.now(), HOLD)
    for name, owner in kept.items():
        assert acquire_lease(engine, name, owner, clock.now(), HOLD)
    successor = owner_name(HOST, os.getpid())
    assert not acquire_lease(engine, "detect", successor, clock.now(), HOLD)

    assert release_dead_leases(engine, HOST) == ["detect", "webhook:abc"]

    assert owners(engine) == kept
    assert acquire_lease(engine, "detect", successor, clock.now(), HOLD)  # at once
    assert release_dead_leases(engine, HOST) == []  # nothing left to release


def test_hosts_with_colons_are_told_apart_by_the_last_one(store, clock):
    engine = store.engine
    pid = dead_pid()
    for host in ("fe80::1", "radar", "radar:blue"):
        assert acquire_lease(engine, f"lease-of-{host}", owner_name(host, pid), clock.now(), HOLD)
    assert release_dead_leases(engine, "radar") == ["lease-of-radar"]
    assert release_dead_leases(engine, "fe80::1") == ["lease-of-fe80::1"]
    assert owners(engine) == {"lease-of-radar:blue": f"radar:blue:{pid}"}


def test_a_lease_taken_over_meanwhile_is_not_released(store, clock):
    """Between reading the leases and deleting one, another process may take it over (it had
    expired): the delete is conditional on the dead owner, so the new holder keeps it."""
    engine = store.engine
    dead = owner_name(HOST, dead_pid())
    assert acquire_lease(engine, "detect", dead, clock.now(), timedelta(minutes=2))

    def taken_over_while_checking(pid: int) -> bool:
        later = clock.now() + timedelta(minutes=5)
        assert acquire_lease(engine, "detect", "other-server", later, HOLD)
        return pid_alive(pid)

    assert release_dead_leases(engine, HOST, alive=taken_over_while_checking) == []
    assert owners(engine) == {"detect": "other-server"}


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ("radar-1.example:4242", ("radar-1.example", 4242)),
        ("fe80::1:77", ("fe80::1", 77)),
        ("radar:blue:9", ("radar:blue", 9)),
        ("other-server", None),
        (":4242", None),
        ("host:", None),
        ("host:abc", None),
        ("host:-5", None),
        ("host:0", None),
        ("host:\N{SUPERSCRIPT TWO}", None),
        ("host: 12", None),
    ],
)
def test_parse_owner(owner, expected):
    assert parse_owner(owner) == expected


def test_owner_names_round_trip():
    assert parse_owner(owner_name("fe80::1", 31337)) == ("fe80::1", 31337)


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())
    with pytest.raises(ValueError, match="got: 0"):
        pid_alive(0)


def test_a_process_we_may_not_signal_counts_as_alive(monkeypatch):
    """Another user's process answers EPERM to signal 0 (root is never refused, so the error
    is made here): it exists, and its leases must stay."""

    def refused(*_args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", refused)
    assert pid_alive(1)
