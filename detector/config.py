"""Settings, from a YAML settings file, ``OUTAGE_RADAR_*`` environment variables and per-call
overrides, each winning over the one before.

The settings file is named by ``OUTAGE_RADAR_SETTINGS_FILE`` (``--settings`` on the commands
that run for long); its keys are the settings' names (``database_url``, ``sources``...). Live
sources are configured there: a list of entries does not fit in an environment variable well.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from detector.errors import ConfigError
from detector.ingest.live.settings import SourceSettings

__all__ = ["SETTINGS_FILE_VARIABLE", "Settings", "get_settings", "use_settings_file"]

#: The environment variable naming the settings file.
SETTINGS_FILE_VARIABLE = "OUTAGE_RADAR_SETTINGS_FILE"


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

    # --- live sources (``outage-radar serve`` and ``listen``) --------------------------------
    sources: list[SourceSettings] = Field(
        default_factory=list,
        description="Live sources (Jetstream, Mastodon, Reddit, feeds); see docs/sources.md.",
    )
    intake_queue_batches: int = Field(
        64,
        ge=1,
        description=(
            "Batches read by live sources that may wait for the database; when it is full,"
            " the sources wait (backpressure) instead of dropping posts."
        ),
    )
    intake_batch_posts: int = Field(
        2000, ge=1, description="Most posts stored in one go from the live sources' batches."
    )
    sources_check_seconds: float = Field(
        15.0,
        gt=0,
        description="How often live sources' health is checked (silence and failures recorded).",
    )

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, value: list[SourceSettings]) -> list[SourceSettings]:
        names = [source.name for source in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"source names must be unique, repeated: {', '.join(repeated)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Per-call values, then the environment, then the settings file."""
        return init_settings, env_settings, _SettingsFile(settings_cls)

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
    """Build settings from the settings file and the environment; keyword arguments that are
    not None win."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def use_settings_file(path: Path | None) -> None:
    """Read settings from ``path`` from now on in this process (``--settings``); None keeps
    what ``OUTAGE_RADAR_SETTINGS_FILE`` says.

    Raises
    ------
    ConfigError
        When there is no such file.
    """
    if path is None:
        return
    if not path.is_file():
        raise ConfigError(f"settings file {path}: no such file")
    os.environ[SETTINGS_FILE_VARIABLE] = str(path.resolve())


class _SettingsFile(PydanticBaseSettingsSource):
    """The YAML file ``OUTAGE_RADAR_SETTINGS_FILE`` names (nothing when it is unset)."""

    def get_field_value(
        self,
        field: FieldInfo,  # noqa: ARG002
        field_name: str,
    ) -> tuple[Any, str, bool]:
        """Unused: ``__call__`` reads the whole file at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        from detector.yamlio import YAMLError, load_yaml

        name = os.environ.get(SETTINGS_FILE_VARIABLE)
        if not name:
            return {}
        path = Path(name)
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"settings file {path}: cannot be read: {exc}") from exc
        except YAMLError as exc:
            raise ConfigError(f"settings file {path}: not valid YAML: {exc}") from exc
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(f"settings file {path}: expected a mapping of settings")
        unknown = sorted(set(data) - set(self.settings_cls.model_fields))
        if unknown:
            raise ConfigError(f"settings file {path}: unknown settings: {', '.join(unknown)}")
        return data
