"""The KPI registers written by a person: the permission check, the row and its audit row in one
transaction (like :mod:`noc.store.operator_acts` for incidents).

The console's register forms act through here. The rules of a row are those of
:class:`noc.store.kpi_registers.KpiRegisters` (the CLI's path): a last day before the first, an
unknown emergency kind or a response before the start is refused with the reason. A refusal —
too little role, a bad value — rolls back and leaves one ``refused`` audit row
(:meth:`noc.store.audit_log.AuditLog.acting`); an act through an API token marks it used.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from noc.core.errors import InputError, NocError
from noc.identity.actor import Actor, require
from noc.identity.audit import AuditEntry
from noc.identity.roles import DEFAULT_TABLE, PermissionTable
from noc.store.api_tokens import TokenRepo
from noc.store.audit_log import Act, AuditLog
from noc.store.kpi_registers import EMERGENCY_KINDS
from noc.store.repo import Store
from noc.store.tables_kpi import EmergencyRow, ReportSubmissionRow, StaffRow
from noc.store.types import utcnow

WRITE = "ingest"  # "feed calls, tickets and registers" (noc.identity.roles)
ACTIONS: dict[str, str] = {
    "register.staff.add": WRITE,
    "register.emergency.add": WRITE,
    "register.submission.add": WRITE,
}
"""audit action → the permission it needs."""
PERIOD = re.compile(r"^\d{4}-(\d{2}|\d{2}-\d{2}|W\d{2})$")  # 2026-10, 2026-10-31, 2026-W44


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def staff_audit(row: StaffRow) -> dict[str, Any]:
    return {
        "person": row.person,
        "post": row.post,
        "start": _iso(row.start_date),
        "end": _iso(row.end_date),
        "note": row.note,
    }


def emergency_audit(row: EmergencyRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "title": row.title,
        "started_at": _iso(row.started_at),
        "responded_at": _iso(row.responded_at),
        "ended_at": _iso(row.ended_at),
        "force_majeure": row.force_majeure,
    }


def submission_audit(row: ReportSubmissionRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "period": row.period,
        "submitted_at": _iso(row.submitted_at),
        "due_at": _iso(row.due_at),
        "corrected": row.corrected,
        "note": row.note,
    }


class RegisterActs:
    def __init__(self, store: Store, table: PermissionTable = DEFAULT_TABLE):
        self.store = store
        self.table = table
        self.audit = AuditLog(store)
        self.tokens = TokenRepo(store)

    async def _add(self, actor: Actor, action: str, target: str, build, describe) -> Any:  # noqa: ANN001
        async with self.audit.acting(actor, action, target) as act:
            require(actor, ACTIONS[action], self.table)
            row = build()
            act.tx.add(row)
            await act.tx.flush()
            act.target = f"{target}:{row.id}"
            act.after = describe(row)
            await self._mark_token(actor, act)
        return row

    async def _mark_token(self, actor: Actor, act: Act) -> None:
        if actor.credential and actor.credential.startswith("token:"):
            await self.tokens.mark_used(act.tx, int(actor.credential.split(":", 1)[1]), utcnow())

    async def refused(self, actor: Actor, action: str, target: str, exc: NocError) -> None:
        """Record an attempt refused before its act began (a form value that cannot be read)."""
        async with self.store.transaction() as tx:
            await self.audit.append(
                tx, AuditEntry.by(actor, action, target, outcome="refused", reason=exc.message)
            )

    async def add_staff(
        self,
        actor: Actor,
        person: str,
        post: str,
        start: dt.date,
        end: dt.date | None = None,
        note: str | None = None,
    ) -> StaffRow:
        def build() -> StaffRow:
            if not person.strip() or not post.strip():
                raise InputError("person and post are required")
            if end is not None and end < start:
                raise InputError(f"{person}: the last day {end} is before the first {start}")
            return StaffRow(
                person=person.strip(),
                post=post.strip(),
                start_date=start,
                end_date=end,
                note=note or None,
                recorded_at=utcnow(),
            )

        return await self._add(actor, "register.staff.add", "staff", build, staff_audit)

    async def add_emergency(
        self,
        actor: Actor,
        kind: str,
        started_at: dt.datetime,
        *,
        title: str = "",
        responded_at: dt.datetime | None = None,
        ended_at: dt.datetime | None = None,
        force_majeure: bool = False,
    ) -> EmergencyRow:
        def build() -> EmergencyRow:
            if kind not in EMERGENCY_KINDS:
                raise InputError(
                    f"unknown emergency kind {kind!r}; use {', '.join(EMERGENCY_KINDS)}"
                )
            if responded_at is not None and responded_at < started_at:
                raise InputError("responded before it started")
            if ended_at is not None and ended_at < started_at:
                raise InputError("ended before it started")
            return EmergencyRow(
                kind=kind,
                title=title,
                started_at=started_at,
                responded_at=responded_at,
                ended_at=ended_at,
                force_majeure=force_majeure,
                recorded_at=utcnow(),
            )

        return await self._add(actor, "register.emergency.add", "emergency", build, emergency_audit)

    async def add_submission(
        self,
        actor: Actor,
        kind: str,
        period: str,
        submitted_at: dt.datetime,
        *,
        due_at: dt.datetime | None = None,
        corrected: bool = False,
        note: str | None = None,
    ) -> ReportSubmissionRow:
        def build() -> ReportSubmissionRow:
            if not kind.strip() or not period.strip():
                raise InputError("kind and period are required")
            if not PERIOD.match(period.strip()):
                raise InputError(
                    f"period {period!r}: use the period the report covers, e.g. 2026-10 "
                    "(month), 2026-W44 (week) or 2026-10-31 (day)"
                )
            return ReportSubmissionRow(
                kind=kind.strip(),
                period=period.strip(),
                submitted_at=submitted_at,
                due_at=due_at,
                corrected=corrected,
                note=note or None,
                recorded_at=utcnow(),
            )

        return await self._add(
            actor, "register.submission.add", "submission", build, submission_audit
        )
