"""``noc maintenance add|list|end|approve``: planned work that mutes alerts and, once a second
person approved it, is excluded from the SLA.

Writes act as the NOC account bound to the OS account running the command (root acts as admin)
and are audited; adding and ending need ``maintenance.write`` (lead), approving
``maintenance.approve`` (another lead, or the auditor when ``security.maintenance_approvers``
says so) and never by whoever created the window. A request that cannot be read exits 2;
ending an unknown or already ended window, approving one twice or one's own exits 1.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import click

from noc.cli.access import reads, writes
from noc.cli.common import exit_on_error, json_option, run_with_store, store_options
from noc.cli.identity_common import Ctx, run
from noc.core.errors import NocError
from noc.maintenance import check_assets, window_json, window_span
from noc.store.operator_acts import OperatorActs


@click.group()
def maintenance() -> None:
    """计划维护 / maintenance windows: mute alerts of assets under planned work."""


@maintenance.command("add")
@writes("maintenance.write", "maintenance.add")
@click.option("--assets", required=True, help="comma-separated asset names")
@click.option("--start", help="start (ISO 8601; site time without offset; default: now)")
@click.option("--end", help="end (ISO 8601)")
@click.option("--duration", help="instead of --end: 30m, 2h …")
@click.option("--reason", required=True)
@click.option("--by", help="(optional) must be the acting account, whose name is recorded")
@store_options
def add_cmd(assets, start, end, duration, reason, by, config_path, db_url) -> None:
    """Plan a window (it mutes alerts now; it counts for the SLA once someone else approves)."""

    async def work(ctx: Ctx):
        actor = await ctx.actor()
        acts = _acts(ctx)
        try:
            names = check_assets(ctx.config, assets.split(","))
            starts, ends = window_span(ctx.config, start, end, duration, dt.datetime.now(dt.UTC))
        except NocError as exc:  # refused before the act: recorded all the same
            await acts.refused(actor, "maintenance.add", assets, exc)
            raise
        row = await acts.add_maintenance(actor, names, starts, ends, reason, by)
        return window_json(row, ctx.tz)

    w = run(config_path, db_url, work)
    click.echo(
        f"维护窗口 #{w['id']}: {', '.join(w['assets'])}  {w['starts_at_local']} → {w['ends_at_local']}"
    )
    click.echo(
        f"待审批：另一人审批后才计入 SLA / awaiting approval by someone else "
        f"(noc maintenance approve {w['id']}) before the SLA excuses it; it mutes alerts already"
    )
    if w["entered_late"]:
        click.echo(
            "注意：开始时间早于登记时间，SLA 只从登记时起扣除此窗口 / note: this window started before it was "
            "entered; the SLA deducts it only from now on (planned work must be entered in advance)",
            err=True,
        )


@maintenance.command("list")
@reads()
@click.option("--active", is_flag=True, help="only windows in force now")
@json_option()
@store_options
@exit_on_error
def list_cmd(active, as_json, config_path, db_url) -> None:
    """List windows."""

    async def action(store, config):
        now = dt.datetime.now(dt.UTC)
        rows = await store.maintenance_windows(active_at=now if active else None)
        return [window_json(r, ZoneInfo(config.site.timezone), now) for r in rows]

    windows = run_with_store(config_path, db_url, action)
    if as_json:
        click.echo(json.dumps(windows, ensure_ascii=False, indent=1))
        return
    if not windows:
        click.echo("没有维护窗口 / no maintenance windows")
    for w in windows:
        flag = "生效中 active" if w["active"] else ""
        flag += "" if w["approved"] else " 未审批 unapproved"
        click.echo(
            f"#{w['id']:<4} {w['starts_at_local']} → {w['ends_at_local']}  {', '.join(w['assets'])}  "
            f"{w['reason']} ({w['created_by']}) {flag}".rstrip()
        )


@maintenance.command("end")
@writes("maintenance.write", "maintenance.end")
@click.argument("window_id", type=int)
@store_options
def end_cmd(window_id, config_path, db_url) -> None:
    """End a window now (the work is done)."""

    async def work(ctx: Ctx):
        return await _acts(ctx).end_maintenance(await ctx.actor(), window_id)

    run(config_path, db_url, work)
    click.echo(f"维护窗口 #{window_id} 已结束 ended")


@maintenance.command("approve")
@writes("maintenance.approve", "maintenance.approve", "never one's own window")
@click.argument("window_id", type=int)
@store_options
def approve_cmd(window_id, config_path, db_url) -> None:
    """Approve someone else's window: from now on it reduces SLA downtime."""

    async def work(ctx: Ctx):
        row = await _acts(ctx).approve_maintenance(await ctx.actor(), window_id)
        return row.approved_by

    who = run(config_path, db_url, work)
    click.echo(
        f"维护窗口 #{window_id} 已由 {who} 审批，计入 SLA / window #{window_id} approved by {who}; "
        "the SLA excuses it"
    )


def _acts(ctx: Ctx) -> OperatorActs:
    return OperatorActs(ctx.store, ctx.config.site.name, ctx.accounts.policy)
