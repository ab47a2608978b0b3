"""``noc staff``, ``noc emergency``, ``noc report submit``: the registers the KPIs need that
calls and tickets do not carry (docs/kpi.md, indicators 7–9); ``noc report monthly``: the
monthly report itself (docs/report.md)."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from noc.cli.common import as_json, exit_on_error, lang_option, run_with_store, store_options
from noc.core.errors import InputError


def _date(text: str | None, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what}: cannot read date {text!r}; use 2026-11-01") from None


def _instant(text: str | None, tz: ZoneInfo) -> dt.datetime | None:
    from sla.intervals import parse_instant

    return parse_instant(text, tz) if text else None


@click.group()
def staff() -> None:
    """人员登记 / the staff register (people, posts, first and last day)."""


@staff.command("add")
@click.argument("person")
@click.option("--post", required=True, help="接话, 派单岗, 工单回访岗 …")
@click.option("--start", required=True, help="first working day (2026-11-01)")
@click.option("--end", help="last working day, inclusive")
@store_options
@exit_on_error
def staff_add(person, post, start, end, config_path, db_url) -> None:
    from noc.store.kpi_registers import KpiRegisters

    first, last = _date(start, "--start"), _date(end, "--end")

    async def go(store, config):
        return await KpiRegisters(store).add_staff(person, post, first, last)

    row = run_with_store(config_path, db_url, go)
    click.echo(f"staff {row.id}: {person} {post} {first}…{last or ''}")


@staff.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_options
@exit_on_error
def staff_import(file, config_path, db_url) -> None:
    """CSV with columns person, post, start, end (UTF-8, BOM allowed); every bad row is named."""
    from noc.store.kpi_registers import KpiRegisters

    rows, problems = [], []
    with file.open(encoding="utf-8-sig", newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh), start=2):
            try:
                person, post = (rec.get("person") or "").strip(), (rec.get("post") or "").strip()
                if not person or not post:
                    raise InputError("person and post are required")
                first = _date(rec.get("start"), "start")
                if first is None:
                    raise InputError("start is required")
                rows.append((person, post, first, _date(rec.get("end"), "end")))
            except InputError as exc:
                problems.append(f"{file}: row {n}: {exc.reason}")
    if problems:
        raise InputError("\n".join(problems) + f"\n{len(problems)} bad row(s); nothing imported")

    async def go(store, config):
        regs = KpiRegisters(store)
        for row in rows:
            await regs.add_staff(*row)

    run_with_store(config_path, db_url, go)
    click.echo(f"imported {len(rows)} staff row(s)")


@staff.command("list")
@store_options
@exit_on_error
def staff_list(config_path, db_url) -> None:
    from noc.store.kpi_registers import KpiRegisters

    async def go(store, config):
        return await KpiRegisters(store).staff()

    for r in run_with_store(config_path, db_url, go):
        click.echo(f"{r.id}\t{r.person}\t{r.post}\t{r.start_date}\t{r.end_date or ''}")


@click.group()
def emergency() -> None:
    """突发事件登记 / the emergency register."""


@emergency.command("add")
@click.option("--kind", required=True, help="typhoon, power_cut, call_surge, network, other")
@click.option("--title", default="")
@click.option("--started", required=True, help="when it started (site time)")
@click.option("--responded", help="when the support arrangements were adjusted")
@click.option("--ended")
@click.option("--force-majeure", is_flag=True, help="不可抗力: listed, not counted")
@store_options
@exit_on_error
def emergency_add(kind, title, started, responded, ended, force_majeure, config_path, db_url):
    from noc.store.kpi_registers import KpiRegisters

    async def go(store, config):
        tz = ZoneInfo(config.site.timezone)
        return await KpiRegisters(store).add_emergency(
            kind,
            _instant(started, tz),
            title=title,
            responded_at=_instant(responded, tz),
            ended_at=_instant(ended, tz),
            force_majeure=force_majeure,
        )

    row = run_with_store(config_path, db_url, go)
    click.echo(f"emergency {row.id}: {kind}")


@emergency.command("list")
@store_options
@exit_on_error
def emergency_list(config_path, db_url) -> None:
    from noc.store.kpi_registers import KpiRegisters

    async def go(store, config):
        return await KpiRegisters(store).emergencies()

    rows = run_with_store(config_path, db_url, go)
    click.echo(
        as_json(
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "started_at": r.started_at,
                    "responded_at": r.responded_at,
                }
                for r in rows
            ]
        )
    )


@click.group()
def report() -> None:
    """报告 / reports: generate the monthly report, register a submission."""


@report.command("submit")
@click.option("--kind", default="monthly", show_default=True)
@click.option("--period", required=True, help="the period it reports (2026-10)")
@click.option("--at", "submitted", help="when it was submitted (default now)")
@click.option("--due", help="due time, for a report the config does not schedule")
@click.option("--corrected", is_flag=True, help="a correction of an earlier submission")
@store_options
@exit_on_error
def report_submit(kind, period, submitted, due, corrected, config_path, db_url) -> None:
    from noc.store.kpi_registers import KpiRegisters

    async def go(store, config):
        tz = ZoneInfo(config.site.timezone)
        at = _instant(submitted, tz) or dt.datetime.now(dt.UTC)
        return await KpiRegisters(store).add_submission(
            kind, period, at, due_at=_instant(due, tz), corrected=corrected
        )

    row = run_with_store(config_path, db_url, go)
    click.echo(f"submission {row.id}: {kind} {period}")


@report.command("monthly")
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
    from noc.reports.monthly import draw, monthly_document

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
    stem = "12345-hotline-monthly" if lang == "en" else "12345热线月报"
    path = Path(out or f"{stem}-{period.strip()}.{fmt}")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write: {exc.strerror or exc}") from None
    click.echo(f"{path}: {len(data):,} bytes ({fmt}, {period.strip()}, {lang})")
