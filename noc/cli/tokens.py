"""``noc token create|list|revoke``: API tokens for automation (ingest, scripts, Grafana links).

``create`` prints the token once, as its last output line; the store keeps only its SHA-256
and its prefix (what ``list`` shows). Issuing needs ``admin``; revoking ``admin`` or
``security``. Both are audited.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from noc.cli.access import reads, writes
from noc.cli.common import store_options
from noc.cli.identity_common import Ctx, local, run
from noc.core.errors import InputError
from noc.core.units import parse_duration
from noc.identity.roles import PERMISSIONS
from noc.store.api_tokens import token_json
from noc.store.types import utcnow


def _lifetime(value: str) -> dt.timedelta:
    try:
        return dt.timedelta(seconds=parse_duration(value))
    except ValueError:
        raise InputError(f"--expires {value!r}: a duration such as 30d, 90d, 12h") from None


@click.group()
def token() -> None:
    """API 令牌 / API tokens for automation (Authorization: Bearer …)."""


@token.command("create")
@writes("token.manage", "token.create")
@click.option("--user", "holder", required=True, help="the account the token acts as")
@click.option("--label", default="", help="what it is for (shown in lists)")
@click.option("--expires", default="90d", show_default=True, help="lifetime, at most 366d")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(PERMISSIONS),
    help="limit the token to this permission (repeat for several; default: the holder's role)",
)
@store_options
def create_cmd(holder, label, expires, scopes, config_path, db_url) -> None:
    """Issue a token; it is printed once, as the last line."""

    async def work(ctx: Ctx):
        issued, row = await ctx.accounts.issue_token(
            await ctx.actor(), holder, label, _lifetime(expires), list(scopes) or None
        )
        return issued, row, ctx.tz

    issued, row, tz = run(config_path, db_url, work)
    scope = ", ".join(row["scopes"]) if row["scopes"] else "role"
    expires_at = local(dt.datetime.fromisoformat(row["expires_at"]), tz)
    click.echo(
        f"令牌 #{row['id']} {row['prefix']} 属于 {holder} / token for {holder} "
        f"({row['label'] or 'no label'}; scope: {scope}) expires {expires_at}"
    )
    click.echo("令牌仅显示一次，请立即保存 / the token is shown once; store it now:")
    click.echo(issued.secret)


@token.command("list")
@reads("token.revoke")
@click.option("--user", "holder", help="only this account's tokens")
@click.option("--active", is_flag=True, help="hide revoked and expired tokens")
@click.option("--json", "as_json", is_flag=True)
@store_options
def list_cmd(holder, active, as_json, config_path, db_url) -> None:
    """List tokens by prefix (the tokens themselves are not stored)."""

    async def work(ctx: Ctx):
        now = utcnow()
        rows = await ctx.accounts.tokens.list(holder, include_ended=not active, now=now)
        return [token_json(r, name, now) for r, name in rows], ctx.tz

    rows, tz = run(config_path, db_url, work)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("没有令牌 / no tokens")
    for r in rows:
        used = local(dt.datetime.fromisoformat(r["last_used_at"]), tz) if r["last_used_at"] else "-"
        click.echo(
            f"#{r['id']:<4} {r['prefix']}…  {r['user']:<14} {r['state']:<8} "
            f"expires {local(dt.datetime.fromisoformat(r['expires_at']), tz)}  used {used}  "
            f"{r['label']}".rstrip()
        )


@token.command("revoke")
@writes("token.revoke", "token.revoke")
@click.argument("ref", metavar="ID|PREFIX")
@store_options
def revoke_cmd(ref, config_path, db_url) -> None:
    """Revoke a token by its id or listed prefix."""

    async def work(ctx: Ctx):
        return await ctx.accounts.revoke_token(await ctx.actor(), ref)

    row = run(config_path, db_url, work)
    click.echo(f"令牌 #{row['id']} {row['prefix']} 已吊销 / token revoked")
