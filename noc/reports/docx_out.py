"""The report as DOCX (python-docx): what the office edits and forwards.

Headings use Word's built-in heading styles (so the office's own template and table of contents
work), tables the built-in "Table Grid", charts are PNG pictures, and the "next month" section
is an ordinary paragraph under its heading, highlighted until someone writes it. Chinese text is
set in 宋体 / 黑体 (the East Asian font slot), which every Chinese Windows and WPS has.
"""

from __future__ import annotations

import io

from kpi.document import Chart, Document, Editable, Paragraph, Table
from noc.reports import charts

BODY_FONT = ("宋体", "Times New Roman")  # East Asian, Latin
HEADING_FONT = ("黑体", "Arial")


def _fonts(style, east_asian: str, latin: str) -> None:
    from docx.oxml.ns import qn

    style.font.name = latin
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)


def render_docx(doc: Document, images: dict[str, bytes] | None = None) -> bytes:
    from docx import Document as Docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
    from docx.shared import Cm, Pt

    if images is None:
        images = {c.id: charts.render(c) for c in doc.charts()}
    out = Docx()
    section = out.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.0)
    _fonts(out.styles["Normal"], *BODY_FONT)
    out.styles["Normal"].font.size = Pt(10.5)
    for name in ("Title", "Heading 1", "Heading 2"):
        _fonts(out.styles[name], *HEADING_FONT)
    out.core_properties.title = doc.title
    out.core_properties.subject = doc.subtitle
    out.core_properties.language = doc.lang

    title = out.add_heading(doc.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in (doc.subtitle, doc.facts_line):
        p = out.add_paragraph(text)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    for sec in doc.sections:
        out.add_heading(sec.title, level=1)
        for block in sec.blocks:
            if isinstance(block, Paragraph):
                out.add_paragraph(block.text)
            elif isinstance(block, Table):
                if block.caption:
                    cap = out.add_paragraph()
                    cap.add_run(block.caption).bold = True
                table = out.add_table(rows=1, cols=len(block.columns))
                table.style = "Table Grid"
                table.alignment = WD_TABLE_ALIGNMENT.CENTER
                for cell, text in zip(table.rows[0].cells, block.columns, strict=True):
                    cell.text = ""
                    cell.paragraphs[0].add_run(text).bold = True
                for row in block.rows:
                    cells = table.add_row().cells
                    for cell, text in zip(cells, row, strict=True):
                        cell.text = text
                for row in table.rows:
                    for cell in row.cells:
                        for p in cell.paragraphs:
                            for run in p.runs:
                                run.font.size = Pt(9)
                if block.note:
                    note = out.add_paragraph()
                    run = note.add_run(block.note)
                    run.font.size = Pt(9)
                    run.italic = True
            elif isinstance(block, Chart):
                out.add_picture(io.BytesIO(images[block.id]), width=Cm(16.5))
                out.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
                cap = out.add_paragraph(f"{block.title}：{block.alt}" if block.alt else block.title)
                cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif isinstance(block, Editable):
                p = out.add_paragraph()
                run = p.add_run(block.text)
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()
