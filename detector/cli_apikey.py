"""``outage-radar apikey create|list|revoke``: keys for the API's writes and webhooks."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from detector.cli_common import DbOption, err, fail, open_store, out
from detector.clock import SystemClock
from detector.config import get_settings
from detector.errors import ConfigError, DetectorError
from detector.store.apikeys import create_api_key, list_api_keys, revoke_api_key

__all__ = ["apikey"]

apikey = typer.Typer(help="API keys (writes, webhook management).", no_args_is_help=True)


@apikey.command()
def create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    db: DbOption = None,
) -> None:
    """Create a key and print its token (shown this once: store it now)."""
    try:
        store = open_store(get_settings(database_url=db))
        try:
            key, token = create_api_key(store.engine, name, SystemClock().now())
        finally:
            store.close()
    except DetectorError as exc:
        raise fail(exc) from None
    err.print(f"created key {key.id} ({key.name}); the token is shown only now:")
    out.print(token, highlight=False)


@apikey.command(name="list")
def list_keys(db: DbOption = None) -> None:
    """List keys (never their tokens)."""
    try:
        store = open_store(get_settings(database_url=db))
        try:
            keys = list_api_keys(store.engine)
        finally:
            store.close()
    except DetectorError as exc:
        raise fail(exc) from None
    table = Table("id", "name", "token starts", "created", "last used", "revoked")
    for key in keys:
        table.add_row(
            key.id,
            key.name,
            key.prefix,
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    out.print(table)


@apikey.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `apikey list`).")],
    db: DbOption = None,
) -> None:
    """Revoke a key: requests with its token get 401 from now on."""
    try:
        store = open_store(get_settings(database_url=db))
        try:
            if not revoke_api_key(store.engine, key_id, SystemClock().now()):
                raise ConfigError(f"no live API key with id {key_id!r}")
        finally:
            store.close()
    except DetectorError as exc:
        raise fail(exc) from None
    err.print(f"revoked key {key_id}")
