"""Fixtures of the live-source tests that store what they read."""

from __future__ import annotations

import pytest

from detector.nlp.analyzer import Analyzer


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """The bundled model, loaded once (seconds)."""
    return Analyzer.load()
