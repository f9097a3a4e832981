"""The API's routers, in the order ``create_app`` includes them.

Each router carries its own prefix (``APIRouter(prefix=...)``) so the route templates the
metrics see are complete.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.metrics import router as metrics
from api.routes.analyze import router as analyze
from api.routes.health import router as health
from api.routes.incidents import router as incidents
from api.routes.ingest import router as ingest
from api.routes.posts import router as posts
from api.routes.services import router as services
from api.routes.sources import router as sources
from api.routes.webhooks import router as webhooks

__all__ = ["READ_ROUTERS", "ROUTERS"]

#: Routers answering reads: open to all when ``public_reads`` is on, else keyed.
READ_ROUTERS: tuple[APIRouter, ...] = (incidents, services, posts, analyze, sources)
#: Every router; the writes (``ingest``, ``webhooks``) check keys themselves.
ROUTERS: tuple[APIRouter, ...] = (
    incidents,
    services,
    posts,
    sources,
    ingest,
    analyze,
    webhooks,
    health,
    metrics,
)
