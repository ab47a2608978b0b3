"""Text pieces every kind's ``render`` uses, so the CLI and the runbook timeline read alike.

Operator text is Chinese label first, then English; tables stay aligned with double-width
(Chinese) characters.
"""

from __future__ import annotations

from noc.core.text import table  # noqa: F401  (re-exported: the kinds' renderers use it)
from probes.base import ProbeResult


def ms(seconds: float | None, digits: int = 3) -> str:
    """``1.234 ms`` (``-`` for no value)."""
    return "-" if seconds is None else f"{seconds * 1000:.{digits}f} ms"


def result_line(result: ProbeResult) -> str:
    reason = f" — {result.reason}" if result.reason else ""
    return f"结果 result: {result.result}{reason}"
