"""``noc report monthly``: the month's report as DOCX, PDF or HTML bytes, from the store.

Read (:func:`noc.reports.gather.gather`), build (:func:`kpi.monthly.build`, pure), draw the
charts once and hand the same pictures to the chosen renderer.
"""

from __future__ import annotations

import datetime as dt

from kpi.document import Document
from kpi.monthly import build
from noc.config import NocConfig
from noc.reports import charts
from noc.reports.gather import gather
from noc.store.repo import Store

FORMATS = ("docx", "pdf", "html")
LANGS = ("zh-CN", "en")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html",
}


def file_name(period: str, fmt: str, lang: str) -> str:
    """``12345热线月报-2026-11.docx`` (``en``: ``12345-hotline-monthly-2026-11.docx``): what the
    command writes by default and what the web offers to save."""
    stem = "12345-hotline-monthly" if lang == "en" else "12345热线月报"
    return f"{stem}-{period.strip()}.{fmt}"


def ascii_file_name(period: str, fmt: str) -> str:
    """The same name in ASCII, for a client that reads only ``filename=`` (not ``filename*``)."""
    return file_name(period, fmt, "en")


def draw(doc: Document, fmt: str) -> bytes:
    charts.cjk_font()  # refuse before any work when no CJK font is installed
    images = {c.id: charts.render(c) for c in doc.charts()}
    if fmt == "docx":
        from noc.reports.docx_out import render_docx

        return render_docx(doc, images)
    if fmt == "pdf":
        from noc.reports.pdf_out import render_pdf

        return render_pdf(doc, images)
    from noc.reports.html_out import render_html

    return render_html(doc, images).encode("utf-8")


async def monthly_document(
    store: Store, config: NocConfig, runbooks, period: str, as_of: dt.datetime, lang: str
) -> Document:
    return build(await gather(store, config, runbooks, period, as_of), lang)
