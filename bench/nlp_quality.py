"""NLP quality on the held-out split and on the sample archive (an independent synthetic author).

Measures the outage classifier (precision/recall/F1 on ``data/training`` test split and on the
sample's labelled posts), the service named for outage posts, and the writer's country for
outage posts that carry location evidence.

Usage::

    python bench/nlp_quality.py [--write-results]
"""

from __future__ import annotations

import argparse
import gzip
from datetime import UTC, datetime
from pathlib import Path

import orjson
from results import write_section

from detector.ingest.files import ReadOptions, read_file
from detector.models import Post
from detector.nlp.analyzer import Analyzer
from detector.nlp.training import Scores, default_training_path, evaluate, load_examples

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


SHARED = ROOT.parent / "shared" / "data"


def _location_rows(analyzer: Analyzer) -> list[str]:
    """Span F1 on the public tweet sets, and geocoding error on IDRISI-D, when they are here."""
    from detector.nlp.evaluation import evaluate_locations

    result = evaluate_locations(analyzer.places, SHARED)
    rows = []
    for name, data in result["datasets"].items():
        if not data.get("found"):
            rows.append(f"| location spans | {name}: not found under {SHARED} | – | – |")
            continue
        exact, partial = data["exact"], data["partial"]
        rows.append(
            f"| location span F1 exact / partial (P / R exact) | {name} | {exact['gold']:,} | "
            f"{exact['f1']:.3f} / {partial['f1']:.3f} "
            f"({exact['precision']:.3f} / {exact['recall']:.3f}) |"
        )
        if geo := data.get("geocoding"):
            rows.append(
                f"| geocoding median / p90 km (coverage) | {name} | {geo['gold_mentions']:,} | "
                f"{geo['median_km']:.0f} / {geo['p90_km']:,.0f} ({geo['coverage']:.3f}) |"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    analyzer = Analyzer.load()
    test = [e for e in load_examples(default_training_path()) if e.split == "test"]
    held_out = evaluate(analyzer.model, test, analyzer.threshold)

    labels = {}
    with gzip.open(SAMPLES / "labels.jsonl.gz") as fh:
        for line in fh:
            row = orjson.loads(line)
            labels[row["id"]] = row
    posts = [
        item
        for path in sorted((SAMPLES / "posts").glob("*.gz"))
        for item in read_file(path, ReadOptions())
        if isinstance(item, Post) and item.id in labels and not item.is_repost
    ]
    annotations = analyzer.annotate(posts)
    truth = [labels[p.id] for p in posts]
    sample = Scores.of(
        [int(t["is_outage"]) for t in truth],
        [a.outage_probability for a in annotations],
        [t["lang"] or "und" for t in truth],
        analyzer.threshold,
    )
    outage = [(a, t) for a, t in zip(annotations, truth, strict=True) if t["is_outage"]]
    with_service = [(a, t) for a, t in outage if t["service"]]
    service_right = sum(1 for a, t in with_service if t["service"] in {s.slug for s in a.services})
    located = [(a, t) for a, t in outage if t["country"] and a.country]
    country_right = sum(1 for a, t in located if a.country == t["country"])
    with_country = sum(1 for _, t in outage if t["country"])

    lines = [
        "## NLP quality",
        "",
        f"Command: `python bench/nlp_quality.py{' --write-results' * args.write_results}`",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; model threshold {analyzer.threshold}",
        "",
        "| measure | data | n | value |",
        "|---|---|--:|--:|",
        f"| outage F1 (P / R) | data/training test split | {held_out.n:,} | "
        f"{held_out.f1:.3f} ({held_out.precision:.3f} / {held_out.recall:.3f}) |",
        f"| outage F1 (P / R) | sample archive posts (other author) | {sample.n:,} | "
        f"{sample.f1:.3f} ({sample.precision:.3f} / {sample.recall:.3f}) |",
        f"| service named among the found services | sample outage posts with a service | "
        f"{len(with_service):,} | {service_right / max(1, len(with_service)):.3f} |",
        f"| writer's country right | sample outage posts located by the analyzer | "
        f"{len(located):,} | {country_right / max(1, len(located)):.3f} |",
        f"| located at all | sample outage posts whose label has a country | "
        f"{with_country:,} | {len(located) / max(1, with_country):.3f} |",
        *_location_rows(analyzer),
        "",
        "The sample's labels come from its generator, so they test generalisation to another",
        "author's phrasing, not to real posts. Many sample posts name no service (\"car won't",
        'unlock with my phone") or no place: those need the conversation they answer.',
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write_results:
        write_section("NLP quality", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
