"""The committed outage-complaint training set: schema, balance, splits and reproducibility."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "data" / "training"
POSITIVE = {
    "down_unavailable",
    "login_auth",
    "error_message",
    "app_crash",
    "connectivity_network",
    "slow_degraded",
    "payments",
    "feature_broken",
    "power",
}
NEGATIVE = {
    "customer_service",
    "price_billing",
    "delivery_goods",
    "policy",
    "question_no_problem",
    "praise",
    "joke_slang",
    "ad_promo",
    "news_report",
    "stock_finance",
    "resolved_back_up",
    "hypothetical_or_past",
    "other",
}
REQUIRED_LANGS = ["en", "de", "es", "fr", "pt", "it", "ja", "ko"]


def _load_builder() -> ModuleType:
    path = ROOT / "scripts" / "build_training_set.py"
    spec = importlib.util.spec_from_file_location("build_training_set", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with (TRAINING / "examples.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_schema(rows: list[dict]) -> None:
    keys = {
        "id",
        "text",
        "label",
        "lang",
        "kind",
        "service",
        "source",
        "reviewed",
        "group",
        "split",
    }
    for row in rows:
        assert set(row) == keys, row
        assert isinstance(row["text"], str) and row["text"].strip()
        assert row["label"] in (0, 1)
        assert row["source"] in {"seed", "weak", "variant"}
        assert row["split"] in {"train", "dev", "test"}
        assert isinstance(row["reviewed"], bool)
        assert row["service"] is None or isinstance(row["service"], str)


def test_label_matches_kind(rows: list[dict]) -> None:
    for row in rows:
        assert row["kind"] in (POSITIVE if row["label"] == 1 else NEGATIVE), row


def test_size_and_balance(rows: list[dict]) -> None:
    assert len(rows) >= 6000
    positive = sum(r["label"] for r in rows) / len(rows)
    assert 0.35 <= positive <= 0.45
    assert sum(r["lang"] == "en" for r in rows) / len(rows) >= 0.70
    assert sum(r["source"] == "variant" for r in rows) / len(rows) <= 0.5


@pytest.mark.parametrize("lang", REQUIRED_LANGS)
def test_language_has_enough_examples(rows: list[dict], lang: str) -> None:
    by_label = Counter(r["label"] for r in rows if r["lang"] == lang)
    assert sum(by_label.values()) >= 150
    assert min(by_label[0], by_label[1]) >= 50


def test_no_duplicate_texts(rows: list[dict]) -> None:
    builder = _load_builder()
    keys = Counter(builder.norm_key(r["text"]) for r in rows)
    assert [k for k, n in keys.items() if n > 1] == []


def test_groups_do_not_straddle_splits(rows: list[dict]) -> None:
    splits: dict[str, set[str]] = {}
    for row in rows:
        splits.setdefault(row["group"], set()).add(row["split"])
    assert all(len(s) == 1 for s in splits.values())
    seeds = {r["group"] for r in rows if r["source"] == "seed"}
    assert {r["group"] for r in rows if r["source"] == "variant"} <= seeds


def test_build_is_deterministic_and_matches_committed_file(tmp_path: Path) -> None:
    builder = _load_builder()
    builder.main(["--out", str(tmp_path)])
    committed = (TRAINING / "examples.jsonl").read_bytes()
    assert (tmp_path / "examples.jsonl").read_bytes() == committed
    assert (tmp_path / "stats.json").read_bytes() == (TRAINING / "stats.json").read_bytes()
