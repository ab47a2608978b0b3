"""The audit log in the store: append in the act's transaction, list, verify, purge old rows.

``append(tx, entry)`` first writes the chain head (``audit_head``), which takes SQLite's write
lock or PostgreSQL's row lock, then reads the newest id and hash, inserts id + 1 chained to it
and moves the head: appenders in any number of processes form one line, never a fork.

:meth:`AuditLog.acting` is how an act is recorded: the body does the act in ``act.tx`` and
sets ``before``/``after``; on success the ``ok`` row commits with it; when the body raises a
:class:`~noc.core.errors.NocError` (refused, not found, conflict, bad input) the act is rolled
back and a ``refused`` row with the reason is written in a transaction of its own. So every
attempt leaves exactly one row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from noc.core.errors import InputError, NocError
from noc.identity.actor import Actor
from noc.identity.audit import (
    HASHED_FIELDS,
    AuditEntry,
    ChainReport,
    ChainVerifier,
    json_value,
    row_hash,
)
from noc.identity.policy import MIN_AUDIT_RETENTION
from noc.store.identity_tables import AuditHead, AuditRow
from noc.store.repo import Store
from noc.store.types import utcnow

HEAD_ID = 1


@dataclass
class Act:
    """An act in progress: do it in ``tx``; say what changed in ``before``/``after``."""

    tx: AsyncSession
    target: str
    before: Any = None
    after: Any = None
    reason: str = ""
    row: AuditRow | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PurgeResult:
    deleted: int
    through_id: int | None
    through_hash: str | None
    cutoff: dt.datetime


def _chained(entry: AuditEntry, row_id: int, at: dt.datetime, prev_hash: str) -> dict[str, Any]:
    """The hashed fields of ``entry`` as row ``row_id`` after ``prev_hash``."""
    return {
        "id": row_id,
        "at": at,
        "actor_user": entry.actor_user,
        "actor_role": entry.actor_role,
        "credential": entry.credential,
        "channel": entry.channel,
        "source": entry.source[:255],
        "action": entry.action,
        "target": entry.target[:255],
        "outcome": entry.outcome,
        "reason": entry.reason,
        "before": json_value(entry.before),
        "after": json_value(entry.after),
        "prev_hash": prev_hash,
    }


def row_fields(row: AuditRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in (*HASHED_FIELDS, "hash")}


def audit_json(row: AuditRow) -> dict[str, Any]:
    out = row_fields(row)
    out["at"] = row.at.isoformat()
    return out


AUDIT_COLUMNS: tuple[str, ...] = (*HASHED_FIELDS, "hash")


def audit_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = AUDIT_COLUMNS) -> str:
    """Exported rows (:func:`audit_json`) as CSV; before/after as canonical JSON text, so the
    hash of each row can be recomputed from the file. ``columns`` may add ones the rows carry
    (``masked``, :mod:`noc.audit_view`)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False, sort_keys=True)
                if k in ("before", "after") and v is not None
                else v
                for k, v in row.items()
            }
        )
    return buf.getvalue()


