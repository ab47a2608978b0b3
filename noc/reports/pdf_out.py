"""The report as PDF: the HTML page printed by WeasyPrint (PyPI; Pango through Debian's
``libpango-1.0-0``), the fonts embedded and the text extractable (``pdftotext``)."""

from __future__ import annotations

from kpi.document import Document
from noc.core.errors import UnavailableError
from noc.reports.html_out import render_html


def render_pdf(doc: Document, images: dict[str, bytes] | None = None) -> bytes:
    import logging

    try:
        from weasyprint import HTML
    except OSError as exc:  # Pango (or GLib) not installed: WeasyPrint loads them on import
        raise UnavailableError(
            f"cannot print the PDF: WeasyPrint needs Pango ({exc}); install Debian's "
            "libpango-1.0-0 and libpangoft2-1.0-0 (`.ci/system-deps run` does), or choose "
            "--format docx or html"
        ) from None

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # CSS it ignores is not news
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=render_html(doc, images)).write_pdf()
