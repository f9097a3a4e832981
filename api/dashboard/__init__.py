"""The operators' dashboard: one HTML page at ``/`` and its static assets at ``/static``.

Everything it shows comes from the public ``/v1`` API, fetched by the page itself and asked
again every ``dashboard_refresh_seconds`` (answers that did not change come back as ``304``
through the read cache's ETags). The assets are plain files shipped in the package: no build
step, nothing fetched from another host, so the page works where the server only reaches
loopback. The page's Content-Security-Policy allows nothing but this server.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "router", "static_files"]

STATIC_DIR = Path(str(resources.files(__package__) / "static"))
_REFRESH_MARK = "__REFRESH_SECONDS__"
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is tiny; asking again each time means a new release is never half-loaded.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@cache
def _page() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    """The dashboard page, told how often to refresh."""
    refresh = request.app.state.settings.dashboard_refresh_seconds
    html = _page().replace(_REFRESH_MARK, f"{refresh:g}")
    return HTMLResponse(html, headers=_SECURITY_HEADERS)


def static_files() -> StaticFiles:
    """The dashboard's scripts and styles (ETag and Last-Modified from the files)."""
    return StaticFiles(directory=STATIC_DIR)
