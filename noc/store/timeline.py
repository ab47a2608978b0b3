"""The log in the store: check transitions and incident timelines, appended and read back.

Both tables are append-only (the migration's triggers refuse UPDATE and DELETE), so this
module only adds rows and reads them. An incident event is appended inside the caller's
transaction (:func:`append_event`): it belongs with the incident change that caused it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc.store.tables import CheckTransition, IncidentEvent
from noc.store.types import utcnow

if TYPE_CHECKING:
    from noc.store.repo import Store


async def append_event(
    session: AsyncSession,
    incident_id: int,
    kind: str,
    at: dt.datetime,
    actor: str | None = None,
    data: dict[str, Any] | None = None,
) -> IncidentEvent:
    """Append to an incident's timeline inside the caller's transaction (seq = last + 1)."""
    last = await session.scalar(
        select(func.max(IncidentEvent.seq)).where(IncidentEvent.incident_id == incident_id)
    )
    event = IncidentEvent(
        incident_id=incident_id,
        seq=(last or 0) + 1,
        kind=kind,
        at=at,
        recorded_at=utcnow(),
        actor=actor,
        data=data or {},
    )
    session.add(event)
    await session.flush()
    # announced to the console's live pages when a Store.timeline_writer() session commits
    session.info.setdefault("appended", []).append(
        ("incident", {"id": incident_id, "kind": kind, "seq": event.seq})
    )
    return event


class Timeline:
    """Check transitions and incident events of one store."""

    def __init__(self, store: Store):
        self.store = store

    # -- check transitions ------------------------------------------------------------------

    async def append_transition(
        self,
        *,
        site: str,
        asset: str,
        check: str,
        from_state: str,
        to_state: str,
        at: dt.datetime,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> CheckTransition:
        row = CheckTransition(
            site=site,
            asset=asset,
            check=check,
            from_state=from_state,
            to_state=to_state,
            at=at,
            recorded_at=utcnow(),
            reason=reason,
            details=details or {},
        )
        async with self.store.sessions.begin() as session:
            session.add(row)
        return row

    async def transitions(
        self,
        *,
        asset: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[CheckTransition]:
        query = select(CheckTransition).order_by(CheckTransition.at, CheckTransition.id)
        if asset is not None:
            query = query.where(CheckTransition.asset == asset)
        if since is not None:
            query = query.where(CheckTransition.at >= since)
        if until is not None:
            query = query.where(CheckTransition.at < until)
        async with self.store.sessions() as session:
            return list((await session.scalars(query)).all())

    async def last_changes(self, site: str) -> list[CheckTransition]:
        """Each check's latest real state change at ``site`` (flapping notes, which keep the
        state, do not count): what a restarted engine resumes from."""
        latest = (
            select(
                CheckTransition.asset,
                CheckTransition.check,
                func.max(CheckTransition.id).label("id"),
            )
            .where(
                CheckTransition.site == site,
                CheckTransition.from_state != CheckTransition.to_state,
            )
            .group_by(CheckTransition.asset, CheckTransition.check)
            .subquery()
        )
        async with self.store.sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(CheckTransition).join(latest, CheckTransition.id == latest.c.id)
                    )
                ).all()
            )

    # -- incident events --------------------------------------------------------------------

    async def events(self, incident_id: int) -> list[IncidentEvent]:
        """One incident's timeline, in order."""
        async with self.store.sessions() as session:
            query = (
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident_id)
                .order_by(IncidentEvent.seq)
            )
            return list((await session.scalars(query)).all())

    async def events_after(self, cursor: int) -> list[IncidentEvent]:
        """Every incident event appended after the one with id ``cursor``, in append order."""
        async with self.store.sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(IncidentEvent)
                        .where(IncidentEvent.id > cursor)
                        .order_by(IncidentEvent.id)
                    )
                ).all()
            )
