"""``noc maintenance add|list|end``: planned work that mutes alerts and is excluded from the SLA.

A request that cannot be read exits 2; ending an unknown or already ended window exits 1.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import click

from noc.cli.common import exit_on_error, json_option, run_with_store, store_options
from noc.maintenance import check_assets, window_json, window_span


@click.group()
def maintenance() -> None:
    """计划维护 / maintenance windows: mute alerts of assets under planned work."""


@maintenance.command("add")
@click.option("--assets", required=True, help="comma-separated asset names")
@click.option("--start", help="start (ISO 8601; site time without offset; default: now)")
@click.option("--end", help="end (ISO 8601)")
@click.option("--duration", help="instead of --end: 30m, 2h …")
@click.option("--reason", required=True)
@click.option("--by", required=True)
@store_options
@exit_on_error
def add_cmd(assets, start, end, duration, reason, by, config_path, db_url) -> None:
    """Plan a window."""

    async def action(store, config):
        names = check_assets(config, assets.split(","))
        starts, ends = window_span(config, start, end, duration, dt.datetime.now(dt.UTC))
        row = await store.add_maintenance(
            site=config.site.name,
            assets=names,
            starts_at=starts,
            ends_at=ends,
            reason=reason,
            created_by=by,
        )
        return window_json(row, ZoneInfo(config.site.timezone))

    w = run_with_store(config_path, db_url, action)
    click.echo(
        f"维护窗口 #{w['id']}: {', '.join(w['assets'])}  {w['starts_at_local']} → {w['ends_at_local']}"
    )
    if w["entered_late"]:
        click.echo(
            "注意：开始时间早于登记时间，SLA 只从登记时起扣除此窗口 / note: this window started before it was "
            "entered; the SLA deducts it only from now on (planned work must be entered in advance)",
            err=True,
        )


@maintenance.command("list")
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
        click.echo(
            f"#{w['id']:<4} {w['starts_at_local']} → {w['ends_at_local']}  {', '.join(w['assets'])}  "
            f"{w['reason']} ({w['created_by']}) {flag}".rstrip()
        )


@maintenance.command("end")
@click.argument("window_id", type=int)
@store_options
@exit_on_error
def end_cmd(window_id, config_path, db_url) -> None:
    """End a window now (the work is done)."""

    async def action(store, _config):
        return await store.end_maintenance(window_id)

    run_with_store(config_path, db_url, action)
    click.echo(f"维护窗口 #{window_id} 已结束 ended")
