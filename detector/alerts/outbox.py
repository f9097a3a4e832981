"""The webhook outbox: incident events fanned out to the endpoints that want them, and sent.

Detection writes every incident change and its event in one transaction (``incident_events``).
``Dispatcher.run_once`` then, for each enabled endpoint whose lease it can take (so two server
processes never send to one endpoint at once), on a small pool of threads so that endpoints do
not wait for each other (one that never answers costs its own timeout, not everyone's):

1. **fans out**: queues a delivery for each new event the endpoint's filters accept (service,
   countries, minimum severity, event types), idempotently (one row per endpoint and event);
2. **delivers** in order: only the endpoint's oldest pending delivery may go, so a receiver that
   is down holds its queue back rather than getting events out of order. Each attempt is
   signed (Standard Webhooks), its outcome recorded: delivered; retried with exponential
   backoff and jitter (honouring ``Retry-After``) for at least 24 hours, then dead-lettered;
   dead at once on a permanent refusal; a ``410 Gone`` also disables the endpoint.

A crash between sending and recording means the event is sent again after the lease expires:
delivery is at least once, and receivers drop repeats by ``webhook-id``, which is stable per
event.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select

from detector.alerts.formats import Format, incident_event, render
from detector.alerts.retry import (
    DEFAULT_POLICY,
    Decision,
    Outcome,
    RetryPolicy,
    classify_error,
    classify_response,
)
from detector.alerts.signing import headers as signed_headers
from detector.alerts.signing import message_id
from detector.alerts.ssrf import redact_url
from detector.clock import Clock
from detector.store.leases import acquire_lease, release_lease
from detector.store.schema import incident_events
from detector.store.webhooks import (
    Delivery,
    Webhook,
    add_deliveries,
    events_after,
    head_delivery,
    record_attempt,
    set_after_seq,
    update_webhook,
)

__all__ = [
    "EVENT_TYPES",
    "SEVERITIES",
    "AttemptResult",
    "DispatchReport",
    "Dispatcher",
    "wants",
]

log = logging.getLogger(__name__)

EVENT_TYPES = ("incident.opened", "incident.updated", "incident.resolved")
SEVERITIES = ("minor", "major", "critical")
_USER_AGENT = "outage-radar-webhooks/1"


def wants(webhook: Webhook, event_type: str, incident: Mapping[str, Any]) -> bool:
    """Whether the endpoint's filters accept this event.

    The severity filter looks at the worst severity the incident has reached, so an endpoint
    that wants ``major`` also hears when a major incident resolves.
    """
    if event_type not in webhook.event_types:
        return False
    if webhook.services is not None and incident.get("service") not in webhook.services:
        return False
    if webhook.countries is not None:
        evidence: Mapping[str, Any] = incident.get("evidence") or {}
        seen = {row.get("country") for row in evidence.get("countries", [])}
        if not seen & set(webhook.countries):
            return False
    severity = incident.get("peak_severity") or incident.get("severity") or "minor"
    return _rank(severity) >= _rank(webhook.min_severity)


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt did: the decision, the HTTP status if any, and how long it took."""

    decision: Decision
    status_code: int | None
    seconds: float


@dataclass
class DispatchReport:
    """What one ``run_once`` did."""

    queued: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    busy_endpoints: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DispatchReport) -> None:
        """Count ``other``'s work in this report too.

        Examples
        --------
        >>> total = DispatchReport(delivered=2)
        >>> total.add(DispatchReport(delivered=1, errors=["e1: boom"]))
        >>> total.delivered, total.errors
        (3, ['e1: boom'])
        """
        self.queued += other.queued
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.dead += other.dead
        self.busy_endpoints += other.busy_endpoints
        self.errors.extend(other.errors)


