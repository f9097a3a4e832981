"""How good the NLP is, measured the same way every time (``outage-radar evaluate``).

Three kinds of data, each saying something different:

* the held-out test split of ``data/training`` (same authors as the training data);
* the bundled sample archive, whose per-post labels come from an independent generator
  (another author's phrasing, whole conversations, forum threads): outage F1, the service
  named for outage posts, and the writer's country for located outage posts;
* public tweet sets under ``../shared/data`` when present (location spans and geocoding).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from detector.ingest.files import ReadOptions, read_file
from detector.models import Post
from detector.nlp.analyzer import Analyzer
from detector.nlp.evaluation import evaluate_locations
from detector.nlp.training import Scores, default_training_path, evaluate, load_examples

__all__ = ["QualityReport", "SampleScores", "measure_quality"]


@dataclass(frozen=True, slots=True)
class SampleScores:
    """Scores on the sample archive's labelled posts (reposts left out)."""

    outage: Scores
    with_service: int
    service_right: int
    flagged_with_service: int
    flagged_service_right: int
    with_country: int
    located: int
    country_right: int


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Everything ``measure_quality`` found; ``markdown()`` renders the results section."""

    threshold: float
    held_out: Scores
    sample: SampleScores | None
    locations: dict[str, Any]
    measured_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data."""
        sample = None
        if self.sample is not None:
            s = self.sample
            sample = {
                "outage": s.outage.as_dict(),
                "service_right": _share(s.service_right, s.with_service),
                "service_right_flagged": _share(s.flagged_service_right, s.flagged_with_service),
                "country_right": _share(s.country_right, s.located),
                "located": _share(s.located, s.with_country),
                "counts": {
                    "with_service": s.with_service,
                    "flagged_with_service": s.flagged_with_service,
                    "with_country": s.with_country,
                    "located": s.located,
                },
            }
        return {
            "threshold": self.threshold,
            "outage_classifier_test": self.held_out.as_dict(),
            "sample_archive": sample,
            "locations": self.locations,
        }

    def markdown(self, command: str) -> str:
        """The ``## NLP quality`` section of ``bench/RESULTS.md``."""
        h = self.held_out
        rows = [
            f"| outage F1 (P / R) | data/training test split | {h.n:,} | "
            f"{h.f1:.3f} ({h.precision:.3f} / {h.recall:.3f}) |"
        ]
        if (s := self.sample) is not None:
            o = s.outage
            rows += [
                f"| outage F1 (P / R) | sample archive posts (other author) | {o.n:,} | "
                f"{o.f1:.3f} ({o.precision:.3f} / {o.recall:.3f}) |",
                f"| service named among the found services | sample outage posts with a service "
                f"| {s.with_service:,} | {_share(s.service_right, s.with_service):.3f} |",
                f"| service named, posts the classifier flags | same, flagged as outage | "
                f"{s.flagged_with_service:,} | "
                f"{_share(s.flagged_service_right, s.flagged_with_service):.3f} |",
                f"| writer's country right | sample outage posts located by the analyzer | "
                f"{s.located:,} | {_share(s.country_right, s.located):.3f} |",
                f"| located at all | sample outage posts whose label has a country | "
                f"{s.with_country:,} | {_share(s.located, s.with_country):.3f} |",
            ]
        rows += _location_rows(self.locations)
        return "\n".join(
            [
                "## NLP quality",
                "",
                f"Command: `{command}`",
                "",
                f"- Date: {self.measured_at:%Y-%m-%d %H:%M} UTC; model threshold {self.threshold}",
                "- Sample posts are annotated in file order, in batches of 2,000, so an answer "
                "finds the post it replies to or quotes when that post is in the same batch.",
                "",
                "| measure | data | n | value |",
                "|---|---|--:|--:|",
                *rows,
                "",
                "The sample's labels come from its generator, so they test generalisation to "
                "another author's phrasing, not to real posts. The sample outage posts whose "
                "service is still missed mostly name none and answer nothing (\"car won't "
                'unlock with my phone", "power out again"): the text alone does not say.',
                "",
            ]
        )


def measure_quality(
    analyzer: Analyzer,
    *,
    now: datetime,
    training_path: Path | None = None,
    samples_dir: Path | None = None,
    shared_dir: Path | None = None,
) -> QualityReport:
    """Measure ``analyzer`` on the held-out split, the sample archive and the public sets.

    Parameters
    ----------
    samples_dir
        ``data/samples`` (with ``posts/`` and ``labels.jsonl.gz``); skipped when None or absent.
    shared_dir
        The public tweet sets; each missing set is reported as not found.
    """
    test = [e for e in load_examples(training_path or default_training_path()) if e.split == "test"]
    held_out = evaluate(analyzer.model, test, analyzer.threshold)
    sample = None
    if samples_dir is not None and (samples_dir / "labels.jsonl.gz").exists():
        sample = _sample_scores(analyzer, samples_dir)
    locations = evaluate_locations(analyzer.places, shared_dir) if shared_dir else {}
    return QualityReport(analyzer.threshold, held_out, sample, locations, now)


def _sample_scores(analyzer: Analyzer, samples_dir: Path) -> SampleScores:
    labels: dict[str, dict[str, Any]] = {}
    with gzip.open(samples_dir / "labels.jsonl.gz") as fh:
        for line in fh:
            row = orjson.loads(line)
            labels[row["id"]] = row
    posts = [
        item
        for path in sorted((samples_dir / "posts").glob("*.gz"))
        for item in read_file(path, ReadOptions())
        if isinstance(item, Post) and item.id in labels and not item.is_repost
    ]
    annotations = [
        a for i in range(0, len(posts), 2000) for a in analyzer.annotate(posts[i : i + 2000])
    ]
    truth = [labels[p.id] for p in posts]
    outage = Scores.of(
        [int(t["is_outage"]) for t in truth],
        [a.outage_probability for a in annotations],
        [t["lang"] or "und" for t in truth],
        analyzer.threshold,
    )
    pairs = [(a, t) for a, t in zip(annotations, truth, strict=True) if t["is_outage"]]
    with_service = [(a, t) for a, t in pairs if t["service"]]
    flagged = [(a, t) for a, t in with_service if a.is_outage]
    located = [(a, t) for a, t in pairs if t["country"] and a.country]
    return SampleScores(
        outage=outage,
        with_service=len(with_service),
        service_right=sum(1 for a, t in with_service if _names(a, t["service"])),
        flagged_with_service=len(flagged),
        flagged_service_right=sum(1 for a, t in flagged if _names(a, t["service"])),
        with_country=sum(1 for _, t in pairs if t["country"]),
        located=len(located),
        country_right=sum(1 for a, t in located if a.country == t["country"]),
    )


def _names(annotation: Any, slug: str) -> bool:
    return slug in {s.slug for s in annotation.services}


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _location_rows(result: dict[str, Any]) -> list[str]:
    rows = []
    for name, data in result.get("datasets", {}).items():
        if not data.get("found"):
            rows.append(f"| location spans | {name}: not found | – | – |")
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
