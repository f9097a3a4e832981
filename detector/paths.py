"""Where the project's own files (``data/``, ``models/``) are found at run time.

They live in the checkout beside the package (an editable install, the README's setup), or
under the working directory; nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

from detector.errors import SourceNotFound

__all__ = ["project_path"]

_CHECKOUT = Path(__file__).resolve().parents[1]


def project_path(relative: str | Path, *, start: Path | None = None, marker: str = "") -> Path:
    """Return ``relative`` (e.g. ``data/services.yaml``) in the checkout, else under ``start``.

    Parameters
    ----------
    relative
        The path inside the project.
    start
        The other folder to look in (default: the working directory).
    marker
        For a folder, a file inside it that must exist (``cities.jsonl.gz``).

    Raises
    ------
    SourceNotFound
        When neither place has it.

    Examples
    --------
    >>> project_path("data/services.yaml").name
    'services.yaml'
    """
    for root in (_CHECKOUT, start or Path.cwd()):
        candidate = root / relative
        if (candidate / marker).exists() if marker else candidate.exists():
            return candidate
    raise SourceNotFound((start or Path.cwd()) / relative)
