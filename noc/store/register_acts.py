"""The register acts: enter staff spells, report submissions and emergencies, audited.

Shared by the API and the CLI (as :mod:`noc.store.operator_acts` is for incidents), so both
need the same permission (``register.write``: a lead, see docs/security.md) and leave the same
audit rows (:data:`ACTIONS`): one per record entered (``staff.add``, ``report.submit``,
``emergency.add``; ``before`` holds what an update changed) and one per file imported
(``*.import``: what it created and updated, how many rows were repeats or had problems). A
refused attempt — too little role, an unbound OS account, a file that cannot be read — leaves a
``refused`` row with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from noc.core.errors import NocError
from noc.identity.actor import Actor, require
from noc.identity.policy import SecurityPolicy
from noc.ingest.registers import Record
from noc.store.kpi_registers import REGISTERS, KpiRegisters, Recorded, RegisterRow, key_text
from noc.store.operator_acts import acting, record_refusal
from noc.store.repo import Store

PERMISSION = "register.write"

ACTIONS: dict[str, tuple[str, str]] = {
    "staff": ("staff.add", "staff.import"),
    "submissions": ("report.submit", "report.import"),
    "emergencies": ("emergency.add", "emergency.import"),
}
"""register → (the audit action of one record, of a file)."""


def row_audit(kind: str, row: RegisterRow) -> dict[str, Any]:
    """What an audit row keeps of a register row: its id and fields."""
    return {"id": row.id, **{k: _plain(v) for k, v in REGISTERS[kind].values(row).items()}}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


@dataclass
class Imported:
    """What a file import did (the records' results in file order)."""

    results: list[Recorded] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


class RegisterActs:
    def __init__(self, store: Store, policy: SecurityPolicy | None = None):
        self.store = store
        self.table = (policy or SecurityPolicy()).permissions
        self.registers = KpiRegisters(store)

    def check(self, actor: Actor) -> None:
        """Refuse now an actor who may not enter registers (before reading a file for them)."""
        require(actor, PERMISSION, self.table)

    async def record(self, actor: Actor, kind: str, record: Record) -> Recorded:
        """Enter one record (created, updated, or a duplicate that changes nothing)."""
        action = ACTIONS[kind][0]
        target = f"{kind}:{key_text(kind, record)}"
        async with acting(self.store, actor, action, PERMISSION, target, self.table) as act:
            done = await self.registers.record(kind, record, act.tx)
            act.target = f"{kind}:{done.row.id}"
            act.before = (
                None if done.before is None else {k: _plain(v) for k, v in done.before.items()}
            )
            act.after = {"status": done.status, **row_audit(kind, done.row)}
        return done

    async def import_records(
        self, actor: Actor, kind: str, records: Sequence[Record], source: str, problems: int = 0
    ) -> Imported:
        """Enter a file's valid records in one transaction, with one audit row for the file."""
        action = ACTIONS[kind][1]
        out = Imported()
        async with acting(self.store, actor, action, PERMISSION, source, self.table) as act:
            for record in records:
                out.results.append(await self.registers.record(kind, record, act.tx))
            act.after = {
                "rows": len(records) + problems,
                "created": [row_audit(kind, r.row) for r in out.results if r.status == "created"],
                "updated": [
                    {
                        "before": {k: _plain(v) for k, v in (r.before or {}).items()},
                        "after": row_audit(kind, r.row),
                    }
                    for r in out.results
                    if r.status == "updated"
                ],
                "duplicates": out.count("duplicate"),
                "problems": problems,
            }
        return out

    async def refused(self, actor: Actor, action: str, target: str, exc: NocError) -> None:
        """Record an attempt refused before its act began (a file that cannot be read)."""
        await record_refusal(self.store, actor, action, target, exc)


__all__ = ["ACTIONS", "PERMISSION", "Imported", "RegisterActs", "row_audit"]
