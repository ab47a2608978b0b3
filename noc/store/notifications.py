"""The alerting outbox in the store: ``notifications`` rows and their delivery attempts.

The outbox (:mod:`alerting.outbox`) decides what to send and when; this module is how its
decisions reach the database, each in the transaction the outbox's guarantees rest on:
an enqueue is one transaction that ignores a repeated ``dedup_key``; a claim (``sending``,
attempts + 1) commits before the channel is called; an attempt's record (the row's new status,
the attempt, and on a first delivery the incident's ``alarmed`` event) is one transaction,
retried on a database clash without ever re-sending.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from noc.store.tables import Incident, IncidentEvent, Notification, NotificationAttempt
from noc.store.timeline import append_event

if TYPE_CHECKING:
    from noc.store.repo import Store

log = logging.getLogger("noc.store.notifications")

UNDELIVERED = ("pending", "sending")
RECORD_TRIES = 3


class Outgoing(Protocol):
    """A rendered message as the outbox enqueues it (``alerting.model.Message``)."""

    dedup_key: str
    incident_id: int | None
    receiver: str
    event_kind: str
    severity: str | None
    locale: str
    title: str
    body: str


@dataclass(frozen=True)
class Delivery:
    """One attempt's outcome and what it makes of the row: ``delivered``, ``failed`` for good,
    or ``pending`` again until ``next_attempt_at``."""

    status: str
    ok: bool
    duration_seconds: float
    error: str | None
    next_attempt_at: dt.datetime | None = None


@dataclass(frozen=True)
class QueueDepth:
    receiver: str
    undelivered: int
    oldest_created_at: dt.datetime


@dataclass(frozen=True)
class ResumePoint:
    """Where alerting stopped: the outbox's dedup keys, the last incident event id, and the
    timeline of every active or recently changed incident (to re-feed the grouper)."""

    dedup_keys: list[str]
    cursor: int
    backlog: list[IncidentEvent]


class NotificationRepo:
    def __init__(self, store: Store):
        self.store = store

    # -- writing ------------------------------------------------------------------------------

    async def enqueue(self, messages: Sequence[Outgoing], now: dt.datetime) -> int:
        """Insert the messages in one transaction, a known ``dedup_key`` ignored; returns how many
        rows were new."""
        dialect = postgresql if self.store.backend == "postgresql" else sqlite
        added = 0
        async with self.store.sessions.begin() as session:
            for m in messages:
                stmt = (
                    dialect.insert(Notification)
                    .values(
                        dedup_key=m.dedup_key,
                        incident_id=m.incident_id,
                        receiver=m.receiver,
                        event_kind=m.event_kind,
                        severity=m.severity,
                        locale=m.locale,
                        title=m.title[:200],
                        body=m.body,
                        status="pending",
                        attempts=0,
                        created_at=now,
                        next_attempt_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["dedup_key"])
                    .returning(Notification.id)
                )
                added += len((await session.execute(stmt)).all())
        return added

    async def claim(self, notification_id: int) -> None:
        """Mark the row ``sending`` and count the attempt, committed before the channel is called
        (a crash from here on leaves it ``sending``, and the next worker sends it again)."""
        async with self.store.sessions.begin() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(status="sending", attempts=Notification.attempts + 1)
            )

    async def record(
        self, row: Notification, delivery: Delivery, now: dt.datetime, alarm_actor: str
    ) -> None:
        """The attempt, the row's new status and (first delivery) the incident's alarm, atomically.

        A database clash (e.g. the engine appended to the same incident timeline at the same
        moment: a seq clash) retries this bookkeeping, never the send, or the NOC would get it
        twice; after ``RECORD_TRIES`` the error is raised.
        """
        values: dict[str, object] = {"last_error": delivery.error, "status": delivery.status}
        if delivery.status == "delivered":
            values["delivered_at"] = now
        elif delivery.status == "pending":
            values["next_attempt_at"] = delivery.next_attempt_at
        for retry in range(RECORD_TRIES):
            try:
                async with self.store.timeline_writer() as session:
                    # a write first: on SQLite the transaction takes the write lock before it reads
                    await session.execute(
                        update(Notification).where(Notification.id == row.id).values(**values)
                    )
                    session.add(
                        NotificationAttempt(
                            notification_id=row.id,
                            at=now,
                            ok=delivery.ok,
                            duration_seconds=delivery.duration_seconds,
                            error=delivery.error,
                        )
                    )
                    if delivery.ok and row.incident_id is not None:
                        await _mark_alarmed(session, row, now, alarm_actor)
                return
            except DBAPIError as exc:
                if retry == RECORD_TRIES - 1:
                    raise
                log.warning("outbox: recording notification %s failed, retrying: %r", row.id, exc)
                await asyncio.sleep(0.05 * (retry + 1))

    # -- reading ------------------------------------------------------------------------------

    async def heads(self) -> list[Notification]:
        """Every receiver's queue head: its oldest undelivered row."""
        first = (
            select(func.min(Notification.id))
            .where(Notification.status.in_(UNDELIVERED))
            .group_by(Notification.receiver)
        )
        async with self.store.sessions() as session:
            rows = await session.scalars(select(Notification).where(Notification.id.in_(first)))
            return list(rows.all())

    async def head(self, receiver: str) -> Notification | None:
        query = (
            select(Notification)
            .where(Notification.receiver == receiver, Notification.status.in_(UNDELIVERED))
            .order_by(Notification.id)
            .limit(1)
        )
        async with self.store.sessions() as session:
            return await session.scalar(query)

    async def queue_depths(self) -> list[QueueDepth]:
        """Per receiver with undelivered rows: how many, and when the oldest was written."""
        query = (
            select(Notification.receiver, func.count(), func.min(Notification.created_at))
            .where(Notification.status.in_(UNDELIVERED))
            .group_by(Notification.receiver)
        )
        async with self.store.sessions() as session:
            rows = (await session.execute(query)).all()
        return [QueueDepth(receiver, count, first) for receiver, count, first in rows]

    async def resume_point(self, since: dt.datetime) -> ResumePoint:
        """Read in one session: the dedup keys, the last event id, and the events of incidents
        active, recovered, or closed at or after ``since``."""
        async with self.store.sessions() as session:
            keys = (await session.scalars(select(Notification.dedup_key))).all()
            cursor = await session.scalar(select(func.max(IncidentEvent.id))) or 0
            recent = select(Incident.id).where(
                or_(
                    Incident.status.in_(("open", "acknowledged", "recovered")),
                    Incident.closed_at >= since,
                )
            )
            backlog = (
                await session.scalars(
                    select(IncidentEvent)
                    .where(IncidentEvent.incident_id.in_(recent))
                    .order_by(IncidentEvent.id)
                )
            ).all()
        return ResumePoint(list(keys), cursor, list(backlog))


async def _mark_alarmed(
    session: AsyncSession, row: Notification, now: dt.datetime, actor: str
) -> None:
    """The first delivered message of an incident is the moment the NOC was alarmed."""
    done = await session.execute(
        update(Incident)
        .where(Incident.id == row.incident_id, Incident.alarmed_at.is_(None))
        .values(alarmed_at=now)
    )
    if done.rowcount != 1:
        return
    started = await session.scalar(
        select(Incident.fault_started_at).where(Incident.id == row.incident_id)
    )
    delay = (now - started).total_seconds() if started is not None else None
    await append_event(
        session,
        row.incident_id,
        "alarmed",
        now,
        actor,
        {
            "receiver": row.receiver,
            "notification_id": row.id,
            "event_kind": row.event_kind,
            "delay_seconds": delay,
        },
    )
