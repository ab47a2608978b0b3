"""The report's charts draw Chinese, not boxes ("tofu"): a pixel test against the font's own
missing-glyph box, the real charts rendered with missing glyphs made errors, and a clear refusal
when no CJK font is installed (noc/reports/charts.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from PIL import Image

from kpi.document import Chart, Series
from noc.reports import charts

LABEL = "接通率满意热线月报"  # nine different characters
ABSENT = "\ue000"  # private use: no font here draws it, so it shows the font's notdef box


def ink(text: str, font: FontProperties) -> np.ndarray:
    """Where ``text`` puts ink, one character centred on a small white canvas."""
    fig = Figure(figsize=(0.6, 0.6), dpi=100)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, text, fontproperties=font, ha="center", va="center")
    canvas.draw()
    grey = np.asarray(canvas.buffer_rgba())[..., :3].mean(axis=2)
    return grey < 128


def distinct(images: list[np.ndarray]) -> int:
    return len({image.tobytes() for image in images})


def dejavu(size: float = 28) -> FontProperties:
    return FontProperties(fname=findfont(FontProperties(family="DejaVu Sans")), size=size)


def test_the_chosen_font_draws_each_chinese_glyph_not_a_box():
    """Tofu is one box for every character. In the chosen font the nine characters are nine
    different shapes, each with ink, none of them the font's own notdef box nor the box a font
    without Chinese draws for it."""
    family, path = charts.cjk_font()
    assert family in charts.CJK_FAMILIES and path
    font = charts.font_properties(size=28)
    with pytest.warns(UserWarning, match="missing from font"):
        notdef = ink(ABSENT, font)
    glyphs = [ink(ch, font) for ch in LABEL]
    assert distinct(glyphs) == len(LABEL)
    with pytest.warns(UserWarning, match="missing from font"):
        tofu = [ink(ch, dejavu()) for ch in LABEL]
    for ch, glyph, box in zip(LABEL, glyphs, tofu, strict=True):
        assert glyph.sum() > 50, ch
        assert (glyph != notdef).sum() > 100, ch
        assert (glyph != box).sum() > 100, ch


def test_the_pixel_test_fails_on_tofu():
    """The same criterion on DejaVu Sans (no CJK glyphs): every character is the same box."""
    with pytest.warns(UserWarning, match="missing from font"):
        drawn = [ink(ch, dejavu()) for ch in LABEL]
    assert distinct(drawn) == 1 and drawn[0].sum() > 50


CHARTS = (
    Chart(
        "daily-calls",
        "line",
        "每日来电量与接通率",
        x=("11-01", "11-02", "11-03"),
        series=(
            Series("转人工来电", (30.0, 40.0, 0.0), "bar"),
            Series("接通", (29.0, 38.0, 0.0)),
            Series("接通率", (29 / 30, 0.95, None), axis="right", percent=True),
        ),
        y_label="来电（个）",
        y2_label="接通率",
    ),
    Chart(
        "hour-weekday",
        "heatmap",
        "来电时段分布（星期 × 小时）",
        x=tuple(f"{h:02d}" for h in range(24)),
        rows=("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
        matrix=tuple(tuple(float(d * h % 7) for h in range(24)) for d in range(7)),
    ),
)


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.id)
def test_the_real_charts_render_with_every_glyph(chart):
    png = charts.render(chart)  # a missing glyph is an error inside render()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > 600 and image.height > 200


def test_a_chart_in_a_font_without_chinese_is_refused(monkeypatch):
    dejavu = findfont(FontProperties(family="DejaVu Sans"))
    monkeypatch.setattr(charts, "cjk_font", lambda: ("DejaVu Sans", dejavu))
    with pytest.raises(UserWarning, match="missing from font"):
        charts.render(CHARTS[0])


def test_no_cjk_font_installed_is_a_clear_refusal(monkeypatch):
    monkeypatch.setattr(charts, "CJK_FAMILIES", ("No Such Font SC",))
    charts.cjk_font.cache_clear()
    try:
        with pytest.raises(charts.NoCjkFont, match="fonts-noto-cjk or fonts-wqy-microhei"):
            charts.cjk_font()
    finally:
        charts.cjk_font.cache_clear()
