"""Generate the synthetic sample data in ``data/samples`` (seeded, byte-identical across runs).

Writes an archived Twitter v1.1 stream (2021-11-18..21) with an injected Tesla app outage on
2021-11-19 and smaller bursts for other services, Teslamotorsclub-style forum posts, the incident
ground truth (``truth.csv``), per-post labels (``labels.jsonl.gz``) and a README with counts
measured from the output.

Usage::

    python scripts/generate_samples.py [--out data/samples] [--seed 20211119]

Standard library only; the building blocks live in ``scripts/samplegen``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from samplegen.forum import build_forum
from samplegen.plan import INCIDENTS
from samplegen.readme import render_readme
from samplegen.services import SERVICES
from samplegen.stream import Stream, build_stream
from samplegen.users import build_users

DEFAULT_SEED = 20211119
N_PEOPLE = 20_000
N_BACKGROUND = 30_000
TWEETS_FILE = "posts/tweets-2021-11-18_21.jsonl.gz"
FORUM_FILE = "posts/teslamotorsclub-2021-11.jsonl.gz"
LABEL_KEYS = (
    "id",
    "intent",
    "is_outage",
    "service",
    "symptom",
    "error",
    "feature",
    "country",
    "lang",
)
MALFORMED_WHAT = {
    "truncated_json": "the JSON is cut off mid-record (not parseable)",
    "impossible_date": "`created_at` is `Wed Nov 31 10:00:00 +0000 2021` (November has 30 days; "
    "`timestamp_ms` is left as it was)",
    "no_text": "no `text`, `full_text` or `extended_tweet` field at all",
}


def write_gz(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` as gzip-compressed JSON lines with a fixed header (no name, mtime 0)."""
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= 2000:
                gz.write(("\n".join(buffer) + "\n").encode("utf-8"))
                buffer.clear()
        if buffer:
            gz.write(("\n".join(buffer) + "\n").encode("utf-8"))


def dumps(record: dict[str, Any]) -> str:
    """Compact JSON with UTF-8 text, as the stream dumps store it."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def truth_csv() -> str:
    """Return ``truth.csv``: one row per injected incident, Tesla first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("service", "start", "end", "scope", "note"))
    for inc in INCIDENTS:
        writer.writerow(
            (
                inc.service,
                f"{inc.start:%Y-%m-%dT%H:%M:%SZ}",
                f"{inc.end:%Y-%m-%dT%H:%M:%SZ}",
                inc.scope,
                inc.note,
            )
        )
    return out.getvalue()


def ordered_label(label: dict[str, Any]) -> dict[str, Any]:
    """Return ``label`` with the documented key order."""
    return {k: label[k] for k in LABEL_KEYS}


def bucket_of(moment: datetime) -> str:
    """The 15-minute bucket start of ``moment`` as ``YYYY-MM-DD HH:MM``."""
    floored = moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)
    return f"{floored:%Y-%m-%d %H:%M}"


