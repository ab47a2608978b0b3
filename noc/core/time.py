"""Instants: UTC, epoch seconds and the ISO 8601 text operators type.

The engine counts in epoch seconds, the store and the API in aware UTC datetimes, and people
type site time. One reader of typed instants, so every edge refuses the same inputs with the
same reason: text that is not ISO 8601, and instants outside what a datetime holds (year 1 to
9999 in UTC — ``0001-01-01T02:00`` at +08:00 is before year 1 in UTC).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from noc.core.errors import InputError

UTC = dt.UTC

INSTANT_FORMS = "e.g. 2026-11-01 or 2026-11-01T08:00 (site time)"


def utcnow() -> dt.datetime:
    """Now, as an aware UTC datetime."""
    return dt.datetime.now(UTC)


def from_epoch(epoch: float) -> dt.datetime:
    """Epoch seconds → an aware UTC datetime."""
    return dt.datetime.fromtimestamp(epoch, UTC)


def parse_instant(text: str, tz: ZoneInfo, *, error: type[InputError] = InputError) -> dt.datetime:
    """ISO 8601 date or date-time → UTC; without an offset it is ``tz`` time, a bare date its
    midnight. Anything unreadable or out of range raises ``error`` (an :class:`InputError`, so
    a caller may name its own subclass) with the reason."""
    if not isinstance(text, str):  # a JSON body may carry a number or a list
        raise error(f"cannot read time {text!r}: not a string; use {INSTANT_FORMS}")
    try:
        value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise error(f"cannot read time {text!r}; use {INSTANT_FORMS}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise error(
            f"cannot read time {text!r}: out of range (it must fall in the years 1 to 9999 in UTC)"
        ) from None


__all__ = ["INSTANT_FORMS", "UTC", "from_epoch", "parse_instant", "utcnow"]
