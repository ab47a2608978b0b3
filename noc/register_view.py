"""What the CLI and the API both do with the KPI registers: read a request or a file into
records (:mod:`noc.ingest.registers`), and show a stored row (JSON, site time).

A file (CSV, UTF-8 or GB18030, or XLSX) has a header naming the register's fields
(:data:`noc.ingest.registers.FIELDS`); a header that names a field the register does not have,
or lacks a required one, refuses the whole file (exit 2: a misspelt ``end`` column would
silently lose every last day). Every other problem is a row's: the row, the column, the value
and the reason are reported and that row is left out; the others are imported (exit 1). A key
(:data:`noc.ingest.registers.KEYS`) given twice in one file is a problem of the later row, so
importing a file twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kpi.compute import scheduled_due
from kpi.model import Rules
from noc.calls_intake import ImportReport, RowProblem
from noc.core.errors import InputError
from noc.core.validation import did_you_mean
from noc.ingest import tabular
from noc.ingest.records import RecordInvalid
from noc.ingest.registers import FIELDS, KEYS, Record, validate, values_of
from noc.store.kpi_registers import REGISTERS, RegisterRow
from noc.store.register_acts import Imported
from noc.store.tables_kpi import ReportSubmissionRow

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "staff": ("person", "post", "start"),
    "submissions": ("period", "submitted_at"),
    "emergencies": ("kind", "started_at"),
}
"""Columns a register file must have (a row may still leave an optional one empty)."""


def invalid(exc: RecordInvalid, names: Mapping[str, str] | None = None) -> InputError:
    """A refused record as one line naming every wrong field (``names``: how the CLI spells
    each field, e.g. ``--start``)."""
    names = names or {}
    parts = [f"{names.get(e.field, e.field) or 'body'}: {e.reason}" for e in exc.errors]
    return InputError("; ".join(parts))


def parse(
    kind: str,
    raw: Any,
    tz: ZoneInfo,
    now: dt.datetime | None,
    names: Mapping[str, str] | None = None,
) -> Record:
    """One record from a JSON body or command-line options; an :class:`InputError` naming every
    wrong field otherwise."""
    try:
        return validate(kind, raw, tz, now)
    except RecordInvalid as exc:
        raise invalid(exc, names) from None


def read_file(
    kind: str, path: Path, tz: ZoneInfo, *, encoding: str | None = None, sheet: str | None = None
) -> tuple[list[Record], ImportReport]:
    """The valid records of a register file, and the report of its rows (problems so far)."""
    fields = FIELDS[kind]
    table = tabular.read_table(path, fields, encoding=encoding, sheet=sheet)
    unknown = [h for h in table.headers if h not in fields]
    if unknown:
        hints = "; ".join(f"{h!r}{did_you_mean(h, fields)}" for h in unknown)
        raise tabular.FileError(
            f"{path.name}: unknown column(s) {hints}; the columns are {', '.join(fields)}"
        )
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in table.headers]
    if missing:
        raise tabular.FileError(f"{path.name}: missing column(s) {', '.join(missing)}")
    report = ImportReport(kind=kind, rows=len(table.rows), encoding=table.encoding)
    records: list[Record] = []
    first_row: dict[tuple, int] = {}
    for number, raw in table.rows:
        try:
            record = validate(kind, raw, tz, None)
        except RecordInvalid as exc:
            report.problems += [
                RowProblem(number, e.reason, e.field or None, e.value) for e in exc.errors
            ]
            continue
        values = values_of(record)
        key = tuple(values[k] for k in KEYS[kind])
        if key in first_row:
            report.problems.append(
                RowProblem(
                    number,
                    f"repeats the {', '.join(KEYS[kind])} of row {first_row[key]}; left out",
                )
            )
            continue
        first_row[key] = number
        records.append(record)
    return records, report


def count(report: ImportReport, imported: Imported) -> ImportReport:
    report.created = imported.count("created")
    report.updated = imported.count("updated")
    report.duplicates = imported.count("duplicate")
    return report


def row_json(kind: str, row: RegisterRow, tz: ZoneInfo) -> dict[str, Any]:
    """A stored row: its id, fields (instants in UTC and site time) and when it was recorded."""
    out: dict[str, Any] = {"id": row.id}
    for name, value in REGISTERS[kind].values(row).items():
        if isinstance(value, dt.datetime):
            out[name] = value.isoformat()
            out[f"{name}_local"] = value.astimezone(tz).isoformat(timespec="minutes")
        elif isinstance(value, dt.date):
            out[name] = value.isoformat()
        else:
            out[name] = value
    out["recorded_at"] = row.recorded_at.isoformat()
    return out


@dataclass(frozen=True)
class SubmissionStatus:
    """A submission beside the due time it is judged against (docs/kpi.md, indicator 8):
    ``on_time`` (submitted at or before it), ``late`` (``late_by`` after it) or ``no_due`` (a
    kind the config does not schedule, registered without a due time)."""

    row: ReportSubmissionRow
    due_at: dt.datetime | None
    status: str
    late_by: dt.timedelta | None = None


def submission_statuses(
    rows: Iterable[ReportSubmissionRow], rules: Rules, tz: ZoneInfo
) -> list[SubmissionStatus]:
    """Each submission with its due time — the schedule's (``kpi.reports``), else the first due
    time registered for the same kind and period, as the scorecard takes it — and whether it
    went in on time."""
    rows = list(rows)
    explicit: dict[tuple[str, str], dt.datetime] = {}
    for r in rows:
        if r.due_at is not None:
            explicit.setdefault((r.kind, r.period), r.due_at)
    out = []
    for r in rows:
        due = scheduled_due(r.kind, r.period, rules, tz) or explicit.get((r.kind, r.period))
        if due is None:
            out.append(SubmissionStatus(r, None, "no_due"))
        elif r.submitted_at <= due:
            out.append(SubmissionStatus(r, due, "on_time"))
        else:
            out.append(SubmissionStatus(r, due, "late", r.submitted_at - due))
    return out


__all__ = [
    "REQUIRED_COLUMNS",
    "SubmissionStatus",
    "count",
    "invalid",
    "parse",
    "read_file",
    "row_json",
    "submission_statuses",
]
