"""``/api/v1/maintenance``: list, plan and end maintenance windows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.maintenance import MaintenanceRequestError, check_assets, window_json, window_span
from noc.web.api import json_error
from noc.web.incidents_api import _body


async def list_windows(request: web.Request) -> web.Response:
    now = dt.datetime.now(dt.UTC)
    active = request.query.get("active", "false").lower() in ("1", "true")
    rows = await request.app[STORE].maintenance_windows(active_at=now if active else None)
    tz = ZoneInfo(request.app[CONFIG].site.timezone)
    return web.json_response(
        {"windows": [window_json(r, tz, now) for r in rows], "count": len(rows)}
    )


async def add_window(request: web.Request) -> web.Response:
    body = await _body(request, ("by", "reason"))
    config = request.app[CONFIG]
    try:
        assets = body.get("assets")
        if not isinstance(assets, list):
            raise MaintenanceRequestError("assets must be a list of asset names")
        names = check_assets(config, [str(a) for a in assets])
        starts, ends = window_span(
            config,
            body.get("starts_at"),
            body.get("ends_at"),
            body.get("duration"),
            dt.datetime.now(dt.UTC),
        )
    except MaintenanceRequestError as exc:
        return json_error(400, "bad_request", str(exc))
    row = await request.app[STORE].add_maintenance(
        site=config.site.name,
        assets=names,
        starts_at=starts,
        ends_at=ends,
        reason=str(body["reason"]),
        created_by=str(body["by"]),
    )
    return web.json_response(window_json(row, ZoneInfo(config.site.timezone)), status=201)


async def end_window(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    if not raw.isdigit():
        return json_error(400, "bad_request", f"window id must be a number, not {raw!r}")
    try:
        row = await request.app[STORE].end_maintenance(int(raw))
    except LookupError as exc:
        return json_error(404, "not_found", str(exc))
    except ValueError as exc:
        return json_error(409, "conflict", str(exc))
    return web.json_response(window_json(row, ZoneInfo(request.app[CONFIG].site.timezone)))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/maintenance", list_windows)
    app.router.add_post("/api/v1/maintenance", add_window)
    app.router.add_post("/api/v1/maintenance/{id}/end", end_window)
