"""Where the bundled sample archive lives (``data/samples/posts`` of a checkout)."""

from __future__ import annotations

from pathlib import Path

from detector.paths import project_path

__all__ = ["sample_posts_dir"]

_RELATIVE = Path("data") / "samples" / "posts"


def sample_posts_dir(start: Path | None = None) -> Path:
    """Return the folder of sample posts: next to the installed package, or under ``start``.

    Raises
    ------
    SourceNotFound
        When neither the checkout nor ``start`` (default: the working directory) has it.
    """
    return project_path(_RELATIVE, start=start)
