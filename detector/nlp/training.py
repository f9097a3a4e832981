"""Train and evaluate the outage-complaint classifier on the project's labelled examples."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sklearn.pipeline import Pipeline

from detector.errors import ConfigError, SourceNotFound
from detector.nlp.classifier import make_pipeline, outage_probabilities
from detector.paths import project_path

__all__ = ["Example", "Scores", "default_training_path", "evaluate", "load_examples", "train"]

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text: ``label`` 1 when the writer reports something not working now."""

    text: str
    label: int
    lang: str = "und"
    kind: str = ""
    split: str = "train"


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of the positive class at ``threshold``, overall and per language.

    Examples
    --------
    >>> Scores.of([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.7], ["en"] * 4).f1
    0.5
    """

    threshold: float
    n: int
    positives: int
    precision: float
    recall: float
    f1: float
    by_language: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        labels: Sequence[int],
        probabilities: Sequence[float],
        langs: Sequence[str],
        threshold: float = 0.5,
    ) -> Scores:
        """Score predictions against labels."""
        overall = _prf(labels, [p >= threshold for p in probabilities])
        groups: dict[str, list[int]] = defaultdict(list)
        for index, lang in enumerate(langs):
            groups[lang].append(index)
        by_language = {
            lang: {
                "n": float(len(idx)),
                **dict(
                    zip(
                        ("precision", "recall", "f1"),
                        _prf(
                            [labels[i] for i in idx], [probabilities[i] >= threshold for i in idx]
                        ),
                        strict=True,
                    )
                ),
            }
            for lang, idx in sorted(groups.items())
        }
        return cls(threshold, len(labels), sum(labels), *overall, by_language=by_language)

    def as_dict(self) -> dict[str, Any]:
        """The scores as JSON-able data (for ``meta.json``)."""
        return {
            "threshold": self.threshold,
            "n": self.n,
            "positives": self.positives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "by_language": {
                k: {m: round(v, 4) for m, v in d.items()} for k, d in self.by_language.items()
            },
        }


def _prf(labels: Sequence[int], predicted: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def default_training_path() -> Path:
    """``data/training/examples.jsonl`` of the checkout (or of the working directory)."""
    return project_path(Path("data") / "training" / "examples.jsonl")


def load_examples(path: Path) -> list[Example]:
    """Read labelled examples (JSON lines with ``text``, ``label`` and optional ``lang``,
    ``kind``, ``split``; without ``split``, a stable hash of the ``group`` or text assigns one).

    Raises
    ------
    SourceNotFound
        When the file is missing.
    ConfigError
        When a line is not a valid example; the message names the file, line and field.
    """
    if not path.is_file():
        raise SourceNotFound(path)
    examples = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: invalid JSON: {exc}") from None
            examples.append(_example(row, path, number))
    return examples


def _example(row: Any, path: Path, number: int) -> Example:
    where = f"{path}:{number}"
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: expected an object")
    text, label = row.get("text"), row.get("label")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: field 'text' must be non-empty text")
    if label not in (0, 1) or isinstance(label, bool):
        raise ConfigError(f"{where}: field 'label' must be 0 or 1, got: {label!r}")
    split = row.get("split") or _hash_split(str(row.get("group") or text))
    if split not in SPLITS:
        raise ConfigError(f"{where}: field 'split' must be one of {SPLITS}, got: {split!r}")
    return Example(
        text, int(label), str(row.get("lang") or "und"), str(row.get("kind") or ""), split
    )


def _hash_split(key: str) -> str:
    bucket = int(hashlib.blake2b(key.encode(), digest_size=2).hexdigest(), 16) % 10
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def train(examples: Iterable[Example], *, seed: int = 0, **params: Any) -> Pipeline:
    """Fit the classifier on the ``train`` examples (see ``make_pipeline`` for ``params``).

    Raises
    ------
    ConfigError
        When the training split lacks one of the two classes.
    """
    chosen = [e for e in examples if e.split == "train"]
    labels = {e.label for e in chosen}
    if labels != {0, 1}:
        raise ConfigError(f"training needs outage and non-outage examples, got labels {labels}")
    log.info("training on %d examples", len(chosen))
    model = make_pipeline(seed=seed, **params)
    model.fit([e.text for e in chosen], [e.label for e in chosen])
    return model


def evaluate(model: Pipeline, examples: Sequence[Example], threshold: float = 0.5) -> Scores:
    """Score ``model`` on ``examples``."""
    probabilities = outage_probabilities(model, [e.text for e in examples])
    return Scores.of(
        [e.label for e in examples], list(probabilities), [e.lang for e in examples], threshold
    )


MODEL_NAME = "outage-classifier"


def train_and_save(
    *, data: Path, models_dir: Path, version: str, seed: int = 0, trained_at: str
) -> tuple[Path, dict[str, Scores]]:
    """Train on ``data``, score the dev and test splits, and save under ``models_dir``.

    Returns the model folder (``<models_dir>/outage-classifier-<version>``) and the scores.
    """
    from detector.nlp.persist import save_model

    examples = load_examples(data)
    model = train(examples, seed=seed)
    scores = {
        split: evaluate(model, chosen)
        for split in ("dev", "test")
        if (chosen := [e for e in examples if e.split == split])
    }
    counts = {s: sum(1 for e in examples if e.split == s) for s in SPLITS}
    meta = {
        "name": MODEL_NAME,
        "version": version,
        "trained_at": trained_at,
        "seed": seed,
        "training_data": {
            "path": data.name,
            "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
            "examples": len(examples),
            "per_split": counts,
            "source": "data/training (written for this project; see its README)",
        },
        "scores": {split: s.as_dict() for split, s in scores.items()},
    }
    folder = save_model(model, folder=models_dir / f"{MODEL_NAME}-{version}", meta=meta)
    return folder, scores
