"""``/api/v1/calls``, ``/tickets``, ``/ticket-events``, ``/kb``: ingest, list, search.

Ingest (``POST``, permission ``ingest``): one JSON object or an array of up to 5,000. Each item
is validated and stored by its external id (``call_id`` per ``source``, ``ticket_no``,
``event_id``, ``entry_id``) and answered in ``results`` with its index, status and, when it
failed, every wrong field with the reason. A repeat is acknowledged (``duplicate``), never
stored twice; a repeat that differs is a ``conflict`` (409 for that item). Everything answered
as stored was committed before the response. One object: the HTTP status is the item's (201
created, 200 updated/duplicate, 400 invalid, 409 conflict). An array: 200 when every item was
stored or acknowledged, else 207 (look at ``results``).

Reads (``GET``, permission ``read``): lists by period, type, town, agent (indexed, paged with
``limit``/``offset``) and substring search with ``q`` (ranked, snippets marked). Callers appear
masked only.

``ROUTES`` declares each route's permission; the access-control layer reads it from there.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from noc import calls_view as view
from noc.appkeys import CONFIG, INGEST, STORE
from noc.calls_intake import MAX_ITEMS, context
from noc.core.errors import InputError, NotFoundError
from noc.identity.audit import AuditEntry
from noc.ingest.search import parse_query
from noc.store.bulk import ItemResult
from noc.store.calls import CallRepo
from noc.store.kb import KbRepo
from noc.store.tickets import TicketRepo
from noc.web.auth import credentials, current_actor, refused_write, route_action, writer
from noc.web.permissions import READ
from noc.web.routes import Route

MAX_BODY = 32 * 1024 * 1024  # 5,000 tickets of 4,000 characters fit


class BodyTooLarge(InputError):
    status = 413
    code = "payload_too_large"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


async def _body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY // (1024 * 1024)} MiB")
    parts, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge(f"the body is larger than {MAX_BODY // (1024 * 1024)} MiB")
        parts.append(chunk)
    try:
        return json.loads(b"".join(parts).decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"the body is not JSON: {exc}") from None


def _counts(results: list[ItemResult]) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "duplicate": 0, "conflict": 0, "invalid": 0}
    for r in results:
        counts[r.status] += 1
    return {
        "created": counts["created"],
        "updated": counts["updated"],
        "duplicates": counts["duplicate"],
        "conflicts": counts["conflict"],
        "invalid": counts["invalid"],
    }


def _ingest_handler(kind: str):
    async def handler(request: web.Request) -> web.Response:
        body = await _body(request)
        single = isinstance(body, dict)
        if not single and not isinstance(body, list):
            raise InputError("the body must be a JSON object or an array of objects")
        items = [body] if single else body
        if not items:
            raise InputError("the array is empty")
        if len(items) > MAX_ITEMS:
            raise InputError(f"at most {MAX_ITEMS} items per request, got {len(items)}")
        ctx = context(request.app[CONFIG])
        actor = current_actor(request)
        action = route_action(request)

        def audit(results: list[ItemResult]) -> AuditEntry | None:
            """The request's audit row, committed with its records (none if nothing was
            stored or acknowledged: then it is recorded as refused below)."""
            if not any(r.ok for r in results):
                return None
            return AuditEntry.by(actor, action, request.path, after=_counts(results))

        token = credentials(request).token
        results = await request.app[INGEST].ingest_items(
            kind, items, ctx, audit, token.token.id if token is not None else None
        )
        payload: dict[str, Any] = {
            **_counts(results),
            "results": [r.as_json() for r in results],
        }
        if single:
            status = results[0].code
        else:
            status = 200 if all(r.ok for r in results) else 207
        text = _dumps(payload)
        if any(r.ok for r in results):
            writer(request)  # audited in the transaction of its records
        else:
            await refused_write(request, text)
        return web.Response(text=text, status=status, content_type="application/json")

    handler.__name__ = f"post_{kind}"
    return handler


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].site.timezone)


async def list_calls(request: web.Request) -> web.Response:
    tz = _tz(request)
    flt = view.call_filter(request.query, tz)
    limit, offset = view.paging(request.query)
    rows, total = await CallRepo(request.app[STORE]).list(flt, limit, offset)
    return _json(
        {
            "total": total,
            "count": len(rows),
            "limit": limit,
            "offset": offset,
            "calls": [view.call_json(r, tz) for r in rows],
        }
    )


async def list_tickets(request: web.Request) -> web.Response:
    """Tickets by period/type/town/agent/status, or a search with ``q``."""
    tz = _tz(request)
    flt = view.ticket_filter(request.query, tz)
    repo = TicketRepo(request.app[STORE], tz)
    q = request.query.get("q")
    if q is not None:
        query = parse_query(q)
        limit, offset = view.paging(request.query, default_limit=20)
        hits, total = await repo.search(query, flt, limit, offset)
        return _json(
            {
                "query": query.text,
                "terms": list(query.terms),
                "total": total,
                "count": len(hits),
                "limit": limit,
                "offset": offset,
                "tickets": [view.ticket_hit_json(row, t, query, tz) for row, t in hits],
            }
        )
    limit, offset = view.paging(request.query)
    rows, total = await repo.list(flt, limit, offset)
    return _json(
        {
            "total": total,
            "count": len(rows),
            "limit": limit,
            "offset": offset,
            "tickets": [view.ticket_json(r, tz) for r in rows],
        }
    )


async def get_ticket(request: web.Request) -> web.Response:
    tz = _tz(request)
    number = request.match_info["ticket_no"]
    detail = await TicketRepo(request.app[STORE], tz).get(number)
    if detail is None:
        raise NotFoundError(f"no ticket {number!r}")
    return _json(view.detail_json(detail, tz))


async def list_kb(request: web.Request) -> web.Response:
    """Knowledge-base entries; ``q`` searches title, question and answer."""
    repo = KbRepo(request.app[STORE])
    limit, offset = view.paging(request.query, default_limit=20)
    include_expired = request.query.get("include_expired", "false").lower() in ("1", "true")
    today = dt.datetime.now(_tz(request)).date()
    q = request.query.get("q")
    if q is None:
        rows, total = await repo.list(
            valid_on=None if include_expired else today,
            category=request.query.get("category") or None,
            limit=limit,
            offset=offset,
        )
        return _json(
            {
                "total": total,
                "count": len(rows),
                "limit": limit,
                "offset": offset,
                "entries": [view.kb_json(r) for r in rows],
            }
        )
    query = parse_query(q)
    hits, total = await repo.search(
        query,
        valid_on=None if include_expired else today,
        category=request.query.get("category") or None,
        limit=limit,
        offset=offset,
    )
    return _json(
        {
            "query": query.text,
            "terms": list(query.terms),
            "total": total,
            "count": len(hits),
            "limit": limit,
            "offset": offset,
            "entries": [view.kb_hit_json(row, t, query) for row, t in hits],
        }
    )


async def get_kb(request: web.Request) -> web.Response:
    entry_id = request.match_info["entry_id"]
    found = await KbRepo(request.app[STORE]).get(entry_id)
    if found is None:
        raise NotFoundError(f"no knowledge-base entry {entry_id!r}")
    entry, versions = found
    out = view.kb_json(entry)
    out["versions"] = [view.kb_json(v) for v in versions]
    return _json(out)


ROUTES: list[Route] = [
    Route(
        "POST",
        "/api/v1/calls",
        _ingest_handler("calls"),
        "ingest",
        "calls in, one or up to 5,000",
        tag="calls",
        action="calls.ingest",
    ),
    Route(
        "POST",
        "/api/v1/tickets",
        _ingest_handler("tickets"),
        "ingest",
        "tickets in",
        tag="tickets",
        action="tickets.ingest",
    ),
    Route(
        "POST",
        "/api/v1/ticket-events",
        _ingest_handler("events"),
        "ingest",
        "ticket events in",
        tag="tickets",
        action="ticket_events.ingest",
    ),
    Route(
        "POST",
        "/api/v1/kb",
        _ingest_handler("kb"),
        "ingest",
        "knowledge-base entries in",
        tag="kb",
        action="kb.ingest",
    ),
    Route("GET", "/api/v1/calls", list_calls, READ, "calls, by period and queue", tag="calls"),
    Route(
        "GET",
        "/api/v1/tickets",
        list_tickets,
        READ,
        "tickets: search (q) and filters",
        tag="tickets",
    ),
    Route(
        "GET",
        "/api/v1/tickets/{ticket_no}",
        get_ticket,
        READ,
        "one ticket with its events",
        tag="tickets",
    ),
    Route("GET", "/api/v1/kb", list_kb, READ, "knowledge base: search (q)", tag="kb"),
    Route(
        "GET",
        "/api/v1/kb/{entry_id}",
        get_kb,
        READ,
        "one knowledge-base entry with its versions",
        tag="kb",
    ),
]
