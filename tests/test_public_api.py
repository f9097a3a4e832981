"""The library's public names stay deliberate."""

from __future__ import annotations

import inspect

import detector


def test_all_is_sorted_and_complete():
    assert detector.__all__ == sorted(detector.__all__)
    public = {
        name
        for name, value in vars(detector).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert public == set(detector.__all__)


def test_every_error_derives_from_one_root():
    for name in detector.__all__:
        obj = getattr(detector, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, detector.DetectorError), name
