"""Standard Webhooks signatures: the spec's test vector, round trips, tampering, replay window,
several signatures and secret rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.alerts.signing import (
    VerifiedWebhook,
    generate_secret,
    headers,
    message_id,
    secret_key,
    sign,
    verify,
)
from detector.errors import (
    ConfigError,
    DetectorError,
    WebhookTimestampError,
    WebhookVerificationError,
)

# The test vector of the Standard Webhooks reference libraries
# (standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BODY = b'{"type":"incident.opened","id":"e1","data":{"service":"tesla"}}'


@pytest.fixture
def secret() -> str:
    return generate_secret()


def test_spec_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE
    at = datetime.fromtimestamp(SPEC_TS, UTC)
    assert sign(SPEC_SECRET, SPEC_ID, at, SPEC_BODY) == SPEC_SIGNATURE
    # The reference libraries accept the key without its prefix too.
    assert sign(SPEC_SECRET.removeprefix("whsec_"), SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE


def test_spec_vector_verifies() -> None:
    sent = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TS),
        "webhook-signature": SPEC_SIGNATURE,
    }
    now = datetime.fromtimestamp(SPEC_TS, UTC) + timedelta(seconds=30)
    assert verify(SPEC_SECRET, sent, SPEC_BODY, now=now) == VerifiedWebhook(
        SPEC_ID, datetime.fromtimestamp(SPEC_TS, UTC)
    )


def test_signature_is_hmac_sha256_of_id_timestamp_body(secret: str) -> None:
    """Computed independently, as a receiver in another language would."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, b"msg_1.1614265330." + BODY, hashlib.sha256).digest()
    assert sign(secret, "msg_1", 1614265330, BODY) == "v1," + base64.b64encode(mac).decode()


def test_round_trip(secret: str) -> None:
    sent = headers(secret, "msg_abc", AT, BODY)
    assert sent["webhook-timestamp"] == str(int(AT.timestamp()))
    assert verify(secret, sent, BODY, now=AT + timedelta(seconds=3)) == VerifiedWebhook(
        "msg_abc", AT
    )


def test_header_names_are_case_insensitive(secret: str) -> None:
    sent = headers(secret, "msg_abc", AT, BODY)
    assert verify(secret, httpx.Headers(sent), BODY, now=AT)
    title_case = {name.title(): value for name, value in sent.items()}
    assert verify(secret, title_case, BODY, now=AT)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("webhook-id", "msg_other"),
        ("webhook-timestamp", str(int(AT.timestamp()) + 1)),
        ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    ],
)
def test_tampered_headers_are_rejected(secret: str, header: str, value: str) -> None:
    sent = {**headers(secret, "msg_abc", AT, BODY), header: value}
    with pytest.raises(WebhookVerificationError, match="no webhook-signature matches") as info:
        verify(secret, sent, BODY, now=AT)
    assert not isinstance(info.value, WebhookTimestampError)


@pytest.mark.parametrize("body", [BODY + b" ", BODY.replace(b"tesla", b"teslb"), b"", BODY.upper()])
def test_tampered_body_is_rejected(secret: str, body: bytes) -> None:
    sent = headers(secret, "msg_abc", AT, BODY)
    with pytest.raises(WebhookVerificationError):
        verify(secret, sent, body, now=AT)


def test_wrong_secret_is_rejected(secret: str) -> None:
    sent = headers(secret, "msg_abc", AT, BODY)
    with pytest.raises(WebhookVerificationError):
        verify(generate_secret(), sent, BODY, now=AT)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(minutes=5), True),
        (-timedelta(minutes=5), True),
        (timedelta(minutes=5, seconds=1), False),  # the timestamp is 5 min 1 s old: replay
        (-timedelta(minutes=5, seconds=1), False),  # from the future
        (timedelta(days=3), False),
    ],
)
def test_replay_window(secret: str, offset: timedelta, accepted: bool) -> None:
    sent = headers(secret, "msg_abc", AT, BODY)
    if accepted:
        assert verify(secret, sent, BODY, now=AT + offset).msg_id == "msg_abc"
        return
    with pytest.raises(WebhookTimestampError) as info:
        verify(secret, sent, BODY, now=AT + offset)
    assert info.value.timestamp == AT
    assert "tolerance is 300 s" in str(info.value)
    assert isinstance(info.value, WebhookVerificationError)
    assert isinstance(info.value, DetectorError)


def test_tolerance_is_configurable(secret: str) -> None:
    sent = headers(secret, "msg_abc", AT, BODY)
    later = AT + timedelta(seconds=30)
    with pytest.raises(WebhookTimestampError, match="30 s behind"):
        verify(secret, sent, BODY, now=later, tolerance=timedelta(seconds=10))
    assert verify(secret, sent, BODY, now=later, tolerance=timedelta(seconds=30))


def test_forgery_with_old_timestamp_is_a_signature_error(secret: str) -> None:
    """A timestamp error would tell an attacker the rest was fine; it only follows a match."""
    sent = {**headers(secret, "msg_abc", AT, BODY), "webhook-signature": "v1,AAAA"}
    with pytest.raises(WebhookVerificationError) as info:
        verify(secret, sent, BODY, now=AT + timedelta(days=1))
    assert not isinstance(info.value, WebhookTimestampError)


