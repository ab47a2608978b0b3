"""``noc user add|list|disable|enable|passwd|role|bind|unlock|bootstrap``: accounts and roles.

Writes act as the NOC account bound to the OS account running the command and are audited
(channel ``cli``); the rules are those of ``noc.identity.rules`` (nobody changes their own
role or account state; the security officer manages accounts; root and admin may create the
first security officer). A generated password is printed once, as the last line.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from noc.cli import access
from noc.cli.access import reads, writes
from noc.cli.common import store_options
from noc.cli.identity_common import Ctx, local, read_secret_line, run
from noc.identity.roles import ROLE_TITLES, ROLES
from noc.store.accounts import system_actor
from noc.store.types import utcnow
from noc.store.users import user_json

ROLE = click.Choice(ROLES)


def _show_password(password: str, first: bool) -> None:
    when = "首次登录须修改 / must be changed at first login" if first else ""
    click.echo(f"口令仅显示一次 / password (shown once{'; ' + when if when else ''}):")
    click.echo(password)


@click.group()
def user() -> None:
    """账号与角色 / accounts and roles (viewer, operator, lead, admin, security, auditor)."""


@user.command("add")
@writes("user.manage", "user.add", "root and admin too, until a security officer exists")
@click.argument("name")
@click.option("--role", required=True, type=ROLE)
@click.option("--password-stdin", is_flag=True, help="read the password from stdin")
@click.option("--os-user", metavar="LOGIN", help="OS account whose CLI acts as this user")
@store_options
def add_cmd(name, role, password_stdin, os_user, config_path, db_url) -> None:
    """Create an account (a random password is printed when none is given)."""
    password = read_secret_line() if password_stdin else None

    async def work(ctx: Ctx):
        return await ctx.accounts.add_user(await ctx.actor(), name, role, password, os_user)

    row, generated = run(config_path, db_url, work)
    zh, en = ROLE_TITLES[role]
    bound = f", OS user {row['os_user']}" if row["os_user"] else ""
    click.echo(f"用户 {name} 已创建 / user {name} created: {zh} {role} ({en}){bound}")
    if generated:
        _show_password(generated, first=True)


@user.command("list")
@reads("user.read")
@click.option("--json", "as_json", is_flag=True)
@store_options
def list_cmd(as_json, config_path, db_url) -> None:
    """List accounts (never their passwords)."""

    async def work(ctx: Ctx):
        now = utcnow()
        policy = ctx.accounts.policy.password
        return [user_json(r, now, policy) for r in await ctx.accounts.users.list()], ctx.tz

    rows, tz = run(config_path, db_url, work)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("没有用户 / no users (noc user bootstrap creates admin)")
    for r in rows:
        flags = [
            f
            for f, on in (
                ("停用 disabled", r["disabled"]),
                ("须改口令 must-change", r["must_change"]),
                ("口令过期 expired", r["password_expired"]),
            )
            if on
        ]
        changed = local(dt.datetime.fromisoformat(r["password_changed_at"]), tz)
        click.echo(
            f"{r['name']:<16} {r['role']:<9} os:{r['os_user'] or '-':<12} "
            f"口令 {changed}  {' '.join(flags)}".rstrip()
        )


@user.command("disable")
@writes("user.manage", "user.disable", "never one's own account")
@click.argument("name")
@store_options
def disable_cmd(name, config_path, db_url) -> None:
    """Disable an account (its sessions end; its tokens stop working)."""

    async def work(ctx: Ctx):
        return await ctx.accounts.set_disabled(await ctx.actor(), name, True)

    run(config_path, db_url, work)
    click.echo(f"用户 {name} 已停用 / user {name} disabled")


@user.command("enable")
@writes("user.manage", "user.enable", "never one's own account")
@click.argument("name")
@store_options
def enable_cmd(name, config_path, db_url) -> None:
    """Enable a disabled account."""

    async def work(ctx: Ctx):
        return await ctx.accounts.set_disabled(await ctx.actor(), name, False)

    run(config_path, db_url, work)
    click.echo(f"用户 {name} 已启用 / user {name} enabled")


@user.command("role")
@writes("user.manage", "user.role", "never one's own role")
@click.argument("name")
@click.argument("role", type=ROLE)
@store_options
def role_cmd(name, role, config_path, db_url) -> None:
    """Change an account's role (never one's own; its sessions end)."""

    async def work(ctx: Ctx):
        return await ctx.accounts.set_role(await ctx.actor(), name, role)

    run(config_path, db_url, work)
    click.echo(f"用户 {name} 的角色改为 {role} / user {name} now has role {role}")


@user.command("passwd")
@writes(
    "user.manage",
    "user.password_reset",
    "one's own password: any bound account (audited as user.password)",
)
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the new password from stdin")
@store_options
def passwd_cmd(name, password_stdin, config_path, db_url) -> None:
    """Change one's own password, or reset someone else's (security officer)."""
    password = read_secret_line() if password_stdin else None

    async def work(ctx: Ctx):
        actor = await ctx.actor()
        return actor.user == name, await ctx.accounts.change_password(actor, name, password)

    own, generated = run(config_path, db_url, work)
    if own:
        click.echo(f"口令已修改 / password of {name} changed")
    else:
        click.echo(f"口令已重置，下次登录须修改 / password of {name} reset; must change at login")
    if generated:
        _show_password(generated, first=not own)


@user.command("bind")
@writes("user.manage", "user.bind")
@click.argument("name")
@click.option("--os-user", metavar="LOGIN", help="OS account whose CLI acts as NAME")
@click.option("--unbind", is_flag=True, help="remove the binding")
@store_options
def bind_cmd(name, os_user, unbind, config_path, db_url) -> None:
    """Bind an account to the OS account that may act as it on the CLI."""
    if bool(os_user) == unbind:
        raise click.UsageError("give exactly one of --os-user LOGIN or --unbind")

    async def work(ctx: Ctx):
        return await ctx.accounts.bind_os_user(await ctx.actor(), name, os_user)

    run(config_path, db_url, work)
    click.echo(f"用户 {name} 绑定 / user {name} bound to OS user {os_user or '(none)'}")


@user.command("unlock")
@writes("lockout.release", "lockout.release")
@click.argument("name", required=False)
@click.option("--source", metavar="ADDRESS", help="release a locked source address")
@store_options
def unlock_cmd(name, source, config_path, db_url) -> None:
    """Release a login lockout of an account name and/or a source address."""

    async def work(ctx: Ctx):
        return await ctx.accounts.release_lockout(await ctx.actor(), name, source)

    cleared = run(config_path, db_url, work)
    click.echo(f"已解除锁定 / lockout released ({cleared} failure(s) forgotten)")


@user.command("bootstrap")
@access.local(
    "only on a store without accounts, where nobody can be bound yet: root, or whoever can "
    "write the store, creates admin",
    action="user.bootstrap",
)
@store_options
def bootstrap_cmd(config_path, db_url) -> None:
    """On a store without accounts, create admin with a random password (shown once)."""

    async def work(ctx: Ctx):
        actor = await ctx.actor()  # root, or (no accounts yet) the OS account as "system"
        if not actor.known:
            actor = system_actor(actor.source)
        return await ctx.accounts.ensure_bootstrap_admin(actor)

    made = run(config_path, db_url, work)
    if made is None:
        click.echo("已有用户，无需初始化 / the store has users already; nothing done")
        return
    click.echo(f"已创建初始管理员 {made.name} / created the first account {made.name} (admin)")
    _show_password(made.password, first=True)
