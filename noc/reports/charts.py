"""The report's charts as PNG, drawn by matplotlib (Agg, no display) in a CJK font.

A chart drawn in a font without Chinese glyphs shows boxes ("tofu"), so the font is found
first, by family, through matplotlib's font manager — Noto Sans CJK (Debian
``fonts-noto-cjk``) or WenQuanYi Micro Hei (``fonts-wqy-microhei``) — and a machine with
neither refuses with the package names instead of drawing boxes. matplotlib also warns for every
glyph missing from the font; :func:`render` turns that warning into an error, so no chart with a
box in it is ever written.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from functools import lru_cache

from kpi.document import Chart
from noc.core.errors import UnavailableError

# Simplified Chinese first; the first one installed wins
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)
DPI = 150
COLORS = ("#9ec5e8", "#1f5fa8", "#d9480f", "#2b8a3e", "#862e9c")


class NoCjkFont(UnavailableError):
    """No font with Chinese glyphs is installed."""


def _matplotlib():
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "noc-matplotlib"))
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, str]:
    """(family, file) of the first CJK font installed; :class:`NoCjkFont` when there is none."""
    _matplotlib()
    from matplotlib import font_manager

    installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family, installed[family]
    raise NoCjkFont(
        "no Chinese font for the report's charts: install Debian's fonts-noto-cjk or "
        "fonts-wqy-microhei (`.ci/system-deps run` does); looked for " + ", ".join(CJK_FAMILIES)
    )


def font_properties(size: float = 10):
    """The FontProperties every chart's text uses."""
    _matplotlib()
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=cjk_font()[1], size=size)


def _style(mpl) -> dict:
    family, _ = cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": False,  # a CJK font may lack U+2212
        "figure.dpi": DPI,
    }


def render(chart: Chart) -> bytes:
    """One chart as PNG bytes."""
    mpl = _matplotlib()
    import matplotlib.pyplot as plt

    with mpl.rc_context(_style(mpl)), warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        fig = (_heatmap if chart.chart == "heatmap" else _line)(plt, chart)
        try:
            out = io.BytesIO()
            fig.savefig(out, format="png", bbox_inches="tight")
        finally:
            plt.close(fig)
    return out.getvalue()


def _line(plt, chart: Chart):
    fig, ax = plt.subplots(figsize=(8, 3.4))
    xs = list(range(len(chart.x)))
    right = None
    handles = []
    for s, color in zip(chart.series, COLORS, strict=False):
        target = ax
        if s.axis == "right":
            right = right or ax.twinx()
            target = right
        values = [float("nan") if v is None else (v * 100 if s.percent else v) for v in s.values]
        if s.style == "bar":
            handles.append(target.bar(xs, values, color=color, label=s.name))
        else:
            (line,) = target.plot(xs, values, color=color, marker="o", markersize=2.5, label=s.name)
            handles.append(line)
    ax.set_title(chart.title)
    ax.set_ylabel(chart.y_label)
    step = max(1, len(xs) // 10)
    ax.set_xticks(xs[::step], [chart.x[i] for i in xs[::step]])
    if right is not None:
        right.set_ylabel(chart.y2_label + " %")
        right.set_ylim(0, 105)
    if handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            fontsize=8,
            ncols=len(handles),
            frameon=False,
        )
    fig.tight_layout()
    return fig


def _heatmap(plt, chart: Chart):
    fig, ax = plt.subplots(figsize=(8, 2.8))
    image = ax.imshow(chart.matrix, aspect="auto", cmap="YlOrRd")
    ax.set_title(chart.title)
    ax.set_yticks(range(len(chart.rows)), chart.rows)
    ax.set_xticks(range(len(chart.x)), chart.x, fontsize=7)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig
