"""The webhook outbox against a real receiver on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import socket
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from detector.alerts.outbox import Dispatcher, wants
from detector.alerts.signing import generate_secret
from detector.alerts.transport import GuardedTransport
from detector.clock import FixedClock
from detector.pipeline import outbox_row
from detector.spikes.incidents import Incident, IncidentEvent
from detector.store.detection import add_event
from detector.store.webhooks import (
    create_webhook,
    get_webhook,
    list_deliveries,
    list_webhooks,
)
from tests.receiver import Receiver

T0 = datetime(2021, 11, 19, 21, 6, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ALL_EVENTS = ["incident.opened", "incident.updated", "incident.resolved"]


def incident(service: str = "tesla", severity: str = "critical", countries=("US", "KR")):
    return Incident(
        id=f"{service}:20211119T2100Z",
        service=service,
        start=T0 - 6 * MINUTE,
        detected_at=T0,
        severity=severity,
        peak_severity=severity,
        evidence={"countries": [{"country": c, "count": 3} for c in countries]},
    )


def emit(store, event_type: str, item: Incident, at: datetime, change: str = "opened") -> None:
    with store.engine.begin() as conn:
        add_event(conn, outbox_row(IncidentEvent(event_type, item, at, change)))  # type: ignore[arg-type]


def hook(store, url: str, secret: str, clock, **fields):
    spec = {
        "url": url,
        "format": "generic",
        "services": None,
        "countries": None,
        "min_severity": "minor",
        "event_types": ALL_EVENTS,
        "description": "",
        "enabled": True,
        **fields,
    }
    return create_webhook(store.engine, "owner-1", spec, secret, clock.now())


def dispatcher(store, clock, owner: str = "proc-a") -> Dispatcher:
    client = httpx.Client(transport=GuardedTransport(allow_private=True), timeout=5)
    return Dispatcher(store.engine, owner=owner, clock=clock, client=client, rng=random.Random(7))


def enabled(store):
    return list_webhooks(store.engine, enabled_only=True)


def test_an_event_is_delivered_signed_and_verified(store, clock):
    secret = generate_secret()
    with Receiver(secret=secret).running() as receiver:
        hook(store, receiver.url, secret, clock)
        emit(store, "incident.opened", incident(), T0)
        report = dispatcher(store, clock).run_once(enabled(store))
    assert (report.queued, report.delivered) == (1, 1)
    (got,) = receiver.received
    assert got.verified, got.error
    assert got.body["type"] == "incident.opened"
    assert got.body["data"]["service"] == "tesla"
    assert "explanation" in got.body["data"]


def test_a_webhook_gets_only_events_after_it_was_created(store, clock):
    emit(store, "incident.opened", incident("psn"), T0)
    with Receiver().running() as receiver:
        hook(store, receiver.url, generate_secret(), clock)
        emit(store, "incident.opened", incident("tesla"), T0 + MINUTE)
        dispatcher(store, clock).run_once(enabled(store))
    assert [r.body["data"]["service"] for r in receiver.received] == ["tesla"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"services": ["psn"]}, False),
        ({"services": ["tesla", "psn"]}, True),
        ({"countries": ["AU"]}, False),
        ({"countries": ["KR", "AU"]}, True),
        ({"min_severity": "critical"}, True),
        ({"event_types": ["incident.resolved"]}, False),
    ],
)
def test_filters(store, clock, fields, expected):
    webhook = hook(store, "http://127.0.0.1:9/hook", "whsec_x", clock, **fields)
    assert wants(webhook, "incident.opened", incident().as_dict()) is expected


def test_severity_filter_uses_the_worst_severity_reached(store, clock):
    webhook = hook(store, "http://127.0.0.1:9/hook", "whsec_x", clock, min_severity="major")
    assert not wants(webhook, "incident.opened", incident(severity="minor").as_dict())
    resolved = incident(severity="minor")
    resolved.peak_severity = "critical"
    assert wants(webhook, "incident.resolved", resolved.as_dict())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_receiver_down_retries_with_backoff_then_delivers_in_order(store, clock):
    secret = generate_secret()
    receiver = Receiver(secret=secret, port=free_port())
    hook(store, receiver.url, secret, clock)
    emit(store, "incident.opened", incident(), T0, "opened")
    emit(store, "incident.updated", incident(), T0 + MINUTE, "severity major -> critical")
    outbox = dispatcher(store, clock)
    first = outbox.run_once(enabled(store))  # nobody listening: connection refused
    assert (first.queued, first.delivered, first.retrying) == (2, 0, 1)
    (webhook,) = enabled(store)
    waiting = list_deliveries(store.engine, webhook.id, status="pending")
    assert [d.attempts for d in waiting] == [0, 1]  # the second waits behind the first
    retry_at = max(d.next_attempt_at for d in waiting)
    assert clock.now() < retry_at <= clock.now() + timedelta(seconds=10)
    assert "ConnectError" in (waiting[1].last_error or "")
    with receiver.running():
        assert outbox.run_once(enabled(store)).delivered == 0  # not due yet
        clock.current = retry_at
        assert outbox.run_once(enabled(store)).delivered == 2
        assert outbox.run_once(enabled(store)).delivered == 0  # nothing twice
    assert [r.body["type"] for r in receiver.received] == ["incident.opened", "incident.updated"]
    assert all(r.verified for r in receiver.received)
    done = list_deliveries(store.engine, webhook.id)
    assert {d.status for d in done} == {"delivered"}


def test_after_24_hours_of_failures_an_event_is_dead_lettered(store, clock):
    receiver = Receiver(status=503)
    with receiver.running():
        hook(store, receiver.url, generate_secret(), clock)
        emit(store, "incident.opened", incident(), T0)
        outbox = dispatcher(store, clock)
        started = clock.now()
        attempts = 0
        while clock.now() - started < timedelta(hours=30):
            attempts += outbox.run_once(enabled(store)).retrying
            clock.current += timedelta(minutes=10)
        (webhook,) = enabled(store)
        (dead,) = list_deliveries(store.engine, webhook.id)
    assert dead.status == "dead" and dead.last_status_code == 503
    assert dead.last_attempt_at is not None and dead.first_attempt_at is not None
    assert dead.last_attempt_at - dead.first_attempt_at >= timedelta(hours=24)
    assert len(receiver.received) == dead.attempts > 10


def test_permanent_refusals_dead_letter_at_once_and_410_disables(store, clock):
    with Receiver(status=404).running() as receiver:
        webhook = hook(store, receiver.url, generate_secret(), clock)
        emit(store, "incident.opened", incident(), T0)
        emit(store, "incident.resolved", incident(), T0 + MINUTE, "resolved")
        report = dispatcher(store, clock).run_once(enabled(store))
        assert (report.dead, report.delivered) == (2, 0)  # 404 is about this event: next goes
        receiver.status = 410
        emit(store, "incident.opened", incident("psn"), T0 + 2 * MINUTE)
        emit(store, "incident.resolved", incident("psn"), T0 + 3 * MINUTE, "resolved")
        dispatcher(store, clock).run_once(enabled(store))
    now = get_webhook(store.engine, webhook.id)
    assert now is not None and not now.enabled and "410" in (now.disabled_reason or "")
    assert len(receiver.received) == 3  # nothing sent after the 410


def test_private_destinations_are_refused_without_the_setting(store, clock):
    with Receiver().running() as receiver:
        hook(store, receiver.url, generate_secret(), clock)
        emit(store, "incident.opened", incident(), T0)
        client = httpx.Client(transport=GuardedTransport(allow_private=False), timeout=5)
        outbox = Dispatcher(store.engine, owner="p", clock=clock, client=client)
        assert outbox.run_once(enabled(store)).dead == 1
    assert receiver.received == []


def test_two_processes_never_deliver_one_event_twice(store):
    """Two dispatchers (as two servers on one database) race over the same outbox."""
    clock = FixedClock(T0)
    with Receiver().running() as receiver:
        for n in range(3):
            hook(store, f"{receiver.url}/{n}", generate_secret(), clock)
        for n in range(20):
            emit(store, "incident.opened", incident(f"svc{n}"), T0 + n * MINUTE)
        outboxes = [dispatcher(store, clock, owner) for owner in ("proc-a", "proc-b")]
        errors: list[BaseException] = []

        def work(outbox: Dispatcher) -> None:
            try:
                for _ in range(5):
                    outbox.run_once(enabled(store))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(o,)) for o in outboxes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors
    # the same event goes to each endpoint with the same webhook-id: tell them by path
    sent = [(r.path, r.headers["webhook-id"]) for r in receiver.received]
    assert len(sent) == len(set(sent)) == 3 * 20
