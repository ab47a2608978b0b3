"""Spreadsheets in: CSV (UTF-8 with or without BOM, or GB18030 as Chinese Excel writes it) and
XLSX (calamine), with canonical column names or a site's own through a mapping file.

Rows are numbered as the spreadsheet shows them (the header is row 1 when it is the first
line), so an error says the row an operator finds in Excel. A title row above the header (a
common "XX县12345工单导出" banner) is skipped: the header is the first of the first 20 rows that
names a known column.

A mapping file (YAML)::

    kind: tickets               # tickets | calls | events | kb (optional; checked when given)
    columns:                    # the site's header → canonical field (docs/calls-tickets.md)
      工单编号: ticket_no
      受理时间: created_at
    values:                     # canonical field → {the site's value: an accepted value}
      satisfaction: {非常满意: 满意, 比较满意: 基本满意}
    defaults:                   # canonical field → value when the column is absent or empty
      source: province
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noc.core.errors import InputError
from noc.core.validation import did_you_mean
from noc.core.yamlsource import SourceError, SourceIssue, load_located
from noc.ingest import fields as f
from noc.ingest.records import FIELDS, REQUIRED

HEADER_SEARCH_ROWS = 20
SHIPPED_MAPPINGS = Path(__file__).resolve().parent.parent / "defaults" / "mappings"


class FileError(InputError):
    """The file cannot be read as a table (encoding, format, header); nothing is imported."""


class MappingError(InputError):
    """The mapping file is wrong; ``issues`` has every problem with its line."""

    def __init__(self, issues: list[SourceIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (spreadsheet row number, header → cell)
    encoding: str | None = None
    header_row: int = 1


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (BOM or not), else GB18030."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileError(f"cannot read the file as {encoding}: {exc}") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileError(
            f"the file is neither UTF-8 nor GB18030 (byte {exc.start}); give --encoding"
        ) from None


def _header_index(rows: list[list[Any]], known: set[str]) -> int:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(_header(c) in known for c in row):
            return i
    for i, row in enumerate(rows):
        if any(_header(c) for c in row):
            return i
    raise FileError("the file has no header row")


def _header(cell: Any) -> str:
    return (f._text(cell) or "").strip()


def _table(raw_rows: list[list[Any]], known: set[str], encoding: str | None) -> Table:
    if not raw_rows:
        raise FileError("the file is empty")
    index = _header_index(raw_rows, known)
    headers = [_header(c) for c in raw_rows[index]]
    seen: set[str] = set()
    for h in headers:
        if h and h in seen:
            raise FileError(f"column {h!r} appears twice in the header")
        seen.add(h)
    rows = []
    for number, cells in enumerate(raw_rows[index + 1 :], start=index + 2):
        if not any(f._text(c) is not None for c in cells):
            continue  # an empty row (Excel leaves many)
        rows.append((number, {h: c for h, c in zip(headers, cells, strict=False) if h}))
    return Table(
        headers=[h for h in headers if h], rows=rows, encoding=encoding, header_row=index + 1
    )


def read_csv(data: bytes, known: Iterable[str] = (), encoding: str | None = None) -> Table:
    text, used = decode(data, encoding)
    sample = text[:4096]
    first = sample.splitlines()[0] if sample else ""
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    try:
        raw_rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise FileError(f"not a CSV file: {exc}") from None
    return _table(raw_rows, set(known), used)


def read_xlsx(path: Path, known: Iterable[str] = (), sheet: str | None = None) -> Table:
    """The first sheet (or ``sheet``) of a workbook, rows numbered as Excel shows them.

    Read with calamine (Rust): a year of tickets (160,000 rows × 21 columns) in seconds, where
    openpyxl's read-only mode needed minutes. Cells come as Python values (text, numbers,
    booleans, dates and times as ``datetime``/``time``/``timedelta``; a formula as its cached
    value); an empty cell is ``""``, which every field parser reads as empty.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise FileError(f"not an XLSX workbook: {exc}") from None
    try:
        if sheet is not None and sheet not in book.sheet_names:
            raise FileError(f"no sheet {sheet!r}; the workbook has {', '.join(book.sheet_names)}")
        ws = book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)
        # from A1 (not from the first used cell), so row numbers are Excel's
        raw_rows = [list(r) for r in ws.to_python(skip_empty_area=False)]
    except CalamineError as exc:
        raise FileError(f"cannot read the workbook: {exc}") from None
    finally:
        book.close()
    return _table(raw_rows, set(known), None)


