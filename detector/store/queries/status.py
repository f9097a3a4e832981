"""Whether the database answers, and how far the detector has got."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import orjson
from sqlalchemy import Engine, func, literal, select

from detector.store.queries._common import at_minute, aware, reading
from detector.store.schema import detector_state, posts

__all__ = ["DetectorStatus", "check_database", "detector_status"]


@dataclass(frozen=True, slots=True)
class DetectorStatus:
    """How far the detector has got.

    ``watermark`` is the end of the last minute it scored, ``newest_post`` when the newest
    stored post was written (both in data time), ``updated_at`` when it last saved its state
    (wall time).
    """

    watermark: datetime | None
    newest_post: datetime | None
    updated_at: datetime | None

    @property
    def lag(self) -> timedelta | None:
        """How much stored data the detector has not scored yet (zero when it has caught up;
        None before it first ran or while nothing is stored)."""
        if self.newest_post is None or self.watermark is None:
            return None
        return max(timedelta(0), self.newest_post - self.watermark)


def check_database(engine: Engine) -> None:
    """Run a trivial query; raise ``StoreError`` when the database does not answer."""
    with reading(engine, "reach the database") as conn:
        conn.execute(select(literal(1))).one()


def detector_status(engine: Engine, *, name: str = "default") -> DetectorStatus:
    """Where detector ``name`` stands; see ``DetectorStatus``.

    Examples
    --------
    >>> from detector.store.sql import SqlStore
    >>> detector_status(SqlStore("sqlite://").engine)
    DetectorStatus(watermark=None, newest_post=None, updated_at=None)
    """
    with reading(engine, "read the detector state") as conn:
        row = conn.execute(
            select(detector_state.c.engine, detector_state.c.updated_at).where(
                detector_state.c.name == name
            )
        ).first()
        newest = conn.scalar(select(func.max(posts.c.created_at)))
    watermark = None
    if row is not None:
        minute = _last_scored_minute(bytes(row.engine))
        watermark = None if minute is None else at_minute(minute + 1)
    return DetectorStatus(
        watermark=watermark,
        newest_post=aware(newest) if newest is not None else None,
        updated_at=row.updated_at if row is not None else None,
    )


def _last_scored_minute(engine_state: bytes) -> int | None:
    """The first minute of the last bucket the saved engine stepped, read from the metadata of
    ``SpikeEngine.to_state`` alone (npz members load lazily; the arrays are never decoded)."""
    with np.load(io.BytesIO(engine_state)) as arrays:
        meta = orjson.loads(arrays["meta"].tobytes())
    if meta["last_step"] is None:
        return None
    step = int(meta["config"]["step_minutes"])
    return int(meta["last_step"]) * step + step - 1
