"""Where the server's time goes, for ``bench/api.py --profile``: py-spy samples the server,
without pausing it, during an extra run of each workload, and the samples are summed up."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api_common import (
    ENDPOINTS,
    GOAL_CONNECTIONS,
    GOAL_PUSH_PER_S,
    OUT,
    BackendResult,
    Profile,
)
from api_load import push, push_args, push_bodies, run_wrk
from api_server import Server


@contextmanager
def sampling(pid: int, seconds: int, path: Path) -> Iterator[None]:
    """py-spy records ``pid`` (without pausing it) for ``seconds`` into ``path``."""
    path.unlink(missing_ok=True)
    command = ["py-spy", "record", "--nonblocking", "-r", "100", "-f", "raw"]
    command += ["-d", str(seconds), "-p", str(pid), "-o", str(path)]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        _, err = recorder.communicate(timeout=seconds + 60)
        if recorder.returncode != 0 or not path.exists():
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace').strip()}")


def _where(frame: str) -> str:
    """``Bucket.from_bucket (api/schemas.py:267)`` -> ``api/schemas.py``."""
    return frame.rsplit(" (", 1)[-1].rstrip(")").rsplit(":", 1)[0]


def _short(frame: str) -> str:
    return f"{frame.rsplit(' (', 1)[0]} ({_where(frame)})"


def _is_ours(frame: str) -> bool:
    where, name = _where(frame), frame.rsplit(" (", 1)[0]
    # Left out: comprehensions (their function is listed), middleware wrapping every request,
    # and the CLI frames under which the main (event-loop) thread runs.
    return (
        where.startswith(("api/", "detector/"))
        and not where.startswith("detector/cli")
        and "<locals>.<" not in name
        and not name.endswith("__call__")
    )


def _has(frames: list[str], *parts: str) -> bool:
    return any(part in frame for frame in frames for part in parts)


# Named shares of the samples, each a test of one stack (root first). Thread-pool threads
# start in Thread._bootstrap; the other stacks are the main (event-loop) thread's.
_MARKS: dict[str, Callable[[list[str]], bool]] = {
    "event-loop thread": lambda f: not f[0].startswith("Thread._bootstrap"),
    "waiting for a pooled DB connection": lambda f: (
        _has(f, "QueuePool._do_get") and _where(f[-1]) == "threading.py"
    ),
    "opening DB connections": lambda f: _has(f, "DefaultDialect.connect (", "_sqlite_pragmas"),
    "logging (access log)": lambda f: _has(f, "(logging/"),
}


def summarize(path: Path, backend: str, workload: str, top: int = 6) -> Profile:
    """Shares of the non-idle samples: named ones (``_MARKS``), our functions (inclusive) and
    the hottest leaf functions. A pool thread waiting for work is idle; one waiting for a
    database connection is not."""
    marks: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    samples = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n, frames = int(count), stack.split(";")
        if len(frames) > 1 and frames[-2].startswith("Queue.get (queue.py"):
            idle += n
            continue
        samples += n
        leaves[_short(frames[-1])] += n
        ours.update({_short(f): n for f in frames if _is_ours(f)})
        marks.update({mark: n for mark, found in _MARKS.items() if found(frames)})
    profile = Profile(backend, workload, samples, idle)
    if samples:
        profile.marks = [(mark, marks[mark] / samples) for mark in _MARKS]
        profile.ours = [(k, n / samples) for k, n in ours.most_common(top)]
        profile.leaves = [(k, n / samples) for k, n in leaves.most_common(top)]
    return profile


def profile_backend(
    server: Server, result: BackendResult, token: str, base: list[dict[str, Any]], args: Any
) -> None:
    """One sampled run of each read endpoint (at the goal's connections) and of a push, on the
    server that took the measured push (read cache ``result.push_read_cache``)."""
    pid, seconds = server.process.pid, args.profile_seconds
    for endpoint, path in ENDPOINTS.items():
        out = OUT / f"api-profile-{result.backend}-{path.strip('/').replace('/', '-')}.txt"
        server.settle()
        with sampling(pid, seconds, out):
            run_wrk(server.url + path, GOAL_CONNECTIONS, seconds + 2, args.timeout)
        workload = (
            f"`{endpoint}`, {GOAL_CONNECTIONS} connections, read cache {result.push_read_cache}"
        )
        result.profiles.append(summarize(out, result.backend, workload))
    # Fresh posts (numbered after the measured push's), a little more than the sampling lasts.
    rate = result.pushes[0].per_s if result.pushes else GOAL_PUSH_PER_S
    count = max(args.batch, int(rate * seconds * 1.2) // args.batch * args.batch)
    bodies = push_bodies(base, "profile", 0, count, args.batch)
    out = OUT / f"api-profile-{result.backend}-push.txt"
    server.settle()
    with sampling(pid, seconds, out):
        push(server, token, bodies, backend=result.backend, mix="sample", **push_args(args))
    result.profiles.append(summarize(out, result.backend, "`POST /v1/posts`"))
