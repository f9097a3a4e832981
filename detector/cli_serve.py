"""``outage-radar serve``: the REST API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from detector.cli_common import DbOption, SettingsFileOption, fail
from detector.config import get_settings, use_settings_file
from detector.errors import ConfigError, DetectorError

__all__ = ["serve"]


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on [env: OUTAGE_RADAR_HOST; default: 127.0.0.1]."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to listen on [env: OUTAGE_RADAR_PORT; default: 8000].", min=0, max=65535
        ),
    ] = None,
    db: DbOption = None,
    settings_file: SettingsFileOption = None,
) -> None:
    """Serve the REST API (incidents, services, posts, analyze, health, metrics) with uvicorn;
    the OpenAPI document is at /openapi.json and the docs at /docs."""
    import uvicorn

    # The one place the library reaches the API: ``serve`` composes the two. Imported here so
    # ``import detector`` (and every other command) never loads FastAPI.
    from api.app import create_app

    try:
        use_settings_file(settings_file)
        settings = get_settings(database_url=db, host=host, port=port)
    except ValidationError as exc:  # a setting out of range, a source entry without its url
        raise fail(ConfigError(f"invalid settings: {exc}")) from exc
    except DetectorError as exc:
        raise fail(exc) from exc
    app = create_app(settings)
    # No websockets are served; "none" spares importing a websockets implementation.
    # The standard asyncio loop, not uvloop: with 200 busy keep-alive connections uvloop let
    # some wait over a second (p99 1.12 s against 35 ms for asyncio, at about the same
    # requests/s; bench/RESULTS.md, "API under load").
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="asyncio",
        ws="none",
        log_level="info",
        access_log=settings.access_log,
    )
