"""``GET /api/v1/audit?from=&to=&actor=&action=&format=json|csv``: the audit log, for the auditor.

``from``/``to`` are ISO 8601 in site time (a bare date as ``to`` means the end of that day),
``actor`` an account name, ``action`` one action (``incident.close``, ``login`` …). JSON gives
the rows oldest first with ``count``; CSV the same columns as ``noc audit export``, with each
row's hash, so a copy can be verified elsewhere. Reading the log is itself recorded
(``audit.export``): who looked at the record of whom is part of the record.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.core.errors import InputError
from noc.core.time import parse_instant
from noc.identity.audit import AuditEntry
from noc.store.audit_log import AuditLog, audit_csv, audit_json
from noc.web.auth import current_actor
from noc.web.routes import route

MAX_ROWS = 100_000


def _instant(value: str | None, tz: ZoneInfo, end: bool = False) -> dt.datetime | None:
    if value is None:
        return None
    at = parse_instant(value, tz)
    if end and len(value.strip()) == 10:  # a date: through the end of that day
        at += dt.timedelta(days=1)
    return at


async def audit_rows(request: web.Request) -> web.Response:
    query = request.query
    tz = ZoneInfo(request.app[CONFIG].site.timezone)
    fmt = query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise InputError("format must be json or csv")
    limit = query.get("limit", str(MAX_ROWS))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_ROWS:
        raise InputError(f"limit must be a number from 1 to {MAX_ROWS}")
    filters = {
        "since": _instant(query.get("from"), tz),
        "until": _instant(query.get("to"), tz, end=True),
        "actor": query.get("actor") or None,
        "action": query.get("action") or None,
    }
    log = AuditLog(request.app[STORE])
    rows = [audit_json(r) for r in await log.rows(**filters, limit=int(limit))]
    given = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in filters.items()}
    entry = AuditEntry.by(
        current_actor(request),
        "audit.export",
        "audit_log",
        after={"format": fmt, "rows": len(rows), **{k: v for k, v in given.items() if v}},
    )
    async with request.app[STORE].transaction() as tx:
        await log.append(tx, entry)
    if fmt == "csv":
        return web.Response(
            text=audit_csv(rows),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return web.json_response(
        {"rows": rows, "count": len(rows)},
        dumps=lambda v: json.dumps(v, ensure_ascii=False),
    )


ROUTES = [
    route(
        "GET",
        "/api/v1/audit",
        audit_rows,
        "audit.read",
        summary="The audit log (filters; json or csv), with its chain check",
        tag="audit",
    )
]
