"""``noc sla report``: the month's (day's, week's, any span's) SLA figures from the event log.

The period and the scope are checked against the inventory before the store is opened; a bad
one exits 2 with what was wrong and the accepted forms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from zoneinfo import ZoneInfo

import click

from noc.cli.common import store_options
from sla.intervals import PeriodError, custom_window, parse_period


@click.group()
def sla() -> None:
    """SLA 统计 / SLA figures: availability, MTBF, MTTR (automatic/manual), budgets."""


def _usage(message: str) -> None:
    click.echo(f"参数有误 / bad argument: {message}", err=True)
    sys.exit(2)


@sla.command("report")
@click.option(
    "--period", help="2026-11 (month), 2026-11-29 (day) or 2026-W48 (ISO week), site time"
)
@click.option("--from", "start", help="instead of --period: start (ISO 8601, site time)")
@click.option("--to", "end", help="with --from: end, exclusive")
@click.option(
    "--scope", help="site, service:NAME, asset:NAME or all (default: the site and every service)"
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "md"]),
    default="table",
    show_default=True,
)
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True)
@click.option(
    "--wide", is_flag=True, help="table: every column (default: the contract's, within 100 columns)"
)
@store_options
def report_cmd(period, start, end, scope, fmt, lang, wide, config_path, db_url) -> None:
    """Report one period for one scope (or the site and its services).

    Every figure counts monitored time only: a period or scope the service did not watch reads
    "no data" (无监测数据), one watched less than sla.coverage.threshold (99 %) is marked
    "insufficient coverage" (监测覆盖不足). CSV is UTF-8 with a BOM, for spreadsheets."""
    from incident_runbooks.loader import load_runbooks
    from noc.cli import _load_or_exit
    from noc.store import Store, resolve_db_url
    from sla.report import ScopeError, UnknownScope, build, parse_scope, render

    config = _load_or_exit(config_path)
    tz = ZoneInfo(config.sla.timezone)
    try:
        if period and (start or end):
            raise PeriodError("give --period or --from/--to, not both")
        if period:
            window = parse_period(period, tz)
        elif start and end:
            window = custom_window(start, end, tz)
        else:
            raise PeriodError("give --period (e.g. 2026-11) or both --from and --to")
        scopes = parse_scope(config, scope)
    except (PeriodError, ScopeError, UnknownScope) as exc:
        _usage(str(exc.args[0]) if exc.args else str(exc))
    now = dt.datetime.now(dt.UTC)

    async def go():
        store = await Store.open(resolve_db_url(db_url, config.server.db))
        try:
            return await build(store, config, load_runbooks(), [window], scopes, now)
        finally:
            await store.close()

    click.echo(render(asyncio.run(go()), config, fmt, lang, now, wide).rstrip("\n"))
