"""``noc staff``, ``noc emergency``, ``noc report submit|import|submissions``: the registers the
KPIs need that calls and tickets do not carry (docs/kpi.md, indicators 7–9).

Writes (``add``, ``submit``, ``import``) act as the NOC account bound to the OS account running
the command (root acts as admin), need ``register.write`` (a lead) and are audited: one row per
record entered, one per file imported, a ``refused`` row for an attempt refused. A record is
kept by its key (staff: person, post, first day; submission: kind, period, time; emergency:
kind, start): entering it again updates it or, when it says the same, changes nothing.

Imports (CSV or XLSX with the fields as header): a header naming an unknown or lacking a
required column refuses the file (exit 2); a bad row is reported with its row, column, value and
reason and left out, the others imported (exit 1); importing the same file again changes
nothing. Lists read the store and need no binding.

``noc report monthly``: the monthly report itself (docs/report.md).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from noc.cli.access import reads, writes
from noc.cli.common import exit_on_error, json_option, lang_option, run_with_store, store_options
from noc.cli.identity_common import Ctx, run
from noc.core.errors import InputError
from noc.store.register_acts import ACTIONS, PERMISSION

OPTION_NAMES = {
    "staff": {"person": "PERSON", "post": "--post", "start": "--start", "end": "--end"},
    "submissions": {
        "kind": "--kind",
        "period": "--period",
        "submitted_at": "--at",
        "due_at": "--due",
        "note": "--note",
    },
    "emergencies": {
        "kind": "--kind",
        "title": "--title",
        "started_at": "--started",
        "responded_at": "--responded",
        "ended_at": "--ended",
    },
}
STATUS = {"created": "已登记 created", "updated": "已更新 updated", "duplicate": "无变化 unchanged"}


def _add(kind: str, raw: dict, config_path, db_url, show: Callable) -> None:  # noqa: ANN001
    """Enter one record given as options; a refusal is audited and exits 1 (2: bad input)."""
    from noc.core.errors import NocError
    from noc.register_view import parse
    from noc.store.register_acts import RegisterActs

    async def work(ctx: Ctx):
        actor = await ctx.actor()
        acts = RegisterActs(ctx.store, ctx.config.security.policy())
        now = dt.datetime.now(dt.UTC)
        try:
            given = {k: v for k, v in raw.items() if v is not None}
            record = parse(kind, given, ctx.tz, now, OPTION_NAMES[kind])
        except NocError as exc:  # refused before the act: recorded all the same
            await acts.refused(actor, ACTIONS[kind][0], kind, exc)
            raise
        return await acts.record(actor, kind, record)

    done = run(config_path, db_url, work)
    click.echo(f"{show(done.row)}  {STATUS[done.status]}")
    if done.before:
        was = ", ".join(f"{k} {v if v is not None else '-'}" for k, v in done.before.items())
        click.echo(f"  此前 before: {was}")


def _import(kind: str, file: Path, encoding, sheet, errors_out, config_path, db_url) -> None:  # noqa: ANN001
    from noc.cli.importing import finish
    from noc.core.errors import NocError
    from noc.register_view import count, read_file
    from noc.store.register_acts import RegisterActs

    action = ACTIONS[kind][1]

    async def work(ctx: Ctx):
        actor = await ctx.actor()
        acts = RegisterActs(ctx.store, ctx.config.security.policy())
        try:
            acts.check(actor)
            records, report = read_file(kind, file, ctx.tz, encoding=encoding, sheet=sheet)
        except NocError as exc:  # an unbound account, too little role, a file that cannot be read
            await acts.refused(actor, action, f"file:{file.name}", exc)
            raise
        imported = await acts.import_records(
            actor, kind, records, f"file:{file.name}", len({p.row for p in report.problems})
        )
        return count(report, imported)

    finish(run(config_path, db_url, work), file, errors_out)


def _import_command(group: click.Group, kind: str, columns: str) -> None:
    @group.command("import")
    @writes(PERMISSION, ACTIONS[kind][1])
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--encoding", help="CSV encoding (default: UTF-8, else GB18030)")
    @click.option("--sheet", help="XLSX sheet (default: the first)")
    @click.option(
        "--errors-out",
        type=click.Path(dir_okay=False, writable=True),
        help="write every problem to this CSV (row, column, value, reason)",
    )
    @store_options
    def command(file, encoding, sheet, errors_out, config_path, db_url) -> None:
        _import(kind, file, encoding, sheet, errors_out, config_path, db_url)

    command.help = (
        f"CSV or XLSX with the columns {columns}; bad rows are named and left out (exit 1), "
        "the others imported; the same file again changes nothing."
    )


def _list(kind: str, as_json: bool, config_path, db_url, line: Callable) -> None:  # noqa: ANN001
    from zoneinfo import ZoneInfo

    from noc.register_view import row_json
    from noc.store.kpi_registers import KpiRegisters

    async def go(store, config):
        tz = ZoneInfo(config.site.timezone)
        return [row_json(kind, r, tz) for r in await KpiRegisters(store).rows(kind)]

    rows = run_with_store(config_path, db_url, go)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        click.echo(line(r))


def _local(r: dict, name: str) -> str:
    return (r.get(f"{name}_local") or "-").replace("T", " ")


# -- staff ------------------------------------------------------------------------------------


@click.group()
def staff() -> None:
    """人员登记 / the staff register (people, posts, first and last day)."""


@staff.command("add")
@writes("register.write", "staff.add")
@click.argument("person")
@click.option("--post", required=True, help="接话, 派单岗, 工单回访岗 …")
@click.option("--start", required=True, help="first working day (2026-11-01)")
@click.option("--end", help="last working day, inclusive")
@click.option("--note")
@store_options
def staff_add(person, post, start, end, note, config_path, db_url) -> None:
    """Enter a person on a post (again with --end when they leave)."""
    raw = {"person": person, "post": post, "start": start, "end": end, "note": note}
    _add(
        "staff",
        raw,
        config_path,
        db_url,
        lambda r: f"staff {r.id}: {r.person} {r.post} {r.start_date}…{r.end_date or ''}",
    )


_import_command(staff, "staff", "person, post, start, end, note")


@staff.command("list")
@reads()
@json_option()
@store_options
@exit_on_error
def staff_list(as_json, config_path, db_url) -> None:
    _list(
        "staff",
        as_json,
        config_path,
        db_url,
        lambda r: f"{r['id']}\t{r['person']}\t{r['post']}\t{r['start']}\t{r['end'] or ''}",
    )


# -- emergencies --------------------------------------------------------------------------------


@click.group()
def emergency() -> None:
    """突发事件登记 / the emergency register."""


@emergency.command("add")
@writes("register.write", "emergency.add")
@click.option("--kind", required=True, help="typhoon, power_cut, call_surge, network, other")
@click.option("--title")
@click.option("--started", required=True, help="when it started (site time)")
@click.option("--responded", help="when the support arrangements were adjusted")
@click.option("--ended")
@click.option("--force-majeure", is_flag=True, help="不可抗力: listed, not counted")
@store_options
def emergency_add(kind, title, started, responded, ended, force_majeure, config_path, db_url):
    """Enter an emergency (again with --responded/--ended as they become known)."""
    raw = {  # a flag not given, an empty title: not stated (a repeat keeps what is stored)
        "kind": kind,
        "title": title or None,
        "started_at": started,
        "responded_at": responded,
        "ended_at": ended,
        "force_majeure": force_majeure or None,
    }
    _add("emergencies", raw, config_path, db_url, lambda r: f"emergency {r.id}: {r.kind}")


_import_command(
    emergency, "emergencies", "kind, title, started_at, responded_at, ended_at, force_majeure"
)


@emergency.command("list")
@reads()
@json_option()
@store_options
@exit_on_error
def emergency_list(as_json, config_path, db_url) -> None:
    _list(
        "emergencies",
        as_json,
        config_path,
        db_url,
        lambda r: (
            f"{r['id']}\t{r['kind']}\t{_local(r, 'started_at')}\t"
            f"{_local(r, 'responded_at')}\t{'不可抗力 ' if r['force_majeure'] else ''}{r['title']}"
        ),
    )


# -- report submissions -------------------------------------------------------------------------


@click.group()
def report() -> None:
    """报告 / reports: generate the monthly report, register a submission."""


@report.command("submit")
@writes("register.write", "report.submit")
@click.option("--kind", default="monthly", show_default=True)
@click.option("--period", required=True, help="the period it reports (2026-10)")
@click.option("--at", "submitted", help="when it was submitted (default now)")
@click.option("--due", help="due time, for a report the config does not schedule")
@click.option("--corrected", is_flag=True, help="a correction of an earlier submission")
@click.option("--note")
@store_options
def report_submit(kind, period, submitted, due, corrected, note, config_path, db_url) -> None:
    """Register that a due report (or data) was handed in."""
    raw = {
        "kind": kind,
        "period": period,
        "submitted_at": submitted,
        "due_at": due,
        "corrected": corrected or None,
        "note": note,
    }
    _add(
        "submissions",
        raw,
        config_path,
        db_url,
        lambda r: f"submission {r.id}: {r.kind} {r.period}",
    )


_import_command(report, "submissions", "kind, period, submitted_at, due_at, corrected, note")


@report.command("submissions")
@reads()
@json_option()
@store_options
@exit_on_error
def report_submissions(as_json, config_path, db_url) -> None:
    """List the registered submissions."""
    _list(
        "submissions",
        as_json,
        config_path,
        db_url,
        lambda r: "\t".join(
            [str(r["id"]), r["kind"], r["period"], _local(r, "submitted_at")]
            + (["更正 corrected"] if r["corrected"] else [])
        ),
    )


@report.command("monthly")
@reads()
@click.option("--period", required=True, help="the calendar month, site time (2026-11)")
@click.option(
    "--format", "fmt", type=click.Choice(["docx", "pdf", "html"]), default="docx", show_default=True
)
@click.option(
    "--out",
    "out",
    metavar="FILE",
    help="where to write it (default: 12345热线月报-PERIOD.FORMAT here; - for standard output)",
)
@click.option("--as-of", "as_of", help="the figures as they stood then (default now)")
@lang_option("zh-CN")
@store_options
@exit_on_error
def report_monthly(period, fmt, out, as_of, lang, config_path, db_url) -> None:
    """12345热线月报 / the monthly report: calls, tickets, hot topics, callbacks, quality, the
    scorecard, network and SLA, staffing, emergencies, and an editable next-month section."""
    from incident_runbooks.loader import load_runbooks
    from kpi.breakdown import months_of
    from noc.kpi_view import as_of_of
    from noc.reports.charts import cjk_font
    from noc.reports.monthly import draw, file_name, monthly_document

    async def go(store, config):
        tz = ZoneInfo(config.site.timezone)
        months_of(period, tz)  # a bad month exits 2 before anything is read
        cjk_font()  # no Chinese font: exit 1 naming the packages, before anything is read
        doc = await monthly_document(
            store, config, load_runbooks(), period, as_of_of(as_of, tz), lang
        )
        return draw(doc, fmt)

    data = run_with_store(config_path, db_url, go)
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(out or file_name(period, fmt, lang))
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write: {exc.strerror or exc}") from None
    click.echo(f"{path}: {len(data):,} bytes ({fmt}, {period.strip()}, {lang})")
