"""What the SLA reads from the store for a span: four queries, one session.

Everything that can touch ``[start, end)``: the incidents overlapping it, their opened / graded /
regraded / merged / members_changed events, the check transitions inside it (with their
``details``: a flapping flag) plus each check's last one before it (its state at ``start``), and the maintenance windows overlapping it (read up to
``planned_until``: planned work still to come shapes a period's error budget). The SLA turns
these rows into its facts (:mod:`sla.facts`); nothing here computes a figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select

from noc.store.tables import CheckTransition, Incident, IncidentEvent, MaintenanceWindow

if TYPE_CHECKING:
    from noc.store.repo import Store

# members_changed: when each phone of a grouped incident joined and left (issue 11, 9d)
# step_done: a step whose intervention flag was overridden is listed in the report (issue 12)
FACT_EVENT_KINDS = ("opened", "graded", "regraded", "merged", "members_changed", "step_done")


@dataclass(frozen=True)
class EventRow:
    """The part of an incident event the SLA needs."""

    incident_id: int
    kind: str
    at: dt.datetime
    data: dict[str, Any] | None


@dataclass(frozen=True)
class SlaRows:
    incidents: list[Incident]  # by id
    events: list[EventRow]  # by incident, then seq
    transitions: list[CheckTransition]  # by at, then id
    maintenance: list[MaintenanceWindow]


class SlaFactsRepo:
    def __init__(self, store: Store):
        self.store = store

    async def rows(
        self, start: dt.datetime, end: dt.datetime, planned_until: dt.datetime | None = None
    ) -> SlaRows:
        touching = and_(
            Incident.fault_started_at < end,
            or_(
                Incident.recovered_at >= start,
                and_(
                    Incident.recovered_at.is_(None),
                    or_(Incident.closed_at.is_(None), Incident.closed_at >= start),
                ),
            ),
        )
        ids = select(Incident.id).where(touching)
        last_before = (
            select(func.max(CheckTransition.id))
            .where(CheckTransition.at < start)
            .group_by(CheckTransition.asset, CheckTransition.check)
        )
        async with self.store.sessions() as session:
            incidents = (
                await session.scalars(select(Incident).where(touching).order_by(Incident.id))
            ).all()
            events = (
                await session.execute(
                    select(
                        IncidentEvent.incident_id,
                        IncidentEvent.kind,
                        IncidentEvent.at,
                        IncidentEvent.data,
                    )
                    .where(
                        IncidentEvent.incident_id.in_(ids),
                        IncidentEvent.kind.in_(FACT_EVENT_KINDS),
                    )
                    .order_by(IncidentEvent.incident_id, IncidentEvent.seq)
                )
            ).all()
            transitions = (
                await session.scalars(
                    select(CheckTransition)
                    .where(
                        CheckTransition.at < end,
                        or_(CheckTransition.at >= start, CheckTransition.id.in_(last_before)),
                    )
                    .order_by(CheckTransition.at, CheckTransition.id)
                )
            ).all()
            windows = (
                await session.scalars(
                    select(MaintenanceWindow).where(
                        MaintenanceWindow.starts_at < max(end, planned_until or end),
                        MaintenanceWindow.ends_at > start,
                    )
                )
            ).all()
        return SlaRows(
            incidents=list(incidents),
            events=[EventRow(i, kind, at, data) for i, kind, at, data in events],
            transitions=list(transitions),
            maintenance=list(windows),
        )
