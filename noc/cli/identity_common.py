"""What the CLI's writes share: the acting OS account, the store (``noc user``, ``noc token``,
``noc audit purge``, incidents, maintenance, registers, imports, ``noc demo generate``, ``noc alert
test``; each command declares its permission in :mod:`noc.cli.access`).

A CLI write acts as the NOC account bound to the OS account running the command (``noc user
add NAME --os-user LOGIN``), read from the process's effective uid, not from ``$USER`` (which
anyone can set). root acts as ``admin`` and is audited as ``root``; an unbound account is
refused, and the refusal is audited too. The source of every row is ``login@host``.

Reads (lists, exports, verification) need the database, not a binding: whoever can open the
store can read it, so protecting the database's credentials and file is the control there
(docs/security.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pwd
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

import click

from noc.cli.common import load_config_or_exit, open_store
from noc.config import NocConfig
from noc.core.errors import InputError, NocError
from noc.core.time import parse_instant as core_parse_instant
from noc.identity.actor import Actor
from noc.identity.policy import SecurityPolicy
from noc.identity.roles import ROLE_TITLES
from noc.identity.rules import bootstrap_grants
from noc.store import Store
from noc.store.accounts import Accounts, Bootstrap, ensure_bootstrap_admin

T = TypeVar("T")


def os_account() -> tuple[str, bool]:
    """(login, is_root) of the effective uid running this command."""
    uid = os.geteuid()
    try:
        login = pwd.getpwuid(uid).pw_name
    except KeyError:
        login = f"uid{uid}"
    return login, uid == 0


def cli_source(login: str) -> str:
    return f"{login}@{socket.gethostname()}"


async def cli_actor(accounts: Accounts) -> Actor:
    login, is_root = os_account()
    source = cli_source(login)
    officer = await accounts.users.security_officer_exists()
    if is_root:
        return Actor("root", "admin", "cli", source, extra=bootstrap_grants("admin", officer))
    row = await accounts.users.by_os_user(login)
    if row is None:
        why = (
            f"操作系统账号 {login} 未绑定 NOC 用户 / OS user {login!r} is not bound to a NOC "
            f"user (noc user add NAME --role ROLE --os-user {login})"
        )
        return Actor(None, None, "cli", source, anonymous_reason=why)
    if row.disabled:
        why = f"NOC 用户 {row.name} 已停用 / NOC user {row.name!r} (OS user {login}) is disabled"
        return Actor(None, None, "cli", source, anonymous_reason=why)
    return Actor(row.name, row.role, "cli", source, extra=bootstrap_grants(row.role, officer))


@dataclass
class Ctx:
    store: Store
    config: NocConfig
    accounts: Accounts

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.site.timezone)

    async def actor(self) -> Actor:
        return await cli_actor(self.accounts)


def run(config_path: str | None, db_url: str | None, work: Callable[[Ctx], Awaitable[T]]) -> T:
    """Open the store, run ``work``; a refusal prints one line and exits with its code."""
    config = load_config_or_exit(config_path)

    async def go() -> T:
        async with open_store(config, db_url) as store:
            return await work(Ctx(store, config, Accounts(store, config.security.policy())))

    try:
        return asyncio.run(go())
    except NocError as exc:
        click.echo(f"拒绝 refused: {exc.message}", err=True)
        sys.exit(exc.exit_code)


async def bootstrap_admin(store: Store, policy: SecurityPolicy) -> Bootstrap | None:
    """``noc run`` on a store without accounts: create ``admin`` and print its password once,
    as one block on stderr (the store keeps only the hash; it must be changed at first login)."""
    made = await ensure_bootstrap_admin(store, policy=policy)
    if made is not None:
        rule = "=" * 64
        zh, en = ROLE_TITLES["admin"]
        click.echo(
            "\n".join(
                [
                    rule,
                    f"已创建首个账号 {made.name}（{zh}）/ created the first account {made.name} "
                    f"({en})",
                    "口令只显示这一次，首次登录须修改 / shown this once; change it at first login:",
                    f"  password: {made.password}",
                    rule,
                ]
            ),
            err=True,
        )
    return made


def read_secret_line() -> str:
    """One line from stdin (``--password-stdin``), without its newline."""
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InputError("标准输入没有口令 / no password on stdin")
    return line


def parse_instant(value: str | None, tz: ZoneInfo, end: bool = False) -> dt.datetime | None:
    """``2026-11-30`` or ``2026-11-30T08:00[+08:00]`` (the one reader in :mod:`noc.core.time`);
    a date given as ``--to`` means the end of that day."""
    if value is None:
        return None
    at = core_parse_instant(value, tz)
    if end and len(value.strip()) == 10:
        at += dt.timedelta(days=1)
    return at


def local(at: dt.datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else "-"
