"""Writing one section of a Markdown results file (``bench/RESULTS.md``) without touching the
others, so each benchmark or evaluation owns its own ``## Title`` section."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["write_section"]


def write_section(title: str, section: str, path: Path) -> None:
    """Replace the ``## <title>`` section of ``path`` with ``section`` (or append it).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "RESULTS.md"
    >>> write_section("A", "## A\\n\\none\\n", path)
    >>> write_section("B", "## B\\n\\ntwo\\n", path)
    >>> write_section("A", "## A\\n\\nthree\\n", path)
    >>> print(path.read_text())
    # Benchmarks
    <BLANKLINE>
    ## A
    <BLANKLINE>
    three
    <BLANKLINE>
    ## B
    <BLANKLINE>
    two
    <BLANKLINE>
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
