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
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.core.errors import InputError
from noc.identity.actor import Actor
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


async def _write(
    request: web.Request,
    form: dict[str, str],
    section: str,
    audit: str,
    read: Callable[[], dict[str, Any]],
    act: Callable[[RegisterActs, Actor, dict[str, Any]], Awaitable[Any]],
) -> web.StreamResponse:
    """Read the form (a value that cannot be read is refused and recorded), then act; a success
    answers 303 to the list, a refusal re-renders the page with the reason (400). A body that is
    not a form gets the reason as the API would answer it."""
    actor = auth.writer(request)
    acts = _acts(request)
    try:
        try:
            values = read()
        except InputError as exc:
            await acts.refused(actor, audit, section, exc)
            raise
        await act(acts, actor, values)
    except InputError as exc:
        if request.content_type not in auth.FORM_TYPES:
            raise
        return await _refused(request, form, section, exc)
    forget(request.app)
    anchor = {"staff": "staff", "emergency": "emergencies", "submission": "submissions"}[section]
    see_other(f"/registers?added={section}#{anchor}")


@action("/registers/staff", WRITE, "register.staff.add")
async def add_staff(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    def read() -> dict[str, Any]:
        return {"start": _date(form, "start", required=True), "end": _date(form, "end")}

    async def act(acts: RegisterActs, actor: Actor, v: dict[str, Any]) -> None:
        person, post = form.get("person", ""), form.get("post", "")
        note = form.get("note", "").strip() or None
        await acts.add_staff(actor, person, post, v["start"], v["end"], note)

    return await _write(request, form, "staff", "register.staff.add", read, act)


@action("/registers/emergencies", WRITE, "register.emergency.add")
async def add_emergency(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    tz = _tz(request)

    def read() -> dict[str, Any]:
        return {
            "started": _instant(form, "started_at", tz, required=True),
            "responded": _instant(form, "responded_at", tz),
            "ended": _instant(form, "ended_at", tz),
        }

    async def act(acts: RegisterActs, actor: Actor, v: dict[str, Any]) -> None:
        await acts.add_emergency(
            actor,
            form.get("kind", ""),
            v["started"],
            title=form.get("title", "").strip(),
            responded_at=v["responded"],
            ended_at=v["ended"],
            force_majeure=form.get("force_majeure") == "1",
        )

    return await _write(request, form, "emergency", "register.emergency.add", read, act)


@action("/registers/submissions", WRITE, "register.submission.add")
async def add_submission(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    tz = _tz(request)

    def read() -> dict[str, Any]:
        return {
            "submitted": _instant(form, "submitted_at", tz) or dt.datetime.now(dt.UTC),
            "due": _instant(form, "due_at", tz),
        }

    async def act(acts: RegisterActs, actor: Actor, v: dict[str, Any]) -> None:
        await acts.add_submission(
            actor,
            form.get("kind", ""),
            form.get("period", ""),
            v["submitted"],
            due_at=v["due"],
            corrected=form.get("corrected") == "1",
            note=form.get("note", "").strip() or None,
        )

    return await _write(request, form, "submission", "register.submission.add", read, act)
