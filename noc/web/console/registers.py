"""登记 the KPI registers: staff (who is on which post, from when to when), emergencies and report
submissions, as lists for every role and as forms for the role that may write them.

The forms post to this module's handlers, which act through :class:`noc.store.register_acts.
RegisterActs` (permission ``ingest``, the row and its audit row in one transaction). The access
middleware refuses a post without the permission or the session's CSRF token before a handler
runs (403, audited); a value that cannot be read re-renders the page with the reason (400) and
leaves a ``refused`` audit row. Times are typed in site time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.core.errors import InputError
from noc.store.kpi_registers import EMERGENCY_KINDS, KpiRegisters
from noc.store.register_acts import WRITE, RegisterActs
from noc.web import auth
from noc.web.console.kpi import forget
from noc.web.console.pages import NAV, action, page, render, see_other
from sla.intervals import PeriodError, parse_instant


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].site.timezone)


async def registers_context(request: web.Request) -> dict[str, Any]:
    regs = KpiRegisters(request.app[STORE])
    config = request.app[CONFIG]
    today = dt.datetime.now(_tz(request)).date()
    staff = await regs.staff()
    current = [
        s for s in staff if s.start_date <= today and (s.end_date is None or today <= s.end_date)
    ]
    return {
        "staff": sorted(staff, key=lambda s: (s.post, s.start_date, s.person)),
        "headcount": len({s.person for s in current}),
        "required": config.kpi.staffing.total,
        "posts": list(config.kpi.staffing.posts),
        "emergencies": list(reversed(await regs.emergencies())),
        "submissions": list(reversed(await regs.submissions())),
        "emergency_kinds": EMERGENCY_KINDS,
        "report_kinds": [r.kind for r in config.kpi.reports],
        "today": today,
        "added": request.query.get("added"),
        "error": None,
        "form": {},
        "form_name": None,
    }


@page("registers")
async def registers(request: web.Request) -> dict[str, Any]:
    return await registers_context(request)


def _date(form: dict[str, str], name: str, required: bool = False) -> dt.date | None:
    text = form.get(name, "").strip()
    if not text:
        if required:
            raise InputError(f"{name}: required (a date, e.g. 2026-11-01)")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: cannot read date {text!r}; use 2026-11-01") from None


def _instant(form: dict[str, str], name: str, tz: ZoneInfo, required: bool = False):  # noqa: ANN202
    """A ``datetime-local`` field (or any ISO form) in site time → UTC."""
    text = form.get(name, "").strip()
    if not text:
        if required:
            raise InputError(f"{name}: required (site time, e.g. 2026-11-10 08:00)")
        return None
    try:
        return parse_instant(text, tz)
    except PeriodError as exc:
        raise InputError(f"{name}: {exc.message}") from None


async def _refused(
    request: web.Request, form: dict[str, str], name: str, exc: InputError
) -> web.Response:
    context = await registers_context(request)
    page_ = next(p for p in NAV if p.key == "registers")
    context.update(error=exc.message, form=form, form_name=name, page=page_)
    return render(request, "registers.html", context, 400)


def _acts(request: web.Request) -> RegisterActs:
    return RegisterActs(request.app[STORE], auth.policy_of(request.app).permissions)


@action("/registers/staff", WRITE)
async def add_staff(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    actor = auth.writer(request)
    acts = _acts(request)
    try:
        try:
            start = _date(form, "start", required=True)
            end = _date(form, "end")
        except InputError as exc:
            await acts.refused(actor, "register.staff.add", "staff", exc)
            raise
        await acts.add_staff(
            actor,
            form.get("person", ""),
            form.get("post", ""),
            start,
            end,
            form.get("note", "").strip() or None,
        )
    except InputError as exc:
        return await _refused(request, form, "staff", exc)
    forget(request.app)
    see_other("/registers?added=staff#staff")


@action("/registers/emergencies", WRITE)
async def add_emergency(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    actor = auth.writer(request)
    acts = _acts(request)
    tz = _tz(request)
    try:
        try:
            started = _instant(form, "started_at", tz, required=True)
            responded = _instant(form, "responded_at", tz)
            ended = _instant(form, "ended_at", tz)
        except InputError as exc:
            await acts.refused(actor, "register.emergency.add", "emergency", exc)
            raise
        await acts.add_emergency(
            actor,
            form.get("kind", ""),
            started,
            title=form.get("title", "").strip(),
            responded_at=responded,
            ended_at=ended,
            force_majeure=form.get("force_majeure") == "1",
        )
    except InputError as exc:
        return await _refused(request, form, "emergency", exc)
    forget(request.app)
    see_other("/registers?added=emergency#emergencies")


@action("/registers/submissions", WRITE)
async def add_submission(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    actor = auth.writer(request)
    acts = _acts(request)
    tz = _tz(request)
    try:
        try:
            submitted = _instant(form, "submitted_at", tz) or dt.datetime.now(dt.UTC)
            due = _instant(form, "due_at", tz)
        except InputError as exc:
            await acts.refused(actor, "register.submission.add", "submission", exc)
            raise
        await acts.add_submission(
            actor,
            form.get("kind", ""),
            form.get("period", ""),
            submitted,
            due_at=due,
            corrected=form.get("corrected") == "1",
            note=form.get("note", "").strip() or None,
        )
    except InputError as exc:
        return await _refused(request, form, "submission", exc)
    forget(request.app)
    see_other("/registers?added=submission#submissions")
