"""Reports as files (docs/report.md): the monthly report (12345热线月报) read from the store
(:mod:`noc.reports.gather`), built as data by the pure :mod:`kpi.monthly`, and drawn here —
charts with matplotlib (:mod:`~noc.reports.charts`), DOCX with python-docx
(:mod:`~noc.reports.docx_out`), HTML with Jinja2 (:mod:`~noc.reports.html_out`) and PDF from
that HTML with WeasyPrint (:mod:`~noc.reports.pdf_out`).
"""
