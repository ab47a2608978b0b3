"""Terminal text: how many columns a string takes, and tables that stay aligned with Chinese.

A CJK character (East Asian Width W) or a fullwidth form (F, e.g. ``：`` or ``Ａ``) takes two
columns; a combining mark (``é`` written as ``e`` + U+0301) or a zero-width format character
takes none; everything else one. The CLI tables and the SLA report's text table both measure
with :func:`display_width`, so their columns line up the same way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal."""
    return sum(char_width(ch) for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` columns (never cut)."""
    return text + " " * max(0, width - display_width(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart, trailing blanks removed."""
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), *(line(r) for r in rows)]
