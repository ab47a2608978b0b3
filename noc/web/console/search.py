"""工单 ticket search and 知识库 knowledge-base search: a query box, filters, ranked results with
the matches highlighted, pages.

The same store queries and the same ranking as ``GET /api/v1/tickets?q=`` and
``GET /api/v1/kb?q=`` (:mod:`noc.web.calls_api`); without a query the page lists by the filters,
newest first. A snippet's highlight is built by :meth:`noc.ingest.search.Snippet.html`, which
escapes every character of the record's own text (a ticket may say ``<script>``) and adds only
``<mark>`` around the matches. Callers are shown masked unless the role may see them
(``caller.read``, and only where the store keeps the number encrypted).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup

from noc import calls_view as view
from noc.appkeys import CONFIG, STORE
from noc.core.errors import InputError
from noc.ingest import fields as f
from noc.ingest.search import Query, parse_query, snippet
from noc.store.kb import KbRepo
from noc.store.tickets import TicketRepo
from noc.web.console.display import Shown
from noc.web.console.pages import NAV, page, render

PER_PAGE = 20
EXCERPT = 120  # characters of a record shown when there is no query to centre a snippet on


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


def _pager(query: dict[str, str], number: int, total: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / PER_PAGE))
    base = {k: v for k, v in query.items() if v}
    return {
        "page_number": number,
        "pages": pages,
        "prev_query": {**base, "page": number - 1} if number > 1 else None,
        "next_query": {**base, "page": number + 1} if number < pages else None,
    }


def _highlight(text: str | None, query: Query | None, width: int = 60) -> Markup | None:
    """The record's text around the first match, escaped, with ``<mark>`` on each match."""
    if query is None:
        return None
    found = snippet(text, query, width)
    return Markup(found.html()) if found is not None else None  # noqa: S704 - escaped by html()


def _excerpt(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT] + "…"


def _nav_page(key: str):  # noqa: ANN202 - a pages.Page
    return next(p for p in NAV if p.key == key)


# -- tickets ------------------------------------------------------------------------------

TICKET_FILTERS = ("q", "from", "to", "type", "town")


@page("tickets")
async def tickets(request: web.Request) -> dict[str, Any] | web.StreamResponse:
    tz = ZoneInfo(request.app[CONFIG].site.timezone)
    shown = {k: request.query.get(k, "").strip() for k in TICKET_FILTERS}
    common = {"form": shown, "types": list(f.TICKET_TYPES.labels.items())}
    number = _page_number(request)
    try:
        flt = view.ticket_filter({k: v for k, v in shown.items() if k != "q"}, tz)
        query = parse_query(shown["q"]) if shown["q"] else None
    except InputError as exc:
        context = {**common, "error": exc.message, "page": _nav_page("tickets"), "hits": None}
        return render(request, "tickets.html", context, 400)
    repo = TicketRepo(request.app[STORE], tz)
    offset = (number - 1) * PER_PAGE
    if query is not None:
        found, total = await repo.search(query, flt, PER_PAGE, offset)
    else:
        rows, total = await repo.list(flt, PER_PAGE, offset)
        found = [(row, None) for row in rows]
    s = Shown(request)
    hits = [
        {
            "no": row.ticket_no,
            "tier": tier,
            "created": s.time(row.created_at),
            "type": s.label(f.TICKET_TYPES, row.type),
            "channel": s.label(f.CHANNELS, row.channel),
            "town": row.town or "–",
            "category": row.category,
            "status": s.ticket_status(row.status),
            "agent": row.agent,
            "caller": s.caller(row.caller_masked, row.caller_enc),
            "snippet": _highlight(row.content, query)
            or _highlight(f"{row.ticket_no} {row.town or ''}", query),
            "excerpt": _excerpt(row.content),
        }
        for row, tier in found
    ]
    return {
        **common,
        "error": None,
        "hits": hits,
        "total": total,
        "searched": query is not None,
        **_pager(shown, number, total),
    }


# -- knowledge base -----------------------------------------------------------------------

KB_FILTERS = ("q", "category", "expired")


@page("kb")
async def kb(request: web.Request) -> dict[str, Any] | web.StreamResponse:
    tz = ZoneInfo(request.app[CONFIG].site.timezone)
    shown = {k: request.query.get(k, "").strip() for k in KB_FILTERS}
    number = _page_number(request)
    try:
        query = parse_query(shown["q"]) if shown["q"] else None
    except InputError as exc:
        context = {"form": shown, "error": exc.message, "page": _nav_page("kb"), "hits": None}
        return render(request, "kb.html", context, 400)
    repo = KbRepo(request.app[STORE])
    valid_on = None if shown["expired"] == "1" else dt.datetime.now(tz).date()
    scope = {"valid_on": valid_on, "category": shown["category"] or None}
    offset = (number - 1) * PER_PAGE
    if query is not None:
        found, total = await repo.search(query, **scope, limit=PER_PAGE, offset=offset)
    else:
        rows, total = await repo.list(**scope, limit=PER_PAGE, offset=offset)
        found = [(row, None) for row in rows]
    hits = [
        {
            "id": row.entry_id,
            "tier": tier,
            "title": row.title,
            "title_marked": _highlight(row.title, query, len(row.title)),
            "category": row.category,
            "department": row.department,
            "version": row.version,
            "valid_from": row.valid_from.isoformat() if row.valid_from else None,
            "valid_to": row.valid_to.isoformat() if row.valid_to else None,
            "updated": row.updated_at,
            "question": row.question,
            "answer": row.answer,
            "snippet": _highlight(row.answer, query) or _highlight(row.question, query),
            "excerpt": _excerpt(row.answer),
        }
        for row, tier in found
    ]
    return {
        "form": shown,
        "error": None,
        "hits": hits,
        "total": total,
        "searched": query is not None,
        **_pager(shown, number, total),
    }
