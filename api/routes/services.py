"""``/v1/services``: each service's state, and its reports against the baseline over time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response

from api.deps import AnalyzerDep, ClockDep, StoreDep, UtcDatetime
from api.problems import problem_responses
from api.schemas import BucketSize, ServiceList, ServiceOut, TimeseriesOut
from detector.errors import UnknownService
from detector.store import queries

router = APIRouter(prefix="/v1/services", tags=["services"])


@router.get("", responses=problem_responses(503), summary="List services and their state")
def list_services(store: StoreDep, analyzer: AnalyzerDep) -> ServiceList:
    """Every service with complaints or incidents, worst first.

    ``state`` is the worse of the detector's verdict at its latest scored minute (``as_of``)
    and the service's open incident (``minor``: possible problems; else problems).
    """
    overview = queries.service_statuses(store.engine)
    items = []
    for status in overview.services:
        try:
            name: str | None = analyzer.catalog.by_slug(status.service).name
        except UnknownService:  # ``unknown:<name>`` services found outside the catalog
            name = None
        items.append(ServiceOut.from_status(status, name))
    return ServiceList(as_of=overview.as_of, items=items)


@router.get(
    "/{name}/timeseries",
    response_model=TimeseriesOut,
    responses=problem_responses(404, 422, 503),
    summary="Reports against the baseline",
)
def timeseries(
    store: StoreDep,
    clock: ClockDep,
    name: Annotated[str, Path(max_length=200, pattern=r"^[^\x00]+$")],
    since: Annotated[
        UtcDatetime | None, Query(description="Start [default: 24 hours before until].")
    ] = None,
    until: Annotated[
        UtcDatetime | None,
        Query(description="End, exclusive [default: the end of the newest post's minute]."),
    ] = None,
    bucket: Annotated[BucketSize, Query(description="Bucket size in minutes.")] = BucketSize.one,
) -> Response:
    """Counted reports (first per author and service) per bucket, and the baseline's
    expectation for them.

    Buckets are aligned to multiples of their size since 1970-01-01 UTC; ``since`` is rounded
    down and ``until`` up. The baseline is stored for the minutes the detector scored the
    service (while it had recent reports); a minute without one takes the last stored value up
    to 60 minutes later, and has none after that (``expected`` sums what the bucket has, and
    is null when none of its minutes has a baseline; ``expected_minutes`` counts them). At most
    5000 buckets per answer.
    """
    series = queries.service_timeseries(
        store.engine, name, since=since, until=until, bucket=int(bucket), now=clock.now()
    )
    if series is None:
        raise HTTPException(404, detail=f"no complaints or incidents for service {name!r}")
    # Written as JSON here rather than returned as a model for FastAPI to validate and write:
    # the bytes are the same, and a model per bucket cost more than the query.
    return Response(TimeseriesOut.json_from_series(series), media_type="application/json")
