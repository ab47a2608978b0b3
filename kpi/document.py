"""A report as data: sections of paragraphs, tables, charts and editable text. Pure.

The monthly report (:mod:`kpi.monthly`) builds one; the renderers at the edge
(``noc.reports``: DOCX, HTML, PDF) draw it and decide nothing. Every cell is already text in the
report's language (numbers rounded, "无数据" where there is nothing to count); a chart carries
its numbers, its labels and its title.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str = "paragraph"


@dataclass(frozen=True)
class Table:
    id: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    note: str = ""  # under the table: sources, what "—" means
    nowrap: tuple[int, ...] = ()  # columns whose cells must stay on one line (figures, names)
    kind: str = "table"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]  # None: no value that day (a gap, never a zero)
    style: str = "line"  # line | bar
    axis: str = "left"  # left | right (a rate next to counts)
    percent: bool = False  # values are ratios 0–1, drawn as %


@dataclass(frozen=True)
class Chart:
    """``line`` (x labels × series) or ``heatmap`` (rows × columns of ``matrix``)."""

    id: str
    chart: str  # line | heatmap | bar
    title: str
    x: tuple[str, ...] = ()
    series: tuple[Series, ...] = ()
    y_label: str = ""
    y2_label: str = ""
    rows: tuple[str, ...] = ()
    matrix: tuple[tuple[float, ...], ...] = ()
    alt: str = ""  # the chart in words, for readers without the picture
    kind: str = "chart"


@dataclass(frozen=True)
class Editable:
    """A part the office writes itself (in the DOCX): a heading's body with a placeholder."""

    id: str
    text: str
    kind: str = "editable"


Block = Paragraph | Table | Chart | Editable


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    lang: str
    period: str
    facts_line: str  # the period, as-of and time zone, for the cover
    sections: tuple[Section, ...] = ()
    meta: dict = field(default_factory=dict, hash=False, compare=False)

    def section(self, sid: str) -> Section:
        return next(s for s in self.sections if s.id == sid)

    def table(self, tid: str) -> Table:
        return next(
            b for s in self.sections for b in s.blocks if isinstance(b, Table) and b.id == tid
        )

    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]

    def as_dict(self) -> dict:
        return asdict(self)
