"""Half-open time intervals ``[start, end)`` and report periods. Pure.

Why a module of its own: every SLA figure is a length of a union, difference or clip of
intervals (downtime minus maintenance, clipped to the month), and getting the edges right
once, here, is what lets the formulas in :mod:`sla.compute` stay one line each. Periods are
named the way operators say them (``2026-11``, ``2026-11-29``, ``2026-W48``) and are calendar
periods of the site's zone (Asia/Shanghai), returned as UTC instants.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from noc.core import time as instants
from noc.core.errors import InputError
from noc.core.time import UTC

Interval = tuple[dt.datetime, dt.datetime]


class PeriodError(InputError):
    """A period that cannot be read; the message shows the accepted forms."""


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same instants (empty ones dropped)."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def clip(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """The parts of ``intervals`` inside ``[start, end)``, as a union."""
    return union((max(s, start), min(e, end)) for s, e in intervals)


def subtract(intervals: Iterable[Interval], minus: Iterable[Interval]) -> list[Interval]:
    """The instants of ``intervals`` not in ``minus``."""
    cut = union(minus)
    out: list[Interval] = []
    for start, end in union(intervals):
        cursor = start
        for m_start, m_end in cut:
            if m_end <= cursor or m_start >= end:
                continue
            if m_start > cursor:
                out.append((cursor, m_start))
            cursor = max(cursor, m_end)
            if cursor >= end:
                break
        if cursor < end:
            out.append((cursor, end))
    return out


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The instants in both ``a`` and ``b``."""
    first = union(a)
    return subtract(first, subtract(first, b))


def total_seconds(intervals: Iterable[Interval]) -> float:
    """Length of the union, in seconds (overlaps counted once)."""
    return sum((e - s).total_seconds() for s, e in union(intervals))


# -- periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A report period: ``[start, end)`` in UTC, and how an operator named it."""

    label: str
    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)
PERIOD_FORMS = "2026-11 (month), 2026-11-29 (day), 2026-W48 (ISO week)"


def _local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC)


def month_window(year: int, month: int, tz: ZoneInfo) -> Window:
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return Window(
        f"{year:04d}-{month:02d}", _local_midnight(first, tz), _local_midnight(following, tz)
    )


def parse_period(text: str, tz: ZoneInfo) -> Window:
    """``2026-11`` → that calendar month, ``2026-11-29`` → that day, ``2026-W48`` → that ISO week."""
    value = text.strip()
    try:
        if m := _MONTH.match(value):
            return month_window(int(m[1]), int(m[2]), tz)
        if m := _DAY.match(value):
            day = dt.date(int(m[1]), int(m[2]), int(m[3]))
            return Window(
                value, _local_midnight(day, tz), _local_midnight(day + dt.timedelta(days=1), tz)
            )
        if m := _WEEK.match(value):
            monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Window(
                value.upper(),
                _local_midnight(monday, tz),
                _local_midnight(monday + dt.timedelta(days=7), tz),
            )
    except (ValueError, OverflowError) as exc:  # 0001-01 or 9999-12-31 overflow in UTC
        raise PeriodError(f"no such period {text!r}: {exc}") from None
    raise PeriodError(f"cannot read period {text!r}; use {PERIOD_FORMS}, or a from/to span")


def parse_instant(text: str, tz: ZoneInfo) -> dt.datetime:
    """ISO 8601 date or date-time; without an offset it is site time. A bare date is its midnight.

    :func:`noc.core.time.parse_instant`, refusing with a :class:`PeriodError`."""
    return instants.parse_instant(text, tz, error=PeriodError)


def custom_window(start: str, end: str, tz: ZoneInfo) -> Window:
    lo, hi = parse_instant(start, tz), parse_instant(end, tz)
    if hi <= lo:
        raise PeriodError(f"the period must end after it starts ({start} → {end})")
    return Window(f"{start}/{end}", lo, hi)


def current_month(now: dt.datetime, tz: ZoneInfo) -> Window:
    local = now.astimezone(tz)
    return month_window(local.year, local.month, tz)


def rolling(now: dt.datetime, days: int) -> Window:
    return Window(f"{days}d", now - dt.timedelta(days=days), now)
