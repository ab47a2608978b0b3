"""``GET /api/v1/sla?period=2026-11&scope=service:voice-intake``: the SLA report as JSON.

``period`` is a month, day or ISO week (site time), or ``from``/``to`` give a custom span;
``scope`` is ``site``, ``service:NAME``, ``asset:NAME`` or ``all`` (default: site + services).
A period or scope that cannot be read is a 400 with the reason; an unknown name is a 404
(``PeriodError``/``ScopeError``/``UnknownScope``, answered by the error middleware).
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, RUNBOOKS, STORE
from noc.web.permissions import READ
from noc.web.routes import Param, Route
from sla.intervals import PeriodError, custom_window, parse_period
from sla.report import build, document, parse_scope


async def sla_report(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    tz = ZoneInfo(config.sla.timezone)
    query = request.query
    if "period" in query and ("from" in query or "to" in query):
        raise PeriodError("give period or from/to, not both")
    if "period" in query:
        window = parse_period(query["period"], tz)
    elif "from" in query and "to" in query:
        window = custom_window(query["from"], query["to"], tz)
    else:
        raise PeriodError("give period (e.g. 2026-11) or both from and to")
    scopes = parse_scope(config, query.get("scope"))
    now = dt.datetime.now(dt.UTC)
    reports = await build(request.app[STORE], config, request.app[RUNBOOKS], [window], scopes, now)
    return web.json_response(document(reports, config, now), dumps=_dumps)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


ROUTES = (
    Route(
        "GET",
        "/api/v1/sla",
        sla_report,
        READ,
        "The SLA report of a period and scope",
        query=(
            Param("period", "a month (2026-11), day (2026-11-30) or ISO week (2026-W48)"),
            Param("from", "custom span start (site time), with to"),
            Param("to", "custom span end (site time), with from"),
            Param("scope", "site, service:NAME, asset:NAME or all"),
        ),
        tag="sla",
    ),
)
