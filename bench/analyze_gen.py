"""Seeded archive generator for ``bench/analyze.py``: gzip Twitter v1.1 JSON lines drawn from
the bundled sample.

The archive spans ``days`` days from ``START`` split into ``files`` equal time slices, one file
each, in time order: the way archives are usually cut, and since ``outage-radar analyze``
runs one partition per file, the file count bounds its parallelism. Every line is one status
(an original or a reply; the sample's retweets and quotes are left out, so a line is one post)
copied from ``data/samples/posts/tweets-*.jsonl.gz`` with a fresh snowflake id, author id and
handle (from a pool of ``posts // 4`` authors), ``created_at`` and ``timestamp_ms``; the reply's
parent id is cleared (its parent is not in the archive). Posting times follow a daily cycle
(peak 15:00 UTC, trough 03:00, weekends 15% quieter). About 1% of posts are outage complaints
by the sample's labels (``labels.jsonl.gz``), drawn like ``bench/nlp.py`` draws them; on top of
that ``BURSTS`` inject outages of a few services (complaints of that service, rising fast and
ebbing slowly), in the span's last 40%, so the detector has incidents to find after a baseline.

Lines are written as raw bytes (each sample status pre-serialised once with orjson into a
``%``-template), never through the readers, by ``jobs`` processes, one file at a time; a
``manifest.json`` written last marks a finished archive, which is reused when present.
"""

from __future__ import annotations

