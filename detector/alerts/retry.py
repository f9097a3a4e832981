"""When to try a webhook delivery again, and which failures are worth retrying.

Backoff is exponential with full jitter (AWS architecture blog, "Exponential Backoff And
Jitter"): attempt *n* waits a uniform random time up to ``min(cap, base * 2**(n-1))``.
Jitter spreads the retries of many events that failed together (the receiver was down)
so they do not return as one burst; "full" rather than "decorrelated" jitter because it
needs only the attempt number, not the previous delay, so the schedule can be recomputed
from what the outbox stores. A floor keeps two attempts from landing in the same second.

A delivery is dead-lettered only once 24 hours have passed since its first attempt, however
many attempts that took: a receiver that is down for a night still gets its alerts. The
Standard Webhooks spec suggests a longer schedule (about 3 days) for general events; outage
alerts lose their value within a day, and a receiver that comes back sooner gets them
within ``cap`` of coming back.

Outcomes follow the spec's status code handling:

- ``2xx``: delivered.
- Network errors (connect, read, write, timeouts, DNS), ``408``, ``429`` and ``5xx``: retry,
  no sooner than ``Retry-After`` (seconds or an HTTP-date) when the response has one.
- ``410 Gone``: the receiver asks us to stop; disable the endpoint (no retry, no more events).
- ``3xx``: a permanent failure. Redirects are not followed (each hop would need the SSRF
  check again, and the spec asks senders to have the URL updated instead).
- Other ``4xx``: permanent; the receiver rejected this request and will reject it again.
- A URL refused by the SSRF guard: permanent.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from detector.errors import HostResolutionError, UnsafeURLError

__all__ = [
    "DEFAULT_POLICY",
    "Decision",
    "Outcome",
    "RetryPolicy",
    "classify_error",
    "classify_response",
    "next_attempt",
    "parse_retry_after",
]

_SECONDS = re.compile(r"[0-9]{1,10}")


class Outcome(enum.Enum):
    """What a delivery attempt means for the event and the endpoint."""

    DELIVERED = "delivered"
    RETRY = "retry"  # schedule another attempt (or dead-letter after the horizon)
    FAILED = "failed"  # permanent for this event: dead-letter now
    GONE = "gone"  # 410: disable the endpoint


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one attempt, why, and the receiver's ``Retry-After`` if any."""

    outcome: Outcome
    reason: str
    retry_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, dead-lettering after ``horizon``.

    Parameters
    ----------
    base
        Ceiling of the first retry delay; doubles with each attempt.
    cap
        Largest delay between two attempts (also bounds the wait after the receiver recovers).
    floor
        Smallest delay, so jitter never retries at once.
    horizon
        Time since the first attempt after which a failed delivery is dead-lettered.
    max_retry_after
        Longest ``Retry-After`` honoured, so a receiver cannot stall delivery for days.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> import random
    >>> first = datetime(2026, 1, 1, tzinfo=UTC)
    >>> policy = RetryPolicy()
    >>> policy.next_attempt(1, first, first, random.Random(0)) - first
    datetime.timedelta(seconds=8, microseconds=444219)
    >>> policy.next_attempt(9, first, first + policy.horizon, random.Random(0)) is None
    True
    """

    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=1)
    floor: timedelta = timedelta(seconds=1)
    horizon: timedelta = timedelta(hours=24)
    max_retry_after: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        if not timedelta(0) < self.floor <= self.base <= self.cap:
            raise ValueError(
                f"need 0 < floor <= base <= cap, got: {self.floor}, {self.base}, {self.cap}"
            )
        if self.horizon < timedelta(hours=24):
            raise ValueError(f"horizon must be at least 24 hours, got: {self.horizon}")
        if self.max_retry_after < timedelta(0):
            raise ValueError(f"max_retry_after must not be negative, got: {self.max_retry_after}")

    def ceiling(self, attempt: int) -> timedelta:
        """The largest delay after failed attempt number ``attempt`` (1-based).

        Examples
        --------
        >>> [RetryPolicy().ceiling(n).total_seconds() for n in (1, 2, 3, 10, 50)]
        [10.0, 20.0, 40.0, 3600.0, 3600.0]
        """
        if attempt < 1:
            raise ValueError(f"attempt numbers start at 1, got: {attempt}")
        # Cap the exponent first: 2**attempt overflows timedelta long before attempt 100.
        doublings = min(attempt - 1, 32)
        return min(self.cap, self.base * (1 << doublings))

    def next_attempt(
        self,
        attempt: int,
        first_attempt_at: datetime,
        now: datetime,
        rng: random.Random,
        *,
        retry_after: timedelta | None = None,
    ) -> datetime | None:
        """When to try again after failed attempt ``attempt``, or None to dead-letter.

        Parameters
        ----------
        attempt
            The number of the attempt that just failed, from 1.
        first_attempt_at
            When attempt 1 was made (aware).
        now
            When this attempt failed (aware).
        rng
            Source of jitter; seed it for a reproducible schedule.
        retry_after
            The receiver's ``Retry-After``: the next attempt is no sooner (up to
            ``max_retry_after``).
        """
        for name, at in (("first_attempt_at", first_attempt_at), ("now", now)):
            if at.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware, got: {at!r}")
        if now < first_attempt_at:
            raise ValueError(f"now ({now}) is before the first attempt ({first_attempt_at})")
        if now - first_attempt_at >= self.horizon:
            return None
        ceiling = self.ceiling(attempt)
        delay = max(self.floor, ceiling * rng.random())
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return now + delay


DEFAULT_POLICY = RetryPolicy()


def next_attempt(
    attempt_number: int,
    first_attempt_at: datetime,
    now: datetime,
    rng: random.Random,
    *,
    retry_after: timedelta | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> datetime | None:
    """:meth:`RetryPolicy.next_attempt` of ``policy`` (the default one unless given).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> import random
    >>> first = datetime(2026, 1, 1, tzinfo=UTC)
    >>> later = next_attempt(3, first, first, random.Random(1), retry_after=timedelta(minutes=5))
    >>> later - first
    datetime.timedelta(seconds=300)
    """
    return policy.next_attempt(attempt_number, first_attempt_at, now, rng, retry_after=retry_after)


def classify_response(status_code: int, headers: Mapping[str, str], *, now: datetime) -> Decision:
    """What an HTTP response to a delivery means.

    ``headers`` must look names up case-insensitively (``httpx.Headers`` does); ``now`` is
    needed to turn a ``Retry-After`` date into a delay.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> classify_response(204, {}, now=now).outcome
    <Outcome.DELIVERED: 'delivered'>
    >>> classify_response(429, {"retry-after": "120"}, now=now).retry_after
    datetime.timedelta(seconds=120)
    >>> classify_response(410, {}, now=now).outcome
    <Outcome.GONE: 'gone'>
    >>> classify_response(404, {}, now=now).outcome
    <Outcome.FAILED: 'failed'>
    """
    if 200 <= status_code < 300:
        return Decision(Outcome.DELIVERED, f"HTTP {status_code}")
    if status_code == 410:
        return Decision(Outcome.GONE, "HTTP 410 Gone: the receiver asks to stop; disable it")
    if status_code in (408, 429) or 500 <= status_code < 600:
        raw = headers.get("retry-after")
        after = parse_retry_after(raw, now=now) if raw is not None else None
        return Decision(Outcome.RETRY, f"HTTP {status_code}", after)
    if 300 <= status_code < 400:
        return Decision(
            Outcome.FAILED, f"HTTP {status_code}: redirects are not followed; update the URL"
        )
    return Decision(Outcome.FAILED, f"HTTP {status_code}")


def classify_error(error: BaseException) -> Decision:
    """What an exception raised while sending means.

    Examples
    --------
    >>> classify_error(httpx.ConnectTimeout("timed out")).outcome
    <Outcome.RETRY: 'retry'>
    >>> classify_error(httpx.UnsupportedProtocol("ftp")).outcome
    <Outcome.FAILED: 'failed'>
    """
    name = type(error).__name__
    if isinstance(error, UnsafeURLError):
        return Decision(Outcome.FAILED, f"refused destination: {error.reason}")
    if isinstance(error, (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)):
        # Our request is at fault, not the network: sending it again changes nothing.
        return Decision(Outcome.FAILED, f"{name}: {error}")
    if isinstance(error, (httpx.TransportError, HostResolutionError, OSError)):
        return Decision(Outcome.RETRY, f"{name}: {error}")
    return Decision(Outcome.FAILED, f"{name}: {error}")


def parse_retry_after(value: str, *, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header as a delay from ``now``: delay-seconds or an HTTP-date
    (RFC 9110 §10.2.3). None when unparsable; a date in the past is no delay.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
    >>> parse_retry_after("120", now=now)
    datetime.timedelta(seconds=120)
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now)
    datetime.timedelta(seconds=60)
    >>> parse_retry_after("soon", now=now) is None
    True
    """
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime dates carry no zone; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - now)
