"""The store's rows → :class:`kpi.model.Facts` for one window (with the look-back the
indicators need: callbacks, ratings and rulings of earlier tickets, staff history)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select

from kpi.model import (
    Call,
    Commendation,
    Complaint,
    Emergency,
    Facts,
    Fault,
    SpotCheck,
    StaffSpell,
    Submission,
    Ticket,
    TicketEvent,
)
from noc.store.repo import Store
from noc.store.tables import Incident
from noc.store.tables_calls import (
    AgentComplaintRow,
    CallRow,
    CommendationRow,
    SpotCheckRow,
    TicketEventRow,
    TicketRow,
)
from noc.store.tables_kpi import EmergencyRow, ReportSubmissionRow, StaffRow

LOOK_BACK = dt.timedelta(days=400)  # a ticket taken a year ago may be closed or rated now


def _service_names(services) -> tuple[str, ...]:
    """The impaired services' names: the store keeps each as {service, full, impact, down}."""
    return tuple(s.get("service", "") if isinstance(s, dict) else str(s) for s in services)


def call_of(row: CallRow) -> Call:
    """One stored call as the KPI record (offered at ``entered_at``)."""
    return Call(
        f"{row.source}/{row.call_id}",
        row.entered_at or row.started_at,
        row.outcome,
        row.wait_seconds,
        row.agent,
    )


def staff_spell(row: StaffRow) -> StaffSpell:
    """One stored staff register row as the KPI record."""
    return StaffSpell(str(row.id), row.person, row.post, row.start_date, row.end_date)


async def load_facts(store: Store, start: dt.datetime, end: dt.datetime) -> Facts:
    """Calls, tickets and their events are read as plain columns (not ORM objects: a month is
    some 80,000 rows, and building an object per row took most of the time)."""
    lo, hi = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
    first_ticket = start - LOOK_BACK
    async with store.sessions() as s:
        calls = (
            await s.execute(
                select(
                    CallRow.source,
                    CallRow.call_id,
                    CallRow.entered_at,
                    CallRow.started_at,
                    CallRow.outcome,
                    CallRow.wait_seconds,
                    CallRow.agent,
                ).where(CallRow.started_at >= lo - dt.timedelta(days=1), CallRow.started_at < hi)
            )
        ).all()
        tickets = (
            await s.execute(
                select(
                    TicketRow.id,
                    TicketRow.ticket_no,
                    TicketRow.created_at,
                    TicketRow.type,
                    TicketRow.channel,
                    TicketRow.town,
                    TicketRow.agent,
                    TicketRow.instant_answer,
                    TicketRow.kb_entry,
                    TicketRow.category,
                ).where(TicketRow.created_at >= first_ticket, TicketRow.created_at < hi)
            )
        ).all()
        events: dict[int, list[TicketEvent]] = defaultdict(list)
        of_tickets = (
            select(
                TicketEventRow.ticket_id,
                TicketEventRow.kind,
                TicketEventRow.at,
                TicketEventRow.data,
            )
            .join(TicketRow, TicketRow.id == TicketEventRow.ticket_id)
            .where(
                TicketEventRow.at < hi,
                TicketRow.created_at >= first_ticket,
                TicketRow.created_at < hi,
            )
        )
        for ticket_id, kind, at, data in (await s.execute(of_tickets)).all():
            events[ticket_id].append(TicketEvent(kind, at, dict(data or {})))
        no = {t.id: t.ticket_no for t in tickets}
        checks = (await s.scalars(select(SpotCheckRow).where(SpotCheckRow.checked_at < hi))).all()
        rulings = (
            await s.scalars(select(AgentComplaintRow).where(AgentComplaintRow.ruled_at < hi))
        ).all()
        commends = (await s.scalars(select(CommendationRow))).all()
        staff = (await s.scalars(select(StaffRow))).all()
        subs = (await s.scalars(select(ReportSubmissionRow))).all()
        ems = (await s.scalars(select(EmergencyRow).where(EmergencyRow.started_at < hi))).all()
        incidents = (
            await s.scalars(
                select(Incident).where(Incident.fault_started_at < hi, Incident.parent_id.is_(None))
            )
        ).all()
    return Facts(
        calls=tuple(call_of(c) for c in calls),
        tickets=tuple(
            Ticket(
                t.ticket_no,
                t.created_at,
                t.type,
                t.channel,
                t.town,
                t.agent,
                bool(t.instant_answer),
                t.kb_entry,
                tuple(events.get(t.id, ())),
                category=t.category,
            )
            for t in tickets
        ),
        spot_checks=tuple(
            SpotCheck(str(c.id), no.get(c.ticket_id, str(c.ticket_id)), c.checked_at, c.result)
            for c in checks
        ),
        complaints=tuple(
            Complaint(
                str(c.id),
                no.get(c.ticket_id, str(c.ticket_id)),
                c.agent,
                c.ruled_at,
                bool(c.justified),
            )
            for c in rulings
        ),
        commendations=tuple(
            Commendation(str(c.id), c.agent, c.date, c.kind, no.get(c.ticket_id)) for c in commends
        ),
        staff=tuple(staff_spell(r) for r in staff),
        submissions=tuple(
            Submission(str(r.id), r.kind, r.period, r.submitted_at, r.corrected, r.due_at)
            for r in subs
        ),
        emergencies=tuple(
            Emergency(
                str(r.id), r.kind, r.started_at, r.responded_at, r.force_majeure, r.title or ""
            )
            for r in ems
        ),
        faults=tuple(
            Fault(
                str(i.id),
                i.fault_started_at,
                i.detected_at,
                i.acknowledged_at,
                i.recovered_at,
                i.peak_severity,
                _service_names((i.impact or {}).get("services", [])),
                i.title,
            )
            for i in incidents
        ),
    )
