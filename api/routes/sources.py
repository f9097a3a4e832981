"""``/v1/sources``: the live sources' health, so that silence is never read as "no outage"."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from api.deps import StoreDep
from api.schemas_sources import IntakeOut, SourceGapOut, SourceList, SourceOut
from detector.clock import Clock
from detector.ingest.live.manager import LiveSources
from detector.store.sources import gaps_between

router = APIRouter(prefix="/v1/sources", tags=["sources"])

_RECENT = timedelta(hours=24)


@router.get("", summary="Live sources and their health")
def list_sources(request: Request, store: StoreDep) -> SourceList:
    """Each live source this server runs: its status, last post, posts per minute, errors and
    lag; the intake's queue; which server process reads them; and the spans (gaps) in which
    sources were silent or failing."""
    live: LiveSources | None = getattr(request.app.state, "live", None)
    clock: Clock = request.app.state.clock
    now = clock.now()
    with store.engine.connect() as conn:
        gaps = gaps_between(conn, now - _RECENT, now)
    return SourceList(
        reader=live.reader if live is not None else None,
        reading_here=live.reading if live is not None else False,
        sources=[SourceOut.of(h) for h in live.health()] if live is not None else [],
        intake=IntakeOut.of(live.intake_stats()) if live is not None and live.reading else None,
        gaps=[SourceGapOut.of(g) for g in reversed(gaps)],
    )
