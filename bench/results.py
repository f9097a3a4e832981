"""Where the benchmarks write: each owns one section of ``bench/RESULTS.md``."""

from __future__ import annotations

from pathlib import Path

from detector.results import write_section as _write_section

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(title: str, section: str, path: Path = RESULTS) -> None:
    """Replace the ``## <title>`` section of ``bench/RESULTS.md`` (or append it)."""
    _write_section(title, section, path)
