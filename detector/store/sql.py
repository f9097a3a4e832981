"""``SqlStore``: the store on SQLAlchemy 2 Core, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from detector.clock import Clock, SystemClock
from detector.errors import StoreError
from detector.models import GeoPoint, Place, Post, SourceKind
from detector.store.base import AddResult, IngestRun, SourceCount, StoreStats
from detector.store.bulk import json_text, write_posts
from detector.store.lookups import existing_ids, one_of, recent_fingerprints
from detector.store.schema import ingest_runs, posts

__all__ = ["SqlStore", "database_url", "migrate"]

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(value: str) -> str:
    """Turn a ``--db`` value (a file path or a URL) into a SQLAlchemy URL.

    Examples
    --------
    >>> database_url("var/radar.db")
    'sqlite:///var/radar.db'
    >>> database_url("postgresql://radar@db/radar")
    'postgresql+psycopg://radar@db/radar'
    """
    if "://" not in value:
        return f"sqlite:///{value}"
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def migrate(engine: Engine) -> None:
    """Bring the database schema up to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class SqlStore:
    """Keeps posts in a relational database through SQLAlchemy Core.

    Parameters
    ----------
    url
        A SQLAlchemy URL (see ``database_url``); SQLite files and their folder are created.
    clock
        Tells the ingestion time.
    migrate_schema
        Run the migrations on open (the default), so a new file is ready to use.

    Attributes
    ----------
    generation
        Goes up with every transaction this process commits through the store, so a cache of
        what was read knows when it may be out of date (other processes' writes it cannot see).

    Examples
    --------
    >>> store = SqlStore("sqlite://")
    >>> store.count_posts()
    0
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        migrate_schema: bool = True,
        connect_args: dict[str, Any] | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"invalid database URL {url!r}: {exc}") from None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (
            None,
            "",
            ":memory:",
        )
        self.engine = create_engine(
            parsed,
            json_serializer=json_text,
            json_deserializer=orjson.loads,
            connect_args=connect_args or {},
            # One pooled connection per thread running the API's sync routes (anyio's default:
            # 40), plus room for the scheduled jobs: QueuePool's default 5 + 10 overflow made
            # requests queue, and closed and reopened every overflow connection. (In-memory
            # SQLite has a single-connection pool that takes no sizes.)
            **({} if in_memory else {"pool_size": 40, "max_overflow": 10}),
        )
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.generation = 0
        event.listen(self.engine, "commit", self._committed)
        try:
            if migrate_schema:
                migrate(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open database {parsed.render_as_string()}: {exc}") from exc

    def _committed(self, _connection: Connection) -> None:
        # A lost increment between two threads still changes the number, which is all that
        # readers of ``generation`` compare.
        self.generation += 1

    @property
    def dialect(self) -> str:
        """The database kind: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def add_posts(self, batch: Sequence[Post], *, collapse_window: timedelta) -> AddResult:
        """Store ``batch`` in one transaction; see ``Store.add_posts``."""
        unique: dict[str, Post] = {}
        for post in batch:
            unique.setdefault(post.id, post)
        duplicates = len(batch) - len(unique)
        try:
            with self.engine.begin() as conn:
                known = existing_ids(conn, unique.keys())
                duplicates += len(known)
                fresh = [p for p in unique.values() if p.id not in known]
                keep = self._not_collapsed(conn, fresh, collapse_window)
                stored = write_posts(conn, keep, self.clock.now())
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store {len(batch)} posts: {exc}") from exc
        # A concurrent writer may have stored some of `keep` since we looked: count those too.
        duplicates += len(keep) - stored
        return AddResult(
            stored=stored,
            duplicates=duplicates,
            collapsed=len(fresh) - len(keep),
            kept=tuple(post for post, _ in keep),
        )

    @staticmethod
    def _not_collapsed(
        conn: Connection, fresh: Sequence[Post], window: timedelta
    ) -> list[tuple[Post, str | None]]:
        keyed = [(post, post.fingerprint) for post in fresh]
        if window <= timedelta(0):
            return keyed
        seen: dict[str, list[datetime]] = {}
        prints = {fp for _, fp in keyed if fp is not None}
        if prints:
            times = [post.created_at for post, _ in keyed]
            seen = recent_fingerprints(conn, prints, min(times) - window, max(times) + window)
        keep = []
        for post, fp in keyed:
            if fp is not None:
                times = seen.setdefault(fp, [])
                if any(abs(post.created_at - t) <= window for t in times):
                    continue
                times.append(post.created_at)
            keep.append((post, fp))
        return keep

    def get_post(self, post_id: str) -> Post | None:
        """Return the stored post with id ``post_id``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(posts).where(posts.c.id == post_id)).mappings().first()
        return None if row is None else _post(row)

    def get_posts(self, post_ids: Collection[str]) -> dict[str, Post]:
        """Return the stored posts among ``post_ids``, by id (unknown ids are left out)."""
        if not post_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(posts).where(one_of(conn, posts.c.id, sorted(post_ids)))
            ).mappings()
            return {row["id"]: _post(row) for row in rows}

    def count_posts(self) -> int:
        """Return the number of stored posts."""
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(posts)) or 0)

    def record_ingest_run(self, run: IngestRun) -> None:
        """Keep ``run`` in the ``ingest_runs`` table."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(ingest_runs),
                {
                    "started_at": run.started_at,
                    "finished_at": run.finished_at,
                    "paths": list(run.paths),
                    "summary": dict(run.summary),
                },
            )

    def stats(self, *, top: int = 10) -> StoreStats:
        """Summarise the stored posts; see ``Store.stats``."""
        is_repost = posts.c.repost_of.is_not(None)
        with self.engine.connect() as conn:
            total, reposts, authors, first, last = conn.execute(
                select(
                    func.count(),
                    func.count(posts.c.repost_of),
                    func.count(func.distinct(posts.c.author_id)),
                    func.min(posts.c.created_at),
                    func.max(posts.c.created_at),
                )
            ).one()
            sources = [
                SourceCount(kind, name, int(n), int(r), _utc(lo), _utc(hi))
                for kind, name, n, r, lo, hi in conn.execute(
                    select(
                        posts.c.source_kind,
                        posts.c.source_name,
                        func.count(),
                        func.count(posts.c.repost_of),
                        func.min(posts.c.created_at),
                        func.max(posts.c.created_at),
                    )
                    .group_by(posts.c.source_kind, posts.c.source_name)
                    .order_by(func.count().desc())
                )
            ]
            languages = [
                (lang or "unknown", int(n))
                for lang, n in conn.execute(
                    select(posts.c.lang, func.count())
                    .group_by(posts.c.lang)
                    .order_by(func.count().desc())
                    .limit(top)
                )
            ]
            hours: Counter[datetime] = Counter()
            stamps = conn.execution_options(yield_per=50_000).execute(
                select(posts.c.created_at).where(~is_repost)
            )
            for (created,) in stamps:
                hours[created.replace(minute=0, second=0, microsecond=0)] += 1
            runs = [
                IngestRun(_utc(r.started_at), _utc(r.finished_at), r.paths, r.summary)
                for r in conn.execute(
                    select(ingest_runs).order_by(ingest_runs.c.id.desc()).limit(top)
                )
            ]
        days: Counter[str] = Counter()
        for hour, n in hours.items():
            days[hour.date().isoformat()] += n
        return StoreStats(
            posts=int(total),
            reposts=int(reposts),
            authors=int(authors),
            first=_utc(first) if first else None,
            last=_utc(last) if last else None,
            sources=sources,
            languages=languages,
            per_day=sorted(days.items()),
            busiest_hours=hours.most_common(top),
            runs=runs,
        )


def _utc(value: datetime) -> datetime:
    # Aggregates (min/max) bypass the column type on SQLite and come back as naive or as text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA page_size=16384")  # only takes effect on a new file
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _post(row: Any) -> Post:
    lat, lon = row["latitude"], row["longitude"]
    return Post(
        id=row["id"],
        source_kind=SourceKind(row["source_kind"]),
        source_name=row["source_name"],
        created_at=row["created_at"],
        text=row["text"],
        lang=row["lang"],
        author_id=row["author_id"],
        author_handle=row["author_handle"],
        author_location=row["author_location"],
        coordinates=GeoPoint(lat=lat, lon=lon) if lat is not None and lon is not None else None,
        place=Place(**row["place"]) if row["place"] else None,
        url=row["url"],
        title=row["title"],
        reply_to=row["reply_to"],
        quote_of=row["quote_of"],
        repost_of=row["repost_of"],
        extra=row["extra"] or {},
    )
