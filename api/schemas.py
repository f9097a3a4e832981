"""Request and response bodies of the REST API, with examples so the OpenAPI document is complete.

Each ``from_*`` classmethod maps a library result onto its schema; routes do nothing else.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs this one below Python 3.12

from api.schemas_sources import SourceGapOut
from detector.nlp.analyzer import Annotation
from detector.store.queries import (
    DetectorStatus,
    IncidentRecord,
    IncidentSummaryRecord,
    PostRecord,
    ServiceStatus,
    Timeseries,
)

ServiceState = Literal["ok", "possible problems", "problems"]


class BucketSize(IntEnum):
    """Timeseries bucket sizes, in minutes."""

    one = 1
    five = 5
    fifteen = 15
    sixty = 60


IncidentStatus = Literal["open", "resolved"]
Severity = Literal["minor", "major", "critical"]

_TESLA = "tesla:20211119T2100Z"
_CURSOR = "WyJpbmNpZGVudHMiLCIyMDIxLTExLTE5VDIxOjAwOjAwKzAwOjAwIiwidGVzbGE6MjAyMTExMTlUMjEwMFoiXQ"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- problems (RFC 9457) -------------------------------------------------------------------------


class Problem(_Out):
    """An error, as ``application/problem+json`` (RFC 9457); extra members may follow."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(ge=400, le=599, examples=[404])
    detail: str | None = Field(None, examples=[f"no incident with id '{_TESLA}x'"])
    instance: str | None = Field(None, examples=[f"/v1/incidents/{_TESLA}x"])


class FieldError(_Out):
    """One invalid parameter or body field."""

    loc: list[str | int] = Field(examples=[["query", "limit"]])
    msg: str = Field(examples=["Input should be less than or equal to 500"])
    type: str = Field(examples=["less_than_equal"])


class ValidationProblem(Problem):
    """A request whose parameters or body do not validate; ``errors`` lists each field."""

    errors: list[FieldError]


# --- incidents -----------------------------------------------------------------------------------


class Peak(_Out):
    """The window of the incident with the most reports."""

    at: datetime | None = Field(examples=["2021-11-19T21:46:00Z"])
    observed: float = Field(examples=[246.0])
    expected: float = Field(examples=[0.272])
    ratio: float = Field(examples=[904.41])
    window_minutes: int = Field(examples=[15])


class SeriesPoint(_Out):
    """One minute of the incident's chart: reports counted against the baseline."""

    at: datetime = Field(examples=["2021-11-19T21:00:00Z"])
    observed: float = Field(examples=[12.0])
    expected: float = Field(examples=[0.0159])


class Ranked(_Out):
    """A symptom, error message or feature, and the share of reports naming it."""

    name: str = Field(examples=["500 server error"])
    count: int = Field(examples=[676])
    share: float = Field(examples=[0.345])


class CountryShare(_Out):
    """A country (ISO 3166-1 alpha-2) and the share of located reports written there."""

    country: str = Field(examples=["US"])
    count: int = Field(examples=[919])
    share: float = Field(examples=[0.64])


class SourceCount(_Out):
    """Reports per source."""

    source: str = Field(examples=["twitter"])
    count: int = Field(examples=[1962])


class EvidencePost(_Out):
    """A representative report."""

    id: str = Field(examples=["twitter:1461814078373534350"])
    text: str | None = Field(examples=["can't sign in to tesla app, just 500 server error??"])
    created_at: datetime | None = Field(examples=["2021-11-19T21:50:10Z"])
    country: str | None = Field(examples=["US"])
    source: str | None = Field(examples=["twitter"])
    url: str | None = Field(examples=["https://twitter.com/someone/status/1461814078373534350"])


class Evidence(_Out):
    """What the counted reports of the incident say."""

    reports: int = Field(0, examples=[1962])
    symptoms: list[Ranked] = []
    errors: list[Ranked] = []
    features: list[Ranked] = []
    countries: list[CountryShare] = []
    located: int = Field(0, examples=[1435])
    sources: list[SourceCount] = []
    posts: list[EvidencePost] = []
    source_gaps: list[SourceGapOut] = Field(
        [],
        description="Live sources silent or failing during the incident: its counts may be low.",
    )