def measure(
    stream: Stream,
    forum: list[dict[str, Any]],
    labels: list[dict[str, Any]],
    files: list[tuple[str, int, int, str]],
) -> dict[str, Any]:
    """Count what the README reports, from the generated records themselves."""
    tw = Counter[str]()
    authors: set[int] = set()
    lines_per_bucket = Counter[str]()
    out_orig, out_rt, out_forum = Counter[str](), Counter[str](), Counter[str]()
    last_seen: dict[tuple[int, str], int] = {}
    duplicates = 0
    tesla_baseline = 0
    for line in stream.lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "delete" in record:
            tw["deletes"] += 1
            continue
        if "limit" in record:
            tw["limits"] += 1
            continue
        tw["statuses"] += 1
        authors.add(record["user"]["id"])
        is_rt = "retweeted_status" in record
        tw["retweets" if is_rt else "originals"] += 1
        tw["quotes"] += bool(record.get("is_quote_status"))
        tw["replies"] += record.get("in_reply_to_screen_name") is not None
        tw["truncated"] += bool(record.get("truncated"))
        tw["place"] += record.get("place") is not None
        tw["coordinates"] += record.get("coordinates") is not None
        moment = datetime.fromtimestamp(int(record["timestamp_ms"]) / 1000, UTC)
        key = bucket_of(moment)
        lines_per_bucket[key] += 1
        label = stream.labels.get(record["id_str"])
        if not is_rt and "text" in record and label and label["is_outage"]:
            ms = int(record["timestamp_ms"])
            previous = last_seen.get((record["user"]["id"], record["text"]))
            duplicates += previous is not None and ms - previous < 600_000
            last_seen[(record["user"]["id"], record["text"])] = ms
        if label and label["is_outage"] and label["service"] == "tesla":
            (out_rt if is_rt else out_orig)[key] += 1
            incident = INCIDENTS[0]
            if not is_rt and not incident.start <= moment < incident.end:
                tesla_baseline += 1
    for post in forum:
        if post["_label"]["is_outage"]:
            moment = datetime.strptime(post["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            out_forum[bucket_of(moment)] += 1
    tw["authors"] = len(authors)
    buckets = []
    moment = datetime(2021, 11, 19, 20, 30, tzinfo=UTC)
    while moment <= datetime(2021, 11, 20, 2, 30, tzinfo=UTC):
        key = bucket_of(moment)
        buckets.append(
            (
                key[11:] if key.startswith("2021-11-19") else key[5:],
                lines_per_bucket[key],
                out_orig[key],
                out_rt[key],
                out_forum[key],
                out_orig[key] + out_forum[key],
            )
        )
        moment += timedelta(minutes=15)
    threads = Counter((p["thread_id"], p["thread_title"]) for p in forum)
    incident_hours = (INCIDENTS[0].end - INCIDENTS[0].start).total_seconds() / 3600
    malformed = [dict(m, what=MALFORMED_WHAT[m["kind"]]) for m in stream.malformed]
    return {
        "files": files,
        "twitter": tw,
        "buckets": buckets,
        "malformed": malformed,
        "duplicates": duplicates,
        "forum_posts": len(forum),
        "forum_no_author_id": sum("author_id" not in p for p in forum),
        "threads": sorted(
            ((tid, title, n) for (tid, title), n in threads.items()), key=lambda r: int(r[0])
        ),
        "tesla_baseline_per_hour": tesla_baseline / (96 - incident_hours),
        "intents": Counter(lab["intent"] for lab in labels),
        "langs": Counter(lab["lang"] for lab in labels),
        "service_slugs": [s.slug for s in SERVICES],
    }


def generate(out: Path, seed: int) -> dict[str, Any]:
    """Generate every file into ``out`` and return the measured stats."""
    (out / "posts").mkdir(parents=True, exist_ok=True)
    pool = build_users(random.Random(f"{seed}:users"), N_PEOPLE)
    stream = build_stream(seed, pool, N_BACKGROUND)
    forum = build_forum(seed)

    write_gz(out / TWEETS_FILE, stream.lines)
    write_gz(
        out / FORUM_FILE, (dumps({k: v for k, v in p.items() if k != "_label"}) for p in forum)
    )
    (out / "truth.csv").write_text(truth_csv(), encoding="utf-8")

    twitter_labels = sorted(stream.labels.values(), key=lambda lab: int(lab["id"].split(":")[1]))
    forum_labels = sorted(
        (p["_label"] for p in forum), key=lambda lab: int(lab["id"].split(":")[2])
    )
    labels = [ordered_label(lab) for lab in (*twitter_labels, *forum_labels)]
    write_gz(out / "labels.jsonl.gz", (dumps(lab) for lab in labels))

    files = [
        (
            TWEETS_FILE,
            (out / TWEETS_FILE).stat().st_size,
            len(stream.lines),
            "Twitter v1.1 stream dump",
        ),
        (FORUM_FILE, (out / FORUM_FILE).stat().st_size, len(forum), "forum posts"),
        (
            "truth.csv",
            (out / "truth.csv").stat().st_size,
            len(INCIDENTS) + 1,
            "injected incidents (with header)",
        ),
        (
            "labels.jsonl.gz",
            (out / "labels.jsonl.gz").stat().st_size,
            len(labels),
            "ground-truth labels",
        ),
    ]
    stats = measure(stream, forum, labels, files)
    (out / "README.md").write_text(render_readme(stats, seed), encoding="utf-8")
    return stats


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/samples"),
        help="output directory (default: data/samples)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})"
    )
    args = parser.parse_args(argv)
    stats = generate(args.out, args.seed)
    for name, size, lines, _ in stats["files"]:
        print(f"{args.out / name}: {size:,} bytes, {lines:,} lines")
    print(
        f"labels: {sum(stats['intents'].values()):,}; statuses: "
        f"{stats['twitter']['statuses']:,}; forum posts: {stats['forum_posts']:,}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
