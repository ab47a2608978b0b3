"""The KPI registers' repository: staff spells, report submissions, emergencies (add, list)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from noc.core.errors import InputError
from noc.store.repo import Store
from noc.store.tables_kpi import EmergencyRow, ReportSubmissionRow, StaffRow
from noc.store.types import utcnow

EMERGENCY_KINDS = ("typhoon", "power_cut", "call_surge", "network", "other")


class KpiRegisters:
    def __init__(self, store: Store):
        self.store = store

    async def add_staff(
        self, person: str, post: str, start: dt.date, end: dt.date | None = None, note=None
    ) -> StaffRow:
        if end is not None and end < start:
            raise InputError(f"{person}: the last day {end} is before the first {start}")
        row = StaffRow(
            person=person,
            post=post,
            start_date=start,
            end_date=end,
            note=note,
            recorded_at=utcnow(),
        )
        async with self.store.sessions.begin() as s:
            s.add(row)
        return row

    async def add_submission(
        self,
        kind: str,
        period: str,
        submitted_at: dt.datetime,
        *,
        due_at=None,
        corrected: bool = False,
        note=None,
    ) -> ReportSubmissionRow:
        row = ReportSubmissionRow(
            kind=kind,
            period=period,
            submitted_at=submitted_at,
            due_at=due_at,
            corrected=corrected,
            note=note,
            recorded_at=utcnow(),
        )
        async with self.store.sessions.begin() as s:
            s.add(row)
        return row

    async def add_emergency(
        self,
        kind: str,
        started_at: dt.datetime,
        *,
        title: str = "",
        responded_at=None,
        ended_at=None,
        force_majeure: bool = False,
    ) -> EmergencyRow:
        if kind not in EMERGENCY_KINDS:
            raise InputError(f"unknown emergency kind {kind!r}; use {', '.join(EMERGENCY_KINDS)}")
        if responded_at is not None and responded_at < started_at:
            raise InputError("responded before it started")
        row = EmergencyRow(
            kind=kind,
            title=title,
            started_at=started_at,
            responded_at=responded_at,
            ended_at=ended_at,
            force_majeure=force_majeure,
            recorded_at=utcnow(),
        )
        async with self.store.sessions.begin() as s:
            s.add(row)
        return row

    async def staff(self) -> list[StaffRow]:
        async with self.store.sessions() as s:
            return list((await s.scalars(select(StaffRow).order_by(StaffRow.id))).all())

    async def submissions(self) -> list[ReportSubmissionRow]:
        async with self.store.sessions() as s:
            q = select(ReportSubmissionRow).order_by(ReportSubmissionRow.id)
            return list((await s.scalars(q)).all())

    async def emergencies(self) -> list[EmergencyRow]:
        async with self.store.sessions() as s:
            q = select(EmergencyRow).order_by(EmergencyRow.started_at)
            return list((await s.scalars(q)).all())