class IncidentSummary(_Out):
    """An incident in a list: what, when, how bad, where (no series, no sample posts)."""

    id: str = Field(examples=[_TESLA])
    service: str = Field(examples=["tesla"])
    status: IncidentStatus
    severity: Severity
    peak_severity: Severity
    start: datetime = Field(examples=["2021-11-19T21:00:00Z"])
    detected_at: datetime = Field(examples=["2021-11-19T21:06:00Z"])
    end: datetime | None = Field(examples=["2021-11-20T01:58:00Z"])
    updated_at: datetime = Field(examples=["2021-11-20T02:00:00Z"])
    peak: Peak
    confidence: float = Field(examples=[1.0])
    min_p_value: float = Field(examples=[3.49e-205])
    observed_total: float = Field(examples=[1965.0])
    expected_total: float = Field(examples=[6.965])
    reopened: int = Field(examples=[0])
    reports: int = Field(examples=[1962])
    countries: list[str] = Field(
        description="Where located writers were, most reports first (at most 5).",
        examples=[["US", "CA", "KR", "AU", "GB"]],
    )
    explanation: str = Field(
        examples=["1965 outage reports about tesla since 2021-11-19 21:00 UTC against 7.0 ..."]
    )

    @classmethod
    def from_summary(cls, record: IncidentSummaryRecord) -> IncidentSummary:
        """Map a stored incident's summary."""
        return cls.model_validate(
            {**record.data, "reports": record.reports, "countries": record.countries[:5]}
        )


class IncidentDetail(IncidentSummary):
    """The whole incident: its observed-vs-expected series and the evidence behind it."""

    series: list[SeriesPoint]
    evidence: Evidence

    @classmethod
    def from_record(cls, record: IncidentRecord) -> IncidentDetail:
        """Map a stored incident."""
        data = record.as_dict()
        evidence = data["evidence"]
        return cls.model_validate(
            {
                **data,
                "reports": evidence.get("reports", 0),
                "countries": [c["country"] for c in evidence.get("countries", [])[:5]],
            }
        )


class IncidentList(_Out):
    """A page of incidents, newest start first."""

    items: list[IncidentSummary]
    next_cursor: str | None = Field(
        description="Pass as ``cursor`` for the next page; null on the last page.",
        examples=[_CURSOR],
    )


# --- services ------------------------------------------------------------------------------------


class ServiceOut(_Out):
    """A service as a status page shows it."""

    service: str = Field(examples=["tesla"])
    name: str | None = Field(
        description="Catalog name; null outside the catalog.", examples=["Tesla"]
    )
    state: ServiceState
    reports_last_hour: int = Field(
        description="Counted reports (first per author) in the hour up to ``as_of``.", examples=[7]
    )
    complaints_last_hour: int = Field(
        description="All complaints in that hour, repeats included.", examples=[9]
    )
    last_report_at: datetime | None = Field(
        description="Minute of the latest complaint.", examples=["2021-11-21T23:48:00Z"]
    )
    open_incident: str | None = Field(examples=[_TESLA])
    sparkline: list[int] | None = Field(
        None,
        description="Counted reports per hour, oldest first, over the ``sparkline_hours`` "
        "hours up to ``as_of`` (only when asked for).",
        examples=[[0, 1, 0, 0, 2, 512]],
    )

    @classmethod
    def from_status(
        cls, status: ServiceStatus, name: str | None, sparkline: list[int] | None = None
    ) -> ServiceOut:
        """Map a service's status."""
        return cls.model_validate(
            {**asdict(status), "name": name, "state": _state(status.state), "sparkline": sparkline}
        )


class ServiceDetail(ServiceOut):
    """A service as its status page shows it: its state, and what its reports said over a
    span (by default the 24 hours up to the newest post)."""

    as_of: datetime | None = Field(
        description="End of the detector's latest scored minute (data time).",
        examples=["2021-11-22T00:00:00Z"],
    )
    since: datetime = Field(examples=["2021-11-21T00:00:00Z"])
    until: datetime = Field(examples=["2021-11-22T00:00:00Z"])
    evidence: Evidence


class ServiceList(_Out):
    """Every service with complaints or incidents, worst state first."""

    as_of: datetime | None = Field(
        description="End of the detector's latest scored minute (data time).",
        examples=["2021-11-22T00:00:00Z"],
    )
    items: list[ServiceOut]