def read_table(
    path: Path, known: Iterable[str] = (), *, encoding: str | None = None, sheet: str | None = None
) -> Table:
    """A CSV or XLSX file by its content (an XLSX is a zip: it starts with ``PK``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data[:2] == b"PK":
        return read_xlsx(path, known, sheet)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError("this is an old .xls workbook; save it as .xlsx or CSV")
    return read_csv(data, known, encoding)


# -- mapping ---------------------------------------------------------------------------------

_MAPPING_KEYS = ("kind", "columns", "values", "defaults", "description")


@dataclass
class ColumnMapping:
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None


def _did_you_mean(name: str, options: Iterable[str]) -> str:
    return did_you_mean(name, options)


def resolve_mapping(value: str) -> Path:
    """A mapping file by path, or a shipped one by name (``province-12345-tickets``)."""
    path = Path(value)
    if path.is_file():
        return path
    shipped = SHIPPED_MAPPINGS / (value if value.endswith(".yaml") else f"{value}.yaml")
    if shipped.is_file():
        return shipped
    names = ", ".join(sorted(p.stem for p in SHIPPED_MAPPINGS.glob("*.yaml")))
    raise FileError(f"no mapping file {value!r} (shipped mappings: {names})")


def load_mapping(path: Path, kind: str) -> ColumnMapping:
    """Read and check a mapping file for ``kind``; every problem at once, with its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(f"cannot read mapping {path}: {exc}") from None
    try:
        src = load_located(text, str(path))
    except SourceError as exc:
        raise MappingError(exc.issues) from None
    data = src.data
    issues: list[SourceIssue] = []
    if not isinstance(data, dict):
        raise MappingError([src.issue((), "must be a mapping with columns:, values:, defaults:")])
    known = FIELDS[kind]
    for key in data:
        if key not in _MAPPING_KEYS:
            issues.append(src.issue((key,), f"unknown key{_did_you_mean(key, _MAPPING_KEYS)}"))
    out = ColumnMapping(kind=data.get("kind"))
    if out.kind is not None and out.kind != kind:
        issues.append(src.issue(("kind",), f"this mapping is for {out.kind}, not {kind}"))

    def section(name: str) -> dict:
        value = data.get(name) or {}
        if not isinstance(value, dict):
            issues.append(src.issue((name,), "must be a mapping"))
            return {}
        return value

    targets: dict[str, str] = {}
    for header, target in section("columns").items():
        if not isinstance(target, str) or target not in known:
            issues.append(
                src.issue(
                    ("columns", header),
                    f"unknown field {target!r}{_did_you_mean(str(target), known)}",
                )
            )
        elif target in targets:
            issues.append(
                src.issue(
                    ("columns", header), f"{target} is already given by column {targets[target]!r}"
                )
            )
        else:
            targets[target] = header
            out.columns[str(header).strip()] = target
    for name, table in section("values").items():
        if name not in known:
            issues.append(src.issue(("values", name), f"unknown field{_did_you_mean(name, known)}"))
        elif not isinstance(table, dict):
            issues.append(src.issue(("values", name), "must map a site value to a value"))
        else:
            out.values[name] = {str(k).strip(): v for k, v in table.items()}
    for name, value in section("defaults").items():
        if name not in known:
            issues.append(
                src.issue(("defaults", name), f"unknown field{_did_you_mean(name, known)}")
            )
        else:
            out.defaults[name] = value
    if issues:
        raise MappingError(issues)
    return out


class Mapper:
    """Turns a table's rows into rows of canonical fields, and says which column held a field."""

    def __init__(self, kind: str, headers: list[str], mapping: ColumnMapping | None = None):
        self.kind = kind
        self.mapping = mapping or ColumnMapping()
        known = FIELDS[kind]
        self.field_of: dict[str, str] = {}
        self.ignored: list[str] = []
        given: dict[str, str] = {}
        for header in headers:
            target = self.mapping.columns.get(header)
            if target is None and header.strip().lower() in known:
                target = header.strip().lower()
            if target is None:
                self.ignored.append(header)
                continue
            if target in given:
                raise FileError(
                    f"columns {given[target]!r} and {header!r} both give {target}; keep one"
                )
            given[target] = header
            self.field_of[header] = target
        self.column_of = given
        missing = [
            name
            for name in REQUIRED[kind]
            if name not in given and name not in self.mapping.defaults
        ]
        if missing:
            raise FileError(
                "no column for "
                + ", ".join(self._expected(name) for name in missing)
                + f"; the file has: {', '.join(headers) or 'no columns'}"
            )

    def _expected(self, name: str) -> str:
        site = [h for h, t in self.mapping.columns.items() if t == name]
        return f"{name} (expected {' or '.join(repr(h) for h in [*site, name])})"

    def convert(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for header, value in row.items():
            name = self.field_of.get(header)
            if name is None:
                continue
            table = self.mapping.values.get(name)
            if table is not None:
                key = f._text(value)
                if key is not None and key in table:
                    value = table[key]
            out[name] = value
        for name, value in self.mapping.defaults.items():
            if f._text(out.get(name)) is None:
                out[name] = value
        return out

    def column(self, name: str) -> str:
        return self.column_of.get(name, name)
