"""Every error the API answers is ``application/problem+json`` (RFC 9457).

HTTP errors (unknown route, wrong method, ``HTTPException`` raised by a route) keep
``type: about:blank`` with the status phrase as title. Request validation failures are 422
with an ``errors`` member listing each field (``loc``, ``msg``, ``type``). Library errors are
mapped here, and only here, onto statuses; their type URIs start with ``PROBLEM_TYPE``:

=====================  ======  ======================
library error          status  type suffix
=====================  ======  ======================
QueryError             422     ``invalid-parameters`` (``errors``: the query parameter)
InvalidWebhook         422     ``invalid-parameters`` (``errors``: the body field)
UnknownService         404     ``unknown-service``
RecordError            422     ``invalid-record``
UnsafeURLError         422     ``unsafe-url``
HostResolutionError    422     ``unresolvable-host``
WebhookVerification…   400     ``invalid-signature``
StoreError             503     ``store-unavailable``
ModelError             503     ``model-unavailable``
any other              500     ``internal-error``
=====================  ======  ======================

A 5xx never carries the library's message (it can name files, hosts or SQL); the server log
does. Anything unhandled is a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.schemas import Problem, ValidationProblem
from detector.errors import (
    DetectorError,
    HostResolutionError,
    InvalidWebhook,
    ModelError,
    QueryError,
    RecordError,
    StoreError,
    UnknownService,
    UnsafeURLError,
    WebhookVerificationError,
)

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE",
    "PlainErrorsAsProblems",
    "ProblemResponse",
    "install_problem_handlers",
    "problem",
    "problem_responses",
    "use_problem_media_type",
]

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Prefix of our problem type URIs (URNs: stable names, not pages to fetch).
PROBLEM_TYPE = "urn:problem-type:outage-radar:"

_LIBRARY: Sequence[tuple[type[DetectorError], int, str]] = (
    (QueryError, 422, "invalid-parameters"),
    (UnknownService, 404, "unknown-service"),
    (RecordError, 422, "invalid-record"),
    (UnsafeURLError, 422, "unsafe-url"),
    (HostResolutionError, 422, "unresolvable-host"),
    (WebhookVerificationError, 400, "invalid-signature"),
    (StoreError, 503, "store-unavailable"),
    (ModelError, 503, "model-unavailable"),
)
_FIELD_PROBLEM = f"{PROBLEM_TYPE}invalid-parameters"


class ProblemResponse(JSONResponse):
    """A JSON response with the problem media type."""

    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    *,
    detail: str | None = None,
    type_: str = "about:blank",
    title: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """Build a problem response; ``title`` defaults to the status phrase.

    Examples
    --------
    >>> problem(404, detail="no such incident").body
    b'{"type":"about:blank","title":"Not Found","status":404,"detail":"no such incident"}'
    """
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update(extensions)
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DetectorError, _library_error)
    app.add_exception_handler(Exception, _unhandled)


class PlainErrorsAsProblems:
    """Turn the plain-text errors that framework layers answer by themselves (the request body
    limit's 413, for one) into problems; only those few small bodies are buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, rewriting a plain-text error response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None

        async def rewrite(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                kind = Headers(raw=message.get("headers", [])).get("content-type", "")
                if message["status"] >= 400 and kind.startswith("text/plain"):
                    held = message
                    return
            elif held is not None:
                if message.get("more_body", False):
                    return
                status = int(held["status"])
                answer = problem(status, instance=scope.get("path"))
                await answer(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, rewrite)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for a route's error statuses (422 lists field errors)."""
    return {
        status: {
            "model": ValidationProblem if status == 422 else Problem,
            "description": HTTPStatus(status).phrase,
        }
        for status in statuses
    }


def use_problem_media_type(schema: dict[str, Any]) -> dict[str, Any]:
    """Document error responses of an OpenAPI document under the problem media type (FastAPI
    lists every response model under ``application/json``)."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return schema


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette's Allow names the methods of the first route on the path only; a path
        # served by two routes (GET and POST /v1/posts) must list both.
        headers["Allow"] = ", ".join(_methods_of(request))
    return problem(exc.status_code, detail=detail, instance=request.url.path, headers=headers)


def _methods_of(request: Request) -> list[str]:
    # Asked through the routes' own matching (routers included with a body limit are not
    # plain routes), one method at a time.
    allowed = []
    for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _invalid_request(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where, what and why: echoing the input back could return kilobytes, or secrets.
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
        for e in exc.errors()
    ]
    return _field_problem(request, errors)


async def _library_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, DetectorError)
    if isinstance(exc, QueryError | InvalidWebhook):
        loc = ["query", exc.param] if isinstance(exc, QueryError) else ["body", exc.field]
        msg = exc.message
        return _field_problem(request, [{"loc": loc, "msg": msg, "type": "value_error"}])
    status, kind = next(
        ((code, kind) for cls, code, kind in _LIBRARY if isinstance(exc, cls)),
        (500, "internal-error"),
    )
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
        detail = "The server cannot answer this now; the cause is in its log."
    else:
        detail = str(exc)
    return problem(status, detail=detail, type_=PROBLEM_TYPE + kind, instance=request.url.path)


async def _unhandled(request: Request, exc: Exception) -> ProblemResponse:  # noqa: ARG001
    # Not logged here: Starlette re-raises after this answer so the server logs the traceback.
    return problem(
        500,
        detail="The server failed to answer; the error is logged.",
        instance=request.url.path,
    )


def _field_problem(request: Request, errors: list[dict[str, Any]]) -> ProblemResponse:
    fields = ", ".join(".".join(str(part) for part in e["loc"]) for e in errors[:5])
    return problem(
        422,
        detail=f"Invalid request: {fields}." if fields else "Invalid request.",
        type_=_FIELD_PROBLEM,
        title="Invalid request parameters",
        instance=request.url.path,
        errors=errors,
    )
