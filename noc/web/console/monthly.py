"""月报 the monthly report (12345热线月报): pick a month and a language, download it as DOCX, PDF
or HTML, and — for a lead — register it as submitted; the list of the report's submissions with
whether each went in on time.

- **Download** ``GET /reports/download?period=&format=&report_lang=&as_of=`` (permission
  ``read``): made on demand by the service's one report maker through the same functions as
  ``GET /api/v1/reports/monthly`` (:mod:`noc.web.reports_api`: off the event loop, one at a
  time, kept briefly, every download audited as ``report.download``). ``report_lang`` is the
  report's language, apart from the console's own ``lang``. A month that cannot be read shows
  this page again with the reason (400); while another report is being made, this page again
  saying so (503, ``Retry-After``).
- **登记报送** ``POST /reports/submissions`` (``register.write``, a lead): the 登记 page's form
  handler (:func:`noc.web.console.registers.write`: the API's validation, the audited
  :class:`~noc.store.register_acts.RegisterActs`, ``report.submit``); a refusal shows this page
  again with the reason.
- **Submissions**: the kinds the config schedules (``kpi.reports``, by default the monthly
  report due on day 5 of the next month, 18:00), newest first, with their due time and
  on time / late (:func:`noc.register_view.submission_statuses`, as the scorecard judges them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from kpi.breakdown import months_of
from kpi.compute import scheduled_due
from noc.appkeys import CONFIG, REPORTS, STORE
from noc.core.errors import InputError, UnavailableError
from noc.register_view import submission_statuses
from noc.reports.monthly import FORMATS, LANGS
from noc.reports.service import last_full_month
from noc.store.kpi_registers import KpiRegisters
from noc.store.register_acts import ACTIONS, PERMISSION
from noc.web import reports_api
from noc.web.console import registers
from noc.web.console.context import lang
from noc.web.console.pages import NAV, action, page, render, subpage
from noc.web.permissions import READ


def _page() -> Any:
    return next(p for p in NAV if p.key == "reports")


async def report_context(request: web.Request, form: dict[str, str] | None = None) -> dict:
    config = request.app[CONFIG]
    tz = ZoneInfo(config.site.timezone)
    now = dt.datetime.now(dt.UTC)
    q = request.query
    default = last_full_month(now, tz)
    period = (form or {}).get("period") or q.get("period", "").strip() or default
    report_lang = q.get("report_lang")
    rules = config.kpi.rules()
    kinds = [r.kind for r in rules.reports] or ["monthly"]
    rows = [
        r for r in await KpiRegisters(request.app[STORE]).rows("submissions") if r.kind in kinds
    ]
    due = scheduled_due(kinds[0], period, rules, tz)
    statuses = submission_statuses(rows, rules, tz)
    first = next((s for s in statuses if (s.row.kind, s.row.period) == (kinds[0], period)), None)
    return {
        "page": _page(),
        "period": period,
        "default_period": default,
        "report_lang": report_lang if report_lang in LANGS else lang(request),
        "report_langs": LANGS,
        "formats": FORMATS,
        "as_of": q.get("as_of", ""),
        "kinds": kinds,
        "due": due,
        "first": first,  # the chosen month's first submission: it decides on time or late
        "submissions": list(reversed(statuses)),
        "just_submitted": q.get("submitted") == "1",
        "making": request.app[REPORTS].running,
        "error": None,
        "busy": None,
        "form": form or {},
    }


@page("reports")
async def reports(request: web.Request) -> dict[str, Any] | web.StreamResponse:
    context = await report_context(request)
    try:
        months_of(context["period"], ZoneInfo(request.app[CONFIG].site.timezone))
    except InputError as exc:  # a month that cannot be read: said, not shown as "not submitted"
        context["error"] = exc.message
        return render(request, "report.html", context, 400)
    return context


@subpage("/reports/download", "report.html", READ)
async def download(request: web.Request) -> web.StreamResponse:
    q = request.query
    try:
        file = await reports_api.monthly_file(
            request.app,
            q.get("period", ""),
            q.get("format", "docx"),
            q.get("report_lang") or lang(request),
            q.get("as_of"),
        )
    except InputError as exc:
        context = await report_context(request)
        context["error"] = exc.message
        return render(request, "report.html", context, 400)
    except UnavailableError as exc:  # busy, or no Chinese font / no Pango on this host
        context = await report_context(request)
        context["busy"] = exc.reason
        response = render(request, "report.html", context, 503)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return await reports_api.file_response(request, file)


async def _refused(request: web.Request, form: dict[str, str], exc: InputError) -> web.Response:
    context = await report_context(request, form)
    context["error"] = exc.message
    return render(request, "report.html", context, 400)


@action("/reports/submissions", PERMISSION, ACTIONS["submissions"][0])
async def submit(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    period = form.get("period", "").strip()
    done = f"/reports?{urlencode({'period': period, 'submitted': '1'})}#submissions"
    return await registers.write(
        request, form, "submissions", done, lambda exc: _refused(request, form, exc)
    )
