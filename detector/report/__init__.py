"""The analyst's report of an analysis: one self-contained HTML page and a PNG chart per
incident, written from a store after detection (``write_report``).

Per incident the page shows complaints against the expected baseline over the surrounding day,
the symptoms, error messages and broken features with their shares, a ranked table of
countries, representative posts, the sources and the detector's explanation; with known
incidents (``detector.spikes.truth``) it adds which were found, how late, and what matched
nothing.
"""

from __future__ import annotations

from detector.report.data import ReportInputs
from detector.report.html import write_report

__all__ = ["ReportInputs", "write_report"]
