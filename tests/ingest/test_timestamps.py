"""Timestamp spellings found in post archives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from detector.errors import RecordError
from detector.ingest.timestamps import parse_timestamp

MOMENT = datetime(2021, 11, 19, 21, 3, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Fri Nov 19 21:03:12 +0000 2021",
        "Fri Nov 19 23:03:12 +0200 2021",
        "Fri Nov 19 16:03:12 -0500 2021",
        "2021-11-19T21:03:12Z",
        "2021-11-19T21:03:12.000Z",
        "2021-11-19T22:03:12+01:00",
        "2021-11-19 21:03:12",  # naive = UTC
        "20211119T210312Z",
        "Fri, 19 Nov 2021 21:03:12 +0000",  # RFC 2822
        "Fri, 19 Nov 2021 21:03:12 GMT",
        1637355792,
        1637355792.0,
        1637355792000,
        1637355792000000,
        1637355792000000000,
        "1637355792",
        "1637355792000",
        " 1637355792 ",
        datetime(2021, 11, 19, 21, 3, 12),
        datetime(2021, 11, 19, 22, 3, 12, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_spellings_of_one_moment(value):
    result = parse_timestamp(value)
    assert result == MOMENT
    assert result.tzinfo is UTC


def test_fractional_seconds_kept():
    assert parse_timestamp("2021-11-19T21:03:12.123Z").microsecond == 123000
    assert parse_timestamp(1637355792123).microsecond == 123000


def test_naive_timezone():
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_timestamp("2021-11-19 22:03:12", naive_tz=berlin) == MOMENT
    assert parse_timestamp(datetime(2021, 11, 19, 22, 3, 12), naive_tz=berlin) == MOMENT
    # An explicit zone wins over the naive default; epochs are always UTC.
    assert parse_timestamp("2021-11-19T21:03:12Z", naive_tz=berlin) == MOMENT
    assert parse_timestamp(1637355792, naive_tz=berlin) == MOMENT


@pytest.mark.parametrize(
    "value",
    [
        "Wed Nov 31 10:00:00 +0000 2021",  # November has 30 days
        "Xyz Foo 19 21:03:12 +0000 2021",
        "Fri Nov 19 25:03:12 +0000 2021",
        "Fri Nov 19 21:03:12 +0a00 2021",
        "2021-02-29T00:00:00Z",
        "2021-13-01",
        "yesterday",
        "",
        "   ",
        "-",
        None,
        True,
        [2021, 11, 19],
        {"$date": 1},
        float("nan"),
        float("inf"),
        1e300,
        -1e300,
        0,  # 1970: a placeholder, not a post
        "2021",  # a bare year reads as epoch seconds: out of range
        "1e400",
        datetime(1985, 1, 1, tzinfo=UTC),
        "2300-01-01T00:00:00Z",
    ],
)
def test_bad_timestamps(value):
    with pytest.raises(RecordError) as info:
        parse_timestamp(value, field="when")
    assert info.value.reason == "bad_timestamp"
    assert info.value.field == "when"
