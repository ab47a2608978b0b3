"""The validated records every way in produces, and the one validation path that makes them.

``validate_call``, ``validate_ticket``, ``validate_event`` and ``validate_kb`` take a mapping of
canonical field names (``docs/calls-tickets.md``) to raw values (JSON values, CSV strings or XLSX
cells) and return a record, or raise :class:`RecordInvalid` listing every wrong field with its
reason. The store takes lists of records (``noc.store.calls.CallRepo.ingest`` …); a data
generator may build records directly and skip validation.

A value of ``None`` in a record means *not stated*: a repeat of a record that leaves a field out
does not conflict with the stored value (see :func:`diff`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from noc.core.validation import did_you_mean
from noc.ingest import fields as f
from noc.ingest.privacy import Caller, CallerProtector

UTC = dt.UTC
DEFAULT_CALL_SOURCE = "default"


@dataclass(frozen=True)
class FieldError:
    """One wrong field: ``field`` is the canonical name ('' for the record as a whole)."""

    field: str
    reason: str
    value: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "reason": self.reason}


class RecordInvalid(ValueError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))


@dataclass(frozen=True)
class Context:
    """What validation needs from the site: its time zone, the caller keys, and now."""

    tz: ZoneInfo
    callers: CallerProtector
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC))


# -- the records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRecord:
    call_id: str
    outcome: str
    started_at: dt.datetime
    ended_at: dt.datetime
    source: str = DEFAULT_CALL_SOURCE
    queue: str | None = None
    caller: Caller | None = None
    entered_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    agent: str | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    end_reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.call_id)


@dataclass(frozen=True)
class EventRecord:
    """One change to a ticket (or a commendation, which may have no ticket)."""

    kind: str
    at: dt.datetime
    ticket_no: str | None
    event_id: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketRecord:
    ticket_no: str
    created_at: dt.datetime
    type: str
    content: str
    channel: str | None = None
    category: str | None = None
    town: str | None = None
    caller: Caller | None = None
    call_id: str | None = None
    agent: str | None = None
    instant_answer: bool | None = None
    kb_entry: str | None = None
    dispatched_to: str | None = None
    dispatched_at: dt.datetime | None = None
    deadline: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    callback_at: dt.datetime | None = None
    callback_method: str | None = None
    satisfaction: str | None = None
    source: str | None = None
    province_ref: str | None = None

    def events(self) -> list[EventRecord]:
        """The history this record states: created, and whatever else it already knows
        (a provincial export row carries dispatch, closing, callback and rating)."""
        no = self.ticket_no
        out = [
            _event(
                no,
                "created",
                self.created_at,
                {"deadline": _iso(self.deadline)} if self.deadline and not self.dispatched else {},
            )
        ]
        if self.dispatched:
            data = {"dispatched_to": self.dispatched_to, "deadline": _iso(self.deadline)}
            out.append(_event(no, "dispatched", self.dispatched_at or self.created_at, data))
        if self.closed_at:
            out.append(_event(no, "closed", self.closed_at, {}))
        if self.callback_at:
            out.append(_event(no, "callback", self.callback_at, {"method": self.callback_method}))
        if self.satisfaction:
            at = self.callback_at or self.closed_at or self.created_at
            out.append(_event(no, "rated", at, {"satisfaction": self.satisfaction}))
        return out

    @property
    def dispatched(self) -> bool:
        return bool(self.dispatched_to or self.dispatched_at)


@dataclass(frozen=True)
class KbRecord:
    entry_id: str
    title: str
    answer: str
    updated_at: dt.datetime
    question: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    department: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    version: int | None = None

    def content(self) -> dict[str, Any]:
        """The fields a version is made of (two records with equal content are one version)."""
        return {name: getattr(self, name) for name in KB_CONTENT}


KB_CONTENT = (
    "title",
    "question",
    "answer",
    "category",
    "tags",
    "department",
    "valid_from",
    "valid_to",
)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def event_id_for(ticket_no: str | None, kind: str, at: dt.datetime, extra: str = "") -> str:
    """The id of an event the sender did not name: the same event always gets the same id."""
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    head = ticket_no if ticket_no is not None else f"~{extra}"
    return f"{head}/{kind}/{stamp}"


def _event(no: str, kind: str, at: dt.datetime, data: dict[str, Any]) -> EventRecord:
    clean = {k: v for k, v in data.items() if v is not None}
    return EventRecord(
        kind=kind, at=at, ticket_no=no, event_id=event_id_for(no, kind, at), data=clean
    )


# -- field lists (canonical CSV column names) ----------------------------------------------------

CALL_FIELDS = (
    "call_id",
    "source",
    "queue",
    "caller",
    "started_at",
    "entered_at",
    "answered_at",
    "agent",
    "ended_at",
    "outcome",
    "wait_seconds",
    "talk_seconds",
)
TICKET_FIELDS = (
    "ticket_no",
    "created_at",
    "channel",
    "type",
    "category",
    "town",
    "content",
    "caller",
    "call_id",
    "agent",
    "instant_answer",
    "kb_entry",
    "dispatched_to",
    "dispatched_at",
    "deadline",
    "closed_at",
    "callback_at",
    "callback_method",
    "satisfaction",
    "source",
    "province_ref",
)
EVENT_FIELDS = (
    "event_id",
    "ticket_no",
    "kind",
    "at",
    "dispatched_to",
    "deadline",
    "method",
    "satisfaction",
    "result",
    "reason",
    "agent",
    "justified",
    "commendation_kind",
)
KB_FIELDS = (
    "entry_id",
    "title",
    "question",
    "answer",
    "category",
    "tags",
    "department",
    "valid_from",
    "valid_to",
    "version",
    "updated_at",
)
REQUIRED = {
    "calls": ("call_id", "outcome", "ended_at"),
    "tickets": ("ticket_no", "created_at", "type", "content"),
    "events": ("kind", "at"),
    "kb": ("entry_id", "title", "answer"),
}
FIELDS = {"calls": CALL_FIELDS, "tickets": TICKET_FIELDS, "events": EVENT_FIELDS, "kb": KB_FIELDS}

# which event fields each kind takes; (required, optional)
EVENT_DATA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dispatched": (("dispatched_to",), ("deadline",)),
    "closed": ((), ()),
    "callback": ((), ("method",)),
    "rated": (("satisfaction",), ()),
    "spot_checked": (("result",), ("reason",)),
    "complaint_ruled": (("agent", "justified"), ("reason",)),
    "commended": (("agent", "commendation_kind"), ()),
    "reopened": ((), ("reason",)),
}
_EVENT_VALUE_FIELDS = (
    "dispatched_to",
    "deadline",
    "method",
    "satisfaction",
    "result",
    "reason",
    "agent",
    "justified",
    "commendation_kind",
)


# -- validation -------------------------------------------------------------------------------


class FieldReader:
    """Reads fields of one raw record, collecting every error instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, Any], known: Iterable[str], check_unknown: bool):
        self.raw = raw
        self.errors: list[FieldError] = []
        if check_unknown:
            names = known if isinstance(known, tuple) else tuple(known)
            for key in raw:
                if key not in names:
                    hint = did_you_mean(str(key), list(names))
                    self.errors.append(FieldError(str(key), f"unknown field{hint}", raw[key]))

    def get(self, name: str, parse, *args: Any, required: bool = False) -> Any:
        value = self.raw.get(name)
        try:
            out = parse(value, *args)
        except f.Invalid as exc:
            self.fail(name, str(exc))
            return None
        if required and out in (None, "", []):
            self.fail(name, "is required")
        return out

    def fail(self, name: str, reason: str) -> None:
        if not any(e.field == name for e in self.errors):
            self.errors.append(FieldError(name, reason, self.raw.get(name)))

    def ok(self, *names: str) -> bool:
        return not self.errors or not any(e.field in names for e in self.errors)

    def done(self) -> None:
        if self.errors:
            raise RecordInvalid(self.errors)


