"""API keys: created once (the token is shown then and never again), stored as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, select, update

from detector.store.schema import api_keys

__all__ = ["ApiKey", "authenticate", "create_api_key", "list_api_keys", "revoke_api_key"]

_TOKEN_PREFIX = "ora_"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as people see it: never the token, only its first characters."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def create_api_key(engine: Engine, name: str, now: datetime) -> tuple[ApiKey, str]:
    """Create a key named ``name``; return it and its token (the only time the token exists
    outside the caller)."""
    key_id = secrets.token_hex(8)
    token = f"{_TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
    key = ApiKey(key_id, name, token[:12], now, None, None)
    with engine.begin() as conn:
        conn.execute(
            api_keys.insert().values(
                id=key_id, name=name, prefix=key.prefix, token_hash=_hash(token), created_at=now
            )
        )
    return key, token


def authenticate(engine: Engine, token: str, now: datetime) -> ApiKey | None:
    """The live key whose token this is (and note its use), or ``None``."""
    if not token.startswith(_TOKEN_PREFIX):
        return None
    with engine.begin() as conn:
        row = conn.execute(
            select(api_keys).where(
                api_keys.c.token_hash == _hash(token), api_keys.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            return None
        # Coarse on purpose: one write per key per minute at most, not one per request.
        last = row.last_used_at
        if last is None or (now - last).total_seconds() >= 60:
            conn.execute(update(api_keys).where(api_keys.c.id == row.id).values(last_used_at=now))
    return _key(row)


def list_api_keys(engine: Engine) -> list[ApiKey]:
    """Every key, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
        return [_key(row) for row in rows]


def revoke_api_key(engine: Engine, key_id: str, now: datetime) -> bool:
    """Revoke a key; ``False`` when there is no live key with this id."""
    with engine.begin() as conn:
        result = conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return result.rowcount == 1


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(row.id, row.name, row.prefix, row.created_at, row.revoked_at, row.last_used_at)