class Bucket(_Out):
    """Counted reports in one bucket against the baseline's expectation."""

    start: datetime = Field(examples=["2021-11-19T21:00:00Z"])
    reports: int = Field(examples=[512])
    expected: float | None = Field(
        description="Baseline summed over the minutes that have one; null when none has.",
        examples=[0.95],
    )
    expected_minutes: int = Field(
        description="Minutes of the bucket with a baseline.", examples=[60]
    )
    state: ServiceState = Field(description="Worst state the detector scored in the bucket.")


class TimeseriesOut(_Out):
    """A service's reports per bucket from ``since`` (inclusive) to ``until`` (exclusive)."""

    service: str = Field(examples=["tesla"])
    bucket_minutes: Literal[1, 5, 15, 60] = Field(examples=[60])
    since: datetime = Field(examples=["2021-11-19T00:00:00Z"])
    until: datetime = Field(examples=["2021-11-20T00:00:00Z"])
    buckets: list[Bucket]

    @classmethod
    def json_from_series(cls, series: Timeseries) -> bytes:
        """A library timeseries as the JSON of this model: the same bytes as serializing
        the model, without building it.

        A day of minutes is 1,440 buckets, and a model per bucket (with its validation and the
        garbage collections that so many objects set off) cost more than the query; plain
        dicts go to pydantic's serializer through a ``TypedDict`` mirror of the model.
        """
        columns = zip(
            series.starts,
            series.reports,
            series.expected,
            series.expected_minutes,
            series.states,
            strict=True,
        )
        buckets: list[_BucketJson] = [
            {
                "start": start,
                "reports": reports,
                "expected": expected,
                "expected_minutes": minutes,
                "state": _STATE_LABELS[state],
            }
            for start, reports, expected, minutes, state in columns
        ]
        return _TIMESERIES_JSON.dump_json(
            {
                "service": series.service,
                "bucket_minutes": series.bucket_minutes,
                "since": series.since,
                "until": series.until,
                "buckets": buckets,
            }
        )


class _BucketJson(TypedDict):
    """``Bucket`` as written out by ``TimeseriesOut.json_from_series``."""

    start: datetime
    reports: int
    expected: float | None
    expected_minutes: int
    state: ServiceState


class _TimeseriesJson(TypedDict):
    """``TimeseriesOut`` as written out by ``TimeseriesOut.json_from_series``."""

    service: str
    bucket_minutes: int
    since: datetime
    until: datetime
    buckets: list[_BucketJson]


_TIMESERIES_JSON = TypeAdapter(_TimeseriesJson)


# --- posts ---------------------------------------------------------------------------------------


class AnnotationOut(_Out):
    """What the analyzer found in a stored post, short."""

    outage_probability: float = Field(ge=0, le=1, examples=[0.8912])
    is_outage: bool
    services: list[str] = Field(examples=[["tesla"]])
    symptoms: list[str] = Field(examples=[["error_message"]])
    errors: list[str] = Field(examples=[["500 server error"]])
    features: list[str] = Field(examples=[["unlock"]])
    recovered: bool
    country: str | None = Field(examples=["KR"])


class PostOut(_Out):
    """A stored post with its annotation (null: too unlikely a complaint to be annotated)."""

    id: str = Field(examples=["twitter:1461814078373534350"])
    source_kind: str = Field(examples=["twitter"])
    source_name: str = Field(examples=["twitter"])
    created_at: datetime = Field(examples=["2021-11-19T21:50:10Z"])
    text: str = Field(examples=["can't sign in to tesla app, just 500 server error??"])
    lang: str | None = Field(examples=["en"])
    author_handle: str | None = Field(examples=["someone"])
    url: str | None = Field(examples=["https://twitter.com/someone/status/1461814078373534350"])
    reply_to: str | None = Field(examples=[None])
    quote_of: str | None = Field(examples=[None])
    repost_of: str | None = Field(examples=[None])
    annotation: AnnotationOut | None

    @classmethod
    def from_record(cls, post: PostRecord) -> PostOut:
        """Map a stored post."""
        return cls.model_validate(asdict(post))


class PostList(_Out):
    """A page of posts, newest first."""

    items: list[PostOut]
    next_cursor: str | None = Field(
        description="Pass as ``cursor`` for the next page; null on the last page.",
        examples=[None],
    )


