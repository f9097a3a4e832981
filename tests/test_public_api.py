"""The library's public names stay deliberate."""

from __future__ import annotations

import detector


def test_all_is_sorted_and_complete():
    assert detector.__all__ == sorted(detector.__all__)
    public = {name for name in vars(detector) if not name.startswith("_")}
    modules = {"clock", "config", "errors", "ingest", "models", "store", "annotations"}
    assert public - modules == set(detector.__all__)


def test_every_error_derives_from_one_root():
    for name in detector.__all__:
        obj = getattr(detector, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, detector.DetectorError), name
