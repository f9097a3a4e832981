"""Read queries behind the REST API (and anything else that wants them): pages of incidents and
posts, the state of every service, a service's counts against its baseline, and the detector's
progress.

Pure functions of an ``Engine``, portable between SQLite and PostgreSQL, one module per subject
(``incidents``, ``posts``, ``services``, ``evidence``, ``timeseries``, ``status``), all
importable from here.
Lists are paged by keyset (``WHERE (start, id) < (last start, last id)``) rather than offset, so
a page costs the same however deep it is and rows added meanwhile neither repeat nor vanish;
the cursor handed back is opaque (base64url of the last row's sort key) and only meaningful to
the same list. Database failures surface as ``StoreError``; bad parameters as ``QueryError``.
"""

from __future__ import annotations

from detector.store.queries._common import MAX_LIMIT, Page
from detector.store.queries.evidence import ServiceEvidence, service_evidence
from detector.store.queries.incidents import (
    IncidentRecord,
    IncidentSummaryRecord,
    incident_page,
    incident_record,
    open_incident_counts,
)
from detector.store.queries.posts import AnnotationSummary, PostRecord, post_page
from detector.store.queries.services import (
    ServicesOverview,
    ServiceStatus,
    service_sparklines,
    service_statuses,
)
from detector.store.queries.status import DetectorStatus, check_database, detector_status
from detector.store.queries.timeseries import (
    BUCKET_MINUTES,
    CARRY_EXPECTED_MINUTES,
    MAX_BUCKETS,
    SeriesBucket,
    Timeseries,
    service_timeseries,
)

__all__ = [
    "BUCKET_MINUTES",
    "CARRY_EXPECTED_MINUTES",
    "MAX_BUCKETS",
    "MAX_LIMIT",
    "AnnotationSummary",
    "DetectorStatus",
    "IncidentRecord",
    "IncidentSummaryRecord",
    "Page",
    "PostRecord",
    "SeriesBucket",
    "ServiceEvidence",
    "ServiceStatus",
    "ServicesOverview",
    "Timeseries",
    "check_database",
    "detector_status",
    "incident_page",
    "incident_record",
    "open_incident_counts",
    "post_page",
    "service_evidence",
    "service_sparklines",
    "service_statuses",
    "service_timeseries",
]
