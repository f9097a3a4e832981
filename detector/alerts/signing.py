"""Webhook signatures as in Standard Webhooks v1 (https://www.standardwebhooks.com).

The sender signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 under a secret
serialised as ``whsec_`` + base64, and sends three headers::

    webhook-id: msg_2KWPBgLlAfxdpx2AI54pPJ85f4W
    webhook-timestamp: 1674087231
    webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=

``webhook-signature`` may hold several space-separated signatures, so an endpoint's secret can
be rotated without downtime: sign with the new and the old secret until receivers switch.
Because the timestamp is signed, a receiver that rejects stale timestamps also rejects
replays of a captured request; the id stays the same across retries and is the receiver's
idempotency key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from detector.errors import ConfigError, WebhookTimestampError, WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "SECRET_PREFIX",
    "VerifiedWebhook",
    "generate_secret",
    "headers",
    "message_id",
    "secret_key",
    "sign",
    "verify",
]

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = timedelta(minutes=5)
_VERSION = "v1"
# The spec asks for 24 to 64 random bytes (192 to 512 bits) per symmetric secret.
_MIN_SECRET_BYTES, _MAX_SECRET_BYTES = 24, 64
_DIGITS = re.compile(r"[0-9]{1,11}")  # int() would also take "+1", " 1 ", "1_0" and "١"


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    """What :func:`verify` vouches for: the message id (the idempotency key) and when it
    was signed."""

    msg_id: str
    timestamp: datetime


def generate_secret(nbytes: int = 32) -> str:
    """A new random signing secret, ``whsec_`` + base64 of ``nbytes`` bytes.

    Examples
    --------
    >>> secret = generate_secret()
    >>> secret.startswith("whsec_"), len(secret_key(secret))
    (True, 32)
    """
    if not _MIN_SECRET_BYTES <= nbytes <= _MAX_SECRET_BYTES:
        raise ValueError(
            f"secret size must be {_MIN_SECRET_BYTES} to {_MAX_SECRET_BYTES} bytes, got: {nbytes}"
        )
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(nbytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a serialised secret.

    The ``whsec_`` prefix is optional and missing base64 padding is tolerated, as in the
    reference libraries, so secrets copied from other Standard Webhooks senders work.

    Raises
    ------
    ConfigError
        The secret is empty or not base64.

    Examples
    --------
    >>> len(secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    24
    >>> secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == secret_key(
    ...     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    ... )
    True
    """
    encoded = secret.removeprefix(SECRET_PREFIX).strip()
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"webhook secret must be {SECRET_PREFIX!r} followed by base64, got a malformed one"
        ) from None  # never echo the secret itself
    if not key:
        raise ConfigError("webhook secret is empty")
    return key


def message_id(event_id: str) -> str:
    """A ``webhook-id`` for an event: stable (retries of one event share it, as the spec asks)
    and free of ``.``, which would make the signed content ambiguous.

    Examples
    --------
    >>> message_id("tesla:20211119T2000Z:incident.opened")[:4]
    'msg_'
    >>> message_id("a") == message_id("a") != message_id("b")
    True
    """
    digest = hashlib.sha256(event_id.encode("utf-8")).digest()[:20]
    return "msg_" + base64.b32encode(digest).decode("ascii").lower()


