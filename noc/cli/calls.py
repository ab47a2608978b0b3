"""``noc calls import|list``: calls (话务) from a CSV/XLSX export or an Asterisk ``queue_log``.

``import`` acts as the NOC account bound to the OS account running it, needs ``ingest`` and is
audited as ``calls.import`` (one row per file, :mod:`noc.cli.importing`); ``list`` reads."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from noc import calls_view as view
from noc.calls_intake import context, import_queue_log, import_table
from noc.cli.access import reads, writes
from noc.cli.importing import finish, import_options, progress, run, run_import, store_options
from noc.store.calls import CallRepo


@click.group()
def calls() -> None:
    """话务 / calls: import from the call centre, list."""


@calls.command("import")
@writes("ingest", "calls.import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "asterisk-queue-log"]),
    default="table",
    show_default=True,
    help="table: CSV or XLSX with canonical columns (or --mapping); asterisk-queue-log: "
    "Asterisk's queue_log file or its table export",
)
@click.option(
    "--source",
    help="the system the calls come from; call ids are unique per source "
    "(default: the file's source column, else 'default'; 'asterisk' for a queue_log)",
)
@import_options
@store_options
def import_cmd(
    file, fmt, source, mapping, strict, encoding, sheet, errors_out, config_path, db_url
) -> None:
    """Import calls from FILE; importing it again changes nothing."""
    if fmt == "asterisk-queue-log" and mapping:
        raise click.UsageError("--mapping does not apply to a queue_log")

    async def action(store, config):
        ctx = context(config)
        if fmt == "asterisk-queue-log":
            with progress("queue_log") as step:
                return await import_queue_log(
                    store,
                    file,
                    ctx,
                    source=source or "asterisk",
                    strict=strict,
                    encoding=encoding,
                    progress=step,
                )
        return await _table(store, ctx, file, mapping, strict, encoding, sheet, source)

    details = {"format": fmt, "source": source, "mapping": mapping, "strict": strict}
    finish(run_import(config_path, db_url, file, action, details), file, errors_out)


async def _table(store, ctx, file, mapping, strict, encoding, sheet, source):
    with progress() as step:
        return await import_table(
            store,
            "calls",
            file,
            ctx,
            mapping=mapping,
            strict=strict,
            encoding=encoding,
            sheet=sheet,
            defaults={"source": source} if source else None,
            progress=step,
        )


@calls.command("list")
@reads()
@click.option("--from", "start", help="from (date or time, site time)")
@click.option("--to", "end", help="to (a date includes that day)")
@click.option("--agent")
@click.option("--queue")
@click.option("--outcome", help="answered, abandoned, timeout, transferred, ivr_only")
@click.option("--source")
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0)
@click.option("--json", "as_json", is_flag=True)
@store_options
def list_cmd(
    start, end, agent, queue, outcome, source, limit, offset, as_json, config_path, db_url
) -> None:
    """Calls, newest first (callers masked)."""
    params = {
        "from": start,
        "to": end,
        "agent": agent,
        "queue": queue,
        "outcome": outcome,
        "source": source,
        "limit": limit,
        "offset": offset,
    }

    async def action(store, config):
        tz = ZoneInfo(config.site.timezone)
        lim, off = view.paging(params)
        rows, total = await CallRepo(store).list(view.call_filter(params, tz), lim, off)
        return total, [view.call_json(r, tz) for r in rows]

    total, rows = run(config_path, db_url, action)
    if as_json:
        click.echo(json.dumps({"total": total, "calls": rows}, ensure_ascii=False, indent=1))
        return
    click.echo(f"共 {total} 通 / {total} call(s)")
    for c in rows:
        click.echo(
            f"{(c['started_at_local'] or '')[:19]}  {c['call_id']:<24} {c['outcome']:<11} "
            f"{c['queue'] or '-':<10} {c['agent'] or '-':<12} {c['caller'] or '-':<14} "
            f"wait {_secs(c['wait_seconds'])} talk {_secs(c['talk_seconds'])}"
        )


def _secs(value) -> str:
    return "-" if value is None else f"{value:.0f}s"
