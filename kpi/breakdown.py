"""The monthly report's own figures (docs/report.md), beside the scorecard's. Pure.

Counts by dimension and their change against the previous month and the same month a year
before, the rising categories (hot topics), the day-by-day and hour × weekday call load, and
ticket handling against its deadline. A comparison with a period that holds no data is
``None`` — shown as "无数据", never as a change of 0 % or 100 %.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from kpi.compute import ANSWERED, Context, events_until, last_closing, offered_calls
from kpi.model import Call, Facts, Ticket
from sla.intervals import PeriodError, Window, month_window

DIMENSIONS = ("type", "channel", "town", "category")
TicketCount = tuple[str, str | None, str | None, str | None, int]


# -- the months compared ---------------------------------------------------------------------


@dataclass(frozen=True)
class Months:
    current: Window
    previous: Window
    before: tuple[Window, ...]  # the three months before the current one, most recent first
    last_year: Window


def _shift(year: int, month: int, back: int) -> tuple[int, int]:
    index = year * 12 + month - 1 - back
    return index // 12, index % 12 + 1


def months_of(period: str, tz: ZoneInfo) -> Months:
    """``2026-11`` → November 2026, October, August–October and November 2025 (site time)."""
    text = period.strip()
    try:
        year, month = (int(p) for p in text.split("-"))
        if len(text) != 7 or not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise PeriodError(
            f"cannot read month {period!r}; the monthly report takes a calendar month, e.g. 2026-11"
        ) from None
    before = tuple(month_window(*_shift(year, month, n), tz) for n in (1, 2, 3))
    return Months(
        month_window(year, month, tz), before[0], before, month_window(year - 1, month, tz)
    )


# -- comparisons -----------------------------------------------------------------------------


def counts_by(rows: Iterable[TicketCount], dimension: str) -> Counter:
    """Tickets per value of one dimension (``None`` for a ticket without it)."""
    index = DIMENSIONS.index(dimension)
    out: Counter = Counter()
    for row in rows:
        out[row[index]] += row[4]
    return out


def change(current: int, previous: int, previous_has_data: bool) -> float | str | None:
    """The relative change; ``None`` when the previous period holds no data at all, ``"new"``
    when it had data but none of this row (a division by zero is not a percentage)."""
    if not previous_has_data:
        return None
    if previous == 0:
        return "new" if current else 0.0
    return (current - previous) / previous


@dataclass(frozen=True)
class Hot:
    key: str
    current: int
    mean_before: float | None  # mean of the months before that hold data; None: none did
    rise: float  # current − mean_before (or current when nothing before)
    ratio: float | None  # rise / mean_before; None when the category is new


def hot_topics(
    current: Counter, before: Sequence[Counter], top: int = 8, min_count: int = 3
) -> list[Hot]:
    """Categories rising against the mean of the months before (those that hold data),
    biggest rise first; a category must have at least ``min_count`` tickets this month."""
    with_data = [c for c in before if sum(c.values())]
    out = []
    for key, n in current.items():
        if key is None or n < min_count:
            continue
        if not with_data:
            continue  # nothing to rise against: no hot topics rather than all of them
        mean = sum(c.get(key, 0) for c in with_data) / len(with_data)
        rise = n - mean
        if rise <= 0:
            continue
        out.append(Hot(key, n, mean, rise, rise / mean if mean else None))
    out.sort(key=lambda h: (-h.rise, h.key))
    return out[:top]


# -- calls -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallStats:
    offered: int  # counted (after the abandon grace)
    answered: int
    abandoned: int
    timeout: int
    excused: int  # short abandons left out by the grace option

    @property
    def rate(self) -> float | None:
        return self.answered / self.offered if self.offered else None


def call_stats(calls: Iterable[Call], ctx: Context) -> CallStats:
    counted, excused = offered_calls(calls, ctx)
    outcomes = Counter(c.outcome for c in counted)
    return CallStats(
        offered=len(counted),
        answered=sum(outcomes[o] for o in ANSWERED),
        abandoned=outcomes["abandoned"],
        timeout=outcomes["timeout"],
        excused=len(excused),
    )


def daily_calls(calls: Iterable[Call], ctx: Context) -> list[tuple[dt.date, int, int]]:
    """(site date, offered, answered) for every day of the window begun by as-of."""
    counted, _ = offered_calls(calls, ctx)
    offered: Counter = Counter()
    answered: Counter = Counter()
    for c in counted:
        day = c.entered_at.astimezone(ctx.tz).date()
        offered[day] += 1
        answered[day] += c.outcome in ANSWERED
    return [(d, offered[d], answered[d]) for d in ctx.days()]


def hour_weekday(calls: Iterable[Call], ctx: Context) -> list[list[int]]:
    """Calls offered per weekday (rows, Monday first) × hour of day (columns 0–23), site time."""
    grid = [[0] * 24 for _ in range(7)]
    counted, _ = offered_calls(calls, ctx)
    for c in counted:
        local = c.entered_at.astimezone(ctx.tz)
        grid[local.weekday()][local.hour] += 1
    return grid


# -- tickets: handling, callbacks, satisfaction, knowledge base --------------------------------


def _taken(facts: Facts, ctx: Context) -> list[Ticket]:
    return [t for t in facts.tickets if ctx.within(t.created_at)]


def deadline_at(ticket: Ticket, until: dt.datetime) -> dt.datetime | None:
    """The deadline in force at ``until``: the last one a created/dispatched event set."""
    deadline = None
    for e in events_until(ticket, until):
        if e.kind in ("created", "dispatched") and (e.data or {}).get("deadline"):
            value = e.data["deadline"]
            deadline = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return deadline


@dataclass
class Handling:
    taken: int = 0
    instant: int = 0
    dispatched: int = 0
    closed: list[str] = field(default_factory=list)  # last closing in the window
    with_deadline: list[str] = field(default_factory=list)
    on_time: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    overdue_open: list[str] = field(default_factory=list)  # past the deadline, not closed at as-of
    hours: list[float] = field(default_factory=list)  # dispatched → closed, tickets closed here

    @property
    def on_time_rate(self) -> float | None:
        return len(self.on_time) / len(self.with_deadline) if self.with_deadline else None

    @property
    def mean_hours(self) -> float | None:
        return sum(self.hours) / len(self.hours) if self.hours else None


def handling(facts: Facts, ctx: Context) -> Handling:
    out = Handling()
    for t in _taken(facts, ctx):
        out.taken += 1
        out.instant += t.instant_answer
        out.dispatched += any(e.kind == "dispatched" for e in events_until(t, ctx.as_of))
    for t in facts.tickets:
        closed, _ = last_closing(t, ctx.as_of)
        if closed is None:
            deadline = deadline_at(t, ctx.as_of)
            if deadline is not None and deadline < ctx.as_of and t.created_at < ctx.window.end:
                out.overdue_open.append(t.no)
            continue
        if not ctx.within(closed):
            continue
        out.closed.append(t.no)
        deadline = deadline_at(t, closed)
        if deadline is not None:
            out.with_deadline.append(t.no)
            (out.on_time if closed <= deadline else out.late).append(t.no)
        sent = next((e.at for e in events_until(t, closed) if e.kind == "dispatched"), None)
        if sent is not None:
            out.hours.append((closed - sent).total_seconds() / 3600)
    return out


def ratings(facts: Facts, ctx: Context) -> Counter:
    """The last rating of each ticket rated in the window, by value (as the satisfaction
    indicator counts them, ``unrated`` included here for the table)."""
    out: Counter = Counter()
    for t in facts.tickets:
        rated = [e for e in events_until(t, ctx.as_of) if e.kind == "rated"]
        if rated and ctx.within(rated[-1].at):
            out[rated[-1].data.get("satisfaction") or "unrated"] += 1
    return out


def callback_methods(facts: Facts, ctx: Context) -> Counter:
    """Callbacks made in the window, by method (phone / sms / unknown)."""
    out: Counter = Counter()
    for t in facts.tickets:
        for e in events_until(t, ctx.as_of):
            if e.kind == "callback" and ctx.within(e.at):
                out[(e.data or {}).get("method") or "unknown"] += 1
    return out


def kb_use(facts: Facts, ctx: Context) -> tuple[int, int, Counter]:
    """(tickets taken, of them citing a KB entry, citations per entry)."""
    taken = _taken(facts, ctx)
    cited = Counter(t.kb_entry for t in taken if t.kb_entry)
    return len(taken), sum(cited.values()), cited
