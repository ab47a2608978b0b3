"""``GET /api/v1/kpi`` and ``GET /api/v1/scorecard`` (permission ``read``): the same data as
``noc kpi report --format json`` (period or from/to, as_of, scope)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.kpi_view import as_of_of, kpi_data, window_of
from noc.web.permissions import READ
from noc.web.routes import Route


async def _data(request: web.Request) -> dict:
    config = request.app[CONFIG]
    tz = ZoneInfo(config.site.timezone)
    q = request.query
    window = window_of(q.get("period"), q.get("from"), q.get("to"), tz)
    return await kpi_data(
        request.app[STORE], config, window, as_of_of(q.get("as_of"), tz), q.get("scope")
    )


async def get_kpi(request: web.Request) -> web.Response:
    return web.json_response(await _data(request), dumps=_dumps)


async def get_scorecard(request: web.Request) -> web.Response:
    data = await _data(request)
    keep = ("period", "scope", "as_of", "scorecard")
    return web.json_response({k: data[k] for k in keep}, dumps=_dumps)


def _dumps(obj) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, default=str)


ROUTES = [
    Route("GET", "/api/v1/kpi", get_kpi, READ, "operational KPIs with drill-down", tag="kpi"),
    Route("GET", "/api/v1/scorecard", get_scorecard, READ, "the 100 + 5 scorecard", tag="kpi"),
]