# --- analyze -------------------------------------------------------------------------------------

Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000, pattern=r"\S")]


class AnalyzeRequest(BaseModel):
    """Texts to annotate; nothing is stored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"texts": ["tesla app down? 500 server error here in Seoul"]}]
        },
    )

    texts: list[Text] = Field(min_length=1, max_length=1000)


class ServiceMentionOut(_Out):
    """A service named in the text (``start``/``end`` are offsets; 0 when inherited)."""

    slug: str = Field(examples=["tesla"])
    surface: str = Field(examples=["tesla app"])
    start: int = Field(examples=[0])
    end: int = Field(examples=[9])
    kind: str = Field(examples=["alias"])
    ambiguous: bool = False


class ErrorMentionOut(_Out):
    """An error message or code; ``normalized`` is what incidents count by."""

    kind: Literal["http", "code", "message"]
    normalized: str = Field(examples=["500 server error"])
    start: int = Field(examples=[15])
    end: int = Field(examples=[31])
    surface: str = Field(examples=["500 server error"])


class FeatureMentionOut(_Out):
    """A feature of the service said not to work."""

    feature: str = Field(examples=["unlock"])
    start: int = Field(examples=[10])
    end: int = Field(examples=[16])
    surface: str = Field(examples=["unlock"])


class LocationOut(_Out):
    """A place found in the post; ``writer`` says whether it is where the writer is."""

    source: str = Field(examples=["text"])
    type: str = Field(examples=["city"])
    surface: str = Field(examples=["Seoul"])
    country: str = Field(examples=["KR"])
    admin1: str | None = Field(examples=["KR-11"])
    city: str | None = Field(examples=["Seoul"])
    lat: float | None = Field(examples=[37.566])
    lon: float | None = Field(examples=[126.9784])
    confidence: float = Field(examples=[0.9])
    writer: bool
    start: int | None = Field(None, examples=[40])
    end: int | None = Field(None, examples=[45])


class AnalysisOut(_Out):
    """Everything the analyzer found in one text."""

    index: int = Field(description="Position of the text in the request.", examples=[0])
    outage_probability: float = Field(ge=0, le=1, examples=[0.93])
    is_outage: bool
    services: list[ServiceMentionOut]
    symptoms: list[str] = Field(examples=[["down_unavailable", "error_message"]])
    errors: list[ErrorMentionOut]
    features: list[FeatureMentionOut]
    recovered: bool
    locations: list[LocationOut]
    country: str | None = Field(examples=["KR"])

    @classmethod
    def from_annotation(cls, index: int, note: Annotation) -> AnalysisOut:
        """Map an annotation."""
        data: dict[str, Any] = note.as_dict()
        del data["id"]
        return cls.model_validate({**data, "index": index})


class AnalyzeResponse(_Out):
    """One analysis per text, in request order."""

    items: list[AnalysisOut]


# --- health --------------------------------------------------------------------------------------


class DatabaseHealth(_Out):
    """Whether the database answers."""

    ok: bool
    dialect: str = Field(examples=["sqlite"])


class DetectorHealth(_Out):
    """How far the detector has got (data time) and when it last saved (wall time)."""

    watermark: datetime | None = Field(examples=["2021-11-22T00:00:00Z"])
    newest_post: datetime | None = Field(examples=["2021-11-21T23:59:53Z"])
    lag_seconds: float | None = Field(
        description="Stored data not yet scored: newest post minus watermark, at least 0.",
        examples=[0.0],
    )
    updated_at: datetime | None = Field(examples=["2026-01-05T10:00:00Z"])

    @classmethod
    def from_status(cls, status: DetectorStatus) -> DetectorHealth:
        """Map the detector's status."""
        lag = status.lag
        return cls(
            watermark=status.watermark,
            newest_post=status.newest_post,
            lag_seconds=lag.total_seconds() if lag is not None else None,
            updated_at=status.updated_at,
        )


class Health(_Out):
    """The service is up and its database answers."""

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])
    database: DatabaseHealth
    detector: DetectorHealth


_STATE_LABELS: tuple[ServiceState, ...] = ("ok", "possible problems", "problems")


def _state(value: int) -> ServiceState:
    return _STATE_LABELS[value]
