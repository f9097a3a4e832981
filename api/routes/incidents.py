"""``/v1/incidents``: the incidents the detector raised."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from api.deps import StoreDep, UtcDatetime, Word
from api.problems import problem_responses
from api.schemas import IncidentDetail, IncidentList, IncidentStatus, IncidentSummary
from detector.store import queries

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])


@router.get("", responses=problem_responses(422, 503), summary="List incidents")
def list_incidents(
    store: StoreDep,
    status: Annotated[IncidentStatus | None, Query(description="open or resolved.")] = None,
    service: Annotated[Word | None, Query(description="Service slug.")] = None,
    country: Annotated[
        str | None,
        Query(
            pattern="^[A-Za-z]{2}$",
            description="ISO 3166-1 alpha-2: incidents with reports from writers located there.",
        ),
    ] = None,
    since: Annotated[
        UtcDatetime | None, Query(description="Incidents still open or ended after this time.")
    ] = None,
    until: Annotated[
        UtcDatetime | None, Query(description="Incidents started before this.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="``next_cursor`` of the previous page.")
    ] = None,
) -> IncidentList:
    """Incidents, newest start first, a page at a time (follow ``next_cursor``)."""
    page = queries.incident_page(
        store.engine,
        status=status,
        service=service,
        country=country.upper() if country else None,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return IncidentList(
        items=[IncidentSummary.from_summary(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{incident_id}", responses=problem_responses(404, 422, 503), summary="Get one incident"
)
def get_incident(
    store: StoreDep, incident_id: Annotated[str, Path(min_length=1, max_length=300)]
) -> IncidentDetail:
    """The whole incident: its minute-by-minute observed-vs-expected series, where the reports
    came from, what they say, and an explanation."""
    record = queries.incident_record(store.engine, incident_id)
    if record is None:
        raise HTTPException(404, detail=f"no incident with id {incident_id!r}")
    return IncidentDetail.from_record(record)
