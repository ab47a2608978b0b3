"""Interval algebra and report periods (site calendar, Asia/Shanghai), pure."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla.intervals import (
    PeriodError,
    clip,
    custom_window,
    parse_period,
    rolling,
    subtract,
    total_seconds,
    union,
)

SH = ZoneInfo("Asia/Shanghai")


def t(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 1, hour, minute, tzinfo=dt.UTC)


def test_union_merges_overlapping_and_touching_and_drops_empty():
    assert union(
        [(t(3), t(4)), (t(1), t(2)), (t(2), t(3)), (t(5), t(5)), (t(1, 30), t(1, 45))]
    ) == [(t(1), t(4))]


def test_subtract_cuts_holes_and_edges():
    assert subtract([(t(1), t(5))], [(t(0), t(2)), (t(3), t(3, 30)), (t(4, 30), t(6))]) == [
        (t(2), t(3)),
        (t(3, 30), t(4, 30)),
    ]
    assert subtract([(t(1), t(2))], [(t(0), t(3))]) == []


def test_clip_and_total_count_overlaps_once():
    assert clip([(t(0), t(2)), (t(1), t(4))], t(1), t(3)) == [(t(1), t(3))]
    assert total_seconds([(t(0), t(2)), (t(1), t(3))]) == 3 * 3600


@pytest.mark.parametrize(
    ("text", "start", "days"),
    [
        ("2026-11", dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC), 30),
        ("2026-12", dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC), 31),
        ("2026-11-29", dt.datetime(2026, 11, 28, 16, tzinfo=dt.UTC), 1),
        (
            "2026-W48",
            dt.datetime(2026, 11, 22, 16, tzinfo=dt.UTC),
            7,
        ),  # ISO week 48 of 2026 starts Monday 11-23
    ],
)
def test_periods_are_site_calendar_periods(text, start, days):
    window = parse_period(text, SH)
    assert (window.start, window.end) == (start, start + dt.timedelta(days=days))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "month must be in 1..12"),
        ("2026-02-30", "day is out of range"),
        ("2026-W54", "no such period"),
        ("November", r"cannot read period .November.; use 2026-11 \(month\)"),
    ],
)
def test_bad_periods_say_what_is_wrong(text, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(text, SH)


def test_custom_window_is_site_time_and_must_not_be_empty():
    window = custom_window("2026-11-01", "2026-11-02T12:00", SH)
    assert (
        window.start == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC) and window.seconds == 36 * 3600
    )
    with pytest.raises(PeriodError, match="must end after it starts"):
        custom_window("2026-11-02", "2026-11-01", SH)


def test_rolling_window_ends_now():
    now = dt.datetime(2026, 11, 29, 6, tzinfo=dt.UTC)
    assert rolling(now, 30).start == now - dt.timedelta(days=30) and rolling(now, 30).end == now
