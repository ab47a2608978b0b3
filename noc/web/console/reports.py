"""SLA: a period and scope picker, the report's figures, its breaches linked to their incidents,
and the same report as CSV or JSON (what ``noc sla report`` and ``/api/v1/sla`` give)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, RUNBOOKS, STORE
from noc.core.logs import get_logger
from noc.web.console.context import lang
from noc.web.console.pages import page, subpage
from sla.intervals import PeriodError, current_month, parse_period
from sla.render import render_csv
from sla.report import ScopeError, UnknownScope, build, document, parse_scope


def _choices(request: web.Request) -> list[tuple[str, str]]:
    config = request.app[CONFIG]
    language = lang(request)
    out = [("", "site + services"), ("site", config.site.title.get(language))]
    out += [(f"service:{s.name}", s.title.get(language)) for s in config.services]
    out += [(f"asset:{a.name}", a.display_name(language)) for a in config.assets if a.checks]
    out.append(("all", "all"))
    return out


log = get_logger("noc.console")
FRESH_SECONDS = 60.0  # as old as the SLA gauges on /metrics may be
KEEP_SECONDS = 900.0  # older than this a report is recomputed before it is shown
SLA_CACHE = web.AppKey("console_sla_cache", dict)  # (period, scope) -> (at, window, reports)
REFRESHING = web.AppKey("console_sla_refreshing", set)


async def _compute(app: web.Application, period: str, scope: str):  # noqa: ANN202
    config = app[CONFIG]
    tz = ZoneInfo(config.sla.timezone)
    now = dt.datetime.now(dt.UTC)
    window = parse_period(period, tz) if period else current_month(now, tz)
    scopes = parse_scope(config, scope or None)
    reports = await build(app[STORE], config, app[RUNBOOKS], [window], scopes, now)
    app[SLA_CACHE][(period, scope)] = (now, window, reports)
    return now, window, reports


async def _reports(request: web.Request):  # noqa: ANN202 - (window, scope, reports, computed at)
    """The report of the asked period and scope. A month of a year's history takes half a second
    to compute, so a report is kept: younger than a minute it is shown as is, younger than a
    quarter of an hour it is shown and recomputed behind the page, older it is recomputed."""
    app = request.app
    period = request.query.get("period", "").strip()
    scope = request.query.get("scope", "").strip()
    cached = app[SLA_CACHE].get((period, scope))
    age = (dt.datetime.now(dt.UTC) - cached[0]).total_seconds() if cached else None
    if age is None or age > KEEP_SECONDS:
        computed, window, reports = await _compute(app, period, scope)
    else:
        computed, window, reports = cached
        if age > FRESH_SECONDS and (period, scope) not in app[REFRESHING]:
            app[REFRESHING].add((period, scope))
            task = asyncio.create_task(_quietly(_compute(app, period, scope)))
            task.add_done_callback(lambda _t: app[REFRESHING].discard((period, scope)))
    return window, scope, reports, computed


async def _quietly(work) -> None:  # noqa: ANN001 - a coroutine
    """Behind a page: a failure is logged (the page computes again when asked)."""
    try:
        await work
    except Exception:
        log.exception("console_sla_refresh_failed")


async def sla_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """The default view (this month, site and services) is computed once at start."""
    app[SLA_CACHE], app[REFRESHING] = {}, set()
    warm = asyncio.create_task(_quietly(_compute(app, "", "")), name="console sla warm-up")
    try:
        yield
    finally:
        warm.cancel()
        await asyncio.gather(warm, return_exceptions=True)


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
