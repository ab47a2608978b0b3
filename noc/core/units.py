"""Human units in the config: durations ("200ms", "1s", "5m") and bandwidths ("10M", "50Mbit").

Pure parsing used by the config models (and by probes' parameter models), so that an
operator writes what a carrier contract says and gets a clear error when it is wrong.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}

_BANDWIDTH_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:bit|bps|b)?(?:/s)?\s*$")
_BANDWIDTH_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}


def parse_duration(value: object) -> float:
    """Seconds from ``1.5``, ``"200ms"``, ``"1s"``, ``"5m"``, ``"2h"``, ``"1d"``."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 200ms, 1s, 5m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION_RE.match(value)):
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    else:
        raise ValueError("must be a duration such as 200ms, 1s, 5m")
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


def parse_bandwidth(value: object) -> int:
    """Bits per second from ``10000000``, ``"10M"``, ``"50Mbit"``, ``"512k"``, ``"1G"``."""
    if isinstance(value, bool):
        raise ValueError("must be a bandwidth such as 10M or 50Mbit")
    if isinstance(value, int | float):
        bps = float(value)
    elif isinstance(value, str) and (m := _BANDWIDTH_RE.match(value)):
        bps = float(m.group(1)) * _BANDWIDTH_UNITS[m.group(2).lower()]
    else:
        raise ValueError("must be a bandwidth such as 10M or 50Mbit")
    if bps <= 0:
        raise ValueError("must be greater than 0")
    return int(bps)


def format_duration(seconds: float) -> str:
    if seconds and seconds < 1:
        return f"{round(seconds * 1000)}ms"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def format_bandwidth(bps: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if bps >= size and bps % size == 0:
            return f"{bps // size}{unit}"
    return str(bps)


Duration = Annotated[
    float, BeforeValidator(parse_duration), PlainSerializer(format_duration, when_used="json")
]
"""Seconds (float), written in config as 200ms / 1s / 5m / 1h."""

Bandwidth = Annotated[
    int, BeforeValidator(parse_bandwidth), PlainSerializer(format_bandwidth, when_used="json")
]
"""Bits per second (int), written in config as 10M / 50Mbit."""
