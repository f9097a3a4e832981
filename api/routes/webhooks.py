"""``/v1/webhooks``: a key's webhook endpoints, their deliveries, and test pings.

Every route needs an API key and sees only that key's endpoints (someone else's is 404, as if
it did not exist). The signing secret is in the creation response and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from api.auth import KeyDep, WriterDep
from api.deps import ClockDep, SettingsDep, StoreDep
from api.problems import problem_responses
from api.schemas_writes import (
    DeliveryList,
    DeliveryOut,
    PingResult,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookPatch,
)
from detector.alerts.endpoints import create_endpoint, ping, update_endpoint
from detector.alerts.outbox import Dispatcher
from detector.errors import QueryError
from detector.store.webhooks import Webhook, delete_webhook, get_webhook, list_deliveries
from detector.store.webhooks import list_webhooks as stored_webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

WebhookId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


def _mine(store: StoreDep, webhook_id: str, owner: str) -> Webhook:
    found = get_webhook(store.engine, webhook_id, owner)
    if found is None:
        raise HTTPException(404, detail=f"no webhook with id {webhook_id!r}")
    return found


@router.post(
    "",
    status_code=201,
    responses=problem_responses(400, 401, 413, 422, 429, 503),
    summary="Create a webhook endpoint",
)
def create_webhook(
    body: WebhookIn, key: WriterDep, store: StoreDep, settings: SettingsDep, clock: ClockDep
) -> WebhookCreated:
    """Events from now on go to ``url``, signed with the returned ``secret`` (Standard
    Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``). The URL may not
    reach private, loopback, link-local or metadata addresses unless the server allows it."""
    webhook = create_endpoint(
        store.engine,
        key.id,
        body.spec(),
        clock.now(),
        allow_private=settings.allow_private_webhooks,
    )
    return WebhookCreated.from_new(webhook)


@router.get("", responses=problem_responses(401, 503), summary="List your webhook endpoints")
def list_webhooks(key: KeyDep, store: StoreDep) -> WebhookList:
    """The endpoints created with this key, oldest first."""
    return WebhookList(
        items=[WebhookOut.from_webhook(w) for w in stored_webhooks(store.engine, owner=key.id)]
    )


@router.get("/{webhook_id}", responses=problem_responses(401, 404, 422, 503))
def get_one(webhook_id: WebhookId, key: KeyDep, store: StoreDep) -> WebhookOut:
    """One endpoint (without its secret)."""
    return WebhookOut.from_webhook(_mine(store, webhook_id, key.id))


@router.patch("/{webhook_id}", responses=problem_responses(400, 401, 404, 413, 422, 429, 503))
def patch_webhook(
    webhook_id: WebhookId,
    body: WebhookPatch,
    key: WriterDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> WebhookOut:
    """Change some fields; re-enabling an endpoint (``enabled: true``) clears why it was
    disabled."""
    updated = update_endpoint(
        store.engine,
        webhook_id,
        key.id,
        body.changes(),
        clock.now(),
        allow_private=settings.allow_private_webhooks,
    )
    if updated is None:
        raise HTTPException(404, detail=f"no webhook with id {webhook_id!r}")
    return WebhookOut.from_webhook(updated)


@router.delete(
    "/{webhook_id}", status_code=204, responses=problem_responses(401, 404, 422, 429, 503)
)
def delete_one(webhook_id: WebhookId, key: WriterDep, store: StoreDep) -> Response:
    """Delete an endpoint and its pending deliveries."""
    if not delete_webhook(store.engine, webhook_id, owner=key.id):
        raise HTTPException(404, detail=f"no webhook with id {webhook_id!r}")
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", responses=problem_responses(401, 404, 422, 503))
def deliveries(
    webhook_id: WebhookId,
    key: KeyDep,
    store: StoreDep,
    status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> DeliveryList:
    """What was sent to the endpoint, newest first: attempts, last answer, dead letters."""
    _mine(store, webhook_id, key.id)
    before = _decode(cursor) if cursor is not None else None
    items = list_deliveries(
        store.engine, webhook_id, status=status, before_seq=before, limit=limit + 1
    )
    more = len(items) > limit
    items = items[:limit]
    return DeliveryList(
        items=[DeliveryOut.from_delivery(d) for d in items],
        next_cursor=_encode(items[-1].seq) if more and items else None,
    )


@router.post("/{webhook_id}/test", responses=problem_responses(401, 404, 422, 429, 503))
def test_webhook(
    webhook_id: WebhookId, request: Request, key: WriterDep, store: StoreDep
) -> PingResult:
    """Send a signed ``webhook.test`` event now and say what the endpoint answered."""
    webhook = _mine(store, webhook_id, key.id)
    dispatcher: Dispatcher = request.app.state.dispatcher
    return PingResult.from_attempt(ping(dispatcher, webhook))


def _encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"deliveries:{seq}".encode()).rstrip(b"=").decode()


def _decode(cursor: str) -> int:
    try:
        kind, _, seq = (
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        )
        if kind != "deliveries":
            raise ValueError(kind)
        return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise QueryError("cursor", "is not a cursor this API handed out") from None
