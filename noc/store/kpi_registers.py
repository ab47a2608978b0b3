"""The KPI registers' repository: staff spells, report submissions, emergencies.

The three registers have one shape, so one :class:`Register` description each and one pair of
operations for all: :meth:`KpiRegisters.record` (one validated record from
:mod:`noc.ingest.registers`, by its natural key: created, updated, or a duplicate that changes
nothing) and :meth:`KpiRegisters.rows` (the list). Writes go through an audited act
(:mod:`noc.store.register_acts`), which passes its transaction in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from noc.core.errors import ConflictError
from noc.ingest.registers import DEFAULTS, FIELDS, KEYS, Record, values_of
from noc.store.repo import Store
from noc.store.tables_kpi import EmergencyRow, ReportSubmissionRow, StaffRow
from noc.store.types import Session, utcnow

RegisterRow = StaffRow | ReportSubmissionRow | EmergencyRow


@dataclass(frozen=True)
class Register:
    """One register: its table, its record fields → columns, and the order of its list."""

    kind: str
    row: type[RegisterRow]
    order: tuple[str, ...]
    renamed: Mapping[str, str] = field(default_factory=dict)  # record field → column, if not equal

    def column(self, name: str) -> str:
        return self.renamed.get(name, name)

    @property
    def fields(self) -> tuple[str, ...]:
        return FIELDS[self.kind]

    @property
    def key(self) -> tuple[str, ...]:
        return KEYS[self.kind]

    def values(self, row: RegisterRow) -> dict[str, Any]:
        """The row's fields under the record's names."""
        return {name: getattr(row, self.column(name)) for name in self.fields}


REGISTERS: dict[str, Register] = {
    "staff": Register("staff", StaffRow, ("id",), {"start": "start_date", "end": "end_date"}),
    "submissions": Register("submissions", ReportSubmissionRow, ("id",)),
    "emergencies": Register("emergencies", EmergencyRow, ("started_at", "id")),
}


@dataclass(frozen=True)
class Recorded:
    """What registering one record did: ``created``, ``updated`` (``before`` holds the changed
    fields' previous values) or ``duplicate`` (the row already said the same)."""

    status: str
    row: RegisterRow
    before: dict[str, Any] | None = None


class KpiRegisters:
    def __init__(self, store: Store):
        self.store = store

    async def rows(self, kind: str) -> list[RegisterRow]:
        reg = REGISTERS[kind]
        order = [getattr(reg.row, c) for c in reg.order]
        async with self.store.sessions() as s:
            return list((await s.scalars(select(reg.row).order_by(*order))).all())

    async def record(self, kind: str, record: Record, tx: Session) -> Recorded:
        """Store ``record`` in ``tx`` by its key (see :class:`Recorded`); what it leaves unstated
        keeps the stored value, or takes the default in a new row."""
        reg = REGISTERS[kind]
        given = values_of(record)
        where = [getattr(reg.row, reg.column(k)) == given[k] for k in reg.key]
        row = await tx.scalar(select(reg.row).where(*where))
        if row is None:
            values = {k: DEFAULTS[kind].get(k) if v is None else v for k, v in given.items()}
            row = reg.row(**{reg.column(k): v for k, v in values.items()}, recorded_at=utcnow())
            tx.add(row)
            try:
                await tx.flush()
            except IntegrityError:
                raise ConflictError(
                    f"{kind} {_key_text(reg, given)} 正由他人同时登记 / was registered by "
                    "someone else at the same moment; try again"
                ) from None
            return Recorded("created", row)
        stored = reg.values(row)  # a field the record leaves unstated (None) keeps its value
        changed = {k for k in reg.fields if given[k] is not None and stored[k] != given[k]}
        if not changed:
            return Recorded("duplicate", row)
        for name in changed:
            setattr(row, reg.column(name), given[name])
        row.recorded_at = utcnow()
        await tx.flush()
        return Recorded("updated", row, {k: stored[k] for k in sorted(changed)})


def key_text(kind: str, record: Record) -> str:
    """The record's key as one line (an audit target, a message)."""
    return _key_text(REGISTERS[kind], values_of(record))


def _key_text(reg: Register, values: Mapping[str, Any]) -> str:
    return " ".join(_show(values[k]) for k in reg.key)


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


__all__ = ["REGISTERS", "KpiRegisters", "Recorded", "Register", "RegisterRow", "key_text"]
