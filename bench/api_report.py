"""The report of ``bench/api.py``: the tables, the verdicts against the goals, the profile
lines, and the ``## API under load`` section of ``bench/RESULTS.md``."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from typing import Any

from api_common import (
    ACCESS_LOG,
    GOAL_CONNECTIONS,
    GOAL_P99_MS,
    GOAL_PUSH_PER_S,
    NAMES,
    OUTAGE_SHARE,
    SECTION,
    SEED,
    SERVER_ENV,
    BackendResult,
    Cores,
    ms,
)
from results import code_version, cpu_model


def tables(results: list[BackendResult]) -> list[str]:
    lines = [
        "| backend | endpoint | read cache | connections | requests | requests/s | p50 | p90 "
        f"| p99 | max | errors: socket / timeout / non-2xx | {Cores.HEAD.format(load='wrk')} "
        "| server busy after wrk stopped |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        *(run.row() for result in results for run in result.reads),
        "",
    ]
    pushes = [run for result in results for run in result.pushes]
    if pushes:
        lines += [
            "| backend | posts from | posts | batch | clients | seconds | posts/s | stored "
            "| flagged as outage | counted | request p50 | request p99 | failed requests "
            f"| {Cores.HEAD.format(load='push clients')} |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
            *(p.row() for p in pushes),
            "",
        ]
    return lines


def verdicts(results: list[BackendResult]) -> list[str]:
    lines = []
    for result in results:
        for r in result.reads:
            if r.connections != GOAL_CONNECTIONS:
                continue
            errors = r.socket_errors + r.timeouts + r.non_2xx
            met = r.requests > 0 and errors == 0 and r.p99 < GOAL_P99_MS
            note = " (no request completed)" if not r.requests else ""
            note = f" ({errors:,} errors)" if errors else note
            lines.append(
                f"- {NAMES[r.backend]}, `{r.endpoint}` at {r.connections} connections, read cache "
                f"{r.read_cache}: p99 {ms(r.p99)}{note} against a goal of < {GOAL_P99_MS:.0f} ms — "
                f"{'met' if met else 'NOT met'}."
            )
        for p in result.pushes:
            met = p.per_s >= GOAL_PUSH_PER_S and not p.failures
            lines.append(
                f"- {NAMES[p.backend]}, `POST /v1/posts` ({p.mix}): {p.per_s:,.0f} posts/s "
                f"against a goal "
                f"of >= {GOAL_PUSH_PER_S:,.0f} — {'met' if met else 'NOT met'}."
            )
    best: dict[str, float] = {}
    for r in (r for result in results for r in result.reads):
        best[r.read_cache] = max(best.get(r.read_cache, 0.0), r.per_s)
    served = " and ".join(f"{per_s:,.1f} (read cache {mode})" for mode, per_s in best.items())
    lines.append(
        "- Each wrk connection waits for its answer before asking again, so the mean latency is "
        f"connections / throughput (Little's law): {GOAL_CONNECTIONS} connections under "
        f"{GOAL_P99_MS:.0f} ms need more than {GOAL_CONNECTIONS / GOAL_P99_MS * 1000:,.0f} "
        f"requests/s; the best {'runs' if len(best) > 1 else 'run'} above served "
        f"{served or '0.0'}."
    )
    return lines


def profile_lines(results: list[BackendResult]) -> list[str]:
    def listed(items: list[tuple[str, float]]) -> str:
        return ", ".join(f"`{name}` {share:.0%}" for name, share in items)

    return [
        f"- {NAMES[p.backend]}, {p.workload} ({p.samples:,} samples; {p.idle:,} of idle pool "
        f"threads left out): {listed(p.marks)}; in our code (inclusive) {listed(p.ours)}; "
        f"hottest leaves {listed(p.leaves)}."
        for result in results
        for p in result.profiles
    ]


def section(results: list[BackendResult], args: Any, command: str) -> str:
    data = "; ".join(
        f"{NAMES[r.backend]}: replayed in {r.build_seconds:.0f} s, "
        + ", ".join(f"`{e}` {d}" for e, d in r.responses.items())
        for r in results
    )
    rss = "; ".join(f"{NAMES[r.backend]} {_rss(r)}" for r in results)
    last = args.read_cache[-1]
    lines = [
        f"## {SECTION}",
        "",
        f"Command: `{command}`",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; {_version('wrk')}; PostgreSQL on the same "
        "machine (127.0.0.1).",
        f"- Code: {code_version('api', 'detector')}",
        "- Server as shipped: `outage-radar serve --port P --db URL`: one uvicorn process "
        f"(asyncio event loop, httptools, {_access_log(args.access_log)}), "
        "sync routes in its thread pool; "
        + ", ".join(f"`{k}={v}`" for k, v in SERVER_ENV.items())
        + "".join(f", `{k}={v}`" for k, v in ACCESS_LOG[args.access_log].items())
        + '; the read cache as the "read cache" column says (see Reads). Peak server RSS: '
        + f"{rss}.",
        f"- The load generators share the {os.cpu_count()} cores with the server (and, for "
        "PostgreSQL, with the database): wrk (2 threads; 1 at 1 connection) or the push client "
        "threads. The CPU columns are CPU time over wall time during the measured run (1.00: "
        "one core busy throughout) of the server, of the load generator, and of the rest of "
        "the machine (PostgreSQL, and other processes: the machine is shared; 1-minute load "
        f"average when the bench started: {args.load_average:.2f}).",
        f"- Data: the bundled sample replayed into a new database per backend ({data}). The "
        "timeseries is the default window: the last 24 h of data, 1-minute buckets.",
        '- Reads: for each read-cache mode (the "read cache" column), a server of its own on '
        f"the same database: {'; '.join(_read_cache(mode) for mode in args.read_cache)}. wrk "
        "sends no `If-None-Match`, so every answer is a full `200` with its body. "
        f"Per row, a {args.warmup} s warm-up, then `wrk -c<connections> "
        f"-d{args.duration}s --timeout {args.timeout}s --latency` (a Lua `done` hook prints "
        "wrk's percentiles). Requests still queued when wrk stops are neither counted nor in the "
        "percentiles; the last column is how long the server went on answering them.",
        f"- Push: once per backend, after the reads, on the server with the read cache {last}: "
        "the cache takes no part in writes (a push only ends the answers it keeps), so its mode "
        f"does not matter for them. {args.push_posts:,} posts with fresh ids and authors, in "
        f"batches of {args.batch:,} from {args.clients} client threads (httpx), timed from the "
        "first request to the last answer; the server stores, annotates and counts each batch "
        'before answering. Posts from "sample": the sample\'s distinct posts in time order (an '
        f'outage-heavy window); "{OUTAGE_SHARE:.0%} outage": a seeded draw (seed {SEED}) of its '
        f"labelled posts with {OUTAGE_SHARE:.0%} outage reports, as a live stream would carry "
        "(like `bench/nlp.py`). Cycling through a draw, each pass gets fresh authors.",
        "",
        *tables(results),
        *verdicts(results),
    ]
    profiles = profile_lines(results)
    if profiles:
        lines += [
            "",
            f"Where the server's time goes: {_version('py-spy')} (`record --nonblocking -r "
            f"100`) sampling the server that took the push (read cache {last}) during "
            f"{args.profile_seconds} s of an extra run of each workload; shares of its "
            "non-idle samples over all its threads (the event loop, "
            "and the thread-pool threads that run sync routes and the push's pipeline).",
            "",
            *profiles,
        ]
    return "\n".join(lines) + "\n"


def _rss(result: BackendResult) -> str:
    """Each server's peak RSS, saying which one also took the push (and the profiles)."""
    took = " and ".join(
        work
        for work, done in (("the push", result.pushes), ("the profiles", result.profiles))
        if done
    )
    return ", ".join(
        f"{mb:,.0f} MB (read cache {mode}"
        + (f", with {took})" if took and mode == result.push_read_cache else ")")
        for mode, mb in result.server_rss_mb.items()
    )


def _access_log(setting: str) -> str:
    if setting == "on":
        return "access log on at level info, as shipped"
    return "access log off (shipped: on)"


def _read_cache(mode: str) -> str:
    if mode == "off":
        return '"off": `OUTAGE_RADAR_READ_CACHE_SECONDS=0`, every request runs its query'
    from detector.config import Settings

    seconds = Settings.model_fields["read_cache_seconds"].default
    return (
        f'"on": as shipped (`OUTAGE_RADAR_READ_CACHE_SECONDS` unset: {seconds:g} s); wrk asks '
        "for one URL over and over, so all its requests but about one every "
        f"{seconds:g} s (the one that recomputes the expired answer) are answered from memory"
    )


def _version(tool: str) -> str:
    done = subprocess.run([tool, "--version"], capture_output=True, text=True)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].split(" Copyright")[0] if lines else tool
