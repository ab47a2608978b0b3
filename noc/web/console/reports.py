"""SLA: a period and scope picker, the report's figures, its breaches linked to their incidents,
and the same report as CSV or JSON (what ``noc sla report`` and ``/api/v1/sla`` give)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, RUNBOOKS, STORE
from noc.web.console.context import lang
from noc.web.console.pages import page, subpage
from sla.intervals import PeriodError, current_month, parse_period
from sla.report import ScopeError, UnknownScope, build, document, parse_scope, render_csv


def _choices(request: web.Request) -> list[tuple[str, str]]:
    config = request.app[CONFIG]
    language = lang(request)
    out = [("", "site + services"), ("site", config.site.title.get(language))]
    out += [(f"service:{s.name}", s.title.get(language)) for s in config.services]
    out += [(f"asset:{a.name}", a.display_name(language)) for a in config.assets if a.checks]
    out.append(("all", "all"))
    return out


async def _reports(request: web.Request):  # noqa: ANN202 - (window label, scope, reports)
    config = request.app[CONFIG]
    tz = ZoneInfo(config.sla.timezone)
    now = dt.datetime.now(dt.UTC)
    period = request.query.get("period", "").strip()
    window = parse_period(period, tz) if period else current_month(now, tz)
    scope = request.query.get("scope", "").strip()
    scopes = parse_scope(config, scope or None)
    reports = await build(request.app[STORE], config, request.app[RUNBOOKS], [window], scopes, now)
    return window, scope, reports, now


@page("sla")
async def sla(request: web.Request) -> dict[str, Any]:
    config = request.app[CONFIG]
    try:
        window, scope, reports, now = await _reports(request)
    except (PeriodError, ScopeError, UnknownScope) as exc:
        return {
            "error": str(exc.args[0] if isinstance(exc, UnknownScope) else exc),
            "choices": _choices(request),
            "period": request.query.get("period", ""),
            "scope": request.query.get("scope", ""),
            "doc": None,
        }
    doc = document(reports, config, now)
    titles = dict(_choices(request))
    titles[f"site:{config.site.name}"] = titles["site"]
    for row in doc["rows"]:
        row["title"] = titles.get(row["scope"], row["scope"])
    return {
        "doc": doc,
        "choices": _choices(request),
        "period": window.label,
        "scope": scope,
        "window": window,
        "objective": config.sla.availability_objective,
    }


@subpage("/sla/download", "sla.html")
async def sla_download(request: web.Request) -> web.StreamResponse:
    try:
        window, _scope, reports, now = await _reports(request)
    except (PeriodError, ScopeError, UnknownScope) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    name = f"sla-{request.app[CONFIG].site.name}-{window.label.replace('/', '_')}"
    if request.query.get("format") == "json":
        body = json.dumps(document(reports, request.app[CONFIG], now), ensure_ascii=False, indent=1)
        kind, ext = "application/json", "json"
    else:
        body, kind, ext = render_csv(reports), "text/csv", "csv"
    return web.Response(
        text=body,
        content_type=kind,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'},
    )
