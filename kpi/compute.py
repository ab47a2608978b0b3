"""The eleven figures for one window × scope × as-of instant (docs/kpi.md, indicator by indicator).

Each figure keeps the ids of the records behind it, so every number can be opened. A rate whose
denominator is zero is ``no_data`` — never read as met; scoring decides what it earns.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from kpi.model import (
    INDICATORS,
    Call,
    DueReport,
    Facts,
    ReportSchedule,
    Rules,
    StaffSpell,
    Ticket,
)
from sla.intervals import Window

ANSWERED = frozenset({"answered", "transferred"})
SCOPE_KINDS = ("site", "agent", "town", "channel")


@dataclass(frozen=True)
class Scope:
    kind: str = "site"
    value: str | None = None

    @property
    def label(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value}"


@dataclass
class Figure:
    """One indicator's figure: a rate (numerator/denominator) and/or a count of items."""

    id: str
    status: str = "ok"  # ok | no_data | n/a
    numerator: int | None = None
    denominator: int | None = None
    count: int | None = None
    records: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def value(self) -> float | None:
        if not self.denominator:
            return None
        return self.numerator / self.denominator


@dataclass(frozen=True)
class Context:
    window: Window
    as_of: dt.datetime
    scope: Scope
    rules: Rules
    tz: ZoneInfo

    def within(self, at: dt.datetime | None) -> bool:
        """In the window and already happened at as-of."""
        return at is not None and self.window.start <= at < self.window.end and at <= self.as_of

    def days(self) -> list[dt.date]:
        """The window's local days that have begun by as-of."""
        first = self.window.start.astimezone(self.tz).date()
        last_instant = min(self.window.end - dt.timedelta(microseconds=1), self.as_of)
        if last_instant < self.window.start:
            return []
        last = last_instant.astimezone(self.tz).date()
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _rate(fid: str, ok: list[str], all_: list[str], **records: list[str]) -> Figure:
    fig = Figure(fid, numerator=len(ok), denominator=len(all_))
    fig.records = {"numerator": ok, "denominator": all_, **records}
    if not all_:
        fig.status = "no_data"
    return fig


def _na(fid: str, why: str) -> Figure:
    return Figure(fid, status="n/a", notes=[why])


def _ticket_in_scope(ticket: Ticket | None, scope: Scope) -> bool:
    if scope.kind == "site":
        return True
    if ticket is None:
        return False
    return getattr(ticket, scope.kind) == scope.value


def events_until(ticket: Ticket, as_of: dt.datetime):
    return sorted((e for e in ticket.events if e.at <= as_of), key=lambda e: e.at)


# -- 1 answer rate --------------------------------------------------------------------------


def offered_calls(calls: Iterable[Call], ctx: Context) -> tuple[list[Call], list[Call]]:
    """(counted, excused): calls offered to an agent in the window, minus short abandons."""
    grace = ctx.rules.abandon_grace_seconds
    counted, excused = [], []
    for c in calls:
        if c.outcome == "ivr_only" or not ctx.within(c.entered_at):
            continue
        short = c.outcome == "abandoned" and c.wait_seconds is not None and c.wait_seconds < grace
        (excused if short else counted).append(c)
    return counted, excused


def answer_rate(facts: Facts, ctx: Context) -> Figure:
    if ctx.scope.kind in ("agent", "town") or (
        ctx.scope.kind == "channel" and ctx.scope.value != "phone"
    ):
        return _na("answer_rate", "calls carry no town, and an unanswered call no agent")
    counted, excused = offered_calls(facts.calls, ctx)
    ok = [c.id for c in counted if c.outcome in ANSWERED]
    return _rate("answer_rate", ok, [c.id for c in counted], excluded=[c.id for c in excused])


# -- 2 spot checks --------------------------------------------------------------------------


def spot_check(facts: Facts, ctx: Context) -> Figure:
    tickets = {t.no: t for t in facts.tickets}
    checks = [
        s
        for s in facts.spot_checks
        if ctx.within(s.checked_at) and _ticket_in_scope(tickets.get(s.ticket), ctx.scope)
    ]
    ok = [s.id for s in checks if s.result == "pass"]
    return _rate("spot_check", ok, [s.id for s in checks])


