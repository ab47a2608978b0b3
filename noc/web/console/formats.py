"""How numbers look on the console: milliseconds, percentages, hours, durations, countdowns.
Pure; a missing value is an en dash, never "None" or "nan"."""

from __future__ import annotations

import datetime as dt
import math

from noc.core.units import format_bandwidth

DASH = "–"


def _missing(value: object) -> bool:
    """None, NaN, or anything not a number (a template's undefined value)."""
    return not isinstance(value, int | float) or (isinstance(value, float) and math.isnan(value))


def ms(seconds: float | None) -> str:
    return DASH if _missing(seconds) else f"{seconds * 1000:.1f} ms"


def pct(ratio: float | None, digits: int = 1) -> str:
    return DASH if _missing(ratio) else f"{ratio * 100:.{digits}f}%"


def hours(seconds: float | None) -> str:
    return DASH if _missing(seconds) else f"{seconds / 3600:.1f} h"


def duration(seconds: float | None) -> str:
    """``45 s``, ``12 min 5 s``, ``3 h 20 min``, ``2 d 4 h``."""
    if _missing(seconds):
        return DASH
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def clock(seconds: int) -> str:
    """A countdown's digits: ``04:59``, ``1:02:03``; overdue counts up (the sign is the label)."""
    s = abs(int(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


def bandwidth(bps: float | None) -> str:
    return DASH if _missing(bps) else format_bandwidth(int(bps))


def epoch(value: float | None) -> dt.datetime | None:
    return None if _missing(value) else dt.datetime.fromtimestamp(value, dt.UTC)
