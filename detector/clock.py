"""Injectable clocks: the library never calls ``datetime.now()`` behind the caller's back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stays where it is put; tests move it by assigning ``current``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> FixedClock(datetime(2021, 11, 19, 21, 0, tzinfo=UTC)).now().isoformat()
    '2021-11-19T21:00:00+00:00'
    """

    current: datetime

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError(f"clock time must be timezone-aware, got: {self.current!r}")

    def now(self) -> datetime:
        """Return the fixed time."""
        return self.current