class Dispatcher:
    """Fans out and delivers webhook events; build one per process and call ``run_once``.

    Parameters
    ----------
    engine
        The store's engine.
    owner
        This process's name in leases (unique per process).
    clock
        Tells the time.
    client
        Sends the requests (an ``httpx.Client`` over a
        :class:`~detector.alerts.transport.GuardedTransport` in production). It is shared
        by the delivery threads: an ``httpx.Client`` may be, and the guard keeps no state
        between requests.
    policy, rng
        Retry schedule and its jitter (``random.Random`` may be shared between threads).
    base_url
        This server's public URL, for links in Slack messages.
    lease
        How long an endpoint is held; renewed before every attempt, so it must exceed the
        client's timeout.
    per_run
        Most attempts per endpoint per run (so one busy endpoint does not starve the others).
    concurrency
        Most endpoints delivered to at once. Each endpoint's own deliveries stay sequential
        and in order; ``1`` visits the endpoints one after the other.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        owner: str,
        clock: Clock,
        client: httpx.Client,
        policy: RetryPolicy = DEFAULT_POLICY,
        rng: random.Random | None = None,
        base_url: str | None = None,
        lease: timedelta = timedelta(minutes=2),
        per_run: int = 100,
        concurrency: int = 4,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got: {concurrency}")
        self.engine = engine
        self.owner = owner
        self.clock = clock
        self.client = client
        self.policy = policy
        self.rng = rng or random.Random()
        self.base_url = base_url
        self.lease = lease
        self.per_run = per_run
        self.concurrency = concurrency
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Finish the attempts under way and start no new one (the server is stopping)."""
        self._stopping.set()

    def run_once(self, webhooks: list[Webhook]) -> DispatchReport:
        """Fan out and deliver for each of ``webhooks`` (the enabled ones) not held elsewhere,
        up to ``concurrency`` endpoints at a time; return when every endpoint is done.

        An endpoint's failure is logged and listed in the report's ``errors``; the others go
        on. A failure to take or give up a lease (the store's trouble, not an endpoint's) is
        raised, once every endpoint has had its turn.
        """
        report = DispatchReport()
        if not webhooks:
            return report
        workers = min(self.concurrency, len(webhooks))
        # Each endpoint is one task (so its deliveries stay in order) with its own report,
        # added up here on the calling thread: the workers share no counters.
        with ThreadPoolExecutor(workers, thread_name_prefix="webhook-delivery") as pool:
            for part in pool.map(self._run_endpoint, webhooks):
                report.add(part)
        return report

    def _run_endpoint(self, webhook: Webhook) -> DispatchReport:
        """Fan out and deliver for one endpoint under its lease (runs on a pool thread)."""
        report = DispatchReport()
        name = f"webhook:{webhook.id}"
        if not acquire_lease(self.engine, name, self.owner, self.clock.now(), self.lease):
            report.busy_endpoints += 1
            return report
        try:
            report.queued += self.fan_out(webhook)
            self._deliver(webhook, report)
        except Exception as exc:  # one endpoint's trouble must not stop the others
            log.exception("webhook %s: dispatch failed", webhook.id)
            report.errors.append(f"{webhook.id}: {type(exc).__name__}: {exc}")
        finally:
            release_lease(self.engine, name, self.owner)
        return report

    def fan_out(self, webhook: Webhook, batch: int = 1000) -> int:
        """Queue the events after the endpoint's cursor that it wants; return how many."""
        queued = 0
        seq = webhook.after_seq
        now = self.clock.now()
        while True:
            with self.engine.begin() as conn:
                events = events_after(conn, seq, batch)
                if not events:
                    return queued
                rows = [
                    {
                        "id": f"{webhook.id}:{event.id}",
                        "webhook_id": webhook.id,
                        "event_id": event.id,
                        "event_type": event.type,
                        "seq": event.seq,
                        "status": "pending",
                        "attempts": 0,
                        "created_at": now,
                        "next_attempt_at": now,
                    }
                    for event in events
                    if wants(webhook, event.type, event.payload.get("incident", {}))
                ]
                add_deliveries(conn, rows)
                seq = events[-1].seq
                set_after_seq(conn, webhook.id, seq)
                queued += len(rows)

    def _deliver(self, webhook: Webhook, report: DispatchReport) -> None:
        for _ in range(self.per_run):
            if self._stopping.is_set():
                return  # the server is stopping: what is left waits for the next start
            with self.engine.connect() as conn:
                head = head_delivery(conn, webhook.id)
            now = self.clock.now()
            if head is None or head.next_attempt_at > now:
                return
            if not acquire_lease(self.engine, f"webhook:{webhook.id}", self.owner, now, self.lease):
                return  # lost the lease (we were too slow): the new holder goes on
            status = self._attempt(webhook, head)
            if status == "delivered":
                report.delivered += 1
            elif status == "pending":
                report.retrying += 1
                return  # keep order: nothing after it goes before it
            else:
                report.dead += 1
                if status == "disabled":
                    return

    def _attempt(self, webhook: Webhook, delivery: Delivery) -> str:
        with self.engine.connect() as conn:
            event = conn.execute(
                select(incident_events).where(incident_events.c.id == delivery.event_id)
            ).first()
        now = self.clock.now()
        if event is None:  # retention removed it: nothing left to send
            self._record(delivery, now, "dead", None, "event no longer stored")
            return "dead"
        body = self.render(webhook, event.id, event.type, event.at, event.payload)
        result = self.send(webhook, event.id, body)
        now = self.clock.now()
        decision = result.decision
        if decision.outcome is Outcome.DELIVERED:
            self._record(delivery, now, "delivered", result.status_code, None)
            return "delivered"
        if decision.outcome is Outcome.RETRY:
            first = delivery.first_attempt_at or now
            later = self.policy.next_attempt(
                delivery.attempts + 1, first, now, self.rng, retry_after=decision.retry_after
            )
            if later is not None:
                self._record(
                    delivery, now, "pending", result.status_code, decision.reason, next_at=later
                )
                return "pending"
        self._record(delivery, now, "dead", result.status_code, decision.reason)
        gone = decision.outcome is Outcome.GONE
        if gone:
            update_webhook(
                self.engine,
                webhook.id,
                {"enabled": False, "disabled_reason": decision.reason},
                now,
            )
        log.warning(
            "webhook %s: event %s dead-lettered after %s attempts: %s",
            webhook.id,
            delivery.event_id,
            delivery.attempts + 1,
            decision.reason,
        )
        return "disabled" if gone else "dead"

    def render(
        self,
        webhook: Webhook,
        event_id: str,
        event_type: str,
        at: datetime,
        payload: Mapping[str, Any],
    ) -> bytes:
        """The request body of an event for this endpoint's format."""
        event = incident_event(
            event_type,
            payload.get("incident", {}),
            event_id=event_id,
            at=at,
            change=payload.get("change"),
        )
        fmt: Format = "slack" if webhook.format == "slack" else "generic"
        return render(event, fmt, base_url=self.base_url)

    def send(self, webhook: Webhook, event_id: str, body: bytes) -> AttemptResult:
        """POST one signed body to the endpoint (no store writes)."""
        now = self.clock.now()
        request_headers = {
            **signed_headers(webhook.secret, message_id(event_id), now, body),
            "content-type": "application/json",
            "user-agent": _USER_AGENT,
        }
        try:
            response = self.client.post(webhook.url, content=body, headers=request_headers)
        except Exception as exc:
            elapsed = (self.clock.now() - now).total_seconds()
            log.info("webhook %s (%s): %s", webhook.id, redact_url(webhook.url), exc)
            return AttemptResult(classify_error(exc), None, elapsed)
        elapsed = (self.clock.now() - now).total_seconds()
        decision = classify_response(response.status_code, response.headers, now=self.clock.now())
        return AttemptResult(decision, response.status_code, elapsed)

    def _record(
        self,
        delivery: Delivery,
        now: datetime,
        status: str,
        status_code: int | None,
        error: str | None,
        *,
        next_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "attempts": delivery.attempts + 1,
            "first_attempt_at": delivery.first_attempt_at or now,
            "last_attempt_at": now,
            "last_status_code": status_code,
            "last_error": None if error is None else error[:500],
            "next_attempt_at": next_at or delivery.next_attempt_at,
        }
        if status == "delivered":
            values["delivered_at"] = now
        with self.engine.begin() as conn:
            record_attempt(conn, delivery.id, values)
