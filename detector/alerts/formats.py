"""Incident events as webhook bodies: generic JSON, or a Slack message.

An event has the Standard Webhooks payload shape::

    {"type": "incident.opened", "id": "...", "timestamp": "2021-11-19T20:07:00Z",
     "change": "opened", "data": {...Incident.as_dict(now)...}}

The generic format sends it as it is. The Slack format (incoming webhooks and
``chat.postMessage`` accept the same JSON) renders a header, the incident's explanation, its
severity, countries, top symptoms and error messages, and a link when a base URL is set.
Text taken from posts (error messages, service names) is escaped for Slack's mrkdwn, so a
post cannot ping ``<!channel>`` or plant a link; texts are cut to Block Kit's length limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import orjson

__all__ = ["Format", "generic_payload", "incident_event", "render", "slack_payload"]

Format = Literal["generic", "slack"]

# Block Kit limits: header text 150, section text 3000, field text 2000, button text 75.
_HEADER_MAX, _SECTION_MAX, _FIELD_MAX, _FALLBACK_MAX = 150, 3000, 2000, 3000
_TOP = 3
_PARTIAL_ESCAPE = re.compile(r"&[a-z]{0,3}$")
_TITLES = {
    "incident.opened": (":rotating_light:", "Outage detected"),
    "incident.updated": (":warning:", "Outage update"),
    "incident.resolved": (":white_check_mark:", "Outage resolved"),
}


def incident_event(
    event_type: str,
    incident: Mapping[str, Any],
    *,
    event_id: str,
    at: datetime,
    change: str | None = None,
) -> dict[str, Any]:
    """Build the event payload for one incident change.

    Parameters
    ----------
    event_type
        ``incident.opened``, ``incident.updated`` or ``incident.resolved``.
    incident
        ``Incident.as_dict(now)`` output (with ``now`` so the explanation is included).
    event_id
        The outbox event id.
    at
        When the change happened (aware).
    change
        What changed (``opened``, ``reopened``, ``severity major -> critical``...).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> event = incident_event("incident.opened", {"id": "tesla:20211119T2000Z"},
    ...                        event_id="e1", at=datetime(2021, 11, 19, 20, 7, tzinfo=UTC))
    >>> event["timestamp"], sorted(event)
    ('2021-11-19T20:07:00Z', ['data', 'id', 'timestamp', 'type'])
    """
    if at.tzinfo is None:
        raise ValueError(f"event time must be timezone-aware, got: {at!r}")
    event: dict[str, Any] = {
        "type": event_type,
        "id": event_id,
        "timestamp": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": dict(incident),
    }
    if change is not None:
        event["change"] = change
    return event


def generic_payload(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as it is: receivers get every field and parse what they need.

    Examples
    --------
    >>> generic_payload({"type": "incident.opened", "id": "e1", "data": {}})["type"]
    'incident.opened'
    """
    return dict(event)


def slack_payload(event: Mapping[str, Any], *, base_url: str | None = None) -> dict[str, Any]:
    """A Slack message (``text`` fallback plus Block Kit ``blocks``) for an incident event.

    Parameters
    ----------
    event
        An event as built by :func:`incident_event`.
    base_url
        Where the outage-radar UI or API is served; adds a button to
        ``{base_url}/incidents/{id}``.

    Examples
    --------
    >>> event = {"type": "incident.opened", "id": "e1", "timestamp": "2021-11-19T20:07:00Z",
    ...          "data": {"id": "tesla:20211119T2000Z", "service": "tesla", "severity": "major",
    ...                   "explanation": "52 outage reports about tesla since 19:58 UTC."}}
    >>> message = slack_payload(event, base_url="https://radar.example.com")
    >>> [block["type"] for block in message["blocks"]]
    ['header', 'section', 'section', 'context', 'actions']
    >>> message["blocks"][0]["text"]["text"]
    ':rotating_light: Outage detected: tesla'
    >>> message["blocks"][-1]["elements"][0]["url"]
    'https://radar.example.com/incidents/tesla%3A20211119T2000Z'
    """
    incident: Mapping[str, Any] = event.get("data") or {}
    service = str(incident.get("service") or "unknown service")
    emoji, title = _TITLES.get(str(event.get("type")), (":bell:", str(event.get("type"))))
    heading = f"{title}: {service}"
    explanation = str(incident.get("explanation") or _summary(incident))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(f"{emoji} {heading}", _HEADER_MAX)},
        },
        {"type": "section", "text": _mrkdwn(_fit(explanation, _SECTION_MAX))},
    ]
    fields = _fields(incident)
    if fields:
        blocks.append({"type": "section", "fields": fields})
    blocks.append({"type": "context", "elements": [_mrkdwn(_fit(_context(event), _SECTION_MAX))]})
    if base_url and incident.get("id"):
        link = f"{base_url.rstrip('/')}/incidents/{quote(str(incident['id']), safe='')}"
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "View incident"},
                        "url": link,
                    }
                ],
            }
        )
    severity = incident.get("severity")
    fallback = f"{heading} ({severity}): {explanation}" if severity else f"{heading}: {explanation}"
    return {"text": _fit(fallback, _FALLBACK_MAX), "blocks": blocks}


