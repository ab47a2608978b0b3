"""Concurrent API ingests of one kind stored together: one transaction, one commit (group commit).

At hundreds of single-record requests a second, a transaction per request spends its time
beginning, committing and — on SQLite, whose one writer takes them in turn — waiting. So each
request validates its own items and hands the valid records to the service's
:class:`IngestBatcher`, which keeps one writer per kind: while a transaction of that kind runs,
later requests queue; when it commits, everything queued (up to ``MAX_RECORDS``) goes into the
next one. Under light load a group is one request and nothing waits.

What each request sees does not change:

- its own results, in its own order: the records of a group are stored as if the requests had
  come one after another in arrival order (a repeat in a later request is a duplicate, or a
  conflict, of the earlier one — as it would be a moment later);
- its own audit row, written in the same transaction as its records (with the token it used
  marked used): acknowledged means committed and audited; not acknowledged means neither;
- its own failure: when a group's transaction fails, each request of it is tried again alone,
  so one request's bad luck is not another's — except when the store is busy or away
  (:class:`~noc.core.errors.UnavailableError`, 503), which every request of the group is told.

A request whose client goes away still has its group committed (the client may send it again;
it is then acknowledged as a duplicate).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from noc.calls_intake import KINDS, MAX_ITEMS, check_items, store_records
from noc.core.errors import UnavailableError
from noc.core.logs import get_logger
from noc.identity.audit import AuditEntry
from noc.ingest.records import Context
from noc.store import Store
from noc.store.api_tokens import TokenRepo
from noc.store.audit_log import AuditLog
from noc.store.bulk import ItemResult
from noc.store.types import utcnow

log = get_logger("noc.calls_batch")

MAX_RECORDS = MAX_ITEMS  # records per group transaction: one full API request

Audit = Callable[[list[ItemResult]], AuditEntry | None]
"""Given a request's stored results, its audit row (``None``: nothing to record here)."""


@dataclass
class _Job:
    records: Sequence[Any]
    audit: Audit | None
    token_id: int | None
    future: asyncio.Future[list[ItemResult]] = field(repr=False)


class IngestBatcher:
    """One writer per kind for the ingest API (see the module)."""

    def __init__(self, store: Store, tz: ZoneInfo, max_records: int = MAX_RECORDS):
        self.store = store
        self.tz = tz
        self.max_records = max_records
        self._queues: dict[str, deque[_Job]] = {kind: deque() for kind in KINDS}
        self._writers: dict[str, asyncio.Task[None]] = {}

    async def ingest_items(
        self,
        kind: str,
        items: Sequence[Any],
        ctx: Context,
        audit: Audit | None = None,
        token_id: int | None = None,
    ) -> list[ItemResult]:
        """Validate API items and store the valid ones with the next group; one result per
        item, in order. ``audit`` is given every item's result (the invalid ones too)."""
        checked = check_items(kind, items, ctx)
        if not checked.valid:
            return checked.results([])

        merged: list[tuple[list[ItemResult], list[ItemResult]]] = []

        def audit_all(stored: list[ItemResult]) -> AuditEntry | None:
            merged.append((stored, checked.results(stored)))
            return audit(merged[-1][1]) if audit is not None else None

        stored = await self.store_records(kind, checked.records, audit_all, token_id)
        if merged and merged[-1][0] is stored:  # merged already for the audit row
            return merged[-1][1]
        return checked.results(stored)

    async def store_records(
        self,
        kind: str,
        records: Sequence[Any],
        audit: Audit | None = None,
        token_id: int | None = None,
    ) -> list[ItemResult]:
        """Store ``records`` (validated, of ``kind``) with the next group; their results, in
        order, once committed."""
        job = _Job(records, audit, token_id, asyncio.get_running_loop().create_future())
        self._queues[kind].append(job)
        writer = self._writers.get(kind)
        if writer is None or writer.done():
            self._writers[kind] = asyncio.create_task(self._write(kind), name=f"ingest {kind}")
        return await asyncio.shield(job.future)  # a client gone does not stop its commit

    async def close(self) -> None:
        """Wait for the groups already queued (the service is stopping)."""
        writers = [w for w in self._writers.values() if not w.done()]
        if writers:
            await asyncio.gather(*writers, return_exceptions=True)

    async def _write(self, kind: str) -> None:
        queue = self._queues[kind]
        while queue:
            group = [queue.popleft()]
            size = len(group[0].records)
            while queue and size + len(queue[0].records) <= self.max_records:
                job = queue.popleft()
                group.append(job)
                size += len(job.records)
            await self._commit(kind, group)

    async def _commit(self, kind: str, group: list[_Job]) -> None:
        try:
            stored = await self._transaction(kind, group)
        except Exception as exc:
            if len(group) > 1 and not isinstance(exc, UnavailableError):
                log.warning("ingest_group_failed", kind=kind, requests=len(group), error=repr(exc))
                for job in group:  # alone, so the others are not refused with it
                    await self._commit(kind, [job])
                return
            for job in group:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        for job, results in zip(group, stored, strict=True):
            if not job.future.done():
                job.future.set_result(results)

    async def _transaction(self, kind: str, group: list[_Job]) -> list[list[ItemResult]]:
        records = [r for job in group for r in job.records]
        async with self.store.sessions.begin() as tx:
            results = await store_records(self.store, kind, records, self.tz, tx)
            out: list[list[ItemResult]] = []
            start = 0
            for job in group:
                part = results[start : start + len(job.records)]
                start += len(job.records)
                for index, result in enumerate(part):
                    result.index = index
                out.append(part)
            entries = []
            tokens: set[int] = set()
            for job, part in zip(group, out, strict=True):
                entry = job.audit(part) if job.audit is not None else None
                if entry is not None:
                    entries.append(entry)
                    if job.token_id is not None:
                        tokens.add(job.token_id)
            await AuditLog(self.store).append_many(tx, entries)
            now = utcnow()
            for token_id in sorted(tokens):
                await TokenRepo(self.store).mark_used(tx, token_id, now)
        return out