def _caller(value: Any, ctx: Context) -> Caller | None:
    return ctx.callers.protect(value)


def _not_before(r: FieldReader, later: str, later_value, earlier: str, earlier_value) -> None:
    if later_value is not None and earlier_value is not None and later_value < earlier_value:
        r.fail(later, f"is before {earlier}")


def validate_call(
    raw: Mapping[str, Any], ctx: Context, *, check_unknown: bool = True
) -> CallRecord:
    r = FieldReader(raw, CALL_FIELDS, check_unknown)
    call_id = r.get("call_id", f.identifier, 100, required=True)
    source = r.get("source", f.identifier, 63) or DEFAULT_CALL_SOURCE
    queue = r.get("queue", f.text, 63)
    caller = r.get("caller", _caller, ctx)
    started = r.get("started_at", f.instant, ctx.tz)
    entered = r.get("entered_at", f.instant, ctx.tz)
    answered = r.get("answered_at", f.instant, ctx.tz)
    agent = r.get("agent", f.text, 63)
    ended = r.get("ended_at", f.instant, ctx.tz, required=True)
    outcome = r.get("outcome", f.CALL_OUTCOMES.parse, required=True)
    wait = r.get("wait_seconds", f.seconds)
    talk = r.get("talk_seconds", f.seconds)
    if outcome and r.ok("outcome", "entered_at", "answered_at", "started_at"):
        if outcome == "ivr_only":
            if entered is not None:
                r.fail("entered_at", "must be empty when outcome is ivr_only")
            if started is None:
                r.fail("started_at", "is required when outcome is ivr_only")
        elif entered is None:
            r.fail("entered_at", f"is required when outcome is {outcome}")
        if outcome in ("answered", "transferred"):
            if answered is None:
                r.fail("answered_at", f"is required when outcome is {outcome}")
        elif answered is not None:
            r.fail("answered_at", f"must be empty when outcome is {outcome}")
        if outcome not in ("answered", "transferred") and talk:
            r.fail("talk_seconds", f"must be empty or 0 when outcome is {outcome}")
    started = started or entered
    _not_before(r, "entered_at", entered, "started_at", started)
    _not_before(r, "answered_at", answered, "entered_at", entered)
    _not_before(r, "ended_at", ended, "answered_at", answered)
    _not_before(r, "ended_at", ended, "entered_at", entered)
    _not_before(r, "ended_at", ended, "started_at", started)
    r.done()
    if wait is None and entered is not None:
        wait = ((answered or ended) - entered).total_seconds()
    if talk is None and answered is not None:
        talk = (ended - answered).total_seconds()
    return CallRecord(
        call_id=call_id,
        source=source,
        queue=queue,
        caller=caller,
        started_at=started,
        entered_at=entered,
        answered_at=answered,
        agent=agent,
        ended_at=ended,
        outcome=outcome,
        wait_seconds=wait,
        talk_seconds=talk,
    )


