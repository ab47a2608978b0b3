"""``/api/v1/staff``, ``/api/v1/report-submissions``, ``/api/v1/emergencies``: the KPI registers.

``GET`` (permission ``read``) lists a register; ``POST`` (``register.write``: a lead) enters one
record, a JSON object with the register's fields (docs/kpi.md, indicators 7–9). The record is
kept by its natural key: a new key answers 201, the same key with other values updates the row
(200, ``status: updated``, ``before`` the changed fields), the same record again changes
nothing (200, ``status: duplicate``). Every write is one audit row with the acting account;
a body with a wrong field is a 400 naming each one (and a refused audit row).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.ingest.registers import EMERGENCY_KINDS
from noc.register_view import parse, row_json
from noc.store.kpi_registers import KpiRegisters
from noc.store.register_acts import ACTIONS, PERMISSION, RegisterActs
from noc.web.auth import policy_of, writer
from noc.web.permissions import READ
from noc.web.requests import json_body
from noc.web.routes import Route

PATHS = {
    "staff": "/api/v1/staff",
    "submissions": "/api/v1/report-submissions",
    "emergencies": "/api/v1/emergencies",
}

_INSTANT = {"type": "string", "description": "ISO 8601; site time if no offset"}
BODIES: dict[str, dict[str, Any]] = {
    "staff": {
        "type": "object",
        "required": ["person", "post", "start"],
        "properties": {
            "person": {"type": "string"},
            "post": {"type": "string", "description": "接话, 派单岗, 工单回访岗 …"},
            "start": {"type": "string", "description": "first working day, 2026-11-01"},
            "end": {"type": "string", "description": "last working day, inclusive"},
            "note": {"type": "string"},
        },
    },
    "submissions": {
        "type": "object",
        "required": ["period"],
        "properties": {
            "kind": {"type": "string", "description": "monthly (default), data …"},
            "period": {"type": "string", "description": "the period it reports: 2026-10"},
            "submitted_at": {**_INSTANT, "description": "when it went in (default: now)"},
            "due_at": {**_INSTANT, "description": "for a report the config does not schedule"},
            "corrected": {"type": "boolean", "description": "corrects an earlier submission"},
            "note": {"type": "string"},
        },
    },
    "emergencies": {
        "type": "object",
        "required": ["kind", "started_at"],
        "properties": {
            "kind": {"type": "string", "enum": list(EMERGENCY_KINDS.labels)},
            "title": {"type": "string"},
            "started_at": _INSTANT,
            "responded_at": {**_INSTANT, "description": "support arrangements adjusted"},
            "ended_at": _INSTANT,
            "force_majeure": {"type": "boolean", "description": "不可抗力: listed, not counted"},
        },
    },
}
SUMMARIES = {
    "staff": ("the staff register (people, posts, first and last day)", "enter a staff spell"),
    "submissions": ("report submissions", "register a report submission"),
    "emergencies": ("the emergency register", "register an emergency"),
}


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].site.timezone)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def _lister(kind: str):
    async def handler(request: web.Request) -> web.Response:
        rows = await KpiRegisters(request.app[STORE]).rows(kind)
        tz = _tz(request)
        return _json({kind: [row_json(kind, r, tz) for r in rows], "count": len(rows)})

    handler.__name__ = f"list_{kind}"
    return handler


def _creator(kind: str):
    async def handler(request: web.Request) -> web.Response:
        body = await json_body(request)
        record = parse(kind, body, _tz(request), dt.datetime.now(dt.UTC))
        acts = RegisterActs(request.app[STORE], policy_of(request.app))
        done = await acts.record(writer(request), kind, record)
        out = {"status": done.status, **row_json(kind, done.row, _tz(request))}
        if done.before is not None:
            out["before"] = {
                k: v.isoformat() if isinstance(v, dt.date) else v for k, v in done.before.items()
            }
        return _json(out, 201 if done.status == "created" else 200)

    handler.__name__ = f"add_{kind}"
    return handler


ROUTES: list[Route] = []
for _kind, _path in PATHS.items():
    ROUTES += [
        Route("GET", _path, _lister(_kind), READ, SUMMARIES[_kind][0], tag="registers"),
        Route(
            "POST",
            _path,
            _creator(_kind),
            PERMISSION,
            SUMMARIES[_kind][1],
            body=BODIES[_kind],
            tag="registers",
            action=ACTIONS[_kind][0],
        ),
    ]
