"""Calls, tickets and knowledge-base entries as the API and the CLI show them, and the query
parameters both accept.

Shown to people: every instant in UTC and in site time (``*_local``), the caller only masked
(``138****8000``; the hash and the encrypted number never leave the store), search hits with
their tier and a snippet with the matches marked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from noc.core.errors import InputError
from noc.ingest import fields as f
from noc.ingest.search import Query, snippet
from noc.store.calls import CallFilter
from noc.store.tables_calls import (
    AgentComplaintRow,
    CallRow,
    CommendationRow,
    KbEntryRow,
    KbVersionRow,
    SpotCheckRow,
    TicketEventRow,
    TicketRow,
)
from noc.store.tickets import TicketDetail, TicketFilter

MAX_LIMIT = 500
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _times(out: dict[str, Any], name: str, value: dt.datetime | None, tz: ZoneInfo) -> None:
    out[name] = value.isoformat() if value else None
    out[f"{name}_local"] = value.astimezone(tz).isoformat(timespec="seconds") if value else None


def call_json(row: CallRow, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "call_id": row.call_id,
        "source": row.source,
        "queue": row.queue,
        "caller": row.caller_masked,
    }
    for name in ("started_at", "entered_at", "answered_at", "ended_at"):
        _times(out, name, getattr(row, name), tz)
    out.update(
        agent=row.agent,
        outcome=row.outcome,
        wait_seconds=row.wait_seconds,
        talk_seconds=row.talk_seconds,
        end_reason=row.end_reason,
        details=row.details or {},
    )
    return out


def ticket_json(row: TicketRow, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"ticket_no": row.ticket_no}
    _times(out, "created_at", row.created_at, tz)
    out.update(
        channel=row.channel,
        type=row.type,
        type_label=f.TICKET_TYPES.label(row.type),
        category=row.category,
        town=row.town,
        content=row.content,
        caller=row.caller_masked,
        call_id=row.call_id,
        agent=row.agent,
        instant_answer=row.instant_answer,
        kb_entry=row.kb_entry,
        source=row.source,
        province_ref=row.province_ref,
        status=row.status,
        dispatched_to=row.dispatched_to,
    )
    for name in ("dispatched_at", "deadline", "closed_at", "callback_at"):
        _times(out, name, getattr(row, name), tz)
    out.update(
        callback_method=row.callback_method,
        satisfaction=row.satisfaction,
        satisfaction_label=f.SATISFACTION.label(row.satisfaction),
    )
    return out


def event_json(row: TicketEventRow, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"event_id": row.event_id, "kind": row.kind}
    _times(out, "at", row.at, tz)
    _times(out, "recorded_at", row.recorded_at, tz)
    out["data"] = row.data or {}
    return out


def detail_json(detail: TicketDetail, tz: ZoneInfo) -> dict[str, Any]:
    out = ticket_json(detail.ticket, tz)
    out["events"] = [event_json(e, tz) for e in detail.events]
    out["spot_checks"] = [_spot(x, tz) for x in detail.spot_checks]
    out["complaints"] = [_complaint(x, tz) for x in detail.complaints]
    out["commendations"] = [_commendation(x) for x in detail.commendations]
    return out


def _spot(row: SpotCheckRow, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"result": row.result, "reason": row.reason}
    _times(out, "checked_at", row.checked_at, tz)
    return out


def _complaint(row: AgentComplaintRow, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"agent": row.agent, "justified": row.justified, "reason": row.reason}
    _times(out, "ruled_at", row.ruled_at, tz)
    return out


def _commendation(row: CommendationRow) -> dict[str, Any]:
    return {"agent": row.agent, "date": row.date.isoformat(), "kind": row.kind}


def kb_json(row: KbEntryRow | KbVersionRow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(row, KbEntryRow):
        out["entry_id"] = row.entry_id
    out.update(
        version=row.version,
        title=row.title,
        question=row.question,
        answer=row.answer,
        category=row.category,
        tags=row.tags or [],
        department=row.department,
        valid_from=row.valid_from.isoformat() if row.valid_from else None,
        valid_to=row.valid_to.isoformat() if row.valid_to else None,
        updated_at=row.updated_at.isoformat(),
    )
    return out


def _snippet_json(text: str | None, query: Query) -> dict[str, Any] | None:
    found = snippet(text, query)
    if found is None:
        return None
    return {"text": found.text, "html": found.html(), "highlights": [list(s) for s in found.spans]}


def ticket_hit_json(row: TicketRow, tier: int, query: Query, tz: ZoneInfo) -> dict[str, Any]:
    out = ticket_json(row, tz)
    out["tier"] = tier
    out["snippet"] = _snippet_json(row.content, query) or _snippet_json(
        f"{row.ticket_no} {row.town or ''}", query
    )
    return out


def kb_hit_json(row: KbEntryRow, tier: int, query: Query) -> dict[str, Any]:
    out = kb_json(row)
    out["tier"] = tier
    out["snippet"] = (
        _snippet_json(row.answer, query)
        or _snippet_json(row.question, query)
        or _snippet_json(row.title, query)
    )
    return out


# -- parameters ------------------------------------------------------------------------------


def bound(value: str | None, tz: ZoneInfo, *, end: bool, name: str) -> dt.datetime | None:
    """``--from``/``--to``: a date (site calendar; ``to`` includes that whole day) or an instant
    (``to`` excludes it)."""
    if not value:
        return None
    if _DATE_ONLY.match(value.strip()):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"{name}: {value!r} is not a date") from None
        if end:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
    try:
        return f.instant(value, tz)
    except f.Invalid as exc:
        raise InputError(f"{name}: {exc}") from None


def paging(params: Mapping[str, Any], default_limit: int = 50) -> tuple[int, int]:
    def number(name: str, default: int, low: int, high: int) -> int:
        raw = params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be a whole number, not {raw!r}") from None
        if not low <= value <= high:
            raise InputError(f"{name} must be between {low} and {high}")
        return value

    return number("limit", default_limit, 1, MAX_LIMIT), number("offset", 0, 0, 10_000_000)


def _vocab(vocab: f.Vocabulary, value: str | None, name: str) -> str | None:
    try:
        return vocab.parse(value)
    except f.Invalid as exc:
        raise InputError(f"{name}: {exc}") from None


def ticket_filter(params: Mapping[str, Any], tz: ZoneInfo) -> TicketFilter:
    start = bound(params.get("from"), tz, end=False, name="from")
    end = bound(params.get("to"), tz, end=True, name="to")
    if start and end and end <= start:
        raise InputError("to must be after from")
    status = params.get("status") or None
    if status is not None and status not in ("new", "dispatched", "closed", "reopened"):
        raise InputError(f"status: {status!r} is not one of new, dispatched, closed, reopened")
    return TicketFilter(
        start=start,
        end=end,
        type=_vocab(f.TICKET_TYPES, params.get("type"), "type"),
        town=params.get("town") or None,
        agent=params.get("agent") or None,
        status=status,
        channel=_vocab(f.CHANNELS, params.get("channel"), "channel"),
        source=_vocab(f.TICKET_SOURCES, params.get("source"), "source"),
    )


def call_filter(params: Mapping[str, Any], tz: ZoneInfo) -> CallFilter:
    start = bound(params.get("from"), tz, end=False, name="from")
    end = bound(params.get("to"), tz, end=True, name="to")
    if start and end and end <= start:
        raise InputError("to must be after from")
    return CallFilter(
        start=start,
        end=end,
        agent=params.get("agent") or None,
        queue=params.get("queue") or None,
        outcome=_vocab(f.CALL_OUTCOMES, params.get("outcome"), "outcome"),
        source=params.get("source") or None,
    )
