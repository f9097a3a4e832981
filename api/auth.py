"""API keys: who is calling, and whether they may (and may right now).

A key travels as ``Authorization: Bearer <token>`` (or ``X-API-Key: <token>``). Writes and
webhook management always need one; reads need one only when ``public_reads`` is off. A missing
or unknown key is 401; a key over its write rate is 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import ClockDep, SettingsDep, StoreDep
from detector.ratelimit import RateLimiter
from detector.store.apikeys import ApiKey, authenticate

__all__ = ["KeyDep", "WriterDep", "require_key", "writer"]

# auto_error=False: we answer 401 ourselves, as a problem, for both ways of sending a key.
_bearer = HTTPBearer(auto_error=False, description="An API key: `outage-radar apikey create`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same API key.")


def require_key(
    request: Request,
    store: StoreDep,
    clock: ClockDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey:
    """The caller's key; 401 when it is missing, unknown or revoked."""
    token = bearer.credentials if bearer is not None else header
    key = authenticate(store.engine, token, clock.now()) if token else None
    if key is None:
        raise HTTPException(
            status_code=401,
            detail="a valid API key is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": 'Bearer realm="outage-radar"'},
        )
    request.state.api_key = key
    return key


KeyDep = Annotated[ApiKey, Depends(require_key)]


def writer(request: Request, key: KeyDep, settings: SettingsDep) -> ApiKey:
    """The caller's key, for a write: also within its rate (429 with ``Retry-After``)."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        limiter = request.app.state.rate_limiter = RateLimiter(settings.write_rate_per_minute)
    wait = limiter.allow(key.id)
    if wait > 0:
        raise HTTPException(
            status_code=429,
            detail=f"more than {settings.write_rate_per_minute} writes a minute with this key",
            headers={"Retry-After": str(int(wait))},
        )
    return key


WriterDep = Annotated[ApiKey, Depends(writer)]
