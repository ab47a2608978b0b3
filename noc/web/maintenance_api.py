"""``/api/v1/maintenance``: list, plan, end and approve maintenance windows.

A lead plans and ends windows (``maintenance.write``); a window mutes alerts from the moment it
is created, but reduces SLA downtime only once a second person approves it
(``POST /api/v1/maintenance/{id}/approve``, ``maintenance.approve``: another lead, or the
auditor when ``security.maintenance_approvers`` says so). Each act is audited with the acting
account (a ``by`` in the body naming someone else is refused). A bad request is a 400, an
unknown window a 404, ending one already over or approving one twice a 409, approving one's
own window a 403 (the error middleware answers from the class of what was raised)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.maintenance import MaintenanceRequestError, check_assets, window_json, window_span
from noc.store.operator_acts import OperatorActs
from noc.web.auth import policy_of, writer
from noc.web.permissions import READ
from noc.web.requests import json_body, path_id
from noc.web.routes import Param, Route


def _acts(request: web.Request) -> OperatorActs:
    app = request.app
    return OperatorActs(app[STORE], app[CONFIG].site.name, policy_of(app))


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].site.timezone)


async def list_windows(request: web.Request) -> web.Response:
    now = dt.datetime.now(dt.UTC)
    active = request.query.get("active", "false").lower() in ("1", "true")
    rows = await request.app[STORE].maintenance_windows(active_at=now if active else None)
    return web.json_response(
        {"windows": [window_json(r, _tz(request), now) for r in rows], "count": len(rows)}
    )


async def add_window(request: web.Request) -> web.Response:
    body = await json_body(request, ("reason",))
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
    row = await _acts(request).add_maintenance(
        writer(request),
        names,
        starts,
        ends,
        str(body["reason"]),
        None if body.get("by") is None else str(body["by"]),
    )
    return web.json_response(window_json(row, _tz(request)), status=201)


async def end_window(request: web.Request) -> web.Response:
    window_id = path_id(request, "window")
    row = await _acts(request).end_maintenance(writer(request), window_id)
    return web.json_response(window_json(row, _tz(request)))


async def approve_window(request: web.Request) -> web.Response:
    window_id = path_id(request, "window")
    row = await _acts(request).approve_maintenance(writer(request), window_id)
    return web.json_response(window_json(row, _tz(request)))


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
            "required": ["reason", "assets"],
            "properties": {
                "by": {"type": "string", "description": "optional: the acting account's name"},
                "reason": {"type": "string"},
                "assets": {"type": "array", "items": {"type": "string"}},
                "starts_at": {"type": "string", "description": "ISO 8601; site time if no offset"},
                "ends_at": {"type": "string"},
                "duration": {"type": "string", "description": "e.g. 2h (instead of ends_at)"},
            },
        },
        tag="maintenance",
        action="maintenance.add",
    ),
    Route(
        "POST",
        "/api/v1/maintenance/{id}/end",
        end_window,
        "maintenance.write",
        "End a maintenance window now",
        tag="maintenance",
        action="maintenance.end",
    ),
    Route(
        "POST",
        "/api/v1/maintenance/{id}/approve",
        approve_window,
        "maintenance.approve",
        "Approve a window (a second person): only approved windows excuse SLA downtime",
        tag="maintenance",
        action="maintenance.approve",
    ),
)
