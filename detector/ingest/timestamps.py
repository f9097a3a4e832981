"""Parse the timestamp spellings found in post archives into aware UTC datetimes.

Accepted: Twitter's ``Sat Sep 16 00:35:29 +0000 2017``, ISO 8601 with or without a zone (naive
means UTC unless told otherwise), RFC 2822 as in RSS, and epoch seconds, milliseconds, microseconds
or nanoseconds as numbers or digit strings (the magnitude tells which).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache

from detector.errors import RecordError

__all__ = ["parse_timestamp"]

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# Earliest plausible post: anything older is a unit mix-up or a placeholder, not a real post.
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_timestamp(
    value: object, *, naive_tz: tzinfo = UTC, field: str = "created_at"
) -> datetime:
    """Return ``value`` as an aware UTC datetime, or raise ``RecordError('bad_timestamp')``.

    Parameters
    ----------
    value
        A string, an int/float epoch, or a datetime.
    naive_tz
        The zone assumed for timestamps written without one.
    field
        The field name quoted in the error.

    Examples
    --------
    >>> parse_timestamp("Fri Nov 19 21:03:12 +0000 2021").isoformat()
    '2021-11-19T21:03:12+00:00'
    >>> parse_timestamp("2021-11-19T22:03:12+01:00").isoformat()
    '2021-11-19T21:03:12+00:00'
    >>> parse_timestamp(1637355792000).isoformat()
    '2021-11-19T21:03:12+00:00'
    >>> parse_timestamp("Wed Nov 31 10:00:00 +0000 2021")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    detector.errors.RecordError: bad_timestamp (field 'created_at'): impossible date ...
    """
    try:
        result = _parse(value, naive_tz)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError(
            "bad_timestamp", f"impossible date {value!r}: {exc}", field=field
        ) from None
    if result is None:
        raise RecordError("bad_timestamp", f"unrecognised timestamp {value!r}", field=field)
    if not _EARLIEST <= result < _LATEST:
        raise RecordError("bad_timestamp", f"timestamp out of range: {value!r}", field=field)
    return result


def _parse(value: object, naive_tz: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        return _aware(value, naive_tz)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) == 30 and text[3] == " " and text[19] == " ":
        return _parse_twitter(text)
    if text[0].isdigit() or text[0] in "+-":
        try:
            return _from_epoch(float(text))
        except ValueError:
            pass
        return _parse_iso(text, naive_tz)
    return _aware(parsedate_to_datetime(text), naive_tz)


@lru_cache(maxsize=8192)
def _parse_twitter(text: str) -> datetime | None:
    # 'Sat Sep 16 00:35:29 +0000 2017'; archives repeat the same second many times, hence the cache.
    month = _MONTHS.get(text[4:7])
    if month is None:
        return None
    moment = datetime(
        int(text[26:30]),
        month,
        int(text[8:10]),
        int(text[11:13]),
        int(text[14:16]),
        int(text[17:19]),
        tzinfo=UTC,
    )
    offset = text[20:25]
    if offset != "+0000":
        sign = -1 if offset[0] == "-" else 1
        moment -= sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    return moment


def _parse_iso(text: str, naive_tz: tzinfo) -> datetime:
    return _aware(datetime.fromisoformat(text), naive_tz)


def _from_epoch(number: float) -> datetime:
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    magnitude = abs(number)
    # Seconds since 1970 stay below 1e11 until the year 5138, so the size tells the unit.
    if magnitude >= 1e17:
        number /= 1e9
    elif magnitude >= 1e14:
        number /= 1e6
    elif magnitude >= 1e11:
        number /= 1e3
    return datetime.fromtimestamp(number, UTC)


def _aware(moment: datetime, naive_tz: tzinfo) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=naive_tz)
    return moment.astimezone(UTC)
