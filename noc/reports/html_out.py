"""The report as one self-contained HTML page (charts inlined as PNG), from a Jinja2 template.

The same page is what WeasyPrint prints to PDF (:mod:`noc.reports.pdf_out`), so the two never
disagree; its fonts name the CJK family the charts found first.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache

import jinja2

from kpi.document import Document
from noc.reports import charts

_NUMERIC = re.compile(r"^[-+≥]?\s?[\d.,]+\s?(%|h|min|分钟|小时)?(\s\(\d+/\d+\))?$")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("noc.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["numeric"] = lambda cell: bool(_NUMERIC.match(str(cell)))
    env.filters["short"] = lambda cell: len(str(cell)) <= 8
    return env


def font_stack() -> str:
    family, _ = charts.cjk_font()
    names = [family, *(f for f in charts.CJK_FAMILIES if f != family), "sans-serif"]
    return ", ".join(n if n == "sans-serif" else f'"{n}"' for n in names)


def render_html(doc: Document, images: dict[str, bytes] | None = None) -> str:
    """The page; ``images`` (chart id → PNG) are drawn here when not given."""
    if images is None:
        images = {c.id: charts.render(c) for c in doc.charts()}
    encoded = {k: base64.b64encode(v).decode("ascii") for k, v in images.items()}
    return (
        _environment()
        .get_template("monthly.html")
        .render(doc=doc, images=encoded, fonts=font_stack())
    )
