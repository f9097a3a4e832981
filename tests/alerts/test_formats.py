"""Incident events rendered as generic JSON and as Slack Block Kit messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from detector.alerts.formats import generic_payload, incident_event, render, slack_payload
from detector.spikes.evidence import summarize_evidence
from detector.spikes.incidents import Incident

T0 = datetime(2021, 11, 19, 20, 0, tzinfo=UTC)
BASE_URL = "https://radar.example.com/"


def rows() -> list[dict[str, Any]]:
    def row(n: int, country: str | None, symptoms: list[str], error: str | None) -> dict[str, Any]:
        return {
            "post_id": f"t:{n}",
            "country": country,
            "source_kind": "twitter",
            "source_name": "twitter",
            "probability": 0.9,
            "text": "app down",
            "url": None,
            "created_at": None,
            "data": {
                "symptoms": symptoms,
                "errors": [{"normalized": error}] if error else [],
                "features": [],
            },
        }

    return [
        row(1, "US", ["login", "error_message"], "500 server error"),
        row(2, "US", ["login"], None),
        row(3, "GB", ["app_crash"], "<!channel> & <https://evil.example|click>"),
        row(4, None, ["login"], "500 server error"),
    ]


def incident_dict(*, resolved: bool = False, with_now: bool = True) -> dict[str, Any]:
    incident = Incident(
        id="tesla:20211119T2000Z",
        service="tesla",
        start=T0,
        detected_at=T0 + timedelta(minutes=7),
        severity="critical",
        peak_severity="critical",
        peak_at=T0 + timedelta(minutes=12),
        peak_observed=40,
        peak_expected=0.8,
        peak_window_minutes=5,
        min_p_value=1e-12,
        max_score=0.99,
        observed_total=52,
        expected_total=1.6,
        evidence=summarize_evidence(rows()),
    )
    if resolved:
        incident.status = "resolved"
        incident.end = T0 + timedelta(hours=2)
    return incident.as_dict(now=T0 + timedelta(minutes=30)) if with_now else incident.as_dict()


def event(event_type: str = "incident.opened", **kwargs: Any) -> dict[str, Any]:
    change = kwargs.pop("change", "opened")
    return incident_event(
        event_type,
        incident_dict(**kwargs),
        event_id=f"tesla:20211119T2000Z:{event_type}",
        at=T0 + timedelta(minutes=7),
        change=change,
    )


def check_block_kit(message: dict[str, Any]) -> None:
    """Structural rules Slack enforces on a message (it answers 400 invalid_blocks otherwise)."""
    assert set(message) == {"text", "blocks"}
    assert isinstance(message["text"], str) and 0 < len(message["text"]) <= 3000
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        kind = block["type"]
        assert kind in {"header", "section", "context", "actions", "divider"}
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                check_text(block["text"], 3000)
            for field in block.get("fields", []):
                check_text(field, 2000)
            assert len(block.get("fields", [])) <= 10
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                check_text(element, 3000)
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button"
                assert button["text"]["type"] == "plain_text"
                assert 0 < len(button["text"]["text"]) <= 75
                assert button["url"].startswith("https://") and len(button["url"]) <= 3000
    orjson.dumps(message)  # JSON-serialisable as it is


def check_text(text: dict[str, Any], limit: int) -> None:
    assert text["type"] in {"plain_text", "mrkdwn"}
    assert 0 < len(text["text"]) <= limit
    if text["type"] == "mrkdwn":
        assert text["verbatim"] is True
        assert "<" not in text["text"] and ">" not in text["text"]  # no links or mentions


def all_text(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def test_incident_event_shape() -> None:
    built = event()
    assert built["type"] == "incident.opened"
    assert built["id"] == "tesla:20211119T2000Z:incident.opened"
    assert built["timestamp"] == "2021-11-19T20:07:00Z"
    assert built["change"] == "opened"
    assert built["data"]["service"] == "tesla"
    assert built["data"]["explanation"].startswith("52 outage reports about tesla")
    assert "change" not in incident_event("incident.opened", {}, event_id="e", at=T0)


def test_incident_event_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        incident_event("incident.opened", {}, event_id="e", at=datetime(2021, 11, 19))


def test_generic_is_the_event_as_is() -> None:
    built = event()
    assert generic_payload(built) == built
    body = render(built, "generic")
    assert isinstance(body, bytes)
    assert orjson.loads(body) == built
    assert body.startswith(b'{"type":"incident.opened","id":"tesla:')  # compact, in order


def test_generic_round_trips_to_an_incident() -> None:
    built = event(resolved=True)
    data = orjson.loads(render(built))["data"]
    assert Incident.from_dict(data).end == T0 + timedelta(hours=2)


def test_slack_message() -> None:
    built = event()
    message = slack_payload(built, base_url=BASE_URL)
    check_block_kit(message)
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["header", "section", "section", "context", "actions"]
    assert message["blocks"][0]["text"]["text"] == ":rotating_light: Outage detected: tesla"
    # The explanation is the main text, in the message and in the notification fallback.
    explanation = built["data"]["explanation"]
    assert message["blocks"][1]["text"]["text"] == explanation
    assert explanation in message["text"]
    assert message["text"].startswith("Outage detected: tesla (critical): ")
    fields = {f["text"].split("\n")[0]: f["text"] for f in message["blocks"][2]["fields"]}
    assert list(fields) == [
        "*Severity*",
        "*Status*",
        "*Started*",
        "*Reports*",
        "*Countries*",
        "*Top symptoms*",
        "*Top errors*",
    ]
    assert fields["*Severity*"] == "*Severity*\ncritical"
    assert fields["*Started*"] == "*Started*\n2021-11-19 20:00 UTC"
    assert fields["*Reports*"] == "*Reports*\n52 (expected 1.6)"
    assert fields["*Countries*"] == "*Countries*\nUS 67%, GB 33%"
    symptoms = fields["*Top symptoms*"].split("\n")
    assert symptoms[1] == "login (75%)"
    assert set(symptoms[2:]) == {"app crash (25%)", "error message (25%)"}  # ties in any order
    assert fields["*Top errors*"].startswith("*Top errors*\n500 server error (50%)")
    context = message["blocks"][3]["elements"][0]["text"]
    assert "Incident tesla:20211119T2000Z" in context and "change: opened" in context
    button = message["blocks"][4]["elements"][0]
    assert button["url"] == "https://radar.example.com/incidents/tesla%3A20211119T2000Z"


def test_text_from_posts_is_escaped() -> None:
    message = slack_payload(event())
    check_block_kit(message)
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in all_text(message)
    assert "<!channel>" not in all_text(message)


@pytest.mark.parametrize(
    ("event_type", "title"),
    [
        ("incident.updated", ":warning: Outage update: tesla"),
        ("incident.resolved", ":white_check_mark: Outage resolved: tesla"),
        ("incident.exploded", ":bell: incident.exploded: tesla"),
    ],
)
def test_titles(event_type: str, title: str) -> None:
    message = slack_payload(event(event_type, change="severity major -> critical"))
    check_block_kit(message)
    assert message["blocks"][0]["text"]["text"] == title
    assert "change: severity major -&gt; critical" in message["blocks"][3]["elements"][0]["text"]


def test_resolved_incident() -> None:
    message = slack_payload(event("incident.resolved", resolved=True, change="resolved"))
    check_block_kit(message)
    assert "resolved at 2021-11-19 22:00 UTC" in message["blocks"][1]["text"]["text"]


def test_no_link_without_base_url() -> None:
    message = slack_payload(event())
    assert [b["type"] for b in message["blocks"]][-1] == "context"


def test_without_explanation_a_summary_stands_in() -> None:
    message = slack_payload(event(with_now=False))
    check_block_kit(message)
    assert message["blocks"][1]["text"]["text"] == (
        "Outage reports about tesla since 2021-11-19 20:00 UTC; severity critical."
    )


def test_unparsable_or_naive_times_are_shown_as_they_are() -> None:
    built = event()
    built["data"]["start"] = "sometime"
    built["data"]["detected_at"] = "2021-11-19T20:07:00"  # naive: taken as UTC
    message = slack_payload(built)
    fields = [f["text"] for f in message["blocks"][2]["fields"]]
    assert "*Started*\nsometime" in fields
    assert "detected 2021-11-19 20:07 UTC" in message["blocks"][3]["elements"][0]["text"]


def test_minimal_event() -> None:
    message = slack_payload({"type": "incident.opened", "data": {}})
    check_block_kit(message)
    assert (
        message["blocks"][0]["text"]["text"] == ":rotating_light: Outage detected: unknown service"
    )
    assert message["blocks"][-1]["elements"][0]["text"] == "outage-radar"


@pytest.mark.parametrize("filler", ["x", "&", "<>"])
def test_long_texts_are_cut_to_block_kit_limits(filler: str) -> None:
    built = event()
    built["data"]["service"] = "s" * 500
    built["data"]["explanation"] = filler * 5000
    built["data"]["evidence"]["errors"] = [{"name": filler * 3000, "count": 1, "share": 1.0}]
    message = slack_payload(built, base_url=BASE_URL)
    check_block_kit(message)
    section = message["blocks"][1]["text"]["text"]
    assert section.endswith("…")
    # Cut between escapes, never inside one.
    assert section[:-1].replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


def test_render_slack_bytes() -> None:
    body = render(event(), "slack", base_url=BASE_URL)
    check_block_kit(orjson.loads(body))


def test_render_unknown_format() -> None:
    with pytest.raises(ValueError, match="format must be"):
        render(event(), "teams")  # type: ignore[arg-type]
