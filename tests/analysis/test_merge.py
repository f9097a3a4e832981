"""The reduce's merge: partitions merged by time and id, with a bounded number read at once."""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from detector.analysis.checkpoint import Checkpoint
from detector.analysis.partition import Candidate
from detector.analysis.reduce import merge_candidates
from detector.models import Post, SourceKind

_START = datetime(2021, 11, 19, 21, tzinfo=UTC)


def _streams(count: int, seed: int = 7) -> list[list[Candidate]]:
    """``count`` sorted partitions of posts at random seconds (some sharing a second)."""
    rng = random.Random(seed)
    streams = []
    for stream in range(count):
        posts = [
            Post(
                id=f"twitter:{stream}-{n}",
                source_kind=SourceKind.TWITTER,
                source_name="twitter",
                created_at=_START + timedelta(seconds=rng.randrange(600)),
                text=f"tesla app down {stream} {n}",
            )
            for n in range(rng.randrange(0, 40))
        ]
        posts.sort(key=lambda p: (p.created_at, p.id))
        # The merge reads only the posts; the annotations ride along untouched.
        streams.append([cast(Candidate, (post, None)) for post in posts])
    return streams


def _key(candidate: Candidate) -> tuple[datetime, str]:
    return candidate[0].created_at, candidate[0].id


@pytest.mark.parametrize(("streams", "fan_in"), [(1, 2), (7, 2), (9, 3), (40, 32), (5, 8)])
def test_merge_is_the_full_merge_whatever_the_fan_in(
    tmp_path: Path, streams: int, fan_in: int
) -> None:
    parts = _streams(streams)
    checkpoint = Checkpoint(tmp_path / ".checkpoint")
    merged = list(merge_candidates([iter(p) for p in parts], checkpoint.spill, fan_in=fan_in))
    expected = list(heapq.merge(*parts, key=_key))
    assert [c[0].id for c in merged] == [c[0].id for c in expected]
    assert [c[0].created_at for c in merged] == sorted(c[0].created_at for c in merged)
    # Spill files are deleted as soon as they are read to their end.
    assert not list(tmp_path.rglob("*.spill"))


def test_merge_reads_at_most_fan_in_streams_at_once(tmp_path: Path) -> None:
    open_now = 0
    most = 0

    def tracked(candidates: list[Candidate]) -> Iterator[Candidate]:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        yield from candidates
        open_now -= 1

    parts = _streams(20)
    spilled: list[str] = []
    checkpoint = Checkpoint(tmp_path / ".checkpoint")

    def spill(name: str, candidates: Iterable[Candidate]) -> Iterator[Candidate]:
        spilled.append(name)
        return checkpoint.spill(name, candidates)

    merged = list(merge_candidates([tracked(p) for p in parts], spill, fan_in=4))
    assert len(merged) == sum(len(p) for p in parts)
    assert most <= 4
    assert spilled[:5] == [f"merge-0-{n}" for n in range(5)] and "merge-1-0" in spilled


def test_a_fan_in_below_two_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fan_in"):
        merge_candidates([], Checkpoint(tmp_path).spill, fan_in=1)
