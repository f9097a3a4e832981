"""Bodies of the keyed endpoints: pushed posts, webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from detector.alerts.endpoints import WebhookSpec
from detector.alerts.outbox import AttemptResult
from detector.pipeline import AnalyzeResult
from detector.store.webhooks import Delivery, Webhook

__all__ = [
    "DeliveryList",
    "DeliveryOut",
    "PingResult",
    "PostBatch",
    "PostIn",
    "PushResult",
    "WebhookCreated",
    "WebhookIn",
    "WebhookList",
    "WebhookOut",
    "WebhookPatch",
]

EventType = Literal["incident.opened", "incident.updated", "incident.resolved"]
Severity = Literal["minor", "major", "critical"]
Format = Literal["generic", "slack"]
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
_Text = Annotated[str, StringConstraints(min_length=1, max_length=100_000, pattern=r"^[^\x00]*$")]
_Short = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^[^\x00]*$")]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- POST /v1/posts ------------------------------------------------------------------------------


class PostIn(BaseModel):
    """A post pushed by a collector. ``id`` makes the push idempotent; fields not listed here
    are kept with the post."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "id": "1462151960117788672",
                    "text": "@TeslaSupport app says 500 server error, can't unlock my car",
                    "created_at": "2021-11-19T21:02:13Z",
                    "author_handle": "owner42",
                    "author_location": "Seoul, Korea",
                    "lang": "en",
                    "source_name": "twitter",
                }
            ]
        },
    )

    id: _Short
    text: _Text
    created_at: datetime = Field(description="RFC 3339; a time without a zone is UTC.")
    author_id: _Short | None = None
    author_handle: _Short | None = None
    author_location: _Short | None = None
    lang: Annotated[str, StringConstraints(max_length=35)] | None = None
    url: _Short | None = None
    title: _Short | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    reply_to: _Short | None = None
    quote_of: _Short | None = None
    repost_of: _Short | None = None
    source_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="Where the post comes from (default: api)."
    )

    def record(self) -> dict[str, Any]:
        """The post as a record for the library's push reader."""
        return self.model_dump(mode="json", exclude_none=True)


class PostBatch(BaseModel):
    """Up to 10,000 posts in one request."""

    posts: list[PostIn] = Field(min_length=1, max_length=10_000)


class PushResult(_Out):
    """What a push did: posts received, newly stored (the rest were already there), found to
    be outage reports, and counted (first report per author and service)."""

    received: int = Field(examples=[2])
    stored: int = Field(examples=[2])
    outage_posts: int = Field(examples=[1])
    counted: int = Field(examples=[1])

    @classmethod
    def from_result(cls, received: int, result: AnalyzeResult) -> PushResult:
        """Map the pipeline's result."""
        return cls(
            received=received,
            stored=result.stored,
            outage_posts=result.outage_posts,
            counted=result.counted,
        )


# --- /v1/webhooks --------------------------------------------------------------------------------


def _all_events() -> list[EventType]:
    return ["incident.opened", "incident.updated", "incident.resolved"]