def render(
    event: Mapping[str, Any], fmt: Format = "generic", *, base_url: str | None = None
) -> bytes:
    """The request body for an event in format ``fmt``: compact UTF-8 JSON, the exact bytes
    to sign and send.

    Examples
    --------
    >>> render({"type": "incident.resolved", "id": "e2", "data": {}})
    b'{"type":"incident.resolved","id":"e2","data":{}}'
    """
    if fmt == "generic":
        payload = generic_payload(event)
    elif fmt == "slack":
        payload = slack_payload(event, base_url=base_url)
    else:
        raise ValueError(f"format must be 'generic' or 'slack', got: {fmt!r}")
    return orjson.dumps(payload)


def _fields(incident: Mapping[str, Any]) -> list[dict[str, str]]:
    evidence: Mapping[str, Any] = incident.get("evidence") or {}
    rows: list[tuple[str, str]] = []
    if incident.get("severity"):
        peak = incident.get("peak_severity")
        extra = f" (at worst {peak})" if peak and peak != incident["severity"] else ""
        rows.append(("Severity", f"{incident['severity']}{extra}"))
    if incident.get("status"):
        rows.append(("Status", str(incident["status"])))
    if incident.get("start"):
        rows.append(("Started", _when(str(incident["start"]))))
    if incident.get("observed_total") is not None and incident.get("expected_total") is not None:
        rows.append(
            (
                "Reports",
                f"{float(incident['observed_total']):.0f} "
                f"(expected {float(incident['expected_total']):.1f})",
            )
        )
    countries = [
        f"{c['country']} {float(c.get('share', 0)):.0%}" for c in evidence.get("countries", ())[:5]
    ]
    if countries:
        rows.append(("Countries", ", ".join(countries)))
    for key, label in (("symptoms", "Top symptoms"), ("errors", "Top errors")):
        ranked = [
            f"{str(item['name']).replace('_', ' ')} ({float(item.get('share', 0)):.0%})"
            for item in evidence.get(key, ())[:_TOP]
        ]
        if ranked:
            rows.append((label, "\n".join(ranked)))
    return [
        _mrkdwn(f"*{label}*\n{_fit(value, _FIELD_MAX - len(label) - 3)}") for label, value in rows
    ]


def _context(event: Mapping[str, Any]) -> str:
    incident: Mapping[str, Any] = event.get("data") or {}
    parts = []
    if incident.get("id"):
        parts.append(f"Incident {incident['id']}")
    if event.get("change"):
        parts.append(f"change: {event['change']}")
    if incident.get("detected_at"):
        parts.append(f"detected {_when(str(incident['detected_at']))}")
    return " · ".join(parts) or "outage-radar"


def _summary(incident: Mapping[str, Any]) -> str:
    """A stand-in for the explanation when the incident was serialised without ``now``."""
    service = incident.get("service") or "a service"
    start = f" since {_when(str(incident['start']))}" if incident.get("start") else ""
    return f"Outage reports about {service}{start}; severity {incident.get('severity', 'unknown')}."


def _when(iso: str) -> str:
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _mrkdwn(markup: str) -> dict[str, Any]:
    # verbatim: Slack must not turn URLs, #channels or @mentions in posts' text into links.
    return {"type": "mrkdwn", "text": markup, "verbatim": True}


def _fit(text: str, limit: int) -> str:
    """``text`` escaped for mrkdwn and cut to ``limit`` characters, never inside an escape.

    Escaping is all Slack needs: ``&``, ``<`` and ``>`` are its only control characters, and
    without ``<`` no link, mention or ``<!channel>`` can be formed.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(escaped) <= limit:
        return escaped
    return _PARTIAL_ESCAPE.sub("", escaped[: limit - 1]).rstrip() + "…"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
