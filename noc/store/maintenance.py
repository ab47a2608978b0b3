"""Maintenance windows in the store: planned work, recorded and kept (the SLA reads them all).

A window is never deleted: ending it early sets ``ended_at`` (and a window cancelled before it
began shrinks to zero length), so a month's report can still see what was planned.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select

from noc.core.errors import ConflictError, NotFoundError
from noc.store.tables import MaintenanceWindow
from noc.store.types import utcnow

if TYPE_CHECKING:
    from noc.store.repo import Store


class MaintenanceRepo:
    def __init__(self, store: Store):
        self.store = store

    async def add(
        self,
        *,
        site: str,
        assets: list[str],
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        reason: str = "",
        created_by: str = "",
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
        async with self.store.sessions.begin() as session:
            session.add(row)
        return row

    async def end(self, window_id: int, at: dt.datetime | None = None) -> MaintenanceWindow:
        """End a window early (planned work finished); its record stays for the SLA."""
        at = at or utcnow()
        async with self.store.sessions.begin() as session:
            row = await session.get(MaintenanceWindow, window_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no maintenance window #{window_id}")
            if row.ended_at is not None or row.ends_at <= at:
                raise ConflictError(f"maintenance window #{window_id} has already ended")
            if row.starts_at > at:  # cancelled before it began: keep it, as a zero-length window
                row.ends_at = row.starts_at
            row.ended_at = at
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