def validate_ticket(
    raw: Mapping[str, Any], ctx: Context, *, check_unknown: bool = True
) -> TicketRecord:
    r = FieldReader(raw, TICKET_FIELDS, check_unknown)
    values = {
        "ticket_no": r.get("ticket_no", f.identifier, 64, required=True),
        "created_at": r.get("created_at", f.instant, ctx.tz, required=True),
        "channel": r.get("channel", f.CHANNELS.parse),
        "type": r.get("type", f.TICKET_TYPES.parse, required=True),
        "category": r.get("category", f.text, 100),
        "town": r.get("town", f.text, 32),
        "content": r.get("content", f.text, 4000, required=True),
        "caller": r.get("caller", _caller, ctx),
        "call_id": r.get("call_id", f.identifier, 100),
        "agent": r.get("agent", f.text, 63),
        "instant_answer": r.get("instant_answer", f.boolean),
        "kb_entry": r.get("kb_entry", f.identifier, 64),
        "dispatched_to": r.get("dispatched_to", f.text, 100),
        "dispatched_at": r.get("dispatched_at", f.instant, ctx.tz),
        "deadline": r.get("deadline", f.instant, ctx.tz),
        "closed_at": r.get("closed_at", f.instant, ctx.tz),
        "callback_at": r.get("callback_at", f.instant, ctx.tz),
        "callback_method": r.get("callback_method", f.CALLBACK_METHODS.parse),
        "satisfaction": r.get("satisfaction", f.SATISFACTION.parse),
        "source": r.get("source", f.TICKET_SOURCES.parse),
        "province_ref": r.get("province_ref", f.identifier, 64),
    }
    created = values["created_at"]
    for name in ("dispatched_at", "deadline", "closed_at", "callback_at"):
        _not_before(r, name, values[name], "created_at", created)
    if values["callback_method"] and not values["callback_at"] and r.ok("callback_at"):
        r.fail("callback_method", "is given without callback_at")
    r.done()
    return TicketRecord(**values)


