"""The store: the engine, sessions and timeline lock every repository of :mod:`noc.store` uses.

All SQL of the service is written in :mod:`noc.store`: :class:`Store` here (connection, the
inventory's assets, and shortcuts to the log and maintenance repositories), and one repository
module per concern: :mod:`~noc.store.timeline` (transitions, incident events),
:mod:`~noc.store.incidents`, :mod:`~noc.store.notifications` (the outbox),
:mod:`~noc.store.maintenance` and :mod:`~noc.store.sla_facts`. Nothing outside builds a query.

Writes to the log tables are appends; there is deliberately no method that updates or deletes
a transition or an incident event (the database refuses it too).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from noc.config import NocConfig
from noc.core.errors import NocError, UnavailableError
from noc.core.secrets import public_spec
from noc.store import db
from noc.store.maintenance import MaintenanceRepo
from noc.store.tables import AssetRow, CheckTransition, Incident, IncidentEvent, MaintenanceWindow
from noc.store.timeline import Timeline, append_event
from noc.store.types import utcnow


@dataclass
class AssetSync:
    """What a sync of the inventory into the store changed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0


class Store:
    """Owns the engine and session factory; open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, url: str):
        self.url = url
        self.engine: AsyncEngine = db.create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._timeline_lock = asyncio.Lock()
        # counts the audited acts of this process (every change to accounts and tokens is one):
        # what was read from those tables before an act may be out of date after it
        self.acts = 0
        # told after an append to the log commits: ("transition", {...}) or ("incident", {...});
        # the console's live feed (noc.runtime.events.EventHub.publish) listens here
        self.on_append: list[Callable[[str, dict[str, Any]], None]] = []

    @asynccontextmanager
    async def timeline_writer(self) -> AsyncIterator[AsyncSession]:
        """A write transaction that may append to incident timelines.

        ``seq`` is "last + 1", read inside the transaction; two writers of one process (engine,
        runbook automation, outbox, escalation, API) appending to the same incident at once would
        both pick the same seq and one would fail on the unique index. Serialising them here makes
        that impossible within the service; across processes PostgreSQL's row locks (``FOR
        UPDATE`` in operator actions) and SQLite's single writer do the rest.
        """
        async with self._timeline_lock, self.sessions.begin() as session:
            yield session
        self._announce(session.info.pop("appended", ()))

    def _announce(self, appended) -> None:  # noqa: ANN001 - [(kind, data)]
        for kind, data in appended:
            for listener in self.on_append:
                listener(kind, data)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction for an act and its audit row (``noc.store.audit_log``).

        The act's writes and ``AuditLog.append(tx, entry)`` go through the same session, so
        the record exists exactly when the act does. Serialised with the timeline writers,
        since an audited incident action appends to a timeline too.
        """
        try:
            async with self.timeline_writer() as session:
                yield session
        finally:
            self.acts += 1

    @classmethod
    async def open(cls, url: str, migrate: bool = True) -> Store:
        """Open the store at ``url``.

        ``migrate=True`` (``noc run``, ``noc db upgrade``, tests) creates it if need be: the
        SQLite file's folder, then the schema up to the newest migration. ``migrate=False``
        (every other command) creates nothing and refuses a store that is missing, empty or
        not at the newest migration (:class:`~noc.store.db.StoreNotReadyError`).

        A failure is a :class:`~noc.core.errors.NocError` in one line: the URL (password
        masked) and what failed, never the driver's traceback.
        """
        store = cls(url)  # a URL this service cannot use is a DatabaseURLError (exit 2)
        try:
            if migrate:
                db.prepare(url)
                await db.upgrade(store.engine)
            else:
                await db.require_head(store.engine, url)
        except BaseException as error:
            await store.close()
            if isinstance(error, NocError) or not isinstance(error, Exception):
                raise
            raise UnavailableError(db.failure_text(url, error)) from error
        return store

    async def close(self) -> None:
        await self.engine.dispose()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return True

    # -- assets -----------------------------------------------------------------------------

    async def sync_assets(self, config: NocConfig, now: dt.datetime | None = None) -> AssetSync:
        """Make the assets table match the inventory; assets gone from it are marked inactive."""
        now = now or utcnow()
        result = AssetSync()
        async with self.sessions.begin() as session:
            rows = {r.name: r for r in (await session.scalars(select(AssetRow))).all()}
            for asset in config.assets:
                values = {
                    "kind": asset.kind,
                    "site": config.site.name,
                    "title": asset.display_name(config.site.locale),
                    "address": asset.address,
                    "spec": public_spec(asset),
                    "active": True,
                }
                row = rows.pop(asset.name, None)
                if row is None:
                    session.add(
                        AssetRow(name=asset.name, first_seen_at=now, updated_at=now, **values)
                    )
                    result.added.append(asset.name)
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                    row.updated_at = now
                    result.updated.append(asset.name)
                else:
                    result.unchanged += 1
            for row in rows.values():
                if row.active:
                    row.active = False
                    row.updated_at = now
                    result.retired.append(row.name)
        return result

    async def list_assets(self, include_retired: bool = False) -> list[AssetRow]:
        query = select(AssetRow).order_by(AssetRow.id)
        if not include_retired:
            query = query.where(AssetRow.active.is_(True))
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())

    async def get_asset(self, name: str) -> AssetRow | None:
        async with self.sessions() as session:
            return await session.scalar(select(AssetRow).where(AssetRow.name == name))

    # -- the log and maintenance: shortcuts to their repositories ------------------------------

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
        row = await Timeline(self).append_transition(
            site=site,
            asset=asset,
            check=check,
            from_state=from_state,
            to_state=to_state,
            at=at,
            reason=reason,
            details=details,
        )
        self._announce([("transition", {"asset": asset, "check": check, "to": to_state})])
        return row

    async def transitions(
        self,
        *,
        asset: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[CheckTransition]:
        return await Timeline(self).transitions(asset=asset, since=since, until=until)

    async def append_incident_event(
        self,
        session: AsyncSession,
        incident_id: int,
        kind: str,
        at: dt.datetime,
        actor: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> IncidentEvent:
        """Append to an incident's timeline inside the caller's transaction (seq = last + 1)."""
        return await append_event(session, incident_id, kind, at, actor, data)

    async def incident_events(self, incident_id: int) -> list[IncidentEvent]:
        return await Timeline(self).events(incident_id)

    async def open_incidents(self) -> list[Incident]:
        async with self.sessions() as session:
            query = select(Incident).where(Incident.status != "closed").order_by(Incident.id)
            return list((await session.scalars(query)).all())

    async def add_maintenance(
        self,
        *,
        site: str,
        assets: list[str],
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        reason: str = "",
        created_by: str = "",
    ) -> MaintenanceWindow:
        return await MaintenanceRepo(self).add(
            site=site,
            assets=assets,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            created_by=created_by,
        )

    async def end_maintenance(
        self, window_id: int, at: dt.datetime | None = None
    ) -> MaintenanceWindow:
        """End a window early (planned work finished); its record stays for the SLA."""
        return await MaintenanceRepo(self).end(window_id, at)

    async def approve_maintenance(
        self, window_id: int, approver: str, at: dt.datetime | None = None
    ) -> MaintenanceWindow:
        """A second person's approval: the window then counts for the SLA (no rule checked here;
        the audited act is :meth:`noc.store.operator_acts.OperatorActs.approve_maintenance`)."""
        return await MaintenanceRepo(self).approve(window_id, approver, at)

    async def maintenance_windows(
        self, *, active_at: dt.datetime | None = None
    ) -> list[MaintenanceWindow]:
        return await MaintenanceRepo(self).windows(active_at=active_at)
