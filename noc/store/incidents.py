"""Incidents in the store: the engine's changes and the operators' actions, as timeline events.

Every method appends to ``incident_events`` and updates the ``incidents`` projection in the
same transaction, so the two never disagree. Operator actions are refused with a reason the
API and CLI show as-is: ``IncidentNotFound`` (no such incident: 404) and ``IncidentConflict``
(the action does not fit the incident's status: 409), both an ``IncidentError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from noc.core.errors import ConflictError, InputError, NocError, NotFoundError
from noc.core.time import from_epoch
from noc.core.vocabulary import LEVELS, more_severe
from noc.engine.incidents import ActiveIncident, Change
from noc.store.repo import Store
from noc.store.tables import Incident, IncidentEvent
from noc.store.types import utcnow

ACTIVE = ("open", "acknowledged")


class IncidentError(NocError):
    """An operator action refused; which subclass says how the edges answer."""


class IncidentNotFound(IncidentError, NotFoundError):
    """No incident with that id."""


class IncidentConflict(IncidentError, ConflictError):
    """The action does not fit the incident's status (closing an open incident …)."""


class IncidentRequestError(IncidentError, InputError):
    """The action itself is incomplete (closing without a cause)."""


class IncidentRepo:
    def __init__(self, store: Store, site: str):
        self.store = store
        self.site = site

    # -- engine side ---------------------------------------------------------------------

    async def apply(
        self,
        changes: Iterable[Change],
        book_active: dict[str, ActiveIncident],
        closed: dict[str, ActiveIncident] | None = None,
    ) -> list[int]:
        """Persist the engine's changes; fill in ids of newly opened incidents. Returns touched ids."""
        touched: list[int] = []
        async with self.store.timeline_writer() as session:
            for change in changes:
                incident_id = await self._apply_one(session, change, book_active, closed or {})
                if incident_id is not None:
                    touched.append(incident_id)
        return touched

    async def _apply_one(
        self,
        session: AsyncSession,
        change: Change,
        active: dict[str, ActiveIncident],
        gone: dict[str, ActiveIncident],
    ) -> int | None:
        at = from_epoch(change.at)
        data = dict(change.data)
        if change.kind == "opened":
            inc = active[change.key]
            row = Incident(
                site=self.site,
                fault_key=change.key,
                fault_type=inc.type,
                root_asset=inc.root_asset,
                title=inc.type,
                severity=inc.severity,
                peak_severity=inc.peak_severity,
                status="open",
                runbook=data.get("runbook"),
                fault_started_at=from_epoch(inc.fault_started_at),
                detected_at=at,
                impact=_impact_json(inc),
            )
            session.add(row)
            await session.flush()
            inc.id = row.id
            await self.store.append_incident_event(session, row.id, "opened", at, data=data)
            await self.store.append_incident_event(
                session, row.id, "graded", at, data={"severity": inc.severity, "impact": inc.impact}
            )
            return row.id
        row = await self._active_row(session, change.key, data.get("id"))
        if row is None:
            return None
        if change.kind == "regraded":
            row.severity = data["to"]
            row.peak_severity = more_severe(row.peak_severity, data["to"])
        elif change.kind == "merged":
            row.status, row.closed_at = "closed", at
            row.close_note = f"merged into {data.get('into')}"
        elif change.kind == "recovered":
            if await self._has_intervention(session, row.id):
                data["recovery_kind"] = "manual"
            row.status, row.recovered_at, row.recovery_kind = "recovered", at, data["recovery_kind"]
            if data.get("checks"):  # held open by flapping: the checks whose DOWN was measured
                row.impact = {**(row.impact or {}), "checks": data["checks"]}
        inc = active.get(change.key) or gone.get(change.key)
        if inc is not None and change.kind in (
            "members_changed",
            "symptom_attached",
            "symptom_detached",
            "regraded",
        ):
            row.impact = _impact_json(inc)
        await self.store.append_incident_event(session, row.id, change.kind, at, data=data)
        return row.id

    async def _active_row(
        self, session: AsyncSession, key: str, incident_id: int | None
    ) -> Incident | None:
        if incident_id is not None:
            row = await session.get(Incident, incident_id)
            if row is not None and row.status in ACTIVE:
                return row
        return await session.scalar(
            select(Incident).where(Incident.fault_key == key, Incident.status.in_(ACTIVE))
        )

    async def load_active(self) -> list[ActiveIncident]:
        """Active incidents as the engine keeps them, for a restart."""
        async with self.store.sessions() as session:
            rows = (
                await session.scalars(
                    select(Incident).where(Incident.status.in_(ACTIVE)).order_by(Incident.id)
                )
            ).all()
        out = []
        for row in rows:
            impact = row.impact or {}
            out.append(
                ActiveIncident(
                    key=row.fault_key,
                    type=row.fault_type,
                    root_asset=row.root_asset,
                    fault_class=impact.get("fault_class", "outage"),
                    severity=row.severity,
                    peak_severity=row.peak_severity,
                    impact=impact.get("impact", "none"),
                    fault_started_at=row.fault_started_at.timestamp(),
                    detected_at=row.detected_at.timestamp(),
                    members=set(impact.get("members", [])),
                    symptoms={},
                    services=impact.get("services", []),
                    status=row.status,
                    id=row.id,
                    checks={tuple(c) for c in impact.get("checks", []) if len(c) == 2},
                )
            )
        return out

    async def active_ids(self) -> set[int]:
        async with self.store.sessions() as session:
            return set(
                (
                    await session.scalars(select(Incident.id).where(Incident.status.in_(ACTIVE)))
                ).all()
            )

    async def _has_intervention(self, session: AsyncSession, incident_id: int) -> bool:
        events = (
            await session.scalars(
                select(IncidentEvent).where(
                    IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "step_done"
                )
            )
        ).all()
        return any(e.data.get("intervention") for e in events)

    # -- alerting side -------------------------------------------------------------------

    async def escalate(
        self,
        due: Callable[[Incident], list[dict[str, Any]]],
        at: dt.datetime,
        actor: str,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Record due escalations as ``escalated`` events, each (reason, notify, after) once.

        One timeline transaction with the active incidents locked (``FOR UPDATE``), so an
        operator's acknowledgement cannot slip in between deciding and recording. ``due`` says
        what is due for one incident (pure; ``[]`` when nothing is). Returns (incident id, data)
        of the escalations recorded.
        """
        recorded: list[tuple[int, dict[str, Any]]] = []
        async with self.store.timeline_writer() as session:
            active = (
                await session.scalars(
                    select(Incident).where(Incident.status.in_(ACTIVE)).with_for_update()
                )
            ).all()
            for incident in active:
                wanted = due(incident)
                if not wanted:
                    continue
                done = {
                    (e.data.get("reason"), e.data.get("notify"), e.data.get("after"))
                    for e in (
                        await session.scalars(
                            select(IncidentEvent).where(
                                IncidentEvent.incident_id == incident.id,
                                IncidentEvent.kind == "escalated",
                            )
                        )
                    ).all()
                }
                for data in wanted:
                    if (data["reason"], data["notify"], data["after"]) in done:
                        continue
                    await self.store.append_incident_event(
                        session, incident.id, "escalated", at, actor, data
                    )
                    recorded.append((incident.id, data))
        return recorded

    # -- operator side -------------------------------------------------------------------

    async def get(self, incident_id: int) -> Incident:
        async with self.store.sessions() as session:
            row = await session.get(Incident, incident_id)
        if row is None:
            raise IncidentNotFound(f"no incident #{incident_id}")
        return row

    async def by_ids(self, ids: Iterable[int]) -> dict[int, Incident]:
        """The incidents with these ids (missing ones left out), by id."""
        async with self.store.sessions() as session:
            rows = (await session.scalars(select(Incident).where(Incident.id.in_(set(ids))))).all()
        return {row.id: row for row in rows}

    async def list(self, status: str | None = None, limit: int = 100) -> list[Incident]:
        query = select(Incident).order_by(Incident.id.desc()).limit(limit)
        if status == "active":
            query = query.where(Incident.status.in_(ACTIVE))
        elif status is not None:
            query = query.where(Incident.status == status)
        async with self.store.sessions() as session:
            return list((await session.scalars(query)).all())

    async def events(self, incident_id: int) -> list[IncidentEvent]:
        return await self.store.incident_events(incident_id)

    @asynccontextmanager
    async def _locked(
        self,
        incident_id: int,
        allowed: tuple[str, ...],
        action: str,
        tx: AsyncSession | None = None,
    ):
        """The incident row, locked, in a transaction that commits on success: the caller's
        (``tx``, from ``Store.transaction``: the audited act) or a timeline writer of its own."""
        async with _timeline(self.store, tx) as session:
            row = await session.get(Incident, incident_id, with_for_update=True)
            if row is None:
                raise IncidentNotFound(f"no incident #{incident_id}")
            if row.status not in allowed:
                raise IncidentConflict(
                    f"cannot {action} incident #{incident_id}: it is {row.status}"
                )
            yield session, row

    async def acknowledge(
        self,
        incident_id: int,
        who: str,
        note: str = "",
        at: dt.datetime | None = None,
        tx: AsyncSession | None = None,
    ) -> Incident:
        at = at or utcnow()
        async with self._locked(incident_id, ("open",), "acknowledge", tx) as (session, row):
            row.status, row.acknowledged_at, row.acknowledged_by = "acknowledged", at, who
            await self.store.append_incident_event(
                session, row.id, "acknowledged", at, who, {"note": note}
            )
        return row

    async def step_done(
        self,
        incident_id: int,
        step: str,
        who: str,
        output: str = "",
        intervention: bool = False,
        at: dt.datetime | None = None,
        data: dict[str, Any] | None = None,
        tx: AsyncSession | None = None,
    ) -> Incident:
        at = at or utcnow()
        async with self._locked(
            incident_id, ("open", "acknowledged", "recovered"), "record a step on", tx
        ) as (session, row):
            await self.store.append_incident_event(
                session,
                row.id,
                "step_done",
                at,
                who,
                {"step": step, "output": output, "intervention": intervention, **(data or {})},
            )
        return row

    async def resolve(
        self,
        incident_id: int,
        who: str,
        note: str,
        at: dt.datetime | None = None,
        tx: AsyncSession | None = None,
    ) -> Incident:
        """An operator declares the fault fixed by hand: recovered, kind manual."""
        at = at or utcnow()
        async with self._locked(incident_id, ACTIVE, "resolve", tx) as (session, row):
            row.status, row.recovered_at, row.recovery_kind = "recovered", at, "manual"
            await self.store.append_incident_event(
                session, row.id, "resolved", at, who, {"note": note}
            )
            await self.store.append_incident_event(
                session, row.id, "recovered", at, who, {"recovery_kind": "manual", "by": "operator"}
            )
        return row

    async def regrade(
        self,
        incident_id: int,
        who: str,
        level: str,
        note: str,
        at: dt.datetime | None = None,
        tx: AsyncSession | None = None,
    ) -> Incident:
        """A lead sets the level by hand (with a reason): a ``regraded`` event by that person.
        The engine regrades again only when the impact it sees changes."""
        if not note.strip():
            raise IncidentRequestError("regrading an incident needs a reason")
        if level not in LEVELS:
            raise IncidentRequestError(f"level must be one of {', '.join(LEVELS)}")
        at = at or utcnow()
        allowed = ("open", "acknowledged", "recovered")
        async with self._locked(incident_id, allowed, "regrade", tx) as (session, row):
            if row.severity == level:
                raise IncidentConflict(f"incident #{incident_id} is already level {level}")
            before = row.severity
            row.severity = level
            row.peak_severity = more_severe(row.peak_severity, level)
            await self.store.append_incident_event(
                session,
                row.id,
                "regraded",
                at,
                who,
                {"from": before, "to": level, "peak": row.peak_severity, "note": note},
            )
        return row

    async def close(
        self,
        incident_id: int,
        who: str,
        note: str,
        at: dt.datetime | None = None,
        tx: AsyncSession | None = None,
    ) -> Incident:
        if not note.strip():
            raise IncidentRequestError("closing an incident needs a cause note")
        at = at or utcnow()
        async with self._locked(incident_id, ("recovered",), "close", tx) as (session, row):
            row.status, row.closed_at, row.close_note = "closed", at, note
            await self.store.append_incident_event(
                session, row.id, "closed", at, who, {"note": note}
            )
        return row


@asynccontextmanager
async def _timeline(store: Store, tx: AsyncSession | None) -> AsyncIterator[AsyncSession]:
    if tx is not None:  # the caller's Store.transaction() holds the timeline lock already
        yield tx
        return
    async with store.timeline_writer() as session:
        yield session


def _impact_json(inc: ActiveIncident) -> dict[str, Any]:
    return {
        "impact": inc.impact,
        "fault_class": inc.fault_class,
        "members": sorted(inc.members),
        "checks": sorted(inc.checks),  # (asset, check) of its faults: whose DOWN is this incident
        "services": inc.services,
        "symptoms": [
            {"fault": f.key, "asset": f.asset, "type": f.type} for f in inc.symptoms.values()
        ],
    }
