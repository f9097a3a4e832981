"""Property tests: no input bytes crash the readers, and every JSON line is accounted for."""

from __future__ import annotations

import bz2
import copy
import gzip
import lzma
from typing import Any

import orjson
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.errors import InputError, RecordError
from detector.ingest.base import Quarantined, Skipped
from detector.ingest.files import ReadOptions, read_file
from detector.ingest.formats import FORMATS
from detector.ingest.generic import ColumnMapping
from detector.ingest.text import html_to_text, strip_forum_quotes
from detector.ingest.timestamps import parse_timestamp
from detector.models import Post
from tests.ingest import payloads as P

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples on every run: failures reproduce, CI does not flake
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

COMPRESSIONS = {
    "plain": lambda b: b,
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}
MAPPING = ColumnMapping.from_pairs(
    ["text=text", "created_at=created_at", "id=id", "author_handle=user.screen_name"]
)
FORMAT_NAMES = [None, *sorted(FORMATS)]
# Records that give exactly one post (or one Skipped / one Quarantined) per line, by format.
ONE_PER_LINE: dict[str, list[dict[str, Any]]] = {
    "twitter-v1": [P.TWEET_V1, P.TWEET_V1_EXTENDED, P.DELETE_V1],
    "reddit": [P.REDDIT_SUBMISSION, P.REDDIT_COMMENT, P.REDDIT_REMOVED],
    "mastodon": [P.MASTODON_STATUS, P.MASTODON_REMOTE],
    "bluesky": [
        P.JETSTREAM_POST,
        P.JETSTREAM_REPLY,
        P.JETSTREAM_QUOTE,
        P.JETSTREAM_DELETE,
        P.JETSTREAM_IDENTITY,
    ],
    "forum": [P.FORUM_POST, P.FORUM_POST_BBCODE],
}
# Every real payload, for the crash-only property.
ALL_RECORDS = [
    value for name, value in vars(P).items() if name.isupper() and isinstance(value, dict)
]

# Keys drawn from letters no reader gives a meaning to, so random objects never grow an
# embedded status or a list of records: one line stays one outcome.
_keys = st.text(alphabet="abcqxz_", min_size=1, max_size=4)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "",
            "[deleted]",
            "Wed Nov 31 10:00:00 +0000 2021",
            "2021-11-19T21:03:12Z",
            "1637355792",
            "<p>x</p>",
            "&amp;",
            "at://did:plc:x/app.bsky.feed.post/1",
            "\u0000",
            "\ud7ff\U0001f600",
        ]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, records: list[dict[str, Any]]) -> bytes:
    """A real record with some fields dropped, retyped or replaced, then maybe byte-damaged."""
    record: Any = copy.deepcopy(draw(st.sampled_from(records)))
    for _ in range(draw(st.integers(0, 4))):
        target = record
        # Walk into a nested object now and then (user, commit.record, account...).
        while isinstance(target, dict) and target and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(target)))
            if isinstance(target[key], dict):
                target = target[key]
            else:
                break
        if not isinstance(target, dict) or not target:
            break
        key = draw(st.sampled_from(sorted(target)))
        action = draw(st.sampled_from(["drop", "replace", "scalar"]))
        if action == "drop":
            del target[key]
        elif action == "replace":
            target[key] = draw(json_values)
        else:
            target[key] = draw(json_scalars)
    line = orjson.dumps(record)
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip"]))
    if damage == "truncate":
        line = line[: draw(st.integers(0, len(line)))]
    elif damage == "flip" and line:
        at = draw(st.integers(0, len(line) - 1))
        line = line[:at] + bytes([draw(st.integers(0, 255))]) + line[at + 1 :]
    return line.replace(b"\n", b" ")


