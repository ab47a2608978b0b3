"""登记 the KPI registers: staff (who is on which post, from when to when), emergencies and report
submissions, as lists for every role and as forms for the role that may write them.

The forms post to this module's handlers, which act through :class:`noc.store.register_acts.
RegisterActs` (permission ``register.write``, a lead: the row and its audit row in one
transaction), with the validation the API and the CLI use (:func:`noc.register_view.parse`). The access
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

from kpi.compute import headcount
from noc.appkeys import CONFIG, REPORTS, STORE
from noc.core.errors import InputError
from noc.ingest.registers import EMERGENCY_KINDS, FIELDS
from noc.register_view import parse
from noc.store.kpi_facts import staff_spell
from noc.store.kpi_registers import KpiRegisters
from noc.store.register_acts import ACTIONS, PERMISSION, RegisterActs
from noc.web import auth
from noc.web.console.kpi import forget
from noc.web.console.pages import NAV, action, page, render, see_other


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].site.timezone)


async def registers_context(request: web.Request) -> dict[str, Any]:
    regs = KpiRegisters(request.app[STORE])
    config = request.app[CONFIG]
    today = dt.datetime.now(_tz(request)).date()
    staff = await regs.rows("staff")
    return {
        "staff": sorted(staff, key=lambda s: (s.post, s.start_date, s.person)),
        "headcount": headcount([staff_spell(s) for s in staff], today, None),
        "required": config.kpi.staffing.total,
        "posts": list(config.kpi.staffing.posts),
        "emergencies": list(reversed(await regs.rows("emergencies"))),
        "submissions": list(reversed(await regs.rows("submissions"))),
        "emergency_kinds": list(EMERGENCY_KINDS.labels),
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


async def _refused(
    request: web.Request, form: dict[str, str], name: str, exc: InputError
) -> web.Response:
    context = await registers_context(request)
    page_ = next(p for p in NAV if p.key == "registers")
    context.update(error=exc.message, form=form, form_name=name, page=page_)
    return render(request, "registers.html", context, 400)


def _acts(request: web.Request) -> RegisterActs:
    return RegisterActs(request.app[STORE], auth.policy_of(request.app))


def _fields(kind: str, form: dict[str, str]) -> dict[str, str]:
    """The form's non-empty values of the register's fields (a checkbox sends "1")."""
    return {k: v.strip() for k, v in form.items() if k in FIELDS[kind] and v.strip()}


async def write(
    request: web.Request,
    form: dict[str, str],
    kind: str,
    done: str,
    refused: Callable[[InputError], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """Read the form with the API's and the CLI's validation (a value that cannot be read is
    refused and recorded), then act through :class:`RegisterActs`; a success answers 303 to
    ``done``, a refusal is answered by ``refused(exc)`` (the form's page again with the reason,
    400). A body that is not a form gets the reason as the API would answer it. Every console
    form that enters a register (this page's, the 月报 page's submission) comes through here."""
    actor = auth.writer(request)
    acts = _acts(request)
    try:
        try:
            record = parse(kind, _fields(kind, form), _tz(request), dt.datetime.now(dt.UTC))
        except InputError as exc:
            await acts.refused(actor, ACTIONS[kind][0], kind, exc)
            raise
        await acts.record(actor, kind, record)
    except InputError as exc:
        if request.content_type not in auth.FORM_TYPES:
            raise
        return await refused(exc)
    forget(request.app)
    if REPORTS in request.app:
        request.app[REPORTS].forget()  # the monthly report shows the registers too
    see_other(done)


async def _write(
    request: web.Request, form: dict[str, str], kind: str, section: str
) -> web.StreamResponse:
    anchor = {"staff": "staff", "emergency": "emergencies", "submission": "submissions"}[section]
    return await write(
        request,
        form,
        kind,
        f"/registers?added={section}#{anchor}",
        lambda exc: _refused(request, form, section, exc),
    )


@action("/registers/staff", PERMISSION, ACTIONS["staff"][0])
async def add_staff(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    return await _write(request, form, "staff", "staff")


@action("/registers/emergencies", PERMISSION, ACTIONS["emergencies"][0])
async def add_emergency(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    return await _write(request, form, "emergencies", "emergency")


@action("/registers/submissions", PERMISSION, ACTIONS["submissions"][0])
async def add_submission(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    return await _write(request, form, "submissions", "submission")
