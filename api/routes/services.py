"""``/v1/services``: each service's state, and its reports against the baseline over time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response

from api.deps import AnalyzerDep, ClockDep, StoreDep, UtcDatetime
from api.problems import problem_responses
from api.schemas import BucketSize, ServiceDetail, ServiceList, ServiceOut, TimeseriesOut
from detector.errors import UnknownService
from detector.nlp.analyzer import Analyzer
from detector.store import queries

router = APIRouter(prefix="/v1/services", tags=["services"])

# The parameters a service's pages share: its slug, and the span (the day before the newest
# post unless asked otherwise).
ServiceName = Annotated[str, Path(max_length=200, pattern=r"^[^\x00]+$")]
Since = Annotated[UtcDatetime | None, Query(description="Start [default: 24 hours before until].")]
Until = Annotated[
    UtcDatetime | None,
    Query(description="End, exclusive [default: the end of the newest post's minute]."),
]


@router.get("", responses=problem_responses(422, 503), summary="List services and their state")
def list_services(
    store: StoreDep,
    analyzer: AnalyzerDep,
    sparkline_hours: Annotated[
        int,
        Query(
            ge=0,
            le=168,
            description="Add each service's counted reports per hour over this many hours "
            "up to ``as_of`` (0: none).",
        ),
    ] = 0,
) -> ServiceList:
    """Every service with complaints or incidents, worst first.

    ``state`` is the worse of the detector's verdict at its latest scored minute (``as_of``)
    and the service's open incident (``minor``: possible problems; else problems).
    """
    overview = queries.service_statuses(store.engine)
    lines: dict[str, list[int]] = {}
    if sparkline_hours and overview.as_of is not None:
        lines = queries.service_sparklines(
            store.engine,
            [s.service for s in overview.services],
            end=overview.as_of,
            hours=sparkline_hours,
        )
    items = [
        ServiceOut.from_status(s, _catalog_name(analyzer, s.service), lines.get(s.service))
        for s in overview.services
    ]
    return ServiceList(as_of=overview.as_of, items=items)


@router.get(
    "/{name}",
    responses=problem_responses(404, 422, 503),
    summary="Get one service: its state and what its reports say",
)
def get_service(
    store: StoreDep,
    analyzer: AnalyzerDep,
    clock: ClockDep,
    name: ServiceName,
    since: Since = None,
    until: Until = None,
) -> ServiceDetail:
    """The service's state (as in the list) and, over ``since``..``until`` (at most 31 days),
    what its counted reports say: symptoms and error messages with their shares of the
    reports, broken features, the writers' countries and representative posts."""
    found = queries.service_evidence(store.engine, name, since=since, until=until, now=clock.now())
    if found is None:
        raise HTTPException(404, detail=f"no complaints or incidents for service {name!r}")
    overview = queries.service_statuses(store.engine)
    status = next(s for s in overview.services if s.service == name)
    summary = ServiceOut.from_status(status, _catalog_name(analyzer, name))
    return ServiceDetail.model_validate(
        {
            **summary.model_dump(),
            "as_of": overview.as_of,
            "since": found.since,
            "until": found.until,
            "evidence": found.evidence,
        }
    )


def _catalog_name(analyzer: Analyzer, service: str) -> str | None:
    try:
        return analyzer.catalog.by_slug(service).name
    except UnknownService:  # ``unknown:<name>`` services found outside the catalog
        return None


@router.get(
    "/{name}/timeseries",
    response_model=TimeseriesOut,
    responses=problem_responses(404, 422, 503),
    summary="Reports against the baseline",
)
def timeseries(
    store: StoreDep,
    clock: ClockDep,
    name: ServiceName,
    since: Since = None,
    until: Until = None,
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