def sign(secret: str, msg_id: str, timestamp: datetime | int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message.

    Parameters
    ----------
    secret
        ``whsec_`` + base64 key.
    msg_id
        The ``webhook-id``; must not contain ``.`` (the field separator).
    timestamp
        When the attempt is made: an aware datetime or Unix seconds.
    body
        The exact bytes sent as the request body.

    Examples
    --------
    The test vector of the Standard Webhooks reference libraries:

    >>> sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
    ...      1614265330, b'{"test": 2432232314}')
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
    """
    if not msg_id or "." in msg_id:
        raise ValueError(f"webhook id must be non-empty and free of '.', got: {msg_id!r}")
    return f"{_VERSION},{_b64(_digest(secret_key(secret), msg_id, _unix(timestamp), body))}"


def headers(secret: str | Iterable[str], msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery attempt.

    With several secrets (during a rotation) the signature header carries one signature per
    secret, so receivers holding either secret accept the message.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> h = headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1",
    ...             datetime(2021, 2, 25, 15, 2, 10, tzinfo=UTC), b"{}")
    >>> sorted(h), h["webhook-timestamp"]
    (['webhook-id', 'webhook-signature', 'webhook-timestamp'], '1614265330')
    """
    timestamp = _unix(at)
    signatures = [sign(s, msg_id, timestamp, body) for s in _secret_list(secret)]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def verify(
    secret: str | Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> VerifiedWebhook:
    """Check a received webhook; return its id and timestamp, or raise.

    Any of ``secret`` (one or several, during a rotation) may match any ``v1`` signature in
    the header; other schemes (``v1a``) and malformed entries are skipped. The signature is
    checked before the timestamp, so :class:`WebhookTimestampError` always means an
    authentic message that is too old or too new (a replay, or clock skew), never a forgery.

    Parameters
    ----------
    headers
        The request headers; names are matched case-insensitively.
    body
        The raw request body, before any JSON parsing.
    now
        The current time (aware).
    tolerance
        How far the timestamp may be from ``now``, either way.

    Raises
    ------
    WebhookVerificationError
        A header is missing or malformed, or no signature matches.
    WebhookTimestampError
        The signature matches but the timestamp is outside ``now ± tolerance``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> secret, at = generate_secret(), datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> sent = headers(secret, "msg_1", at, b'{"ok": true}')
    >>> verify(secret, sent, b'{"ok": true}', now=at).msg_id
    'msg_1'
    >>> try:
    ...     verify(secret, sent, b'{"ok": false}', now=at)
    ... except WebhookVerificationError as exc:
    ...     print(exc)
    no webhook-signature matches (1 v1 signature(s) checked against 1 secret(s))
    """
    _require_aware(now, "now")
    keys = [secret_key(s) for s in _secret_list(secret)]
    found = {name.lower(): value for name, value in headers.items()}
    values = []
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if not found.get(name):
            raise WebhookVerificationError(f"missing {name} header")
        values.append(found[name])
    msg_id, raw_timestamp, raw_signatures = values
    if not _DIGITS.fullmatch(raw_timestamp):
        raise WebhookVerificationError(
            f"webhook-timestamp must be Unix seconds, got: {raw_timestamp[:40]!r}"
        )
    timestamp = int(raw_timestamp)
    candidates = _v1_signatures(raw_signatures)
    expected = [_digest(key, msg_id, timestamp, body) for key in keys]
    # compare_digest runs in constant time for equal lengths: no timing oracle on the bytes.
    if not any(hmac.compare_digest(e, c) for e in expected for c in candidates):
        raise WebhookVerificationError(
            f"no webhook-signature matches ({len(candidates)} v1 signature(s) "
            f"checked against {len(keys)} secret(s))"
        )
    signed_at = datetime.fromtimestamp(timestamp, UTC)
    if abs(signed_at - now) > tolerance:
        raise WebhookTimestampError(signed_at, now, tolerance)
    return VerifiedWebhook(msg_id=msg_id, timestamp=signed_at)


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    content = b"%s.%d.%s" % (msg_id.encode("utf-8"), timestamp, body)
    return hmac.new(key, content, hashlib.sha256).digest()


def _v1_signatures(header: str) -> list[bytes]:
    found = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != _VERSION:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue  # one garbled entry must not hide a valid one next to it
    return found


def _secret_list(secret: str | Iterable[str]) -> list[str]:
    listed = [secret] if isinstance(secret, str) else list(secret)
    if not listed:
        raise ConfigError("at least one webhook secret is needed")
    return listed


def _unix(at: datetime | int) -> int:
    if isinstance(at, int):
        if at < 0:
            raise ValueError(f"timestamp must not be negative, got: {at}")
        return at
    _require_aware(at, "timestamp")
    return int(at.timestamp())  # the spec's timestamp is whole seconds, truncated


def _require_aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got: {at!r}")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
