"""``noc audit list|export|verify|purge``: read, export and check the audit log (安全审计).

``verify`` walks the SHA-256 chain from the first retained row to the head and reports the
first broken link (exit 1), or that the log is intact (exit 0). ``purge`` deletes rows older
than ``security.audit.retention`` (never younger than 180 days) as the auditor, and the purge
itself is the newest row.
"""

from __future__ import annotations

import json
import sys

import click

from noc.cli.access import reads, writes
from noc.cli.common import store_options
from noc.cli.identity_common import Ctx, local, parse_instant, run
from noc.store.audit_log import audit_csv, audit_json


def _filters(func):
    func = click.option(
        "--outcome", type=click.Choice(["ok", "refused"]), help="only acts done, or refused"
    )(func)
    func = click.option("--target", help="only rows whose target contains this text")(func)
    func = click.option("--actor", help="only this account's acts")(func)
    func = click.option(
        "--to", "until", help="end (exclusive; a date means the end of that day; site time)"
    )(func)
    return click.option("--from", "since", help="start (2026-11-01 or 2026-11-01T08:00)")(func)


async def _rows(
    ctx: Ctx, since, until, actor, target, outcome, action=None, limit=None, newest_first=False
):
    return await ctx.accounts.audit.rows(
        since=parse_instant(since, ctx.tz),
        until=parse_instant(until, ctx.tz, end=True),
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        limit=limit,
        newest_first=newest_first,
    )


@click.group()
def audit() -> None:
    """审计日志 / the audit log: who did what, when, from where; tamper-evident."""


@audit.command("list")
@reads("audit.read")
@_filters
@click.option("--action", help="only this action (e.g. user.role, token.create)")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100000))
@click.option("--json", "as_json", is_flag=True)
@store_options
def list_cmd(
    since, until, actor, target, outcome, action, limit, as_json, config_path, db_url
) -> None:
    """List audit rows, newest first."""

    async def work(ctx: Ctx):
        rows = await _rows(
            ctx, since, until, actor, target, outcome, action, limit, newest_first=True
        )
        return rows, ctx.tz

    rows, tz = run(config_path, db_url, work)
    if as_json:
        click.echo(json.dumps([audit_json(r) for r in rows], ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("没有审计记录 / no audit rows")
    for r in rows:
        who = f"{r.actor_user or '-'}({r.actor_role or '-'})"
        why = f" — {r.reason}" if r.reason else ""
        click.echo(
            f"#{r.id:<6} {local(r.at, tz)}  {who:<20} {r.channel:<7} {r.source:<24} "
            f"{r.action:<20} {r.target}  {r.outcome}{why}"
        )


@audit.command("export")
@reads("audit.read")
@_filters
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), help="file (default: stdout)"
)
@store_options
def export_cmd(since, until, actor, target, outcome, fmt, output, config_path, db_url) -> None:
    """Export audit rows, oldest first, with their hashes (to verify elsewhere)."""

    async def work(ctx: Ctx):
        return [audit_json(r) for r in await _rows(ctx, since, until, actor, target, outcome)]

    rows = run(config_path, db_url, work)
    if fmt == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    else:
        text = audit_csv(rows)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        click.echo(f"{len(rows)} 条审计记录已导出 / {len(rows)} audit rows written to {output}")
    else:
        sys.stdout.write(text)


@audit.command("verify")
@reads("audit.read")
@store_options
def verify_cmd(config_path, db_url) -> None:
    """Check the hash chain; exit 1 at the first broken link, 0 when intact."""

    async def work(ctx: Ctx):
        return await ctx.accounts.audit.verify()

    report = run(config_path, db_url, work)
    if report.broken is not None:
        click.echo(
            f"审计日志被篡改 / audit log broken at row {report.broken} "
            f"({report.checked} row(s) checked)",
            err=True,
        )
        sys.exit(1)
    span = f"#{report.first_id}–#{report.last_id}" if report.checked else "empty"
    click.echo(f"审计日志完整 / audit log intact: {report.checked} row(s), {span}")


@audit.command("purge")
@writes("audit.purge", "audit.purge", "only rows older than the retention")
@store_options
def purge_cmd(config_path, db_url) -> None:
    """Delete rows older than the retention (security.audit.retention, at least 180 days)."""

    async def work(ctx: Ctx):
        return await ctx.accounts.purge_audit(await ctx.actor())

    result = run(config_path, db_url, work)
    through = f" through #{result.through_id}" if result.through_id else ""
    click.echo(
        f"已清理 {result.deleted} 条 / purged {result.deleted} row(s){through} older than "
        f"{result.cutoff.isoformat()}"
    )
