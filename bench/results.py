"""Where the benchmarks write: each owns one section of ``bench/RESULTS.md``."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

from detector.results import write_section as _write_section

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(title: str, section: str, path: Path = RESULTS) -> None:
    """Replace the ``## <title>`` section of ``bench/RESULTS.md`` (or append it)."""
    _write_section(title, section, path)


def code_version(*folders: str) -> str:
    """The commit measured (short hash), saying so when ``folders`` (default ``detector``) have
    uncommitted changes."""
    watched = folders or ("detector",)
    root = RESULTS.parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
        return done.stdout.decode().strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", *watched)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    where = " or ".join(f"{f}/" for f in watched)
    return f"{head} (with uncommitted changes in {where})" if dirty else head


def cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
