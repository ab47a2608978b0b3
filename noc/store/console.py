"""The console's reads: one function per thing a page lists, each served by an index.

Kept apart from the writers (:mod:`noc.store.repo`, :mod:`noc.store.incidents`) because they
exist for pages: paging, filters, the last few of something. The index behind each is named in
its docstring (bench/RESULTS.md quotes them for the page-switch benchmark).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from noc.store.incidents import ACTIVE
from noc.store.repo import Store
from noc.store.tables import CheckTransition, Incident, IncidentEvent, Notification

UNDELIVERED = ("pending", "sending")


@dataclass(frozen=True)
class IncidentFilter:
    status: str | None = None  # active | open | acknowledged | recovered | closed
    level: str | None = None  # I..IV (current level)
    root_assets: tuple[str, ...] | None = None  # incidents rooted at one of these
    since: dt.datetime | None = None  # detected at or after
    until: dt.datetime | None = None  # detected before


async def incidents_page(
    store: Store, where: IncidentFilter, page: int = 1, per_page: int = 50
) -> tuple[list[Incident], bool]:
    """One page of incidents, newest first, and whether there is another.

    Newest first walks the primary key backwards; a status filter uses ``ix_incidents_status``,
    a period ``ix_incidents_detected_at``. No total count: counting every match of a year is
    the one thing a page need not do."""
    query = select(Incident).order_by(Incident.id.desc())
    if where.status == "active":
        query = query.where(Incident.status.in_(ACTIVE))
    elif where.status:
        query = query.where(Incident.status == where.status)
    if where.level:
        query = query.where(Incident.severity == where.level)
    if where.root_assets is not None:
        query = query.where(Incident.root_asset.in_(where.root_assets))
    if where.since is not None:
        query = query.where(Incident.detected_at >= where.since)
    if where.until is not None:
        query = query.where(Incident.detected_at < where.until)
    query = query.offset((max(page, 1) - 1) * per_page).limit(per_page + 1)
    async with store.sessions() as session:
        rows = list((await session.scalars(query)).all())
    return rows[:per_page], len(rows) > per_page


async def active_incidents(store: Store) -> list[Incident]:
    """Open and acknowledged incidents (``ix_incidents_status``)."""
    async with store.sessions() as session:
        query = select(Incident).where(Incident.status.in_(ACTIVE)).order_by(Incident.id)
        return list((await session.scalars(query)).all())


async def deliveries(store: Store, incident_id: int) -> list[Notification]:
    """The alert messages of one incident, oldest first (``ix_notifications_incident_id``)."""
    async with store.sessions() as session:
        query = (
            select(Notification)
            .where(Notification.incident_id == incident_id)
            .order_by(Notification.id)
        )
        return list((await session.scalars(query)).all())


async def merged_into(store: Store, incident: Incident) -> list[Incident]:
    """Incidents that were merged into this one (their fault turned out to be its symptom).

    A merged incident was detected before its parent recovered and not long before the parent
    was detected, so the search is a range of ``ix_incidents_detected_at``."""
    note = f"merged into {incident.fault_key}"
    end = incident.recovered_at or incident.closed_at or dt.datetime.now(dt.UTC)
    async with store.sessions() as session:
        query = (
            select(Incident)
            .where(
                Incident.detected_at >= incident.detected_at - dt.timedelta(days=1),
                Incident.detected_at <= end,
                Incident.close_note == note,
                Incident.id != incident.id,
            )
            .order_by(Incident.id)
        )
        return list((await session.scalars(query)).all())


async def recent_transitions(
    store: Store, asset: str | None = None, limit: int = 30
) -> list[CheckTransition]:
    """The last ``limit`` state changes, of one asset or of all (newest first).

    All: the primary key backwards. One asset: ``ix_check_transitions_asset_check_at``."""
    query = select(CheckTransition).order_by(CheckTransition.id.desc()).limit(limit)
    if asset is not None:
        query = (
            select(CheckTransition)
            .where(CheckTransition.asset == asset)
            .order_by(CheckTransition.at.desc(), CheckTransition.id.desc())
            .limit(limit)
        )
    async with store.sessions() as session:
        return list((await session.scalars(query)).all())


async def log_heads(store: Store) -> tuple[int, int]:
    """The newest check transition's and incident event's ids (two primary-key maxima): what
    the live feed compares to notice writes made by another process (the CLI)."""
    async with store.sessions() as session:
        transitions = await session.scalar(select(func.max(CheckTransition.id)))
        events = await session.scalar(select(func.max(IncidentEvent.id)))
    return transitions or 0, events or 0


@dataclass
class ReceiverState:
    queued: int = 0
    retrying: int = 0  # queued after a failed attempt
    oldest_queued_at: dt.datetime | None = None
    delivered_today: int = 0
    failed_today: int = 0
    last_error: str | None = None


async def outbox_state(
    store: Store, receivers: Iterable[str], day_start: dt.datetime
) -> dict[str, ReceiverState]:
    """Per receiver: what waits, what retries, what went out or was given up today.

    Every count is a range of ``ix_notifications_status_next`` (status, next_attempt_at): a
    message delivered or given up today had its last attempt scheduled today at the latest a
    retry ceiling ago, so the scan starts a day before the day."""
    states = {r: ReceiverState() for r in receivers}
    async with store.sessions() as session:
        waiting = await session.execute(
            select(
                Notification.receiver,
                Notification.attempts > 0,
                func.count(),
                func.min(Notification.created_at),
                func.max(Notification.last_error),
            )
            .where(Notification.status.in_(UNDELIVERED))
            .group_by(Notification.receiver, Notification.attempts > 0)
        )
        for receiver, retried, count, oldest, error in waiting.all():
            state = states.setdefault(receiver, ReceiverState())
            state.queued += count
            if retried:
                state.retrying += count
                state.last_error = error
            if oldest is not None and (
                state.oldest_queued_at is None or oldest < state.oldest_queued_at
            ):
                state.oldest_queued_at = oldest
        done = await session.execute(
            select(Notification.status, Notification.receiver, func.count())
            .where(
                Notification.status.in_(("delivered", "failed")),
                Notification.next_attempt_at >= day_start - dt.timedelta(days=1),
                func.coalesce(Notification.delivered_at, Notification.next_attempt_at) >= day_start,
            )
            .group_by(Notification.status, Notification.receiver)
        )
        for status, receiver, count in done.all():
            state = states.setdefault(receiver, ReceiverState())
            if status == "delivered":
                state.delivered_today += count
            else:
                state.failed_today += count
    return states