def test_one_valid_signature_among_several(secret: str) -> None:
    valid = sign(secret, "msg_abc", AT, BODY)
    sent = {
        "webhook-id": "msg_abc",
        "webhook-timestamp": str(int(AT.timestamp())),
        # As in the reference tests: other values, another scheme, garbage, then the valid one.
        "webhook-signature": " ".join(
            [
                "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXw==",
                "v1,not-base64!",
                "garbage",
                valid,
                "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            ]
        ),
    }
    assert verify(secret, sent, BODY, now=AT).msg_id == "msg_abc"


def test_only_other_schemes_do_not_verify(secret: str) -> None:
    signature = sign(secret, "msg_abc", AT, BODY).replace("v1,", "v1a,")
    sent = {**headers(secret, "msg_abc", AT, BODY), "webhook-signature": signature}
    with pytest.raises(WebhookVerificationError, match="0 v1 signature"):
        verify(secret, sent, BODY, now=AT)


def test_key_rotation() -> None:
    old, new = generate_secret(), generate_secret()
    sent = headers([new, old], "msg_abc", AT, BODY)
    assert len(sent["webhook-signature"].split()) == 2
    # Receivers that still hold the old secret, already hold the new one, or hold both.
    for receiver in (old, new, [old, new]):
        assert verify(receiver, sent, BODY, now=AT).msg_id == "msg_abc"
    # A sender that switched to the new secret reaches receivers that hold both.
    assert verify([old, new], headers(new, "msg_abc", AT, BODY), BODY, now=AT)
    with pytest.raises(WebhookVerificationError, match="against 1 secret"):
        verify(old, headers(new, "msg_abc", AT, BODY), BODY, now=AT)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(secret: str, missing: str) -> None:
    sent = headers(secret, "msg_abc", AT, BODY)
    del sent[missing]
    with pytest.raises(WebhookVerificationError, match=f"missing {missing}"):
        verify(secret, sent, BODY, now=AT)
    with pytest.raises(WebhookVerificationError, match=f"missing {missing}"):
        verify(secret, {**sent, missing: ""}, BODY, now=AT)


@pytest.mark.parametrize(
    "timestamp", ["hello", "1.5", "+1772366400", " 1772366400", "1_772_366_400", "١٢", "9" * 30]
)
def test_malformed_timestamp(secret: str, timestamp: str) -> None:
    sent = {**headers(secret, "msg_abc", AT, BODY), "webhook-timestamp": timestamp}
    with pytest.raises(WebhookVerificationError, match="Unix seconds"):
        verify(secret, sent, BODY, now=AT)


def test_generate_secret() -> None:
    secrets = {generate_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(s.startswith("whsec_") and len(secret_key(s)) == 32 for s in secrets)
    assert len(secret_key(generate_secret(24))) == 24
    for size in (0, 16, 23, 65):
        with pytest.raises(ValueError, match="24 to 64"):
            generate_secret(size)


@pytest.mark.parametrize("bad", ["", "whsec_", "whsec_not base64!", "whsec_@@@@"])
def test_malformed_secret(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        sign(bad, "msg_1", AT, BODY)
    if len(bad) > len("whsec_"):
        assert bad.removeprefix("whsec_") not in str(info.value)  # the secret is not echoed


def test_no_secrets_at_all() -> None:
    with pytest.raises(ConfigError, match="at least one"):
        headers([], "msg_1", AT, BODY)


def test_unpadded_secret_is_accepted() -> None:
    padded = generate_secret(25)  # 25 bytes need padding in base64
    assert padded.endswith("=")
    assert secret_key(padded.rstrip("=")) == secret_key(padded)


@pytest.mark.parametrize("msg_id", ["", "msg.1", "a.b.c"])
def test_message_id_must_not_contain_the_separator(secret: str, msg_id: str) -> None:
    with pytest.raises(ValueError, match="webhook id"):
        sign(secret, msg_id, AT, BODY)


def test_negative_unix_time_is_rejected(secret: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        sign(secret, "msg_1", -1, BODY)


def test_naive_datetimes_are_rejected(secret: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        headers(secret, "msg_1", datetime(2026, 1, 1), BODY)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(secret, headers(secret, "msg_1", AT, BODY), BODY, now=datetime(2026, 1, 1))


def test_message_id_is_stable_and_signable(secret: str) -> None:
    event_id = "x.com:20211119T2000Z:incident.updated:20211119T2010Z:severity major -> critical"
    msg_id = message_id(event_id)
    assert msg_id == message_id(event_id)
    assert msg_id != message_id(event_id + "!")
    assert msg_id.startswith("msg_") and "." not in msg_id and msg_id.isascii()
    assert verify(secret, headers(secret, msg_id, AT, BODY), BODY, now=AT).msg_id == msg_id


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=256), flip=st.integers(min_value=0))
def test_any_body_round_trips_and_any_flipped_byte_fails(body: bytes, flip: int) -> None:
    secret = SPEC_SECRET
    sent = headers(secret, "msg_prop", AT, body)
    assert verify(secret, sent, body, now=AT).msg_id == "msg_prop"
    if body:
        i = flip % len(body)
        tampered = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        with pytest.raises(WebhookVerificationError):
            verify(secret, sent, tampered, now=AT)
