"""What every store-backed command shares: ``--config``/``--db`` and one run with the store open.

An action refused for a reason the operator can act on (an ``IncidentError``, a bad maintenance
request …) prints ``拒绝 refused: <reason>`` and exits with the code given for its type; nothing
it did not finish is written.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import click

from noc.config import NocConfig
from noc.store import Store, resolve_db_url

T = TypeVar("T")


def store_options(func):
    func = click.option(
        "--db",
        "db_url",
        metavar="URL",
        help="database URL (default: config, $NOC_DB, sqlite:///noc.db)",
    )(func)
    return click.option("--config", "config_path", metavar="FILE", help="inventory YAML")(func)


def run_with_store(
    config_path: str | None,
    db_url: str | None,
    action: Callable[[Store, NocConfig], Awaitable[T]],
    refusals: Mapping[type[Exception], int],
) -> T:
    """Load the config, open (and migrate) the store, run ``action``; map refusals to exit codes."""
    from noc.cli import _load_or_exit

    config = _load_or_exit(config_path)

    async def go() -> T:
        store = await Store.open(resolve_db_url(db_url, config.server.db))
        try:
            return await action(store, config)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except tuple(refusals) as exc:
        click.echo(f"拒绝 refused: {exc}", err=True)
        sys.exit(next(code for kind, code in refusals.items() if isinstance(exc, kind)))
