"""``GET /api/v1/audit``: the audit log, for the auditor; ``GET /api/v1/audit/verify``: its chain.

Filters (the same on the console's 审计 page): ``from``/``to`` ISO 8601 in site time (a bare
date as ``to`` means the end of that day), ``actor`` an account name, ``action`` one action
(``incident.close``, ``login`` …), ``target`` any part of the target, ``outcome`` ``ok`` or
``refused``. JSON gives the rows oldest first with ``count``; CSV the same columns as ``noc
audit export`` and a ``masked`` column. Phone numbers and secrets are masked
(:mod:`noc.audit_view`); a masked row says so, since it no longer hashes to its ``hash``.
Reading the log is itself recorded (``audit.export``): who looked at the record of whom is part
of the record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.audit_view import masked_rows
from noc.core.errors import InputError
from noc.core.secrets import secret_values
from noc.core.time import parse_instant
from noc.identity.audit import AuditEntry, ChainReport
from noc.store.audit_log import AUDIT_COLUMNS, AuditLog, audit_csv, audit_json
from noc.web.auth import current_actor
from noc.web.routes import Param, route

MAX_ROWS = 100_000
OUTCOMES = ("ok", "refused")
FILTERS = ("from", "to", "actor", "action", "target", "outcome")
"""The query parameters that select rows (the page keeps them in its links)."""


def _instant(value: str | None, tz: ZoneInfo, name: str, end: bool = False) -> dt.datetime | None:
    if not value:
        return None
    try:
        at = parse_instant(value, tz)
    except InputError as exc:
        raise InputError(f"{name}: {exc.message}") from None
    if end and len(value.strip()) == 10:  # a date: through the end of that day
        at += dt.timedelta(days=1)
    return at


def audit_filters(query: Mapping[str, str], tz: ZoneInfo) -> dict[str, Any]:
    """The keyword arguments of :meth:`AuditLog.rows` from a query; InputError names the bad
    parameter."""
    outcome = query.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    return {
        "since": _instant(query.get("from"), tz, "from"),
        "until": _instant(query.get("to"), tz, "to", end=True),
        "actor": (query.get("actor") or "").strip() or None,
        "action": (query.get("action") or "").strip() or None,
        "target": (query.get("target") or "").strip() or None,
        "outcome": outcome,
    }


def secrets_of(app: web.Application) -> frozenset[str]:
    """The running config's secret values (masked wherever the audit log is shown)."""
    return frozenset(secret_values(app[CONFIG]))


async def export(
    request: web.Request, filters: dict[str, Any], fmt: str, limit: int = MAX_ROWS
) -> web.Response:
    """The selected rows, masked, as JSON or CSV; the export is recorded first (``audit.export``,
    with the filters and the row count), in the log it exports."""
    if fmt not in ("json", "csv"):
        raise InputError("format must be json or csv")
    log = AuditLog(request.app[STORE])
    rows = masked_rows(
        (audit_json(r) for r in await log.rows(**filters, limit=limit)), secrets_of(request.app)
    )
    given = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in filters.items()}
    entry = AuditEntry.by(
        current_actor(request),
        "audit.export",
        "audit_log",
        after={"format": fmt, "rows": len(rows), **{k: v for k, v in given.items() if v}},
    )
    async with request.app[STORE].transaction() as tx:
        await log.append(tx, entry)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        return web.Response(
            text=audit_csv(rows, (*AUDIT_COLUMNS, "masked")),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
        )
    return web.json_response(
        {"rows": rows, "count": len(rows)},
        dumps=lambda v: json.dumps(v, ensure_ascii=False),
    )


async def audit_rows(request: web.Request) -> web.Response:
    query = request.query
    tz = ZoneInfo(request.app[CONFIG].site.timezone)
    limit = query.get("limit", str(MAX_ROWS))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_ROWS:
        raise InputError(f"limit must be a number from 1 to {MAX_ROWS}")
    filters = audit_filters(query, tz)
    return await export(request, filters, query.get("format", "json"), int(limit))


def chain_json(report: ChainReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "checked": report.checked,
        "first_id": report.first_id,
        "last_id": report.last_id,
        "broken_at": report.broken.row_id if report.broken else None,
        "reason": str(report.broken.reason) if report.broken else None,
        "code": report.broken.reason.code if report.broken else None,
    }


async def verify_chain(request: web.Request) -> web.Response:
    report = await AuditLog(request.app[STORE]).verify()
    return web.json_response(chain_json(report), dumps=lambda v: json.dumps(v, ensure_ascii=False))


_FILTER_PARAMS = (
    Param("from", "start, ISO 8601 in site time (2026-11-01 or 2026-11-01T08:00)"),
    Param("to", "end, exclusive; a date means the end of that day"),
    Param("actor", "only this account's acts"),
    Param("action", "only this action (user.role, token.create, incident.ack …)"),
    Param("target", "rows whose target contains this text"),
    Param("outcome", "ok or refused", {"type": "string", "enum": list(OUTCOMES)}),
)

ROUTES = [
    route(
        "GET",
        "/api/v1/audit",
        audit_rows,
        "audit.read",
        summary="The audit log (filters; json or csv; numbers and secrets masked); audited",
        query=(
            *_FILTER_PARAMS,
            Param("format", "json or csv", {"type": "string", "enum": ["json", "csv"]}),
            Param("limit", f"at most this many rows (1–{MAX_ROWS})", {"type": "integer"}),
        ),
        tag="audit",
    ),
    route(
        "GET",
        "/api/v1/audit/verify",
        verify_chain,
        "audit.read",
        summary="Check the audit log's hash chain: the first broken link, if any",
        tag="audit",
    ),
]
