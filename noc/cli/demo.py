"""``noc demo generate``: a synthetic Lingshui 12345 history in the store (docs: README, demo).

The records are made by :mod:`noc.demo.generate` (seeded: the same seed and period give the same
data) and stored through the ingest repositories. Caller numbers are synthetic and go through
the privacy path like real ones; without a configured caller hash key the command uses a demo
key and says so. That key is public: never point this command at a production store.

It writes synthetic calls and tickets among whatever the store holds, which would move every
figure of a real month, so it needs ``demo.generate`` (admin only; root acts as admin, which is
how ``make run`` loads its month) and acts as the NOC account bound to the OS account running
it, audited as ``demo.generate`` with one row after the load (the period, seed and counts; see
:mod:`noc.store.import_acts`). A store that holds tickets but no demo history (no calls of the
source ``demo``) is taken for a real one and refused (exit 1); with ``--if-empty`` a store that
holds any tickets is left alone (exit 0), and that is recorded too.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import click

from noc.cli.access import current, writes
from noc.cli.common import exit_on_error, store_options
from noc.core.errors import ConflictError, InputError

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
@writes("demo.generate", "demo.generate", "refused on a store with tickets but no demo history")
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
    knowledge base, ending today (or --end), and store them. Loading it again changes nothing.
    Never on a production store: one with tickets but no demo history is refused."""
    from noc.cli.identity_common import Ctx, run
    from noc.demo.generate import Plan
    from noc.demo.load import load
    from noc.ingest.privacy import CallerProtector
    from noc.store.calls import CallFilter, CallRepo
    from noc.store.import_acts import batched_acting
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

    access = current()

    async def work(ctx: Ctx) -> bool:
        store, config = ctx.store, ctx.config
        tz = ctx.tz
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
        async with batched_acting(
            store,
            await ctx.actor(),
            access.action or "",
            access.permission or "",
            f"demo:{plan.start}..{last_day}:seed{seed}",
            ctx.accounts.policy.permissions,
        ) as act:
            act.after.update(
                {
                    "start": plan.start.isoformat(),
                    "end": last_day.isoformat(),
                    "seed": seed,
                    "tickets_per_year": tickets_per_year,
                }
            )
            tickets = await TicketRepo(store, tz).count()
            if tickets and if_empty:
                act.after["generated"] = False
                click.echo("演示数据 demo: the store already has tickets; nothing generated")
                return True
            if tickets:
                _, demo_calls = await CallRepo(store).list(CallFilter(source=plan.source), 1, 0)
                if not demo_calls:
                    raise ConflictError(
                        f"库中已有 {tickets} 条非演示工单，拒绝写入演示数据 / the store holds "
                        f"{tickets} ticket(s) and no demo history: it looks like a real store, "
                        "and demo data would change its figures (use an empty store, or "
                        "--if-empty to do nothing when tickets exist)"
                    )
            protector = config.privacy.protector()
            act.after["public_demo_key"] = not protector.can_hash
            if not protector.can_hash:
                click.echo(
                    "演示数据 demo: no caller hash key configured (NOC_CALLER_HASH_KEY): the "
                    "synthetic numbers are hashed with the public demo key; never use it in "
                    "production",
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
            act.after.update(
                {
                    "generated": True,
                    "days": report.days,
                    "records": dict(report.records),
                    "statuses": dict(report.statuses),
                }
            )
        click.echo(f"演示数据 demo: {report.line()} in {took:.1f} s")
        return not (report.statuses.get("conflict") or report.statuses.get("invalid"))

    if not run(config_path, db_url, work):
        click.echo(
            "演示数据 demo: some records clash with what the store holds (another seed or "
            "real data under the same numbers); those were not written",
            err=True,
        )
        sys.exit(1)


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
