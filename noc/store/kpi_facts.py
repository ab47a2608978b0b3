"""The store's rows → :class:`kpi.model.Facts` for one window (with the look-back the
indicators need: callbacks, ratings and rulings of earlier tickets, staff history)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import case, null, select

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

LOOK_BACK = dt.timedelta(days=400)
DATA_KINDS = ("rated",)  # the events whose data an indicator reads (satisfaction); others: kind, at
CALL_COLUMNS = (
    CallRow.source,
    CallRow.call_id,
    CallRow.entered_at,
    CallRow.started_at,
    CallRow.outcome,
    CallRow.wait_seconds,
    CallRow.agent,
)
TICKET_COLUMNS = (
    TicketRow.id,
    TicketRow.ticket_no,
    TicketRow.created_at,
    TicketRow.type,
    TicketRow.channel,
    TicketRow.town,
    TicketRow.agent,
    TicketRow.instant_answer,
    TicketRow.kb_entry,
)  # a ticket taken a year ago may be closed or rated now


def _service_names(services) -> tuple[str, ...]:  # noqa: ANN001 - the impact's JSON
    """The names in an incident impact's ``services`` (``{"service": name, …}`` as the engine
    records them, or plain names)."""
    out = []
    for entry in services or ():
        name = entry if isinstance(entry, str) else (entry or {}).get("service")
        if name and name not in out:
            out.append(str(name))
    return tuple(out)


async def load_facts(store: Store, start: dt.datetime, end: dt.datetime) -> Facts:
    lo, hi = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
    since = start - LOOK_BACK
    async with store.sessions() as s:
        # plain columns, not ORM objects: a month is some 10,000 calls and 40,000 ticket events
        calls = (
            await s.execute(
                select(*CALL_COLUMNS).where(
                    CallRow.started_at >= lo - dt.timedelta(days=1), CallRow.started_at < hi
                )
            )
        ).all()
        tickets = (
            await s.execute(
                select(*TICKET_COLUMNS).where(
                    TicketRow.created_at >= since, TicketRow.created_at < hi
                )
            )
        ).all()
        events: dict[int, list[TicketEvent]] = defaultdict(list)
        query = (
            select(
                TicketEventRow.ticket_id,
                TicketEventRow.kind,
                TicketEventRow.at,
                case(
                    (TicketEventRow.kind.in_(DATA_KINDS), TicketEventRow.data), else_=null()
                ).label("data"),
            )
            .join(TicketRow, TicketRow.id == TicketEventRow.ticket_id)
            .where(TicketRow.created_at >= since, TicketRow.created_at < hi, TicketEventRow.at < hi)
        )
        for e in (await s.execute(query)).all():
            events[e.ticket_id].append(TicketEvent(e.kind, e.at, dict(e.data or {})))
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
        calls=tuple(
            Call(
                f"{c.source}/{c.call_id}",
                c.entered_at or c.started_at,
                c.outcome,
                c.wait_seconds,
                c.agent,
            )
            for c in calls
        ),
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
        staff=tuple(
            StaffSpell(str(r.id), r.person, r.post, r.start_date, r.end_date) for r in staff
        ),
        submissions=tuple(
            Submission(str(r.id), r.kind, r.period, r.submitted_at, r.corrected, r.due_at)
            for r in subs
        ),
        emergencies=tuple(
            Emergency(str(r.id), r.kind, r.started_at, r.responded_at, r.force_majeure) for r in ems
        ),
        faults=tuple(
            Fault(
                str(i.id),
                i.fault_started_at,
                i.detected_at,
                i.acknowledged_at,
                i.recovered_at,
                i.peak_severity,
                _service_names((i.impact or {}).get("services")),
                i.title,
            )
            for i in incidents
        ),
    )
