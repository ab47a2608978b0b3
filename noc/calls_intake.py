"""One path in for calls, tickets, ticket events and knowledge-base entries.

The API (a JSON object or array) and the file imports (CSV/XLSX rows, Asterisk ``queue_log``)
both validate with ``noc.ingest.records`` and store with the repositories in ``noc.store``; this
module joins the two and reports per item or per row. What it reports as stored has been
committed.

File imports: valid rows are imported and every bad row reported (row, column, value, reason);
with ``strict`` nothing is imported unless every row is good, the whole file in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from noc.config import NocConfig
from noc.core.errors import InputError
from noc.ingest import queue_log, tabular
from noc.ingest.records import VALIDATORS, Context, FieldError, RecordInvalid
from noc.store import Store
from noc.store.bulk import ItemResult
from noc.store.calls import CallRepo
from noc.store.kb import KbRepo
from noc.store.tickets import TicketRepo
from noc.store.types import Session

KINDS = ("calls", "tickets", "events", "kb")
MAX_ITEMS = 5000
FILE_BATCH = 5000  # records per transaction of a file import
QUEUE_LOG_BATCH = 5000  # queue_log lines per transaction


def context(config: NocConfig, now: dt.datetime | None = None) -> Context:
    return Context(
        tz=ZoneInfo(config.site.timezone),
        callers=config.privacy.protector(),
        now=now or dt.datetime.now(dt.UTC),
    )


async def store_records(
    store: Store,
    kind: str,
    records: Sequence[Any],
    tz: ZoneInfo,
    session: Session | None = None,
) -> list[ItemResult]:
    """Hand validated records to their repository (the seam a data generator uses in bulk)."""
    if kind == "calls":
        return await CallRepo(store).ingest(records, session)
    if kind == "tickets":
        return await TicketRepo(store, tz).ingest_tickets(records, session)
    if kind == "events":
        return await TicketRepo(store, tz).ingest_events(records, session)
    if kind == "kb":
        return await KbRepo(store).ingest(records, session)
    raise ValueError(f"unknown kind {kind!r}")


def _external_id(kind: str, item: Any) -> str | None:
    key = {"calls": "call_id", "tickets": "ticket_no", "events": "event_id", "kb": "entry_id"}[kind]
    value = item.get(key) if isinstance(item, dict) else None
    return str(value) if value is not None else None


@dataclass
class Checked:
    """API items after validation: a result for each invalid one, the valid records with
    their index."""

    count: int
    invalid: dict[int, ItemResult]
    valid: list[tuple[int, Any]]

    @property
    def records(self) -> list[Any]:
        return [r for _, r in self.valid]

    def results(self, stored: Sequence[ItemResult]) -> list[ItemResult]:
        """One result per item, in order: the invalid ones and ``stored`` (the records',
        renumbered in place to their items' indexes)."""
        for (index, _), result in zip(self.valid, stored, strict=True):
            result.index = index
        if not self.invalid:
            return list(stored)
        out: dict[int, ItemResult] = dict(self.invalid)
        for (index, _), result in zip(self.valid, stored, strict=True):
            out[index] = result
        return [out[i] for i in range(self.count)]


def check_items(kind: str, items: Sequence[Any], ctx: Context) -> Checked:
    """Validate API items (one path for every way in: ``noc.ingest.records``)."""
    if len(items) > MAX_ITEMS:
        raise InputError(f"at most {MAX_ITEMS} items per request, got {len(items)}")
    checked = Checked(len(items), {}, [])
    validate = VALIDATORS[kind]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            checked.invalid[index] = ItemResult(
                index, None, "invalid", [FieldError("", "must be a JSON object")]
            )
            continue
        try:
            checked.valid.append((index, validate(item, ctx)))
        except RecordInvalid as exc:
            checked.invalid[index] = ItemResult(
                index, _external_id(kind, item), "invalid", exc.errors
            )
    return checked


async def ingest_items(
    store: Store, kind: str, items: Sequence[Any], ctx: Context
) -> list[ItemResult]:
    """Validate and store API items in a transaction of their own; one result per item, in
    order. (The API stores through ``noc.calls_batch.IngestBatcher``, with its audit row.)"""
    checked = check_items(kind, items, ctx)
    stored = await store_records(store, kind, checked.records, ctx.tz) if checked.valid else []
    return checked.results(stored)


# -- files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    row: int
    reason: str
    column: str | None = None
    value: Any = None
    unit: str = "row"  # a queue_log has lines

    def __str__(self) -> str:
        where = f"{self.unit} {self.row}"
        if self.column:
            where += f", column {self.column}"
        if self.value is not None and self.value != "":
            where += f", value {str(self.value)!r}"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    imported: bool = True  # False: --strict refused the file, nothing was written
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    # queue_log only
    queue_log: bool = False
    new_lines: int = 0
    skipped_lines: int = 0
    calls_created: int = 0
    calls_updated: int = 0
    pending: int = 0

    def count(self, results: Sequence[ItemResult]) -> None:
        for r in results:
            if r.status == "created":
                self.created += 1
            elif r.status == "updated":
                self.updated += 1
            elif r.status == "duplicate":
                self.duplicates += 1


class _Refused(Exception):
    """Raised inside the strict transaction to roll it back."""


class Progress(Protocol):
    """Told the number of rows once, then how many more are done."""

    def start(self, total: int) -> None: ...

    def update(self, done: int) -> None: ...


class _NoProgress:
    def start(self, total: int) -> None:
        pass

    def update(self, done: int) -> None:
        pass


def _column_of(mapper: tabular.Mapper, name: str) -> str | None:
    if not name:
        return None
    header = mapper.column(name)
    return header if header == name else f"{header} ({name})"


async def import_table(
    store: Store,
    kind: str,
    path: Path,
    ctx: Context,
    *,
    mapping: Path | str | None = None,
    strict: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
    defaults: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV/XLSX file of ``kind`` records; ``defaults`` fill fields a row leaves empty
    (over the mapping's own)."""
    column_map = (
        tabular.load_mapping(tabular.resolve_mapping(str(mapping)), kind) if mapping else None
    )
    if defaults:
        column_map = column_map or tabular.ColumnMapping()
        column_map.defaults.update(defaults)
    known = set(tabular.FIELDS[kind]) | set(column_map.columns if column_map else ())
    table = tabular.read_table(path, known, encoding=encoding, sheet=sheet)
    mapper = tabular.Mapper(kind, table.headers, column_map)
    report = ImportReport(
        kind=kind, rows=len(table.rows), ignored_columns=mapper.ignored, encoding=table.encoding
    )
    validated: list[tuple[int, Any]] = []
    for number, raw in table.rows:
        row = mapper.convert(raw)
        try:
            validated.append((number, VALIDATORS[kind](row, ctx, check_unknown=False)))
        except RecordInvalid as exc:
            for e in exc.errors:
                report.problems.append(
                    RowProblem(number, e.reason, _column_of(mapper, e.field), e.value)
                )
    if strict and report.problems:
        report.imported = False
        return report
    progress = progress or _NoProgress()
    progress.start(len(table.rows))
    progress.update(len(table.rows) - len(validated))

    async def run(session: Session | None) -> None:
        for start in range(0, len(validated), FILE_BATCH):
            batch = validated[start : start + FILE_BATCH]
            results = await store_records(store, kind, [r for _, r in batch], ctx.tz, session)
            for (number, _), result in zip(batch, results, strict=True):
                for e in result.errors:
                    report.problems.append(
                        RowProblem(
                            number,
                            f"{result.status}: {e.reason}",
                            _column_of(mapper, e.field),
                            e.value,
                        )
                    )
                if not result.ok and not result.errors:
                    report.problems.append(RowProblem(number, result.status))
            report.count(results)
            if strict and report.problems:
                raise _Refused
            progress.update(len(batch))

    await _maybe_strict(store, strict, run, report)
    return report


async def _maybe_strict(store: Store, strict: bool, run, report: ImportReport) -> None:
    if not strict:
        await run(None)
        return
    try:
        async with store.sessions.begin() as session:
            await run(session)
    except _Refused:
        report.imported = False
        report.created = report.updated = report.duplicates = 0


def read_queue_log(
    path: Path, ctx: Context, *, encoding: str | None = None, sheet: str | None = None
) -> queue_log.ParsedLog:
    """The pipe-delimited ``queue_log`` file, or its table export as CSV/XLSX."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise tabular.FileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data[:2] == b"PK":
        table = tabular.read_xlsx(path, queue_log.TABLE_COLUMNS, sheet)
        return queue_log.parse_rows(table.rows, ctx.tz, ctx.callers)
    text, _ = tabular.decode(data, encoding)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if "|" in first and first.split("|", 1)[0].strip().replace(".", "", 1).isdigit():
        return queue_log.parse_text(text, ctx.tz, ctx.callers)
    table = tabular.read_csv(data, queue_log.TABLE_COLUMNS, encoding)
    missing = [
        c for c in ("time", "callid", "event") if c not in {h.lower() for h in table.headers}
    ]
    if missing:
        raise tabular.FileError(
            "not a queue_log: expected lines time|callid|queue|agent|event|… or a table with "
            f"columns time, callid, queuename, agent, event, data…; missing {', '.join(missing)}"
        )
    return queue_log.parse_rows(table.rows, ctx.tz, ctx.callers)


async def import_queue_log(
    store: Store,
    path: Path,
    ctx: Context,
    *,
    source: str = "asterisk",
    strict: bool = False,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    parsed = read_queue_log(path, ctx, encoding=encoding)
    report = ImportReport(
        kind="calls",
        queue_log=True,
        rows=len(parsed.lines) + len(parsed.errors) + parsed.skipped,
        skipped_lines=parsed.skipped,
        problems=[
            RowProblem(e.line, e.reason, value=e.text or None, unit="line") for e in parsed.errors
        ],
    )
    if strict and report.problems:
        report.imported = False
        return report
    repo = CallRepo(store)
    progress = progress or _NoProgress()
    progress.start(len(parsed.lines))

    async def run(session: Session | None) -> None:
        touched: set[str] = set()
        for start in range(0, len(parsed.lines), QUEUE_LOG_BATCH):
            batch = parsed.lines[start : start + QUEUE_LOG_BATCH]
            result = await repo.ingest_queue_log(batch, source, session)
            report.new_lines += result.new_lines
            report.calls_created += result.calls_created
            report.calls_updated += result.calls_updated
            touched |= result.callids
            progress.update(len(batch))
        report.pending = await _pending(repo, source, touched, session)

    await _maybe_strict(store, strict, run, report)
    return report


async def _pending(repo: CallRepo, source: str, callids: set[str], session) -> int:
    """Visits of the callids this import touched that still wait for their end."""
    return await repo.pending_visits(source, callids, session) if callids else 0
