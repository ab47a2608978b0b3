"""Calls in the store: ingest by external id, Asterisk ``queue_log`` lines, and listing.

``ingest`` takes validated :class:`~noc.ingest.records.CallRecord`\\ s (from the API, a file or a
data generator) and answers per record: created, duplicate (stored the same, acknowledged) or
conflict (stored differently; nothing changes). ``ingest_queue_log`` keeps Asterisk's lines and
(re)derives the calls of every callid that got a new line, so a call whose lines are split
between two rotated files comes out whole whichever file is imported first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from noc.ingest.privacy import Caller
from noc.ingest.queue_log import QueueLogLine, derive_calls
from noc.ingest.records import CallRecord, call_comparable, diff
from noc.store.bulk import (
    ItemResult,
    chunks,
    insert_ignore,
    insert_new,
    serialize,
    transaction,
)
from noc.store.repo import Store
from noc.store.tables_calls import CallRow, QueueLogLineRow
from noc.store.types import utcnow

COMPARED = (
    "call_id",
    "source",
    "queue",
    "caller_hash",
    "started_at",
    "entered_at",
    "answered_at",
    "agent",
    "ended_at",
    "outcome",
    "wait_seconds",
    "talk_seconds",
    "end_reason",
)


def _caller_columns(caller: Caller | None) -> dict[str, Any]:
    return {
        "caller_hash": caller.hash if caller else None,
        "caller_masked": caller.masked if caller else None,
        "caller_enc": caller.encrypted if caller else None,
    }


def call_values(record: CallRecord, now: dt.datetime) -> dict[str, Any]:
    return {
        "source": record.source,
        "call_id": record.call_id,
        "queue": record.queue,
        **_caller_columns(record.caller),
        "started_at": record.started_at,
        "entered_at": record.entered_at,
        "answered_at": record.answered_at,
        "agent": record.agent,
        "ended_at": record.ended_at,
        "outcome": record.outcome,
        "wait_seconds": record.wait_seconds,
        "talk_seconds": record.talk_seconds,
        "end_reason": record.end_reason,
        "details": record.details,
        "recorded_at": now,
        "updated_at": now,
    }


def _stored(row: CallRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in COMPARED}


@dataclass
class QueueLogResult:
    lines: int = 0  # lines given
    new_lines: int = 0  # of which not seen before
    calls_created: int = 0
    calls_updated: int = 0
    pending: int = 0  # visits of the touched callids still waiting for their end
    callids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class CallFilter:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    agent: str | None = None
    queue: str | None = None
    outcome: str | None = None
    source: str | None = None


class CallRepo:
    def __init__(self, store: Store):
        self.store = store

    # -- ingest ----------------------------------------------------------------------------

    async def ingest(
        self, records: Sequence[CallRecord], session: AsyncSession | None = None
    ) -> list[ItemResult]:
        """Store new calls; a repeat is a duplicate, or a conflict naming the fields that differ."""
        now = utcnow()
        async with transaction(self.store, session) as s:
            # in key order: concurrent batches then take the unique index's locks in one order
            rows = [call_values(r, now) for r in sorted(records, key=lambda r: r.key)]
            keys = ["source", "call_id"]
            inserted = set(await insert_new(s, CallRow.__table__, rows, keys, keys))
            firsts: dict[tuple[str, str], int] = {}
            repeats = []
            for i, record in enumerate(records):
                if record.key in inserted and record.key not in firsts:
                    firsts[record.key] = i
                else:
                    repeats.append(i)
            stored = await self._load(s, {records[i].key for i in repeats})
            results = [ItemResult(i, r.call_id, "created") for i, r in enumerate(records)]
            for i in repeats:
                record = records[i]
                row = stored.get(record.key)
                errors = diff(row, call_comparable(record)) if row is not None else []
                results[i].status = "conflict" if errors else "duplicate"
                results[i].errors = errors
        return results

    async def _load(
        self, s: AsyncSession, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for chunk in chunks(sorted(keys)):
            query = select(CallRow).where(tuple_(CallRow.source, CallRow.call_id).in_(chunk))
            for row in (await s.scalars(query)).all():
                out[(row.source, row.call_id)] = _stored(row)
        return out

    async def ingest_queue_log(
        self, lines: Sequence[QueueLogLine], source: str, session: AsyncSession | None = None
    ) -> QueueLogResult:
        """Keep new lines; derive again the calls of every callid that got one."""
        result = QueueLogResult(lines=len(lines))
        now = utcnow()
        async with transaction(self.store, session) as s:
            await serialize(s, f"noc-queue-log:{source}")
            for chunk in chunks(sorted(lines, key=lambda x: x.line_key)):
                stmt = insert_ignore(s, QueueLogLineRow.__table__, ["line_key"]).returning(
                    QueueLogLineRow.callid
                )
                rows = await s.execute(stmt, [_line_values(x, source, now) for x in chunk])
                new = [cid for (cid,) in rows.all()]
                result.new_lines += len(new)
                result.callids.update(new)
            if result.callids:
                await self._derive(s, source, result, now)
        return result

    async def pending_visits(
        self, source: str, callids: set[str], session: AsyncSession | None = None
    ) -> int:
        """How many visits of these callids have no end line yet."""
        async with transaction(self.store, session) as s:
            return sum(
                derive_calls(cid, lines, source)[1]
                for cid, lines in (await self._lines(s, source, callids)).items()
            )

    async def _lines(
        self, s: AsyncSession, source: str, callids: set[str]
    ) -> dict[str, list[QueueLogLine]]:
        by_callid: dict[str, list[QueueLogLine]] = defaultdict(list)
        for chunk in chunks(sorted(callids)):
            query = select(QueueLogLineRow).where(
                QueueLogLineRow.source == source, QueueLogLineRow.callid.in_(chunk)
            )
            for row in (await s.scalars(query)).all():
                by_callid[row.callid].append(_line_from_row(row))
        return by_callid

    async def _derive(
        self, s: AsyncSession, source: str, result: QueueLogResult, now: dt.datetime
    ) -> None:
        by_callid = await self._lines(s, source, result.callids)
        derived: list[CallRecord] = []
        for callid, lines in by_callid.items():
            calls, pending = derive_calls(callid, lines, source)
            derived.extend(calls)
            result.pending += pending
        existing: dict[tuple[str, str], CallRow] = {}
        for chunk in chunks(sorted({c.key for c in derived})):
            query = select(CallRow).where(tuple_(CallRow.source, CallRow.call_id).in_(chunk))
            existing.update({(r.source, r.call_id): r for r in (await s.scalars(query)).all()})
        for record in derived:
            values = call_values(record, now)
            row = existing.get(record.key)
            if row is None:
                s.add(CallRow(**values))
                result.calls_created += 1
                continue
            values.pop("recorded_at")
            values.pop("updated_at")
            if record.caller is None and row.caller_hash is not None:
                for name in ("caller_hash", "caller_masked", "caller_enc"):
                    values.pop(name)  # the derived call has no ENTERQUEUE line in this source
            changed = {k: v for k, v in values.items() if getattr(row, k) != v}
            if changed:
                for k, v in changed.items():
                    setattr(row, k, v)
                row.updated_at = now
                result.calls_updated += 1
        await s.flush()

    # -- queries -----------------------------------------------------------------------------

    async def get(self, call_id: str, source: str | None = None) -> CallRow | None:
        query = select(CallRow).where(CallRow.call_id == call_id)
        if source is not None:
            query = query.where(CallRow.source == source)
        async with self.store.sessions() as s:
            return (await s.scalars(query.order_by(CallRow.id).limit(1))).first()

    async def list(
        self, flt: CallFilter, limit: int = 50, offset: int = 0
    ) -> tuple[list[CallRow], int]:
        """Calls newest first, with the total count of the filter (by index: started_at and
        agent/queue + started_at)."""
        conditions = []
        if flt.start is not None:
            conditions.append(CallRow.started_at >= flt.start)
        if flt.end is not None:
            conditions.append(CallRow.started_at < flt.end)
        for name in ("agent", "queue", "outcome", "source"):
            value = getattr(flt, name)
            if value is not None:
                conditions.append(getattr(CallRow, name) == value)
        query = (
            select(CallRow)
            .where(*conditions)
            .order_by(CallRow.started_at.desc(), CallRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.store.sessions() as s:
            rows = list((await s.scalars(query)).all())
            total = await s.scalar(select(func.count()).select_from(CallRow).where(*conditions))
        return rows, int(total or 0)

    async def count(self) -> int:
        async with self.store.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(CallRow)) or 0)


def _line_values(line: QueueLogLine, source: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "source": source,
        "line_key": line.line_key,
        "time": line.time,
        "callid": line.callid[:100],
        "queue": line.queue[:63],
        "agent": line.agent[:100],
        "event": line.event,
        "data": list(line.data),
        "seq": line.seq,
        **_caller_columns(line.caller),
        "recorded_at": now,
    }


def _line_from_row(row: QueueLogLineRow) -> QueueLogLine:
    caller = (
        Caller(row.caller_hash, row.caller_masked or "", row.caller_enc)
        if row.caller_hash
        else None
    )
    return QueueLogLine(
        time=row.time,
        callid=row.callid,
        queue=row.queue,
        agent=row.agent,
        event=row.event,
        data=tuple(row.data or ()),
        line_key=row.line_key,
        caller=caller,
        seq=row.seq,
    )
