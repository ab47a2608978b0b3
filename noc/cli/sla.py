"""``noc sla report``: the month's (day's, week's, any span's) SLA figures from the event log.

The period and the scope are checked against the inventory before the store is opened; a bad
one exits 2 with what was wrong and the accepted forms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import click

from noc.cli.access import reads
from noc.cli.common import (
    exit_on_error,
    lang_option,
    load_config_or_exit,
    open_store,
    store_options,
)
from sla.intervals import PeriodError, custom_window, parse_period


@click.group()
def sla() -> None:
    """SLA 统计 / SLA figures: availability, MTBF, MTTR (automatic/manual), budgets."""


@sla.command("report")
@reads()
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
@lang_option("zh-CN")
@click.option(
    "--wide", is_flag=True, help="table: every column (default: the contract's, within 100 columns)"
)
@store_options
@exit_on_error
def report_cmd(period, start, end, scope, fmt, lang, wide, config_path, db_url) -> None:
    """Report one period for one scope (or the site and its services).

    Every figure counts monitored time only: a period or scope the service did not watch reads
    "no data" (无监测数据), one watched less than sla.coverage.threshold (99 %) is marked
    "insufficient coverage" (监测覆盖不足). CSV is UTF-8 with a BOM, for spreadsheets."""
    from incident_runbooks.loader import load_runbooks
    from sla.report import build, parse_scope, render

    config = load_config_or_exit(config_path)
    tz = ZoneInfo(config.sla.timezone)
    if period and (start or end):
        raise PeriodError("give --period or --from/--to, not both")
    if period:
        window = parse_period(period, tz)
    elif start and end:
        window = custom_window(start, end, tz)
    else:
        raise PeriodError("give --period (e.g. 2026-11) or both --from and --to")
    scopes = parse_scope(config, scope)  # an unknown name exits 2 too: it was typed as an option
    now = dt.datetime.now(dt.UTC)

    async def go():
        async with open_store(config, db_url) as store:
            return await build(store, config, load_runbooks(), [window], scopes, now)

    click.echo(render(asyncio.run(go()), config, fmt, lang, now, wide).rstrip("\n"))
