"""``noc tickets import|search|list|show``: tickets (工单) and their events.

``import`` acts as the NOC account bound to the OS account running it, needs ``ingest`` and is
audited as ``tickets.import`` (``--kind events``: also ``tickets.import``, the kind in the row;
one row per file, :mod:`noc.cli.importing`); the others read."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from noc import calls_view as view
from noc.calls_intake import context, import_table
from noc.cli.access import reads, writes
from noc.cli.importing import finish, import_options, progress, run, run_import, store_options
from noc.ingest.search import Snippet, parse_query
from noc.store.tickets import TicketRepo


@click.group()
def tickets() -> None:
    """工单 / tickets: import, search (模糊查询), list, show."""


@tickets.command("import")
@writes("ingest", "tickets.import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["tickets", "events"]),
    default="tickets",
    show_default=True,
    help="tickets (one row per ticket, e.g. the provincial export) or events (one row per "
    "change: dispatched, closed, callback, rated, spot_checked, complaint_ruled, commended, "
    "reopened)",
)
@import_options
@store_options
def import_cmd(file, kind, mapping, strict, encoding, sheet, errors_out, config_path, db_url):
    """Import tickets (or ticket events) from a CSV or XLSX FILE; importing it again changes
    nothing, a later export of the same tickets adds what happened since."""

    async def action(store, config):
        with progress() as step:
            return await import_table(
                store,
                kind,
                file,
                context(config),
                mapping=mapping,
                strict=strict,
                encoding=encoding,
                sheet=sheet,
                progress=step,
            )

    details = {"kind": kind, "mapping": mapping, "strict": strict}
    finish(run_import(config_path, db_url, file, action, details), file, errors_out)


def _filter_options(func):
    for option in reversed(
        [
            click.option("--from", "start", help="created from (date or time, site time)"),
            click.option("--to", "end", help="created before (a date includes that day)"),
            click.option(
                "--type", "type_", help="咨询 求助 投诉 建议 举报 表扬 其他 (or enquiry …)"
            ),
            click.option("--town", help="乡镇, e.g. 椰林镇"),
            click.option("--agent"),
            click.option("--status", help="new, dispatched, closed, reopened"),
            click.option("--limit", default=20, show_default=True),
            click.option("--offset", default=0),
            click.option("--json", "as_json", is_flag=True),
        ]
    ):
        func = option(func)
    return func


def _params(start, end, type_, town, agent, status, limit, offset) -> dict:
    return {
        "from": start,
        "to": end,
        "type": type_,
        "town": town,
        "agent": agent,
        "status": status,
        "limit": limit,
        "offset": offset,
    }


def highlighted(snippet: Snippet | None) -> str:
    """Matches in bold on a terminal, in 【】 otherwise."""
    if snippet is None:
        return ""
    if not sys.stdout.isatty():
        return snippet.marked()
    out, last = [], 0
    for a, b in snippet.spans:
        out += [snippet.text[last:a], click.style(snippet.text[a:b], fg="yellow", bold=True)]
        last = b
    out.append(snippet.text[last:])
    return "".join(out)


def _line(t: dict) -> str:
    return (
        f"{t['ticket_no']}  {(t['created_at_local'] or '')[:16].replace('T', ' ')}  "
        f"{t['type_label'] or t['type']}  {t['town'] or '-'}  [{t['status']}]"
    )


@tickets.command("search")
@reads()
@click.argument("text")
@_filter_options
@store_options
def search_cmd(
    text, start, end, type_, town, agent, status, limit, offset, as_json, config_path, db_url
):
    """Find tickets whose content, number or town holds TEXT (terms separated by spaces all
    have to appear); exact phrase first, then newest."""
    from noc.ingest.search import snippet as make_snippet

    params = _params(start, end, type_, town, agent, status, limit, offset)
    query = parse_query(text) if text.strip() else None
    if query is None:
        click.echo("错误 error: search text is empty", err=True)
        sys.exit(2)

    async def action(store, config):
        tz = ZoneInfo(config.site.timezone)
        lim, off = view.paging(params)
        hits, total = await TicketRepo(store, tz).search(
            query, view.ticket_filter(params, tz), lim, off
        )
        return total, off, [(view.ticket_hit_json(r, t, query, tz), r.content) for r, t in hits]

    total, off, hits = run(config_path, db_url, action)
    if as_json:
        click.echo(
            json.dumps(
                {"query": query.text, "total": total, "tickets": [h for h, _ in hits]},
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    shown = f"{off + 1}–{off + len(hits)}" if hits else "0"
    click.echo(f"共 {total} 条 / {total} match(es) for {query.text!r} (showing {shown})")
    for hit, content in hits:
        click.echo(_line(hit))
        click.echo(f"    {highlighted(make_snippet(content, query))}")


@tickets.command("list")
@reads()
@_filter_options
@store_options
def list_cmd(start, end, type_, town, agent, status, limit, offset, as_json, config_path, db_url):
    """Tickets by period, type, town, agent or status; newest first."""
    params = _params(start, end, type_, town, agent, status, limit, offset)

    async def action(store, config):
        tz = ZoneInfo(config.site.timezone)
        lim, off = view.paging(params)
        rows, total = await TicketRepo(store, tz).list(view.ticket_filter(params, tz), lim, off)
        return total, [view.ticket_json(r, tz) for r in rows]

    total, rows = run(config_path, db_url, action)
    if as_json:
        click.echo(json.dumps({"total": total, "tickets": rows}, ensure_ascii=False, indent=1))
        return
    click.echo(f"共 {total} 条 / {total} ticket(s)")
    for t in rows:
        click.echo(_line(t))


@tickets.command("show")
@reads()
@click.argument("ticket_no")
@click.option("--json", "as_json", is_flag=True)
@store_options
def show_cmd(ticket_no, as_json, config_path, db_url):
    """One ticket with its events, spot checks, complaints and commendations."""
    from noc.core.errors import NotFoundError

    async def action(store, config):
        tz = ZoneInfo(config.site.timezone)
        detail = await TicketRepo(store, tz).get(ticket_no)
        if detail is None:
            raise NotFoundError(f"no ticket {ticket_no!r}")
        return view.detail_json(detail, tz)

    t = run(config_path, db_url, action)
    if as_json:
        click.echo(json.dumps(t, ensure_ascii=False, indent=1))
        return
    click.echo(_line(t))
    click.echo(f"    {t['content']}")
    click.echo(f"    来电 caller {t['caller'] or '-'}  坐席 agent {t['agent'] or '-'}")
    for e in t["events"]:
        data = ", ".join(f"{k}={v}" for k, v in e["data"].items())
        click.echo(f"  {(e['at_local'] or '')[:16].replace('T', ' ')}  {e['kind']:<15} {data}")