class WebhookIn(BaseModel):
    """A webhook endpoint to create. Filters left out (``null``) mean everything."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.slack.com/services/T000/B000/XXXX",
                    "format": "slack",
                    "services": ["tesla"],
                    "min_severity": "major",
                }
            ]
        },
    )

    url: AnyHttpUrl = Field(description="Where events are POSTed (http or https).")
    format: Format = Field("generic", description="generic JSON, or a Slack message.")
    services: list[Slug] | None = Field(None, max_length=1000)
    countries: list[Country] | None = Field(None, max_length=300)
    min_severity: Severity = "minor"
    event_types: list[EventType] = Field(default_factory=_all_events, min_length=1)
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    enabled: bool = True

    def spec(self) -> WebhookSpec:
        """The endpoint as the library takes it."""
        return WebhookSpec(
            url=str(self.url),
            format=self.format,
            services=None if self.services is None else tuple(self.services),
            countries=None if self.countries is None else tuple(self.countries),
            min_severity=self.min_severity,
            event_types=tuple(self.event_types),
            description=self.description,
            enabled=self.enabled,
        )


class WebhookPatch(BaseModel):
    """Fields to change; the others stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl | None = None
    format: Format | None = None
    services: list[Slug] | None = Field(None, max_length=1000)
    countries: list[Country] | None = Field(None, max_length=300)
    min_severity: Severity | None = None
    event_types: list[EventType] | None = Field(None, min_length=1)
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    enabled: bool | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the request set (``services: null`` sets "all services")."""
        data = self.model_dump(exclude_unset=True)
        if "url" in data and data["url"] is not None:
            data["url"] = str(data["url"])
        for name in ("url", "format", "min_severity", "event_types", "description", "enabled"):
            if name in data and data[name] is None:
                del data[name]
        return data


class WebhookOut(_Out):
    """An endpoint (never its secret)."""

    id: str = Field(examples=["3f9a0c2e1b7d4a56"])
    url: str = Field(examples=["https://hooks.slack.com/services/T000/B000/XXXX"])
    format: Format
    services: list[str] | None = Field(examples=[["tesla"]])
    countries: list[str] | None = Field(examples=[None])
    min_severity: Severity
    event_types: list[EventType]
    description: str
    enabled: bool
    disabled_reason: str | None = Field(examples=[None])
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_webhook(cls, webhook: Webhook) -> WebhookOut:
        """Map a stored endpoint."""
        return cls(
            id=webhook.id,
            url=webhook.url,
            format=webhook.format,  # type: ignore[arg-type]
            services=None if webhook.services is None else list(webhook.services),
            countries=None if webhook.countries is None else list(webhook.countries),
            min_severity=webhook.min_severity,  # type: ignore[arg-type]
            event_types=list(webhook.event_types),  # type: ignore[arg-type]
            description=webhook.description,
            enabled=webhook.enabled,
            disabled_reason=webhook.disabled_reason,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
        )


class WebhookCreated(WebhookOut):
    """A new endpoint with its signing secret: shown this once, keep it."""

    secret: str = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])

    @classmethod
    def from_new(cls, webhook: Webhook) -> WebhookCreated:
        """Map a just-created endpoint, secret included."""
        return cls(**WebhookOut.from_webhook(webhook).model_dump(), secret=webhook.secret)


class WebhookList(_Out):
    """The caller's endpoints."""

    items: list[WebhookOut]


class DeliveryOut(_Out):
    """One event for one endpoint: ``pending`` (maybe retrying), ``delivered``, or ``dead``
    (dead-lettered: refused for good, or still failing after 24 hours of retries)."""

    id: str
    event_id: str = Field(examples=["tesla:20211119T2100Z:incident.opened:20211119T2106Z:opened"])
    event_type: str = Field(examples=["incident.opened"])
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None = Field(examples=[204])
    last_error: str | None = Field(examples=[None])
    delivered_at: datetime | None

    @classmethod
    def from_delivery(cls, delivery: Delivery) -> DeliveryOut:
        """Map a stored delivery."""
        data = {name: getattr(delivery, name) for name in cls.model_fields}
        return cls(**data)


class DeliveryList(_Out):
    """Deliveries, newest first; pass ``next_cursor`` back as ``cursor`` for older ones."""

    items: list[DeliveryOut]
    next_cursor: str | None


class PingResult(_Out):
    """What the test event got: ``delivered`` when the endpoint answered 2xx."""

    delivered: bool
    status_code: int | None = Field(examples=[204])
    reason: str = Field(examples=["HTTP 204"])
    seconds: float = Field(examples=[0.042])

    @classmethod
    def from_attempt(cls, result: AttemptResult) -> PingResult:
        """Map the attempt."""
        return cls(
            delivered=result.decision.outcome.value == "delivered",
            status_code=result.status_code,
            reason=result.decision.reason,
            seconds=round(result.seconds, 3),
        )