def json_lines(records: list[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    """One line: a mutated real record, a random JSON value, or random bytes."""
    return st.one_of(
        mutated(records),
        json_values.map(orjson.dumps),
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
        st.sampled_from([b"", b"  ", b"\t\r", b"{", b"[", b"null", b"[]", b"{}", b"\xef\xbb\xbf"]),
    )


def _read(path, options: ReadOptions) -> list[Any]:
    items = []
    try:
        for item in read_file(path, options):
            assert isinstance(item, Post | Skipped | Quarantined), item
            items.append(item)
    except InputError as exc:
        assert str(path) in str(exc)  # fatal errors always name the file
    return items


def _options(name: str | None) -> ReadOptions:
    if name == "generic":
        return ReadOptions(format="generic", mapping=MAPPING)
    return ReadOptions(format=name)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(
    data=st.binary(max_size=600),
    prefix=st.sampled_from([b"", b"{", b"[", b"PAR1", b"\xef\xbb\xbf", b"forum,body,timestamp\n"]),
    compression=st.sampled_from(sorted(COMPRESSIONS)),
    cut=st.integers(0, 64),
    name=st.sampled_from(FORMAT_NAMES),
)
def test_random_bytes_never_crash(workdir, data, prefix, compression, cut, name):
    blob = COMPRESSIONS[compression](prefix + data)
    if cut and compression != "plain":
        blob = blob[: max(len(blob) - cut, 0)]
    path = workdir / "random.bin"
    path.write_bytes(blob)
    _read(path, _options(name))


@FUZZ
@given(
    lines=st.lists(json_lines(ALL_RECORDS), min_size=1, max_size=12),
    compression=st.sampled_from(sorted(COMPRESSIONS)),
    name=st.sampled_from(FORMAT_NAMES),
    pretty=st.booleans(),
)
def test_json_ish_input_never_crashes(workdir, lines, compression, name, pretty):
    content = b"\n".join(lines) + b"\n"
    if pretty:  # also as one JSON document (array), pretty-printed
        values = []
        for line in lines:
            try:
                values.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                values.append(line.decode("utf-8", "replace"))
        content = orjson.dumps(values, option=orjson.OPT_INDENT_2)
    path = workdir / "jsonish.bin"
    path.write_bytes(COMPRESSIONS[compression](content))
    _read(path, _options(name))


@FUZZ
@given(
    family=st.sampled_from(sorted(ONE_PER_LINE)),
    data=st.data(),
    compression=st.sampled_from(sorted(COMPRESSIONS)),
    explicit=st.booleans(),
)
def test_every_json_line_is_accounted_for_once(workdir, family, data, compression, explicit):
    records = ONE_PER_LINE[family]
    first = data.draw(st.sampled_from(records).map(orjson.dumps))  # a valid first line
    rest = data.draw(st.lists(json_lines(records), max_size=15))
    lines = [first, *rest]
    path = workdir / "lines.bin"
    path.write_bytes(COMPRESSIONS[compression](b"\n".join(lines) + b"\n"))
    options = ReadOptions(format=family if explicit else None)

    items = list(read_file(path, options))  # must not raise: the content is JSON lines

    non_empty = [n for n, line in enumerate(lines, 1) if line.strip()]
    assert len(items) == len(non_empty)
    quarantined_lines = [i.line for i in items if isinstance(i, Quarantined)]
    assert quarantined_lines == sorted(set(quarantined_lines))
    assert set(quarantined_lines) <= set(non_empty)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=200) | st.text(alphabet="<>/!-[]=\"' abpquoteasidclass&#x;", max_size=80))
def test_text_helpers_never_raise(text):
    assert isinstance(html_to_text(text), str)
    assert isinstance(strip_forum_quotes(text), str)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(json_values | st.text(alphabet="0123456789+-:TZ .WedNovFriMon", max_size=32))
def test_parse_timestamp_raises_only_record_error(value):
    try:
        result = parse_timestamp(value)
    except RecordError as exc:
        assert exc.reason == "bad_timestamp"
    else:
        assert result.utcoffset() is not None
