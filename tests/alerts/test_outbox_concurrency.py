"""The outbox delivers to several endpoints at once: a receiver that never answers costs its own
timeout, not everyone's; each endpoint still gets its events in order, the report counts
everything once, and one endpoint's failure leaves the others alone. Real receivers on
loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError

from detector.alerts.outbox import Dispatcher, DispatchReport
from detector.alerts.signing import generate_secret
from detector.alerts.transport import GuardedTransport
from detector.config import Settings
from detector.store.leases import acquire_lease
from detector.store.webhooks import Delivery, list_deliveries
from tests.alerts.test_outbox import MINUTE, T0, emit, enabled, hook, incident
from tests.processes import reserved_port, wait_for
from tests.receiver import Receiver
from tests.store.test_leases import owners

# The client's timeout here: what one attempt at the black hole costs (10 s in production).
HANG = 2.0


def timed_run(outbox: Dispatcher, webhooks, receiver: Receiver, expected: int):
    """Run ``outbox.run_once(webhooks)`` on a thread; return the seconds until ``receiver``
    had ``expected`` requests, the seconds the whole run took, and its report."""
    reports: list[DispatchReport] = []
    began = time.monotonic()
    runner = threading.Thread(target=lambda: reports.append(outbox.run_once(webhooks)))
    runner.start()
    try:
        wait_for(
            f"{expected} deliveries",
            lambda: len(receiver.received) >= expected,
            timeout=4 * HANG,
            every=0.01,
        )
        reached = time.monotonic() - began
    finally:
        runner.join(timeout=4 * HANG)
    took = time.monotonic() - began
    assert not runner.is_alive(), "run_once did not finish"
    (report,) = reports
    return reached, took, report


def seq(delivery: Delivery) -> int:
    return delivery.seq


@pytest.fixture
def client():
    with httpx.Client(transport=GuardedTransport(allow_private=True), timeout=HANG) as client:
        yield client


def test_an_endpoint_that_never_answers_does_not_hold_the_others_back(store, clock, client):
    secret = generate_secret()
    # The black hole is first in line, as the oldest endpoint is in ``list_webhooks``.
    with reserved_port(listen=True) as port, Receiver(secret=secret).running() as receiver:
        stuck = hook(store, f"http://127.0.0.1:{port}/hook", generate_secret(), clock)
        healthy = hook(store, receiver.url, secret, clock)
        events = [f"svc{n}" for n in range(3)]
        for n, service in enumerate(events):
            emit(store, "incident.opened", incident(service), T0 + n * MINUTE)
        outbox = Dispatcher(store.engine, owner="proc-a", clock=clock, client=client)
        reached, took, report = timed_run(outbox, [stuck, healthy], receiver, len(events))
    # All three, in order, while the black hole's first attempt was still waiting.
    assert reached < HANG / 2
    assert took >= HANG  # the black hole really did cost a full timeout
    assert [got.body["data"]["service"] for got in receiver.received] == events
    assert all(got.verified for got in receiver.received)
    assert (report.queued, report.delivered, report.retrying, report.dead) == (6, 3, 1, 0)
    assert report.errors == []
    waiting = sorted(list_deliveries(store.engine, stuck.id, status="pending"), key=seq)
    assert [d.attempts for d in waiting] == [1, 0, 0]  # its order is kept: the rest wait
    assert "Timeout" in (waiting[0].last_error or "")


def test_one_endpoint_at_a_time_makes_the_others_wait(sqlite_store, clock, client):
    """The same setting with ``concurrency=1`` (the old behaviour): the healthy endpoint is
    reached only after the black hole's timeout, so the test above does tell them apart."""
    store = sqlite_store
    with reserved_port(listen=True) as port, Receiver().running() as receiver:
        stuck = hook(store, f"http://127.0.0.1:{port}/hook", generate_secret(), clock)
        healthy = hook(store, receiver.url, generate_secret(), clock)
        emit(store, "incident.opened", incident(), T0)
        outbox = Dispatcher(store.engine, owner="proc-a", clock=clock, client=client, concurrency=1)
        reached, _, report = timed_run(outbox, [stuck, healthy], receiver, 1)
    assert reached >= HANG
    assert (report.delivered, report.retrying) == (1, 1)


