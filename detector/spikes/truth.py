"""Known incidents (ground truth) and how what a detector raised matches them.

Researchers keep lists of known outages (from official status pages, news, a labelled sample);
``read_truth`` reads them from CSV (``service,start,end``, more columns allowed) and
``match_truth`` says, per known incident, whether an alarm of its service overlapped it, how
late it was detected and how far its start was off, and which alarms match nothing.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from detector.errors import InputError, SourceNotFound

__all__ = ["Alarm", "Truth", "TruthMatch", "match_truth", "read_truth"]

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Truth:
    """A known outage: ``goal`` when it is in the class a goal is set for (in synthetic
    backtests: at least 5x its baseline for at least 10 minutes), ``band`` a label to break
    results down by (the service's base-rate band), ``goal_from`` when it first met the goal
    class's size (a ramp reaches 5x minutes after it starts; ``None``: at the start)."""

    service: str
    start: datetime
    end: datetime
    goal: bool = True
    band: str = ""
    goal_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alarm:
    """What a detector raised: an incident, or a run of states for single-series detectors.

    ``end`` is ``None`` while it is still open.
    """

    service: str
    start: datetime
    end: datetime | None
    detected_at: datetime


@dataclass(frozen=True, slots=True)
class TruthMatch:
    """A known incident and the earliest-detected alarm that overlaps it, if any.

    ``delay`` is minutes from the known start to detection (negative when the detector saw it
    before the known start); ``start_error`` is minutes from the known start to the alarm's
    (back-dated) start.
    """

    truth: Truth
    alarm: Alarm | None

    @property
    def found(self) -> bool:
        """Whether any alarm of the service overlapped the incident."""
        return self.alarm is not None

    @property
    def delay(self) -> float | None:
        """Minutes from the known start to detection."""
        return None if self.alarm is None else (self.alarm.detected_at - self.truth.start) / _MINUTE

    @property
    def start_error(self) -> float | None:
        """Minutes from the known start to the alarm's start."""
        return None if self.alarm is None else (self.alarm.start - self.truth.start) / _MINUTE


def match_truth(
    truth: Sequence[Truth], alarms: Iterable[Alarm], *, until: datetime
) -> tuple[list[TruthMatch], list[Alarm]]:
    """Each known incident with its earliest-detected overlapping alarm, and the alarms that
    overlap no known incident (false alarms, or outages nobody listed). Open alarms (no
    ``end``) last until ``until``.

    Examples
    --------
    >>> t0 = datetime(2021, 11, 19, 21, 0, tzinfo=UTC)
    >>> known = [Truth("tesla", t0, t0 + timedelta(hours=5))]
    >>> raised = [Alarm("tesla", t0, None, t0 + timedelta(minutes=6)),
    ...           Alarm("psn", t0, t0 + _MINUTE, t0 + _MINUTE)]
    >>> matches, unmatched = match_truth(known, raised, until=t0 + timedelta(days=1))
    >>> matches[0].delay, [a.service for a in unmatched]
    (6.0, ['psn'])
    """
    by_service: dict[str, list[Alarm]] = defaultdict(list)
    for alarm in alarms:
        by_service[alarm.service].append(alarm)
    matched: set[int] = set()
    matches = []
    for known in truth:
        hits = [
            alarm
            for alarm in by_service.get(known.service, [])
            if alarm.start < known.end and (alarm.end or until) > known.start
        ]
        matched.update(id(alarm) for alarm in hits)
        first = min(hits, key=lambda alarm: alarm.detected_at, default=None)
        matches.append(TruthMatch(known, first))
    unmatched = [a for mine in by_service.values() for a in mine if id(a) not in matched]
    return matches, unmatched


def read_truth(path: Path) -> list[Truth]:
    """Known incidents from a CSV file with columns ``service``, ``start`` and ``end`` (ISO 8601
    times, UTC when they carry no zone); other columns are ignored.

    Raises
    ------
    SourceNotFound
        When the file does not exist.
    InputError
        When a column is missing or a row is malformed (naming the line and field).
    """
    if not path.is_file():
        raise SourceNotFound(path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"service", "start", "end"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(path, f"line 1: missing column(s) {', '.join(sorted(missing))}")
        out = []
        for row in reader:
            line = reader.line_num
            service = (row["service"] or "").strip()
            if not service:
                raise InputError(path, f"line {line}: field 'service' is empty")
            start, end = (
                _time(path, line, "start", row["start"]),
                _time(path, line, "end", row["end"]),
            )
            if end <= start:
                raise InputError(path, f"line {line}: field 'end' is not after 'start'")
            out.append(Truth(service, start, end))
    return out


def _time(path: Path, line: int, field: str, value: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat((value or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            path, f"line {line}: field {field!r} is not an ISO 8601 time: {value!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