import gzip
import math
import multiprocessing
import random
import re
import shutil
import time
from bisect import bisect_right
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
SEED = 20211119
GENERATOR_VERSION = 1
START = datetime(2021, 11, 1, tzinfo=UTC)  # a Monday
OUTAGE_SHARE = 0.01
GZIP_LEVEL = 3  # decompresses as fast as 6 (the reader's cost); compresses twice as fast
# (service, start as a share of the span, minutes, share of the archive's posts)
BURSTS = (
    ("verizon", 0.62, 90, 0.0004),
    ("psn", 0.71, 120, 0.0004),
    ("discord", 0.83, 60, 0.0003),
    ("tesla", 0.93, 150, 0.0005),
)
_TWITTER_EPOCH_MS = 1288834974657
_WEEKDAYS = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_MONTHS = tuple(m.encode() for m in "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())
_MARKS = {
    b"911111111111111111": b"%(i)s",  # status id (number and id_str)
    b"922222222222222222": b"%(u)s",  # user id
    b"@@CREATED@@": b"%(c)s",
    b"@@MS@@": b"%(m)s",
    b"@@HANDLE@@": b"%(h)s",
}


@dataclass(frozen=True)
class Spec:
    """What an archive holds: ``posts`` in ``files`` over ``days``, drawn with ``seed``."""

    posts: int
    files: int
    days: int
    seed: int = SEED

    @property
    def authors(self) -> int:
        return max(1000, self.posts // 4)

    def folder(self, cache: Path) -> Path:
        """Where the archive is kept in ``cache`` (finished when it has a manifest)."""
        name = f"archive-{self.posts}-f{self.files}-d{self.days}-s{self.seed}"
        return cache / f"{name}-g{GENERATOR_VERSION}"

    def slices(self) -> list[int]:
        """The first millisecond of each file's time slice, and the span's end."""
        start = int(START.timestamp() * 1000)
        span = self.days * 86_400_000
        return [start + span * i // self.files for i in range(self.files)] + [start + span]


@dataclass
class Archive:
    """A generated archive: its files (in time order) and what is in them."""

    folder: str
    posts: int
    days: int
    files: list[str]
    counts: list[int]
    outage_posts: int
    burst_posts: int
    authors: int
    raw_bytes: int
    gzip_bytes: int
    seconds: float
    seed: int
    version: int

    @property
    def paths(self) -> list[Path]:
        return [Path(self.folder) / name for name in self.files]


def archive(spec: Spec, cache: Path, *, jobs: int = 2) -> Archive:
    """The archive of ``spec``, from ``cache`` or generated there."""
    folder = spec.folder(cache)
    manifest = folder / "manifest.json"
    if manifest.exists():
        return Archive(**orjson.loads(manifest.read_bytes()))
    if spec.files < 1 or spec.posts < spec.files or spec.days < 1:
        raise SystemExit(f"need a post per file and a day at least, got {spec}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    global _SHARED
    _SHARED = _templates()
    work = [(spec, folder, index, count, offset) for index, count, offset in _plan(spec)]
    context = multiprocessing.get_context("fork")  # the templates are shared, not pickled
    with context.Pool(max(1, min(jobs, spec.files))) as pool:
        done = sorted(pool.imap_unordered(_write_file, work))
    _SHARED = None
    result = Archive(
        folder=str(folder),
        posts=spec.posts,
        days=spec.days,
        files=[d[1] for d in done],
        counts=[d[2] for d in done],
        outage_posts=sum(d[3] for d in done),
        burst_posts=sum(d[4] for d in done),
        authors=spec.authors,
        raw_bytes=sum(d[5] for d in done),
        gzip_bytes=sum((folder / d[1]).stat().st_size for d in done),
        seconds=time.perf_counter() - started,
        seed=spec.seed,
        version=GENERATOR_VERSION,
    )
    if sum(result.counts) != spec.posts:
        raise RuntimeError(f"generated {sum(result.counts):,} posts, wanted {spec.posts:,}")
    manifest.write_bytes(orjson.dumps(asdict(result), option=orjson.OPT_INDENT_2))
    return result


_SHARED: tuple[list[bytes], list[bytes], dict[str, list[bytes]]] | None = None


def _plan(spec: Spec) -> list[tuple[int, int, int]]:
    """(file index, posts in it, index of its first post in the archive) per file."""
    bursts = _bursts(spec)
    slices = spec.slices()
    in_file = [0] * spec.files
    for at, _service in bursts:
        in_file[bisect_right(slices, at) - 1] += 1  # every burst lies inside the span
    base, extra = divmod(spec.posts - len(bursts), spec.files)
    counts = [base + (i < extra) + in_file[i] for i in range(spec.files)]
    offsets = [sum(counts[:i]) for i in range(spec.files)]
    return [(i, counts[i], offsets[i]) for i in range(spec.files)]


def burst_starts(days: int) -> list[tuple[str, datetime, int]]:
    """Each injected outage: (service, start to the minute, minutes)."""
    span = timedelta(days=days)
    found = []
    for service, at, minutes, _share in BURSTS:
        start = START + timedelta(minutes=int(span.total_seconds() * at) // 60)
        found.append((service, start, minutes))
    return found


def _bursts(spec: Spec) -> list[tuple[int, str]]:
    """Every injected complaint: (millisecond, service), over all files."""
    found = []
    for n, ((service, start, minutes), share) in enumerate(
        zip(burst_starts(spec.days), (b[3] for b in BURSTS), strict=True)
    ):
        rng = random.Random(f"{spec.seed}-burst-{n}")
        begin = start.timestamp() * 1000
        length = minutes * 60_000
        for _ in range(round(spec.posts * share)):
            found.append(
                (int(rng.triangular(begin, begin + length, begin + 0.15 * length)), service)
            )
    return sorted(found)


def _templates() -> tuple[list[bytes], list[bytes], dict[str, list[bytes]]]:
    """The sample's labelled statuses as ``%``-templates: outage complaints, the others, and
    the complaints by service."""
    with gzip.open(SAMPLES / "labels.jsonl.gz") as lines:
        labels = {row["id"]: row for row in map(orjson.loads, lines)}
    outages: list[bytes] = []
    others: list[bytes] = []
    by_service: dict[str, list[bytes]] = {}
    for path in sorted((SAMPLES / "posts").glob("tweets-*.jsonl.gz")):
        with gzip.open(path) as lines:
            for line in lines:
                try:
                    status = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # the sample's deliberately broken line
                if "user" not in status or "retweeted_status" in status:
                    continue  # notices, retweets
                if status.get("is_quote_status"):
                    continue
                label = labels.get(f"twitter:{status['id_str']}")
                if label is None:
                    continue  # the malformed lines have no label
                template = _template(status)
                if label["is_outage"]:
                    outages.append(template)
                    by_service.setdefault(label["service"], []).append(template)
                else:
                    others.append(template)
    return outages, others, by_service


def _template(status: dict[str, object]) -> bytes:
    status = dict(status)
    user = dict(status["user"])  # type: ignore[call-overload]
    status.update(
        id=911111111111111111,
        id_str="911111111111111111",
        created_at="@@CREATED@@",
        timestamp_ms="@@MS@@",
        in_reply_to_status_id=None,
        in_reply_to_status_id_str=None,
        user=user,
    )
    user.update(id=922222222222222222, id_str="922222222222222222", screen_name="@@HANDLE@@")
    raw = orjson.dumps(status).replace(b"%", b"%%")
    pattern = re.compile(b"|".join(re.escape(mark) for mark in _MARKS))
    template = pattern.sub(lambda m: _MARKS[m.group(0)], raw)
    if sum(template.count(mark) for mark in _MARKS.values()) != 7:
        raise ValueError(f"unexpected template markers in {raw[:200]!r}")
    return template + b"\n"


def _times(rng: random.Random, count: int, begin: int, end: int) -> list[int]:
    """``count`` sorted milliseconds in [begin, end), denser by day than by night."""
    found: list[int] = []
    day = 86_400_000
    while len(found) < count:
        at = rng.randrange(begin, end)
        hour = (at % day) / 3_600_000
        weekday = (at // day + 3) % 7  # 1970-01-01 was a Thursday
        rate = (1.0 + 0.6 * math.cos(2 * math.pi * (hour - 15.0) / 24)) * (
            0.85 if weekday >= 5 else 1.0
        )
        if rng.random() * 1.6 < rate:
            found.append(at)
    found.sort()
    return found


def _write_file(job: tuple[Spec, Path, int, int, int]) -> tuple[int, str, int, int, int, int]:
    """Write one file; returns (index, name, posts, outage complaints, burst posts, raw bytes)."""
    spec, folder, index, count, offset = job
    assert _SHARED is not None
    outages, others, by_service = _SHARED
    rng = random.Random(f"{spec.seed}-file-{index}")
    slices = spec.slices()
    begin, end = slices[index], slices[index + 1]
    burst = [(at, by_service[s]) for at, s in _bursts(spec) if begin <= at < end]
    events: list[tuple[int, bytes]] = []
    outage_posts = len(burst)
    for at in _times(rng, count - len(burst), begin, end):
        if rng.random() < OUTAGE_SHARE:
            events.append((at, rng.choice(outages)))
            outage_posts += 1
        else:
            events.append((at, rng.choice(others)))
    events += [(at, rng.choice(pool)) for at, pool in burst]
    events.sort(key=lambda e: e[0])
    authors = spec.authors
    name = f"posts-{index:04d}.jsonl.gz"
    partial = folder / (name + ".partial")
    raw_bytes = 0
    last_second, created = -1, b""
    chunk: list[bytes] = []
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as out,
    ):
        for n, (at, template) in enumerate(events):
            second = at // 1000
            if second != last_second:
                last_second, created = second, _created_at(second)
            author = rng.randrange(authors)
            # Snowflake ids grow with time; the low 22 bits carry the post's place in the archive.
            status_id = ((at - _TWITTER_EPOCH_MS) << 22) | ((offset + n) & 0x3FFFFF)
            line = template % {
                b"i": b"%d" % status_id,
                b"u": b"%d" % (1_000_000_000 + author),
                b"c": created,
                b"m": b"%d" % at,
                b"h": b"ar_%x" % author,
            }
            chunk.append(line)
            raw_bytes += len(line)
            if len(chunk) >= 5000:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    partial.rename(folder / name)
    return index, name, len(events), outage_posts, len(burst), raw_bytes


def _created_at(second: int) -> bytes:
    """Twitter's ``created_at``: ``Thu Nov 18 00:00:06 +0000 2021``."""
    t = time.gmtime(second)
    return b"%s %s %02d %02d:%02d:%02d +0000 %d" % (
        _WEEKDAYS[t.tm_wday],
        _MONTHS[t.tm_mon - 1],
        t.tm_mday,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
        t.tm_year,
    )
