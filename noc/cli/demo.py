"""``noc demo generate``: a synthetic Lingshui 12345 history in the store (docs: README, demo).

The records are made by :mod:`noc.demo.generate` (seeded: the same seed and period give the same
data) and stored through the ingest repositories. Caller numbers are synthetic and go through
the privacy path like real ones; without a configured caller hash key the command uses a demo
key and says so. That key is public: never point this command at a production store.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from zoneinfo import ZoneInfo

import click

from noc.cli.common import exit_on_error, run_with_store, store_options
from noc.core.errors import InputError

DEMO_HASH_KEY = "noc-demo-caller-hash-key-public-never-for-production"


@click.group()
def demo() -> None:
    """演示数据 / demo data: a synthetic Lingshui call and ticket history."""


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` earlier (the month's last day when it has fewer)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for d in range(day.day, 27, -1):
        try:
            return dt.date(year, month + 1, d)
        except ValueError:
            continue
    return dt.date(year, month + 1, min(day.day, 28))


@demo.command("generate")
@click.option("--years", default=0, show_default=True, type=click.IntRange(0, 20))
@click.option(
    "--months",
    default=None,
    type=click.IntRange(0, 240),
    help="more months (default: 1 when --years is 0, else 0)",
)
@click.option("--seed", default=14, show_default=True, help="same seed, same data")
@click.option(
    "--end",
    "end",
    metavar="DATE",
    help="last day of the history (site date; default today, up to now)",
)
@click.option(
    "--tickets-per-year", default=160_000, show_default=True, type=click.IntRange(1, 10_000_000)
)
@click.option("--if-empty", is_flag=True, help="do nothing when the store already has tickets")
@store_options
@exit_on_error
def generate(years, months, seed, end, tickets_per_year, if_empty, config_path, db_url):
    """Generate YEARS years and MONTHS months of calls, tickets, their events and a small
    knowledge base, ending today (or --end), and store them. Loading it again changes nothing."""
    from noc.demo.generate import Plan
    from noc.demo.load import load
    from noc.ingest.privacy import CallerProtector
    from noc.store.tickets import TicketRepo

    if months is None:
        months = 0 if years else 1
    if years == 0 and months == 0:
        raise InputError("nothing to generate: give --years or --months")
    if end:
        try:
            last = dt.date.fromisoformat(end)
        except ValueError:
            raise InputError(f"--end {end!r} is not a date (YYYY-MM-DD)") from None
    else:
        last = None

    async def action(store, config):
        tz = ZoneInfo(config.site.timezone)
        now = dt.datetime.now(dt.UTC)
        last_day = last or now.astimezone(tz).date()
        stop = last_day + dt.timedelta(days=1)
        plan = Plan(
            start=months_before(stop, years * 12 + months),
            end=stop,
            seed=seed,
            tickets_per_year=tickets_per_year,
            now=None if last else now,
        )
        if if_empty and await TicketRepo(store, tz).count():
            click.echo("演示数据 demo: the store already has tickets; nothing generated")
            return
        protector = config.privacy.protector()
        if not protector.can_hash:
            click.echo(
                "演示数据 demo: no caller hash key configured (NOC_CALLER_HASH_KEY): the synthetic "
                "numbers are hashed with the public demo key; never use it in production",
                err=True,
            )
            protector = CallerProtector(DEMO_HASH_KEY)
        click.echo(
            f"演示数据 demo: {plan.start} – {last_day}, seed {seed}, "
            f"~{tickets_per_year:,} tickets a year …",
            err=True,
        )
        started = time.monotonic()
        with _Progress(plan.days) as step:
            report = await load(store, plan, protector, tz, progress=step)
        took = time.monotonic() - started
        click.echo(f"演示数据 demo: {report.line()} in {took:.1f} s")
        if report.statuses.get("conflict") or report.statuses.get("invalid"):
            click.echo(
                "演示数据 demo: some records clash with what the store holds (another seed or "
                "real data under the same numbers); those were not written",
                err=True,
            )
            sys.exit(1)

    run_with_store(config_path, db_url, action)


class _Progress:
    """Days done, as a bar on a terminal (stderr), nothing otherwise."""

    def __init__(self, days: int):
        self.bar = (
            click.progressbar(length=days, label="生成 generating", file=sys.stderr)
            if sys.stderr.isatty()
            else None
        )

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __call__(self, days: int) -> None:
        if self.bar is not None:
            self.bar.update(days)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
