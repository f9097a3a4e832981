"""Location evaluation: dataset readers, span and geocoding metrics, on tiny invented fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from detector.nlp.eval_readers import GoldSpan, read_conll, read_idrisi
from detector.nlp.evaluation import (
    SpanScores,
    evaluate_locations,
    geocoding_errors,
    haversine_km,
    percentile,
    score_spans,
)
from detector.nlp.gazetteer import Gazetteer
from detector.nlp.locations import LocationExtractor, LocationMention

WNUT = (
    "Power\tO\nout\tO\nin\tO\nRedondo\tB-location\nBeach\tI-location\n!\tO\n\n"
    "Apple\tB-corporation\nstore\tO\nin\tO\nOslo\tB-location\n\n"
)
BTC = "Stuck\tO\nat\tO\nLeeds\tB-LOC\n,\tO\nMike\tB-PER\nsaid\tO\nYork\tI-LOC\n"


def _mention(
    start: int, end: int, lat: float | None = 0.0, lon: float | None = 0.0
) -> LocationMention:
    return LocationMention(
        "text", "city", "x", "XX", None, None, lat, lon, 0.5, False, start=start, end=end
    )


class FakeExtractor:
    """Finds every occurrence of fixed names, placed at fixed points."""

    def __init__(self, places: dict[str, tuple[float, float]]) -> None:
        self.places = places

    def from_text(self, text: str) -> list[LocationMention]:
        found = []
        for name, (lat, lon) in self.places.items():
            start = text.find(name)
            if start >= 0:
                found.append(_mention(start, start + len(name), lat, lon))
        return sorted(found, key=lambda m: m.start or 0)


def _write_idrisi(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _idrisi_record(text: str, mentions: list[tuple[str, str, int, float | None]]) -> dict[str, Any]:
    """A record shaped like IDRISI-R (no coordinates) or IDRISI-D (``osm_json`` lat/lon)."""
    out = []
    for surface, kind, start, lat in mentions:
        mention: dict[str, Any] = {
            "text": surface,
            "type": kind,
            "start_offset": start,
            "end_offset": start + len(surface),
        }
        if lat is not None:
            mention["osm_json"] = {"lat": str(lat), "lon": "23.7", "osm_type": "relation"}
        out.append(mention)
    return {
        "tweet_id": "1",
        "text": text,
        "created_at": "Mon Jul 23 18:01:44 +0000 2018",
        "humAID_class": "infrastructure_and_utility_damage",
        "location_mentions": out,
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "wnut17").mkdir()
    (tmp_path / "wnut17" / "emerging.dev.conll").write_text(WNUT, encoding="utf-8")
    (tmp_path / "btc").mkdir()
    (tmp_path / "btc" / "btc.dev").write_text(BTC, encoding="utf-8")
    record = _idrisi_record(
        "Fires near Athens and Rafina, Greece", [("Athens", "City/town", 11, 38.0)]
    )
    _write_idrisi(tmp_path / "idrisi" / "LMD" / "greece_fires" / "dev.jsonl", [record])
    _write_idrisi(tmp_path / "idrisi" / "LMD" / "greece_fires" / "train.jsonl", [record])
    return tmp_path


def test_read_conll_offsets(data_dir: Path) -> None:
    docs = read_conll(data_dir / "wnut17" / "emerging.dev.conll", {"location"})

    assert [d.text for d in docs] == ["Power out in Redondo Beach !", "Apple store in Oslo"]
    assert [[(s.start, s.end, s.text) for s in d.spans] for d in docs] == [
        [(13, 26, "Redondo Beach")],
        [(15, 19, "Oslo")],
    ]
    for doc in docs:
        assert all(doc.text[s.start : s.end] == s.text for s in doc.spans)


def test_read_conll_without_trailing_blank_and_stray_inside_tag(data_dir: Path) -> None:
    (doc,) = read_conll(data_dir / "btc" / "btc.dev", {"LOC"})

    # "York" is I-LOC after a person: it starts a location of its own.
    assert [s.text for s in doc.spans] == ["Leeds", "York"]


def test_read_idrisi_fixes_offsets_one_off(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    text = "Evacuations in Mati, Greece"
    record = _idrisi_record(
        text, [("Mati", "City/town", 14, 38.0), ("Greece", "Country", 21, None)]
    )
    record["location_mentions"].append(
        {"text": "Sparta", "type": "City/town", "start_offset": 0, "end_offset": 6}
    )
    _write_idrisi(path, [record])

    (doc,) = read_idrisi([path])

    assert [(s.start, s.end, s.text) for s in doc.spans] == [(15, 19, "Mati"), (21, 27, "Greece")]
    assert (doc.spans[0].lat, doc.spans[0].lon) == (38.0, 23.7)
    assert doc.spans[1].lat is None


@pytest.mark.parametrize(
    ("gold", "predicted", "exact", "expected"),
    [
        ([(0, 5)], [(0, 5)], True, SpanScores(1, 1, 1)),
        ([(0, 13)], [(0, 7)], True, SpanScores(0, 1, 1)),
        ([(0, 13)], [(0, 7)], False, SpanScores(1, 1, 1)),
        # One gold span overlapped by two predictions pairs with only one of them.
        ([(0, 13)], [(0, 7), (8, 13)], False, SpanScores(1, 1, 2)),
        ([], [(3, 6)], False, SpanScores(0, 0, 1)),
        ([(3, 6)], [], True, SpanScores(0, 1, 0)),
    ],
)
def test_score_spans(
    gold: list[tuple[int, int]],
    predicted: list[tuple[int, int]],
    exact: bool,
    expected: SpanScores,
) -> None:
    assert score_spans([(gold, predicted)], exact=exact) == expected


def test_scores_are_zero_not_nan_on_empty() -> None:
    empty = SpanScores(0, 0, 0)

    assert (empty.precision, empty.recall, empty.f1) == (0.0, 0.0, 0.0)


def test_haversine_paris_london() -> None:
    assert haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(344, abs=1)
    assert haversine_km(10.0, 20.0, 10.0, 20.0) == 0.0


def test_percentile_interpolates() -> None:
    assert percentile([10.0, 0.0, 20.0], 50) == 10.0
    assert percentile(list(map(float, range(11))), 90) == pytest.approx(9.0)
    with pytest.raises(ValueError, match="101"):
        percentile([1.0], 101)


def test_geocoding_errors_pair_overlapping_spans() -> None:
    gold = [
        GoldSpan(0, 5, "Paris", lat=48.8566, lon=2.3522),
        GoldSpan(10, 16, "London", lat=51.5074, lon=-0.1278),
        GoldSpan(20, 24, "Dorf"),
    ]
    predicted = [_mention(0, 5, 51.5074, -0.1278), _mention(10, 13, None, None)]

    errors = geocoding_errors(gold, predicted)

    assert len(errors) == 2
    assert errors[0] == pytest.approx(344, abs=1)
    assert errors[1] is None


def test_evaluate_reports_found_and_missing_datasets(data_dir: Path) -> None:
    extractor = FakeExtractor({"Oslo": (59.9, 10.7), "Athens": (38.0, 23.7), "Greece": (39, 22)})

    result = evaluate_locations(extractor, data_dir)
    sets = result["datasets"]

    assert sets["wnut17_dev"]["exact"] == {
        "tp": 1, "gold": 2, "predicted": 1, "precision": 1.0, "recall": 0.5, "f1": 0.6667
    }  # fmt: skip
    assert sets["btc_dev"]["partial"]["tp"] == 0
    assert sets["idrisi_lmr_dev"] == {
        "found": False,
        "expected": str(data_dir / "idrisi/LMR/*/dev.jsonl"),
    }
    lmd = sets["idrisi_lmd_dev"]
    assert lmd["documents"] == 1
    assert lmd["exact"]["precision"] == 0.5  # "Greece" is not annotated in the fixture
    assert lmd["geocoding"]["coverage"] == 1.0
    assert lmd["geocoding"]["median_km"] == 0.0
    json.dumps(result)


def test_evaluate_without_any_data(tmp_path: Path) -> None:
    result = evaluate_locations(FakeExtractor({}), tmp_path / "absent")

    assert {name: r["found"] for name, r in result["datasets"].items()} == {
        "wnut17_dev": False,
        "btc_dev": False,
        "idrisi_lmr_dev": False,
        "idrisi_lmd_dev": False,
    }


def test_evaluate_subsamples_deterministically(tmp_path: Path) -> None:
    lines = "".join(f"Town{i}\tB-location\n\n" for i in range(10))
    (tmp_path / "wnut17").mkdir()
    (tmp_path / "wnut17" / "emerging.dev.conll").write_text(lines, encoding="utf-8")

    first = evaluate_locations(FakeExtractor({}), tmp_path, max_docs=4)
    second = evaluate_locations(FakeExtractor({}), tmp_path, max_docs=4)

    assert first["datasets"] == second["datasets"]
    assert first["datasets"]["wnut17_dev"]["documents"] == 4
    with pytest.raises(ValueError, match="0"):
        evaluate_locations(FakeExtractor({}), tmp_path, max_docs=0)


def test_real_extractor_on_fixture(data_dir: Path) -> None:
    result = evaluate_locations(LocationExtractor(Gazetteer.load()), data_dir)

    assert result["datasets"]["wnut17_dev"]["partial"]["tp"] >= 1  # Oslo
    assert result["datasets"]["idrisi_lmd_dev"]["geocoding"]["median_km"] < 50


def test_gold_span_rejects_empty_offsets() -> None:
    with pytest.raises(ValueError, match="5..5"):
        GoldSpan(5, 5, "")
