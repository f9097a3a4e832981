"""Managing webhook endpoints: validated specs in, stored endpoints out; and test pings.

Everything the API's ``/v1/webhooks`` routes do, without HTTP: the URL is checked against SSRF
(after DNS resolution) unless private destinations are allowed, the secret is generated here
and shown once, filters are normalised (service slugs lower-case, countries ISO upper-case).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from detector.alerts.outbox import EVENT_TYPES, SEVERITIES, AttemptResult, Dispatcher
from detector.alerts.signing import generate_secret
from detector.alerts.ssrf import Resolver, check_url, resolve_host
from detector.errors import InvalidWebhook
from detector.store.webhooks import Webhook, create_webhook, update_webhook

__all__ = ["FORMATS", "WebhookSpec", "create_endpoint", "ping", "update_endpoint"]

FORMATS = ("generic", "slack")
_COUNTRY = re.compile(r"[A-Z]{2}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,199}")


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    """What a user asks for; ``None`` filters mean everything."""

    url: str
    format: str = "generic"
    services: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    min_severity: str = "minor"
    event_types: tuple[str, ...] = EVENT_TYPES
    description: str = ""
    enabled: bool = True


def create_endpoint(
    engine: Engine,
    owner: str,
    spec: WebhookSpec,
    now: datetime,
    *,
    allow_private: bool,
    resolve: Resolver = resolve_host,
) -> Webhook:
    """Validate ``spec`` and store a new endpoint with a fresh secret (returned on the
    endpoint, for the caller to show once).

    Raises
    ------
    InvalidWebhook
        A field is not acceptable (names the field).
    UnsafeURLError
        The URL reaches an address that is not allowed.
    HostResolutionError
        The URL's host does not resolve.
    """
    fields = _validated(_as_dict(spec))
    check_url(spec.url, allow_private=allow_private, resolve=resolve)
    return create_webhook(engine, owner, fields, generate_secret(), now)


def update_endpoint(
    engine: Engine,
    webhook_id: str,
    owner: str,
    changes: Mapping[str, Any],
    now: datetime,
    *,
    allow_private: bool,
    resolve: Resolver = resolve_host,
) -> Webhook | None:
    """Change some fields of an endpoint ``owner`` owns; ``None`` when there is none."""
    fields = _validated(changes)
    if "url" in fields:
        check_url(fields["url"], allow_private=allow_private, resolve=resolve)
    return update_webhook(engine, webhook_id, fields, now, owner=owner)


def ping(dispatcher: Dispatcher, webhook: Webhook) -> AttemptResult:
    """Send a signed ``webhook.test`` event to the endpoint now (not queued, not retried)."""
    now = dispatcher.clock.now()
    event_id = f"test:{webhook.id}:{now:%Y%m%dT%H%M%S.%fZ}"
    body = dispatcher.render(
        webhook,
        event_id,
        "webhook.test",
        now,
        {"change": "test", "incident": _TEST_INCIDENT | {"detected_at": now.isoformat()}},
    )
    return dispatcher.send(webhook, event_id, body)


_TEST_INCIDENT: dict[str, Any] = {
    "id": "test",
    "service": "outage-radar",
    "status": "open",
    "severity": "minor",
    "peak_severity": "minor",
    "explanation": "This is a test message from outage-radar: the endpoint works.",
    "evidence": {},
}


def _as_dict(spec: WebhookSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in WebhookSpec.__slots__}


def _validated(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "url":
            if not isinstance(value, str) or not value.strip():
                raise InvalidWebhook("url", "must be an http(s) URL")
            out[name] = value.strip()
        elif name == "format":
            out[name] = _one_of(name, value, FORMATS)
        elif name == "min_severity":
            out[name] = _one_of(name, value, SEVERITIES)
        elif name == "event_types":
            types = tuple(dict.fromkeys(value or ()))
            if not types:
                raise InvalidWebhook(name, "must name at least one event type")
            for item in types:
                _one_of(name, item, EVENT_TYPES)
            out[name] = types
        elif name == "services":
            out[name] = _listed(name, value, str.lower, _SLUG, "service slugs such as 'tesla'")
        elif name == "countries":
            out[name] = _listed(name, value, str.upper, _COUNTRY, "ISO 3166 codes such as 'US'")
        elif name == "description":
            text = str(value or "")
            if len(text) > 500:
                raise InvalidWebhook(name, "must be at most 500 characters")
            out[name] = text
        elif name == "enabled":
            out[name] = bool(value)
        elif name not in ("secret", "id", "owner"):
            raise InvalidWebhook(name, "is not a webhook field")
    return out


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidWebhook(name, f"must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def _listed(
    name: str, value: Any, normal: Any, pattern: re.Pattern[str], what: str
) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = tuple(dict.fromkeys(normal(str(v).strip()) for v in value))
    if not items:
        raise InvalidWebhook(name, "must be null (everything) or name at least one")
    bad = [v for v in items if not pattern.fullmatch(v)]
    if bad:
        raise InvalidWebhook(name, f"must hold {what}; got {bad[0]!r}")
    return items
