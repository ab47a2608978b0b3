"""Maintenance windows in the store: planned work, recorded and kept (the SLA reads them all).

A window is never deleted: ending it early sets ``ended_at`` (and a window cancelled before it
began shrinks to zero length), so a month's report can still see what was planned. A window
mutes alerts from the moment it is created; it reduces SLA downtime only once a second person
approved it (``approved_by``, ``approved_at``; who may is the caller's rule,
:mod:`noc.store.operator_acts`).

Writes take the caller's transaction (``tx``) when given, so the audit row of the act commits
with them; without one they open their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from noc.core.errors import ConflictError, NotFoundError
from noc.store.tables import MaintenanceWindow
from noc.store.types import utcnow

if TYPE_CHECKING:
    from noc.store.repo import Store


class MaintenanceRepo:
    def __init__(self, store: Store):
        self.store = store

    @asynccontextmanager
    async def _writing(self, tx: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if tx is not None:
            yield tx
            return
        async with self.store.sessions.begin() as session:
            yield session

    async def add(
        self,
        *,
        site: str,
        assets: list[str],
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        reason: str = "",
        created_by: str = "",
        tx: AsyncSession | None = None,
    ) -> MaintenanceWindow:
        if ends_at <= starts_at:
            raise ValueError("a maintenance window must end after it starts")
        row = MaintenanceWindow(
            site=site,
            assets=sorted(assets),
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            created_by=created_by,
            created_at=utcnow(),
        )
        async with self._writing(tx) as session:
            session.add(row)
            await session.flush()
        return row

    async def _locked(self, session: AsyncSession, window_id: int) -> MaintenanceWindow:
        row = await session.get(MaintenanceWindow, window_id, with_for_update=True)
        if row is None:
            raise NotFoundError(f"no maintenance window #{window_id}")
        return row

    async def get(self, window_id: int, tx: AsyncSession | None = None) -> MaintenanceWindow:
        """The window, locked for update inside ``tx``; NotFoundError when there is none."""
        async with self._writing(tx) as session:
            return await self._locked(session, window_id)

    async def end(
        self, window_id: int, at: dt.datetime | None = None, tx: AsyncSession | None = None
    ) -> MaintenanceWindow:
        """End a window early (planned work finished); its record stays for the SLA."""
        at = at or utcnow()
        async with self._writing(tx) as session:
            row = await self._locked(session, window_id)
            if row.ended_at is not None or row.ends_at <= at:
                raise ConflictError(f"maintenance window #{window_id} has already ended")
            if row.starts_at > at:  # cancelled before it began: keep it, as a zero-length window
                row.ends_at = row.starts_at
            row.ended_at = at
        return row

    async def approve(
        self,
        window_id: int,
        approver: str,
        at: dt.datetime | None = None,
        tx: AsyncSession | None = None,
    ) -> MaintenanceWindow:
        """Record the second person's approval: from now on the window counts for the SLA."""
        at = at or utcnow()
        async with self._writing(tx) as session:
            row = await self._locked(session, window_id)
            if row.approved_at is not None:
                raise ConflictError(
                    f"维护窗口 #{window_id} 已由 {row.approved_by} 审批 / maintenance window "
                    f"#{window_id} was already approved by {row.approved_by}"
                )
            row.approved_by, row.approved_at = approver, at
        return row

    async def windows(self, *, active_at: dt.datetime | None = None) -> list[MaintenanceWindow]:
        """Every window by start (or only those in force at ``active_at``)."""
        query = select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at)
        if active_at is not None:
            query = query.where(
                MaintenanceWindow.starts_at <= active_at,
                MaintenanceWindow.ends_at > active_at,
                MaintenanceWindow.ended_at.is_(None),
            )
        async with self.store.sessions() as session:
            return list((await session.scalars(query)).all())
