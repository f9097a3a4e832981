"""Compressed inputs, detected by content."""

from __future__ import annotations

import bz2
import gzip
import lzma

import pytest
import zstandard

from detector.errors import CorruptArchive, InputError, SourceNotFound
from detector.ingest.archive import compression_of, open_input
from detector.ingest.files import ReadOptions, read_file
from tests.factories import jsonl, read_items, tweet_v1

PAYLOAD = jsonl(*(tweet_v1(str(1000 + i), f"app down #{i}") for i in range(200)))

COMPRESSORS = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


def zstd_multi_frame(data: bytes) -> bytes:
    half = len(data) // 2
    c = zstandard.ZstdCompressor()
    return c.compress(data[:half]) + c.compress(data[half:])


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_each_compression_is_detected_and_read(tmp_path, name):
    data = COMPRESSORS[name](PAYLOAD)
    assert compression_of(data[:8]) == name
    path = tmp_path / "dump.data"  # the name says nothing: content decides
    path.write_bytes(data)
    with open_input(path) as stream:
        assert stream.peek(1)[:1] == b"{"
        assert stream.read() == PAYLOAD
    posts, _, quarantined = read_items(path)
    assert len(posts) == 200 and quarantined == []


def test_plain_file_passes_through(tmp_path):
    path = tmp_path / "plain.jsonl"
    path.write_bytes(PAYLOAD)
    assert compression_of(PAYLOAD[:8]) is None
    with open_input(path) as stream:
        assert stream.read() == PAYLOAD


def test_multi_member_gzip_and_multi_frame_zstd(tmp_path):
    half = len(PAYLOAD) // 2
    gz = tmp_path / "multi.gz"
    gz.write_bytes(gzip.compress(PAYLOAD[:half]) + gzip.compress(PAYLOAD[half:]))
    zst = tmp_path / "multi.zst"
    zst.write_bytes(zstd_multi_frame(PAYLOAD))
    for path in (gz, zst):
        with open_input(path) as stream:
            assert stream.read() == PAYLOAD


def test_truncated_zstd_after_complete_frames(tmp_path):
    path = tmp_path / "cut.zst"
    path.write_bytes(zstd_multi_frame(PAYLOAD)[:-10])
    with pytest.raises(CorruptArchive, match="truncated"):
        with open_input(path) as stream:
            stream.read()


def test_zstd_long_window(tmp_path):
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=27)
    data = zstandard.ZstdCompressor(compression_params=params).compress(PAYLOAD)
    path = tmp_path / "RC_2021-11.zst"
    path.write_bytes(data)
    with open_input(path) as stream:
        assert stream.read() == PAYLOAD


def test_truncated_gzip_is_corrupt_archive_naming_the_file(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(PAYLOAD)[:-40])
    items = []
    with pytest.raises(CorruptArchive) as info:
        for item in read_file(path, ReadOptions()):
            items.append(item)
    assert str(path) in str(info.value)
    assert info.value.path == str(path)
    assert "gzip" in info.value.message
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_damaged_streams_raise_corrupt_archive(tmp_path, name):
    data = bytearray(COMPRESSORS[name](PAYLOAD))
    middle = len(data) // 2
    data[middle : middle + 16] = b"\x00" * 16
    path = tmp_path / f"damaged.{name}"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptArchive, match=str(path)):
        list(read_file(path, ReadOptions()))


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_truncated_streams_raise_corrupt_archive(tmp_path, name):
    # zstd's stream reader ends quietly mid-frame; a cut download must not read as a short file.
    path = tmp_path / f"cut.{name}"
    path.write_bytes(COMPRESSORS[name](PAYLOAD)[:-10])
    with pytest.raises(CorruptArchive):
        list(read_file(path, ReadOptions()))


def test_missing_file(tmp_path):
    path = tmp_path / "nope.jsonl.gz"
    with pytest.raises(SourceNotFound) as info:
        list(read_file(path, ReadOptions()))
    assert str(path) in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(SourceNotFound):
        with open_input(path):
            pass


def test_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        list(read_file(tmp_path, ReadOptions()))
