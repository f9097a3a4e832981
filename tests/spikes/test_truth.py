"""Known incidents from CSV, and matching them with what was raised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from detector.errors import InputError, SourceNotFound
from detector.samples import sample_posts_dir
from detector.spikes.truth import Alarm, Truth, match_truth, read_truth

T0 = datetime(2021, 11, 19, 21, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_the_bundled_sample_truth_reads():
    truth = read_truth(sample_posts_dir().parent / "truth.csv")
    tesla = next(t for t in truth if t.service == "tesla")
    assert tesla.start == datetime(2021, 11, 19, 20, 58, tzinfo=UTC)
    assert tesla.end > tesla.start


def test_times_without_a_zone_are_utc_and_extra_columns_are_ignored(tmp_path):
    path = tmp_path / "truth.csv"
    path.write_text("service,start,end,note\nps,2021-11-20 19:40,2021-11-20T21:12+01:00,x\n")
    (known,) = read_truth(path)
    assert known.start == datetime(2021, 11, 20, 19, 40, tzinfo=UTC)
    assert known.end == datetime(2021, 11, 20, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("service,start\nx,2021-11-20T19:40Z\n", "line 1: missing column(s) end"),
        ("service,start,end\nx,yesterday,2021-11-20T19:40Z\n", "line 2: field 'start'"),
        ("service,start,end\n,2021-11-20T19:40Z,2021-11-20T20:40Z\n", "line 2: field 'service'"),
        (
            "service,start,end\nx,2021-11-20T19:40Z,2021-11-20T20:40Z\n"
            "x,2021-11-20T19:40Z,2021-11-20T19:00Z\n",
            "line 3: field 'end' is not after",
        ),
    ],
)
def test_bad_truth_files_name_the_line_and_field(tmp_path, content, message):
    path = tmp_path / "truth.csv"
    path.write_text(content)
    with pytest.raises(InputError, match="truth.csv") as caught:
        read_truth(path)
    assert message in str(caught.value)


def test_a_missing_truth_file_is_reported():
    with pytest.raises(SourceNotFound):
        read_truth(__import__("pathlib").Path("/nonexistent/truth.csv"))


def test_matching_takes_the_earliest_detection_and_lists_the_rest():
    known = [Truth("tesla", T0, T0 + 300 * MINUTE), Truth("psn", T0, T0 + 60 * MINUTE)]
    raised = [
        Alarm("tesla", T0 + 10 * MINUTE, T0 + 20 * MINUTE, T0 + 12 * MINUTE),
        Alarm("tesla", T0 - 2 * MINUTE, T0 + 9 * MINUTE, T0 + 6 * MINUTE),
        Alarm("tesla", T0 + 400 * MINUTE, T0 + 410 * MINUTE, T0 + 401 * MINUTE),
        Alarm("psn", T0 + 60 * MINUTE, None, T0 + 61 * MINUTE),  # starts as psn's ends
    ]
    matches, unmatched = match_truth(known, raised, until=T0 + 600 * MINUTE)
    tesla, psn = matches
    assert (tesla.delay, tesla.start_error) == (6.0, -2.0)
    assert not psn.found and psn.delay is None
    assert [(a.service, a.detected_at) for a in unmatched] == [
        ("tesla", T0 + 401 * MINUTE),
        ("psn", T0 + 61 * MINUTE),
    ]
