"""``noc db upgrade|current``: create or migrate the event store, show its revision.

``noc db upgrade`` is (with ``noc run``) the one way a store comes into being: it makes the
SQLite file's folder and the schema. ``noc db current`` reads, creating nothing: a missing,
empty or out-of-date store is refused in one line naming ``noc db upgrade``. A store that
cannot be reached is refused (exit 1) with the URL, its password masked.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from noc.cli.access import local
from noc.cli.common import exit_on_error, load_config_or_exit, store_options
from noc.core.errors import NocError, UnavailableError

T = TypeVar("T")


@click.group()
def db() -> None:
    """Event store maintenance."""


def _with_engine(url: str, work: Callable[[Any], Awaitable[T]], failed: str) -> T:
    """Run ``work(engine)`` on a fresh engine for ``url``; dispose of it afterwards.

    A failure of the database is an :class:`UnavailableError` starting with ``failed``."""
    from noc.store import db as dbmod

    async def go() -> T:
        engine = dbmod.create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except NocError:
        raise
    except Exception as exc:  # noqa: BLE001 - the driver's reason, shown without a traceback
        raise UnavailableError(dbmod.failure_text(url, exc, failed)) from exc


def _url(config_path: str | None, db_url: str | None) -> str:
    """``--db``, else the config's server.db — read only when a config was named (a store
    command needs no inventory) — else ``$NOC_DB``, else the default file."""
    from noc.store import resolve_db_url

    named = db_url is None and (config_path is not None or os.environ.get("NOC_CONFIG"))
    return resolve_db_url(db_url, load_config_or_exit(config_path).server.db if named else None)


@db.command("upgrade")
@local(
    "creates or migrates the store's schema, no rows of data: the database owner's credentials (or write access to the SQLite file) decide"
)
@store_options
@click.option("--revision", default="head", show_default=True)
@exit_on_error
def db_upgrade(config_path: str | None, db_url: str | None, revision: str) -> None:
    """Create the store, or migrate it to REVISION (default: the newest)."""
    from noc.store import db as dbmod
    from noc.store import mask_url

    url = _url(config_path, db_url)

    async def upgrade(engine) -> str | None:
        dbmod.prepare(url)
        await dbmod.upgrade(engine, revision)
        return await dbmod.current_revision(engine)

    current = _with_engine(url, upgrade, "迁移失败 / migration failed")
    click.echo(f"{mask_url(url)}: at revision {current}")


@db.command("current")
@local("reads the schema revision only: whoever can open the store")
@store_options
@exit_on_error
def db_current(config_path: str | None, db_url: str | None) -> None:
    """Print the store's migration revision and the newest one this version knows."""
    from noc.store import db as dbmod
    from noc.store import mask_url

    url = _url(config_path, db_url)
    current = _with_engine(
        url,
        lambda engine: dbmod.require_head(engine, url),
        "读取失败 / reading the revision failed",
    )
    click.echo(f"{mask_url(url)}: current {current}, head {dbmod.head_revision()}")
