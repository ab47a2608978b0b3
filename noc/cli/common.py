"""What the command groups share, declared once: options, config loading, the store, errors.

Exit codes (the same for every command):

- ``EXIT_OK`` 0: done, or the check/probe said yes;
- ``EXIT_REFUSED`` 1: refused (unknown incident, wrong status …), a check or probe said no, or
  something it needed did not answer;
- ``EXIT_USAGE`` 2: bad usage — options, a config or runbook file, a request that cannot be
  read. click's own usage errors exit 2 as well.

A command raises a :class:`~noc.core.errors.NocError` to refuse; :func:`exit_on_error` prints
its reason on stderr (one or two lines, no traceback; every located issue for a file) and
exits with the code its class gives. Nothing the command did not finish is written.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from noc.core.errors import NocError, UnavailableError
from noc.core.paths import default_db_url
from noc.core.secrets import mask_secrets
from noc.core.units import parse_bandwidth, parse_duration
from noc.core.yamlsource import SourceError

if TYPE_CHECKING:
    from noc.config import NocConfig
    from noc.store import Store

T = TypeVar("T")

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

CONFIG_HELP = "inventory YAML (default: $NOC_CONFIG, then the shipped Lingshui inventory)"
DB_HELP = (
    "database URL (default: the config's server.db, then $NOC_DB, then "
    f"{default_db_url()}); only `noc db upgrade` and `noc run` create a store"
)
STORE_EPILOG = (
    f"事件库 store: --db URL, else the config's server.db, else $NOC_DB, else "
    f"{default_db_url()} (as root /var/lib/noc/noc.db; otherwise $XDG_DATA_HOME/noc/noc.db, "
    "by default ~/.local/share/noc/noc.db). Only `noc db upgrade` and `noc run` create or "
    "migrate it; every other command refuses a missing or unmigrated store."
)


# -- errors --------------------------------------------------------------------------------


def error_text(exc: NocError) -> str:
    """What the operator reads: every issue of a file, else ``label: reason`` in ≤ 2 lines."""
    if isinstance(exc, SourceError):
        return "\n".join([*map(str, exc.issues), f"{exc.label}: {len(exc.issues)} error(s)"])
    lines = [line.rstrip() for line in exc.reason.splitlines() if line.strip()] or [""]
    head = f"{exc.label}: {lines[0]}"
    return head if len(lines) == 1 else f"{head}\n  {lines[-1].strip()}"


def fail(exc: NocError) -> NoReturn:
    """Print ``exc`` for the operator and exit with the code of its class."""
    click.echo(error_text(exc), err=True)
    sys.exit(exc.exit_code)


def exit_on_error(func: Callable[..., T]) -> Callable[..., T]:
    """Decorate a command (innermost, right above ``def``): a NocError becomes its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except NocError as exc:
            fail(exc)

    return wrapper


# -- shared options ------------------------------------------------------------------------


def config_option(func):
    return click.option("--config", "config_path", metavar="FILE", help=CONFIG_HELP)(func)


def db_option(func):
    return click.option("--db", "db_url", metavar="URL", help=DB_HELP)(func)


def store_options(func):
    """``--config FILE`` and ``--db URL``: every command that reads or writes the store."""
    return config_option(db_option(func))


def json_option(help: str = "输出JSON / print JSON.", dest: str = "as_json"):  # noqa: A002
    return click.option("--json", dest, is_flag=True, help=help)


def lang_option(default: str | None = None):
    """``--lang zh-CN|en``; without a default the config's (or receiver's) locale applies."""
    return click.option(
        "--lang",
        type=click.Choice(["zh-CN", "en"]),
        default=default,
        show_default=default is not None,
    )


# -- config and store ----------------------------------------------------------------------


def resolve_config_path(path: str | None) -> Path:
    """``--config``, then ``$NOC_CONFIG``, then the shipped Lingshui inventory."""
    from noc.config import DEFAULT_CONFIG

    return Path(path or os.environ.get("NOC_CONFIG") or DEFAULT_CONFIG)


def load_config_or_exit(path: str | None) -> NocConfig:
    """The validated config; on errors print every one (file:line key.path) and exit 2."""
    from noc.config import ConfigError, load_config

    try:
        return load_config(resolve_config_path(path))
    except ConfigError as exc:
        fail(exc)


@asynccontextmanager
async def open_store(config: NocConfig, db_url: str | None) -> AsyncIterator[Store]:
    """The existing, migrated store for ``--db`` or the config's; it creates nothing.

    A store that is missing, empty or behind is refused (``StoreNotReadyError``, one line that
    names ``noc db upgrade``); one that cannot be reached, or fails while the command runs, is
    an :class:`UnavailableError` naming the URL (password masked). Only ``noc db upgrade`` and
    ``noc run`` create a store."""
    from noc.store import Store, resolve_db_url
    from noc.store.db import failure_text, is_database_failure

    url = resolve_db_url(db_url, config.server.db)
    store = await Store.open(url, migrate=False)
    try:
        yield store
    except Exception as exc:
        if isinstance(exc, NocError) or not is_database_failure(exc):
            raise
        raise UnavailableError(failure_text(url, exc, "the store failed")) from exc
    finally:
        await store.close()


def run_with_store(
    config_path: str | None,
    db_url: str | None,
    action: Callable[[Store, NocConfig], Awaitable[T]],
) -> T:
    """Load the config, open the store, run ``action``; refusals propagate as NocErrors."""
    config = load_config_or_exit(config_path)

    async def go() -> T:
        async with open_store(config, db_url) as store:
            return await action(store, config)

    return asyncio.run(go())


# -- parameter types -----------------------------------------------------------------------


class DurationType(click.ParamType):
    """Seconds from ``1.5``, ``500ms``, ``2s`` (the config's duration syntax)."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class BandwidthType(click.ParamType):
    """Bits per second from ``10M``, ``50Mbit``, ``512k``."""

    name = "bandwidth"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_bandwidth(value)
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


DURATION = DurationType()
BANDWIDTH = BandwidthType()


# -- probe and diagnostic output (noc probe, noc diag) -------------------------------------


def refuse_unsafe(addresses: Iterable[str]) -> None:
    """Raise ``ProbeSafetyError`` (exit 2) when the lab guard refuses a probe of
    198.18.0.0/15 (no blackhole route).

    Host names are resolved first, so a name pointing into the test range is caught too.
    """
    from probes.safety import check_probe_safety

    candidates: list[str] = []
    for address in addresses:
        candidates.append(address)
        try:
            infos = socket.getaddrinfo(address, None, family=socket.AF_INET, type=socket.SOCK_DGRAM)
        except (OSError, UnicodeError):
            continue  # the probe itself reports an unresolvable name
        candidates += [info[4][0] for info in infos]
    check_probe_safety(candidates)


def finish(ok: bool, text: str, secrets: Iterable[str | None] = ()) -> NoReturn:
    """Print ``text`` (secrets masked) and exit 0 when ``ok``, else 1."""
    click.echo(mask_secrets(text, secrets))
    sys.exit(EXIT_OK if ok else EXIT_REFUSED)


def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
