"""Response models of ``GET /v1/sources``: each live source's health, the intake's, and the
spans in which sources were not reporting."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from detector.ingest.live.base import SourceHealth
from detector.ingest.live.intake import IntakeStats
from detector.store.sources import SourceGap

__all__ = ["IntakeOut", "SourceGapOut", "SourceList", "SourceOut"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SourceGapOut(_Out):
    """A span in which a live source was silent or failing: its posts may be missing there."""

    source: str = Field(examples=["bluesky"])
    kind: str = Field(examples=["jetstream"])
    status: Literal["silent", "failing"] = Field(examples=["failing"])
    started_at: datetime = Field(examples=["2021-11-19T21:05:00Z"])
    ended_at: datetime | None = Field(examples=[None], description="None while it lasts.")
    detail: str | None = Field(examples=["ConnectionClosedError: no close frame received"])

    @classmethod
    def of(cls, gap: SourceGap) -> SourceGapOut:
        """From the store's record."""
        return cls(
            source=gap.source,
            kind=gap.kind,
            status=gap.status,  # type: ignore[arg-type]  # the store writes only these two
            started_at=gap.started_at,
            ended_at=gap.ended_at,
            detail=gap.detail,
        )


class SourceOut(_Out):
    """One live source's health.

    ``status``: ``starting`` (not heard from yet), ``ok``, ``silent`` (no post for
    ``silent_after_seconds``), ``failing`` (``failing_after_errors`` failures in a row),
    ``stopped``, or ``standby`` (another server process reads the sources, see ``reader``,
    and has not reported lately). While a source is silent or failing, its share of the counts
    is missing.
    """

    name: str = Field(examples=["bluesky"])
    kind: str = Field(examples=["jetstream"])
    status: Literal["starting", "ok", "silent", "failing", "stopped", "standby"] = Field(
        examples=["ok"]
    )
    connected: bool
    started_at: datetime | None
    last_received_at: datetime | None = Field(
        description="When its server last sent anything (a frame, a heartbeat, an answer)."
    )
    last_post_at: datetime | None = Field(description="Written time of the newest post read.")
    last_post_received_at: datetime | None = Field(description="When it last read a post.")
    posts_total: int = Field(examples=[125310])
    posts_per_minute: float = Field(examples=[412.6], description="Over the last 5 minutes.")
    errors: int
    consecutive_errors: int
    last_error: str | None
    last_error_at: datetime | None
    quarantined: int = Field(description="Malformed frames or records kept aside.")
    skipped: int = Field(description="Frames that are not posts (deletes, likes...).")
    lag_seconds: float | None = Field(description="Now minus the newest post's time.")
    blocked_seconds: float = Field(description="Time it waited for a full intake.")
    as_of: datetime = Field(
        description="When this was measured: now on the reader; on a server standing by, when "
        "the reader last reported (every sources_check_seconds)."
    )

    @classmethod
    def of(cls, health: SourceHealth) -> SourceOut:
        """From a source's health snapshot (its checkpoint is left out: internal)."""
        fields = {name: getattr(health, name) for name in cls.model_fields}
        return cls(**fields)


class IntakeOut(_Out):
    """The queue between the sources and the database."""

    queued_batches: int
    capacity_batches: int
    batches: int
    posts: int
    stored: int = Field(description="Posts that were new to the store.")
    errors: int
    last_error: str | None
    last_error_at: datetime | None
    retrying: bool = Field(description="A batch waits to be stored again after a failure.")
    blocked_seconds: float = Field(description="Time sources waited for room in the queue.")

    @classmethod
    def of(cls, stats: IntakeStats) -> IntakeOut:
        """From the intake's counters."""
        return cls(**{name: getattr(stats, name) for name in cls.model_fields})


class SourceList(_Out):
    """The live sources this server runs (none when it runs none, or its jobs are off).

    One server process per database reads them (``reader``); the others stand by, show the
    health the reader reports through the database (see each source's ``as_of``), and one
    takes over when the reader stops or dies. ``intake`` is the reader's own (None elsewhere).
    """

    reader: str | None = Field(
        examples=["radar-1.example:4242"],
        description="The process (host:pid) that reads the sources; None when none does.",
    )
    reading_here: bool = Field(description="Whether this server process is the reader.")
    sources: list[SourceOut]
    intake: IntakeOut | None
    gaps: list[SourceGapOut] = Field(
        description="Gaps of the last 24 hours and those still open, newest first."
    )