def test_many_endpoints_at_once_each_in_order_and_counted_once(store, clock, client):
    endpoints, events = 6, 8
    with Receiver().running() as receiver:
        hooks = [
            hook(store, f"{receiver.url}/{n}", generate_secret(), clock) for n in range(endpoints)
        ]
        for n in range(events):
            emit(store, "incident.opened", incident(f"svc{n}"), T0 + n * MINUTE)
        outbox = Dispatcher(store.engine, owner="proc-a", clock=clock, client=client, concurrency=4)
        report = outbox.run_once(enabled(store))
        again = outbox.run_once(enabled(store))
    assert (report.queued, report.delivered, report.retrying, report.dead) == (48, 48, 0, 0)
    assert (report.busy_endpoints, report.errors) == (0, [])
    assert (again.queued, again.delivered) == (0, 0)
    for n, webhook in enumerate(hooks):
        sent = [r.body["data"]["service"] for r in receiver.received if r.path == f"/hook/{n}"]
        assert sent == [f"svc{k}" for k in range(events)], webhook.id
        assert {d.status for d in list_deliveries(store.engine, webhook.id)} == {"delivered"}
    assert owners(store.engine) == {}  # every endpoint's lease given back


def test_one_endpoints_failure_does_not_stop_the_others(store, clock, client):
    with Receiver().running() as receiver:
        broken = hook(store, f"{receiver.url}/broken", generate_secret(), clock)
        fine = hook(store, f"{receiver.url}/fine", generate_secret(), clock)
        emit(store, "incident.opened", incident(), T0)
        # A secret that cannot sign: the attempt fails before anything is sent.
        corrupt = dataclasses.replace(broken, secret="not-a-secret")
        outbox = Dispatcher(store.engine, owner="proc-a", clock=clock, client=client)
        report = outbox.run_once([corrupt, fine])
    assert [r.path for r in receiver.received] == ["/hook/fine"]
    assert report.delivered == 1
    (error,) = report.errors
    assert error.startswith(f"{broken.id}: ConfigError")
    assert owners(store.engine) == {}  # the failed one's lease given back


def test_an_endpoint_held_by_another_process_is_skipped_and_counted(store, clock, client):
    with Receiver().running() as receiver:
        held = hook(store, f"{receiver.url}/held", generate_secret(), clock)
        hook(store, f"{receiver.url}/free", generate_secret(), clock)
        emit(store, "incident.opened", incident(), T0)
        name = f"webhook:{held.id}"
        assert acquire_lease(store.engine, name, "proc-b", clock.now(), timedelta(minutes=2))
        outbox = Dispatcher(store.engine, owner="proc-a", clock=clock, client=client)
        report = outbox.run_once(enabled(store))
    assert (report.busy_endpoints, report.delivered, report.queued) == (1, 1, 1)
    assert [r.path for r in receiver.received] == ["/hook/free"]
    assert owners(store.engine) == {name: "proc-b"}  # not given up by a process not holding it


def test_nothing_to_deliver_to_is_an_empty_report(sqlite_store, clock, client):
    outbox = Dispatcher(sqlite_store.engine, owner="proc-a", clock=clock, client=client)
    assert outbox.run_once([]) == DispatchReport()


def test_concurrency_must_be_at_least_one(sqlite_store, clock, client):
    with pytest.raises(ValueError, match="got: 0"):
        Dispatcher(sqlite_store.engine, owner="p", clock=clock, client=client, concurrency=0)
    assert Settings().delivery_concurrency == 4
    assert Settings(delivery_concurrency=1).delivery_concurrency == 1
    with pytest.raises(ValidationError, match="delivery_concurrency"):
        Settings(delivery_concurrency=0)
