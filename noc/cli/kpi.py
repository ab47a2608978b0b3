"""``noc kpi report`` and ``noc scorecard``: the operational KPIs and the 100 + 5 points."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from noc.cli.access import reads
from noc.cli.common import exit_on_error, lang_option, run_with_store, store_options

PERIOD = "2026-11 (month), 2026-W48 (ISO week) or 2026-11-29 (day), site time"


def _period_options(func):
    for opt in reversed(
        [
            click.option("--period", help=PERIOD),
            click.option("--from", "start", help="instead of --period: start (site time)"),
            click.option("--to", "end", help="with --from: end, exclusive"),
            click.option("--as-of", "as_of", help="recompute as it stood then (default now)"),
            click.option("--scope", help="site, agent:NAME, town:NAME or channel:CODE"),
        ]
    ):
        func = opt(func)
    return func


def _data(config_path, db_url, period, start, end, as_of, scope):
    from noc.kpi_view import as_of_of, kpi_data, window_of

    async def go(store, config):
        tz = ZoneInfo(config.site.timezone)
        window = window_of(period, start, end, tz)
        return await kpi_data(store, config, window, as_of_of(as_of, tz), scope)

    return run_with_store(config_path, db_url, go)


@click.group()
def kpi() -> None:
    """运营考核指标 / operational KPIs (docs/kpi.md)."""


@kpi.command("report")
@reads()
@_period_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "md"]), default="table")
@store_options
@exit_on_error
def report_cmd(period, start, end, as_of, scope, fmt, config_path, db_url) -> None:
    """Each indicator's figure with numerator, denominator and the records behind it."""
    from kpi.render import render_report

    data = _data(config_path, db_url, period, start, end, as_of, scope)
    click.echo(render_report(data, fmt).rstrip("\n"))


@click.command("scorecard")
@reads()
@_period_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@lang_option("zh-CN")
@store_options
@exit_on_error
def scorecard(period, start, end, as_of, scope, fmt, lang, config_path, db_url) -> None:
    """考核计分 / the 100 + 5 points, each deduction explained in words."""
    from kpi.render import render_scorecard

    data = _data(config_path, db_url, period, start, end, as_of, scope)
    click.echo(render_scorecard(data, fmt, lang).rstrip("\n"))
