"""Text pieces every kind's ``render`` uses, so the CLI and the runbook timeline read alike.

Operator text is Chinese label first, then English; tables stay aligned with double-width
(Chinese) characters.
"""

from __future__ import annotations

import unicodedata

from probes.base import ProbeResult


def ms(seconds: float | None, digits: int = 3) -> str:
    """``1.234 ms`` (``-`` for no value)."""
    return "-" if seconds is None else f"{seconds * 1000:.{digits}f} ms"


def result_line(result: ProbeResult) -> str:
    reason = f" — {result.reason}" if result.reason else ""
    return f"结果 result: {result.result}{reason}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns that stay aligned with Chinese (double-width) labels."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return [line(header), *(line(r) for r in rows)]