# -- 3 instant answers ----------------------------------------------------------------------


def instant_answer(facts: Facts, ctx: Context) -> Figure:
    enquiries = [
        t
        for t in facts.tickets
        if t.type == "enquiry"
        and ctx.within(t.created_at)
        and _ticket_in_scope(t, ctx.scope)
        and (t.kb_entry or not ctx.rules.instant_answer_kb_only)
    ]
    ok = [t.no for t in enquiries if t.instant_answer]
    return _rate("instant_answer", ok, [t.no for t in enquiries])


# -- 4 callbacks ----------------------------------------------------------------------------


def last_closing(ticket: Ticket, as_of: dt.datetime) -> tuple[dt.datetime | None, list]:
    """The last closing at or before as-of (a reopening clears it) and the events after it."""
    closed: dt.datetime | None = None
    after: list = []
    for e in events_until(ticket, as_of):
        if e.kind == "closed":
            closed, after = e.at, []
        elif e.kind == "reopened":
            closed, after = None, []
        elif closed is not None:
            after.append(e)
    return closed, after


def callback_on_time(facts: Facts, ctx: Context) -> Figure:
    within = ctx.rules.callback_within
    ok, counted, pending, late = [], [], [], []
    for t in facts.tickets:
        if not _ticket_in_scope(t, ctx.scope):
            continue
        closed, after = last_closing(t, ctx.as_of)
        if not ctx.within(closed):
            continue
        calls = [e.at for e in after if e.kind == "callback"]
        if calls and calls[0] - closed <= within:
            ok.append(t.no)
            counted.append(t.no)
        elif not calls and closed + within > ctx.as_of:
            pending.append(t.no)
        else:
            late.append(t.no)
            counted.append(t.no)
    return _rate("callback_on_time", ok, counted, pending=pending, failed=late)


# -- 5 satisfaction -------------------------------------------------------------------------


def satisfaction(facts: Facts, ctx: Context) -> Figure:
    good = {"satisfied"} | ({"basically_satisfied"} if ctx.rules.basic_satisfied_counts else set())
    ok, rated, unrated = [], [], []
    for t in facts.tickets:
        if not _ticket_in_scope(t, ctx.scope):
            continue
        ratings = [e for e in events_until(t, ctx.as_of) if e.kind == "rated"]
        if not ratings or not ctx.within(ratings[-1].at):
            continue
        value = ratings[-1].data.get("satisfaction")
        if value == "unrated" or value is None:
            unrated.append(t.no)
            continue
        rated.append(t.no)
        if value in good:
            ok.append(t.no)
    return _rate("satisfaction", ok, rated, excluded=unrated)


# -- 6 complaints ---------------------------------------------------------------------------


def complaints(facts: Facts, ctx: Context) -> Figure:
    tickets = {t.no: t for t in facts.tickets}
    latest: dict[tuple[str, str], object] = {}
    for c in sorted(facts.complaints, key=lambda c: c.ruled_at):
        if c.ruled_at <= ctx.as_of:
            latest[(c.ticket, c.agent)] = c
    items, cleared = [], []
    for c in latest.values():
        if not ctx.within(c.ruled_at):
            continue
        if ctx.scope.kind == "agent":
            if c.agent != ctx.scope.value:
                continue
        elif not _ticket_in_scope(tickets.get(c.ticket), ctx.scope):
            continue
        (items if c.justified else cleared).append(c.id)
    return Figure(
        "complaints", count=len(items), records={"items": items, "not_justified": cleared}
    )


# -- 7 staffing -----------------------------------------------------------------------------


