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
