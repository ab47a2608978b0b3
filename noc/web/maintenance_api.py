"""``/api/v1/maintenance``: list, plan and end maintenance windows.

A bad request is a 400, an unknown window a 404, ending one already over a 409 (the error
middleware answers from the class of what was raised)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.maintenance import MaintenanceRequestError, check_assets, window_json, window_span
from noc.web.permissions import READ
from noc.web.requests import json_body, path_id
from noc.web.routes import Param, Route, add_routes


async def list_windows(request: web.Request) -> web.Response:
    now = dt.datetime.now(dt.UTC)
    active = request.query.get("active", "false").lower() in ("1", "true")
    rows = await request.app[STORE].maintenance_windows(active_at=now if active else None)
    tz = ZoneInfo(request.app[CONFIG].site.timezone)
    return web.json_response(
        {"windows": [window_json(r, tz, now) for r in rows], "count": len(rows)}
    )


async def add_window(request: web.Request) -> web.Response:
    body = await json_body(request, ("by", "reason"))
    config = request.app[CONFIG]
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
    row = await request.app[STORE].end_maintenance(path_id(request, "window"))
    return web.json_response(window_json(row, ZoneInfo(request.app[CONFIG].site.timezone)))


ROUTES = (
    Route(
        "GET",
        "/api/v1/maintenance",
        list_windows,
        READ,
        "List maintenance windows",
        query=(Param("active", "true for the windows in force now"),),
        tag="maintenance",
    ),
    Route(
        "POST",
        "/api/v1/maintenance",
        add_window,
        "maintenance.write",
        "Plan a maintenance window (mutes the assets' alerts)",
        body={
            "type": "object",
            "required": ["by", "reason", "assets"],
            "properties": {
                "by": {"type": "string"},
                "reason": {"type": "string"},
                "assets": {"type": "array", "items": {"type": "string"}},
                "starts_at": {"type": "string", "description": "ISO 8601; site time if no offset"},
                "ends_at": {"type": "string"},
                "duration": {"type": "string", "description": "e.g. 2h (instead of ends_at)"},
            },
        },
        tag="maintenance",
    ),
    Route(
        "POST",
        "/api/v1/maintenance/{id}/end",
        end_window,
        "maintenance.write",
        "End a maintenance window now",
        tag="maintenance",
    ),
)


def setup_routes(app: web.Application) -> None:
    add_routes(app, ROUTES)
