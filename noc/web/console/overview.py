"""总览 board and 大屏 wall: service tiles, every asset's checks, open incidents with countdowns.

Check states come from the running engine (what it decided a moment ago, the same states the
alerts are raised from); open incidents from the store (``ix_incidents_status``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from noc.appkeys import CONFIG, ENGINE, RUNBOOKS, STORE
from noc.store.console import active_incidents
from noc.store.tables import Incident
from noc.web.console.board import (
    CheckState,
    asset_lines,
    by_level,
    countdown,
    service_tiles,
)
from noc.web.console.context import lang
from noc.web.console.pages import page


def check_states(app: web.Application) -> list[CheckState]:
    """Every enabled check of the inventory with the engine's state (UNKNOWN before its first
    result, or when no engine runs in this process)."""
    config = app[CONFIG]
    engine = app.get(ENGINE)
    health = engine.health if engine is not None else {}
    reasons = engine.reasons if engine is not None else {}
    out = []
    for asset, check in config.iter_checks():
        key = (asset.name, check.check_name)
        h = health.get(key)
        out.append(
            CheckState(
                asset.name,
                check.check_name,
                check.type,
                str(h.state) if h is not None else "UNKNOWN",
                h.changed_at if h is not None else None,
                reasons.get(key, ""),
                bool(h.flapping) if h is not None else False,
            )
        )
    return out


def deadlines(app: web.Application, row: Incident, now: dt.datetime) -> dict[str, Any]:
    """Acknowledge and recover countdowns of an incident, from its runbook's deadlines."""
    try:
        runbook = app[RUNBOOKS].for_fault(row.fault_type)
    except (KeyError, AttributeError):
        return {"ack": None, "recover": None}
    deadline = runbook.deadline(row.peak_severity)
    ack_by = row.detected_at + dt.timedelta(seconds=deadline.acknowledge)
    recover_by = row.fault_started_at + dt.timedelta(seconds=deadline.recover)
    return {
        "ack": countdown(ack_by, now) if row.acknowledged_at is None else None,
        "recover": countdown(recover_by, now) if row.recovered_at is None else None,
    }


def incident_card(app: web.Application, row: Incident, now: dt.datetime) -> dict[str, Any]:
    impact = row.impact or {}
    return {
        "id": row.id,
        "type": row.fault_type,
        "root_asset": row.root_asset,
        "severity": row.severity,
        "status": row.status,
        "detected_at": row.detected_at,
        "acknowledged_by": row.acknowledged_by,
        "services": [s.get("service") for s in impact.get("services", [])],
        **deadlines(app, row, now),
    }


async def board_context(request: web.Request) -> dict[str, Any]:
    app = request.app
    config = app[CONFIG]
    language = lang(request)
    states = check_states(app)
    now = dt.datetime.now(dt.UTC)
    rows = await active_incidents(app[STORE])
    lines = asset_lines(config, states, language)
    return {
        "tiles": service_tiles(config, states, language),
        "assets": lines,
        "asset_counts": {
            status: sum(1 for a in lines if a.status == status)
            for status in ("red", "amber", "green", "grey")
        },
        "levels": by_level(incident_card(app, r, now) for r in rows),
        "open_count": len(rows),
        "live": "board",
    }


@page("board")
async def board(request: web.Request) -> dict[str, Any]:
    return await board_context(request)


@page("wall")
async def wall(request: web.Request) -> dict[str, Any]:
    return await board_context(request)