class AuditLog:
    def __init__(self, store: Store):
        self.store = store

    async def append(
        self, tx: AsyncSession, entry: AuditEntry, at: dt.datetime | None = None
    ) -> AuditRow:
        """Add ``entry`` to the chain inside ``tx`` (commits or rolls back with the act)."""
        last_id, last_hash = await self._lock_head(tx)
        fields = _chained(entry, last_id + 1, at or utcnow(), last_hash)
        row = AuditRow(**fields, hash=row_hash(fields))
        tx.add(row)
        await tx.flush()
        await self._move_head(tx, row.id, row.hash)
        return row

    async def append_many(
        self, tx: AsyncSession, entries: Sequence[AuditEntry], at: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Add ``entries`` in order inside ``tx``, as :meth:`append` would one by one, with one
        lock of the head and one insert (the ingest API audits a whole group of requests at
        once, ``noc.calls_batch``). Returns the rows' fields."""
        if not entries:
            return []
        last_id, last_hash = await self._lock_head(tx)
        at = at or utcnow()
        rows: list[dict[str, Any]] = []
        for entry in entries:
            fields = _chained(entry, last_id + 1, at, last_hash)
            fields["hash"] = last_hash = row_hash(fields)
            last_id = fields["id"]
            rows.append(fields)
        await tx.execute(insert(AuditRow.__table__), rows)
        await self._move_head(tx, last_id, last_hash)
        return rows

    async def _lock_head(self, tx: AsyncSession) -> tuple[int, str]:
        """The newest id and hash, with the head locked (the write on it takes SQLite's write
        lock or PostgreSQL's row lock) until ``tx`` ends."""
        head = AuditHead.__table__
        await tx.execute(  # the lock: a write on the head row
            update(head).where(head.c.id == HEAD_ID).values(last_id=head.c.last_id)
        )
        last_id, last_hash = (
            await tx.execute(select(head.c.last_id, head.c.last_hash).where(head.c.id == HEAD_ID))
        ).one()
        return last_id, last_hash

    async def _move_head(self, tx: AsyncSession, last_id: int, last_hash: str) -> None:
        head = AuditHead.__table__
        await tx.execute(
            update(head).where(head.c.id == HEAD_ID).values(last_id=last_id, last_hash=last_hash)
        )

    async def record(self, entry: AuditEntry) -> AuditRow:
        """Add ``entry`` in a transaction of its own: the row of an act that has none (a
        refusal, an act that commits in batches)."""
        async with self.store.transaction() as tx:
            return await self.append(tx, entry)

    @asynccontextmanager
    async def acting(self, actor: Actor, action: str, target: str = "") -> AsyncIterator[Act]:
        """Do an act and record it, ``ok`` with the act or ``refused`` on its own (see module)."""
        act: Act | None = None
        try:
            async with self.store.transaction() as tx:
                act = Act(tx=tx, target=target)
                yield act
                act.row = await self.append(
                    tx,
                    AuditEntry.by(
                        actor,
                        action,
                        act.target,
                        before=act.before,
                        after=act.after,
                        reason=act.reason,
                    ),
                )
        except NocError as exc:
            await self.record(
                AuditEntry.by(
                    actor,
                    action,
                    act.target if act else target,
                    outcome="refused",
                    reason=exc.message,
                )
            )
            raise

    async def rows(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        outcome: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[AuditRow]:
        """Rows in id order (or newest first); ``target`` matches any part of the target."""
        query = select(AuditRow)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        if until is not None:
            query = query.where(AuditRow.at < until)
        if actor is not None:
            query = query.where(AuditRow.actor_user == actor)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if target is not None:
            query = query.where(AuditRow.target.contains(target, autoescape=True))
        if outcome is not None:
            query = query.where(AuditRow.outcome == outcome)
        query = query.order_by(AuditRow.id.desc() if newest_first else AuditRow.id)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        async with self.store.sessions() as session:
            return list((await session.scalars(query)).all())

    async def head(self) -> tuple[int, str]:
        async with self.store.sessions() as session:
            last_id, last_hash = (
                await session.execute(select(AuditHead.last_id, AuditHead.last_hash))
            ).one()
        return last_id, last_hash

    async def verify(self, batch: int = 1000) -> ChainReport:
        """Walk the chain from the first retained row to the head; the first break, if any."""
        head_id, head_hash = await self.head()
        verifier = ChainVerifier()
        after = -1
        async with self.store.sessions() as session:
            while True:
                page = (
                    await session.scalars(
                        select(AuditRow)
                        .where(AuditRow.id > after, AuditRow.id <= head_id)
                        .order_by(AuditRow.id)
                        .limit(batch)
                    )
                ).all()
                for row in page:
                    verifier.feed(row_fields(row))
                if len(page) < batch:
                    break
                after = page[-1].id
                session.expunge_all()
        return verifier.finish(head_id, head_hash)

    async def delete_older(self, tx: AsyncSession, cutoff: dt.datetime) -> PurgeResult:
        """Delete the oldest rows, all older than ``cutoff`` (a prefix of the chain, nothing
        younger); the caller appends the purge row that anchors the rest (``acting``)."""
        if cutoff > utcnow() - MIN_AUDIT_RETENTION:
            raise InputError("审计日志至少保留 180 天 / audit rows are kept at least 180 days")
        youngest_kept = await tx.scalar(select(func.min(AuditRow.id)).where(AuditRow.at >= cutoff))
        if youngest_kept is None:
            through = await tx.scalar(select(func.max(AuditRow.id)))
        else:
            through = youngest_kept - 1
        oldest = await tx.scalar(select(func.min(AuditRow.id)))
        if through is None or oldest is None or through < oldest:
            return PurgeResult(0, None, None, cutoff)
        through_hash = await tx.scalar(select(AuditRow.hash).where(AuditRow.id == through))
        log = AuditRow.__table__
        result = await tx.execute(delete(log).where(log.c.id <= through))
        return PurgeResult(result.rowcount or 0, through, through_hash, cutoff)
