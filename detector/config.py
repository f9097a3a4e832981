"""Settings, read from ``OUTAGE_RADAR_*`` environment variables (and overridable per call)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Everything the library can be told; built by ``get_settings`` and passed down.

    Examples
    --------
    >>> Settings(batch_size=500).batch_size
    500
    >>> Settings(batch_size=0)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings
    batch_size
      Input should be greater than 0 [type=greater_than, input_value=0, input_type=int]
    ...
    """

    model_config = SettingsConfigDict(env_prefix="OUTAGE_RADAR_", extra="ignore", frozen=True)

    database_url: str = Field(
        "sqlite:///outage-radar.db",
        description="SQLAlchemy URL or SQLite file path; PostgreSQL in production.",
    )
    batch_size: int = Field(20000, gt=0, description="Posts written per transaction.")
    collapse_window_seconds: int = Field(
        86400,
        ge=0,
        description="The same author's same text within this window is stored once (0: never).",
    )
    future_tolerance_seconds: int = Field(
        86400, ge=0, description="Posts dated further than this in the future are quarantined."
    )
    quarantine_path: Path = Field(
        Path("quarantine.jsonl"), description="JSON lines file receiving malformed records."
    )

    report_window_seconds: int = Field(
        3600,
        ge=0,
        description="Each author counts once per service within this window (first report).",
    )
    detect_lateness_seconds: int = Field(
        120,
        ge=0,
        description="Buckets are scored only once posts this much newer have arrived.",
    )

    # --- the service (``outage-radar serve``) ------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the API server listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port the API server listens on.")
    public_reads: bool = Field(
        True, description="GET endpoints answer without an API key (writes always need one)."
    )
    max_body_bytes: int = Field(
        5_000_000, gt=0, description="Largest request body accepted (413 above it)."
    )
    write_rate_per_minute: int = Field(
        600, gt=0, description="Write requests allowed per API key per minute (429 above it)."
    )
    read_cache_seconds: float = Field(
        1.0,
        ge=0,
        description=(
            "How long a public read (incidents, services, posts) is answered from memory before"
            " it is recomputed; this server's own writes end it at once; 0 turns the cache off."
        ),
    )
    access_log: bool = Field(
        True, description="Log every HTTP request (uvicorn's access log) at level info."
    )
    dashboard_refresh_seconds: float = Field(
        10.0,
        ge=1,
        le=3600,
        description="How often the dashboard at / asks the API for news (seconds).",
    )
    allow_private_webhooks: bool = Field(
        False,
        description="Allow webhook URLs on loopback/private/link-local addresses (tests, LANs).",
    )
    public_url: str | None = Field(
        None, description="Base URL of this server, for links in webhook messages."
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of one webhook delivery attempt."
    )
    watch_dir: Path | None = Field(
        None, description="Folder the server ingests new files from (pulled every job tick)."
    )
    poll_urls: list[str] = Field(
        default_factory=list,
        description="URLs serving posts as JSON lines, polled every job tick (a JSON list).",
    )
    jobs_enabled: bool = Field(
        True, description="Run the scheduled jobs (pull, detect, deliver, retention) in the server."
    )
    jobs_interval_seconds: float = Field(
        60.0, gt=0, description="How often the server pulls sources and runs detection."
    )
    delivery_interval_seconds: float = Field(
        5.0, gt=0, description="How often the server delivers due webhooks."
    )
    delivery_concurrency: int = Field(
        4,
        ge=1,
        description=(
            "Webhook endpoints delivered to at the same time, so a slow one does not hold the"
            " others back (each endpoint's events still go one at a time, in order)."
        ),
    )
    retention_days: int = Field(
        90, ge=1, description="Posts and scores older than this are deleted by the retention job."
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from detector.store.sql import database_url

        if not value.strip():
            raise ValueError(f"database_url must not be empty, got: {value!r}")
        return database_url(value.strip())

    @property
    def collapse_window(self) -> timedelta:
        """``collapse_window_seconds`` as a timedelta."""
        return timedelta(seconds=self.collapse_window_seconds)

    @property
    def report_window(self) -> timedelta:
        """``report_window_seconds`` as a timedelta."""
        return timedelta(seconds=self.report_window_seconds)

    @property
    def detect_lateness(self) -> timedelta:
        """``detect_lateness_seconds`` as a timedelta."""
        return timedelta(seconds=self.detect_lateness_seconds)

    @property
    def future_tolerance(self) -> timedelta:
        """``future_tolerance_seconds`` as a timedelta."""
        return timedelta(seconds=self.future_tolerance_seconds)


def get_settings(**overrides: Any) -> Settings:
    """Build settings from the environment; keyword arguments that are not None win."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