def validate_event(
    raw: Mapping[str, Any], ctx: Context, *, check_unknown: bool = True
) -> EventRecord:
    r = FieldReader(raw, EVENT_FIELDS, check_unknown)
    event_id = r.get("event_id", f.identifier, 160)
    ticket_no = r.get("ticket_no", f.identifier, 64)
    kind = r.get("kind", f.EVENT_KINDS.parse, required=True)
    at = r.get("at", f.instant, ctx.tz, required=True)
    values = {
        "dispatched_to": r.get("dispatched_to", f.text, 100),
        "deadline": r.get("deadline", f.instant, ctx.tz),
        "method": r.get("method", f.CALLBACK_METHODS.parse),
        "satisfaction": r.get("satisfaction", f.SATISFACTION.parse),
        "result": r.get("result", f.SPOT_RESULTS.parse),
        "reason": r.get("reason", f.text, 1000),
        "agent": r.get("agent", f.text, 63),
        "justified": r.get("justified", f.boolean),
        "commendation_kind": r.get("commendation_kind", f.COMMENDATION_KINDS.parse),
    }
    if kind == "created":
        r.fail("kind", "created comes with the ticket itself (POST /api/v1/tickets)")
    elif kind:
        required, optional = EVENT_DATA[kind]
        for name in required:
            if values[name] is None and r.ok(name):
                r.fail(name, f"is required for a {kind} event")
        for name in _EVENT_VALUE_FIELDS:
            if values[name] is not None and name not in required + optional:
                r.fail(name, f"does not apply to a {kind} event")
        if ticket_no is None and kind != "commended" and r.ok("ticket_no"):
            r.fail("ticket_no", "is required")
    r.done()
    data = {k: v for k, v in values.items() if v is not None}
    if "deadline" in data:
        data["deadline"] = _iso(data["deadline"])
    return EventRecord(
        kind=kind,
        at=at,
        ticket_no=ticket_no,
        event_id=event_id or event_id_for(ticket_no, kind, at, str(data.get("agent", ""))),
        data=data,
    )


def validate_kb(raw: Mapping[str, Any], ctx: Context, *, check_unknown: bool = True) -> KbRecord:
    r = FieldReader(raw, KB_FIELDS, check_unknown)
    values = {
        "entry_id": r.get("entry_id", f.identifier, 64, required=True),
        "title": r.get("title", f.text, 200, required=True),
        "question": r.get("question", f.text, 2000),
        "answer": r.get("answer", f.text, 20000, required=True),
        "category": r.get("category", f.text, 100),
        "tags": r.get("tags", f.tags) or [],
        "department": r.get("department", f.text, 100),
        "valid_from": r.get("valid_from", f.date),
        "valid_to": r.get("valid_to", f.date),
        "version": r.get("version", f.positive_int),
        "updated_at": r.get("updated_at", f.instant, ctx.tz) or ctx.now,
    }
    _not_before(r, "valid_to", values["valid_to"], "valid_from", values["valid_from"])
    r.done()
    return KbRecord(**values)


VALIDATORS = {
    "calls": validate_call,
    "tickets": validate_ticket,
    "events": validate_event,
    "kb": validate_kb,
}


# -- conflicts -------------------------------------------------------------------------------


def diff(stored: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldError]:
    """Fields where ``new`` states a value different from ``stored`` (``None`` = not stated)."""
    out = []
    for name, value in new.items():
        if value is None:
            continue
        old = stored.get(name)
        if _comparable(old) != _comparable(value):
            out.append(
                FieldError(name, f"stored as {_show(old)}, this record says {_show(value)}", value)
            )
    return out


def _comparable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _show(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def call_comparable(record: CallRecord) -> dict[str, Any]:
    """The call's stored fields, as :func:`diff` compares them."""
    out = {x.name: getattr(record, x.name) for x in fields(record)}
    out.pop("details")
    caller = out.pop("caller")
    out["caller_hash"] = caller.hash if caller else None
    return out