def add_month(day: dt.date) -> dt.date:
    """The same day a calendar month later (31 January → 28/29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def headcount(spells: list[StaffSpell], day: dt.date, post: str | None) -> int:
    return len(
        {
            s.person
            for s in spells
            if (post is None or s.post == post)
            and s.start <= day
            and (s.end is None or day <= s.end)
        }
    )


def staffing(facts: Facts, ctx: Context) -> Figure:
    if ctx.scope.kind != "site":
        return _na("staffing", "staffing is a site requirement")
    days = ctx.days()
    if not days:
        return Figure("staffing", status="no_data", count=0)
    spells = list(facts.staff)
    first = min([s.start for s in spells] + [days[0]])
    requirements: list[tuple[str, str | None, int]] = [("total", None, ctx.rules.staff_total)]
    requirements += [(post, post, n) for post, n in ctx.rules.staff_posts.items()]
    period_days = set(days)
    overdue_days: set[dt.date] = set()
    items: list[str] = []
    for name, post, need in requirements:
        run_start: dt.date | None = None
        day = first
        while day <= days[-1] + dt.timedelta(days=1):
            short = day <= days[-1] and headcount(spells, day, post) < need
            if short and run_start is None:
                run_start = day
            if short and day >= add_month(run_start) and day in period_days:
                overdue_days.add(day)
                item = f"{name}@{run_start.isoformat()}"
                if item not in items:
                    items.append(item)
            if not short:
                run_start = None
            day += dt.timedelta(days=1)
    ok = [d.isoformat() for d in days if d not in overdue_days]
    fig = Figure(
        "staffing",
        numerator=len(ok),
        denominator=len(days),
        count=len(items),
        records={"items": items, "overdue_days": sorted(d.isoformat() for d in overdue_days)},
    )
    last = days[-1]
    fig.notes.append(f"headcount {headcount(spells, last, None)} on {last.isoformat()}")
    return fig


# -- 8 reports ------------------------------------------------------------------------------


def _scheduled_due(sched: ReportSchedule, month: dt.date, tz: ZoneInfo) -> dt.datetime:
    """When ``sched``'s report of the month of ``month`` is due: day N of the next month."""
    nxt = add_month(month.replace(day=1))
    day = min(sched.due_day, calendar.monthrange(nxt.year, nxt.month)[1])
    due = dt.datetime.combine(nxt.replace(day=day), sched.due_time, tzinfo=tz)
    return due.astimezone(dt.UTC)


def scheduled_due(kind: str, period: str, rules: Rules, tz: ZoneInfo) -> dt.datetime | None:
    """When the report ``kind`` of ``period`` (``2026-10``) is due by ``kpi.reports``; None for
    a kind the config does not schedule or a period that is not a calendar month (such a
    report is due when its submission says, ``due_at``)."""
    try:
        year, month = (int(p) for p in period.split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        return None
    if len(period) != 7:
        return None
    for sched in rules.reports:
        if sched.kind == kind:
            return _scheduled_due(sched, first, tz)
    return None


def due_reports(facts: Facts, ctx: Context) -> list[DueReport]:
    """Scheduled reports (the previous month's, due on day N) and registered explicit dues."""
    out: dict[tuple[str, str], DueReport] = {}
    local_start = ctx.window.start.astimezone(ctx.tz).date().replace(day=1)
    month = (local_start - dt.timedelta(days=1)).replace(day=1)  # the month before
    while True:
        nxt = add_month(month)
        for sched in ctx.rules.reports:
            due = _scheduled_due(sched, month, ctx.tz)
            if ctx.window.start <= due < ctx.window.end:
                label = f"{month.year:04d}-{month.month:02d}"
                out[(sched.kind, label)] = DueReport(sched.kind, label, due)
        if dt.datetime.combine(nxt, dt.time(), tzinfo=ctx.tz) >= ctx.window.end:
            break
        month = nxt
    for s in facts.submissions:
        if s.due_at is not None and ctx.window.start <= s.due_at < ctx.window.end:
            out.setdefault((s.kind, s.period), DueReport(s.kind, s.period, s.due_at))
    return sorted(out.values(), key=lambda d: d.due_at)


def reports(facts: Facts, ctx: Context) -> Figure:
    if ctx.scope.kind != "site":
        return _na("reports", "reports are the site's")
    ok, counted, pending, items = [], [], [], []
    for due in due_reports(facts, ctx):
        key = f"{due.kind}:{due.period}"
        subs = sorted(
            (
                s
                for s in facts.submissions
                if s.kind == due.kind and s.period == due.period and s.submitted_at <= ctx.as_of
            ),
            key=lambda s: s.submitted_at,
        )
        if not subs:
            if due.due_at <= ctx.as_of:
                counted.append(key)
                items.append(f"{key} missing")
            else:
                pending.append(key)
            continue
        counted.append(key)
        if subs[0].submitted_at > due.due_at:
            items.append(f"{key} late")
        elif any(s.corrected for s in subs):
            items.append(f"{key} corrected")
        else:
            ok.append(key)
    fig = _rate("reports", ok, counted, pending=pending, items=items)
    fig.count = len(items)
    return fig


# -- 9 emergencies, 10 platform faults ------------------------------------------------------


def emergencies(facts: Facts, ctx: Context) -> Figure:
    if ctx.scope.kind != "site":
        return _na("emergencies", "emergencies are the site's")
    limit = ctx.rules.emergency_response
    listed = [(e.id, e.started_at, e.responded_at, e.force_majeure) for e in facts.emergencies]
    listed += [
        (f"incident:{f.id}", f.started_at, f.acknowledged_at, False)
        for f in facts.faults
        if f.level in ctx.rules.emergency_levels
    ]
    ok, counted, pending, items, excused = [], [], [], [], []
    for eid, started, responded, majeure in listed:
        if not ctx.within(started):
            continue
        if majeure:
            excused.append(eid)
            continue
        if responded is not None and responded <= ctx.as_of:
            counted.append(eid)
            (ok if responded - started <= limit else items).append(eid)
        elif started + limit > ctx.as_of:
            pending.append(eid)
        else:
            counted.append(eid)
            items.append(eid)
    fig = _rate("emergencies", ok, counted, pending=pending, items=items, excluded=excused)
    fig.count = len(items)
    return fig


def platform_faults(facts: Facts, ctx: Context) -> Figure:
    if ctx.scope.kind != "site":
        return _na("platform_faults", "platform faults are the site's")
    limit = ctx.rules.fault_response
    ok, counted, pending = [], [], []
    for f in facts.faults:
        if not ctx.within(f.started_at):
            continue
        fid = str(f.id)
        if f.acknowledged_at is not None and f.acknowledged_at <= ctx.as_of:
            counted.append(fid)
            if f.acknowledged_at - f.detected_at <= limit:
                ok.append(fid)
        elif f.detected_at + limit > ctx.as_of:
            pending.append(fid)
        else:
            counted.append(fid)
    return _rate("platform_faults", ok, counted, pending=pending)


# -- 11 commendations -----------------------------------------------------------------------


def commendations(facts: Facts, ctx: Context) -> Figure:
    if ctx.scope.kind in ("town", "channel"):
        return _na("commendations", "a commendation names an agent, not a town or channel")
    days = set(ctx.days())
    items = [
        c.id
        for c in facts.commendations
        if c.date in days and (ctx.scope.kind == "site" or c.agent == ctx.scope.value)
    ]
    return Figure("commendations", count=len(items), records={"items": items})


FUNCTIONS = {
    "answer_rate": answer_rate,
    "spot_check": spot_check,
    "instant_answer": instant_answer,
    "callback_on_time": callback_on_time,
    "satisfaction": satisfaction,
    "complaints": complaints,
    "staffing": staffing,
    "reports": reports,
    "emergencies": emergencies,
    "platform_faults": platform_faults,
    "commendations": commendations,
}
assert tuple(FUNCTIONS) == INDICATORS


def compute(
    facts: Facts,
    window: Window,
    as_of: dt.datetime,
    scope: Scope,
    rules: Rules,
    tz: ZoneInfo,
) -> list[Figure]:
    """Every indicator for one window, scope and as-of instant."""
    ctx = Context(window, as_of, scope, rules, tz)
    return [FUNCTIONS[i](facts, ctx) for i in INDICATORS]


def parse_scope(text: str | None) -> Scope:
    """``site``, ``agent:NAME``, ``town:NAME``, ``channel:CODE``."""
    from kpi.errors import ScopeError

    if not text or text == "site":
        return Scope()
    kind, sep, value = text.partition(":")
    if not sep or kind not in SCOPE_KINDS[1:] or not value.strip():
        raise ScopeError(
            f"cannot read scope {text!r}; use site, agent:NAME, town:NAME or channel:CODE"
        )
    return Scope(kind, value.strip())
