"""The knowledge base (知识库) in the store: entries with their version history, and search.

A record with new content for a known entry is its next version (``updated``); the same content
again is a duplicate. A record that names its ``version`` must agree with what is stored: an
existing version with other content, or a version that skips one, is a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc.ingest.records import KB_CONTENT, FieldError, KbRecord, diff
from noc.ingest.search import Query
from noc.store import textsearch
from noc.store.bulk import ItemResult, chunks, insert_ignore, is_postgres, transaction
from noc.store.repo import Store
from noc.store.tables_calls import KbEntryRow, KbVersionRow
from noc.store.types import utcnow

SEARCHED = ("title", "question", "answer")


def _content(row: KbEntryRow | KbVersionRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in KB_CONTENT}


def _values(record: KbRecord, version: int, now: dt.datetime) -> dict[str, Any]:
    return {
        **record.content(),
        "version": version,
        "updated_at": record.updated_at,
        "recorded_at": now,
    }


class KbRepo:
    def __init__(self, store: Store):
        self.store = store

    async def ingest(
        self, records: Sequence[KbRecord], session: AsyncSession | None = None
    ) -> list[ItemResult]:
        now = utcnow()
        results = [ItemResult(i, r.entry_id, "created") for i, r in enumerate(records)]
        async with transaction(self.store, session) as s:
            ids: dict[str, int] = {}
            for chunk in chunks(sorted(records, key=lambda r: r.entry_id)):
                stmt = insert_ignore(s, KbEntryRow.__table__, ["entry_id"]).returning(
                    KbEntryRow.entry_id, KbEntryRow.id
                )
                first_version = [
                    {"entry_id": r.entry_id, **_values(r, r.version or 1, now)} for r in chunk
                ]
                ids.update(dict((await s.execute(stmt, first_version)).all()))
            created: set[str] = set()
            repeats: list[int] = []
            for i, record in enumerate(records):
                if record.entry_id in ids and record.entry_id not in created:
                    created.add(record.entry_id)
                    values = _values(record, record.version or 1, now)
                    s.add(KbVersionRow(entry_id=ids[record.entry_id], **values))
                else:
                    repeats.append(i)
            await s.flush()
            for i in repeats:
                await self._repeat(s, records[i], results[i], now)
        return results

    async def _repeat(
        self, s: AsyncSession, record: KbRecord, result: ItemResult, now: dt.datetime
    ) -> None:
        query = select(KbEntryRow).where(KbEntryRow.entry_id == record.entry_id)
        if is_postgres(s):
            query = query.with_for_update()  # one new version at a time
        entry = await s.scalar(query)
        assert entry is not None
        new = record.content()
        if record.version is not None and record.version <= entry.version:
            version = await s.scalar(
                select(KbVersionRow).where(
                    KbVersionRow.entry_id == entry.id, KbVersionRow.version == record.version
                )
            )
            errors = diff(_content(version), new) if version is not None else []
            if errors:
                result.status = "conflict"
                result.errors = [
                    FieldError(e.field, f"version {record.version}: {e.reason}", e.value)
                    for e in errors
                ]
            else:
                result.status = "duplicate"
            return
        if record.version is not None and record.version > entry.version + 1:
            result.status = "conflict"
            result.errors = [
                FieldError(
                    "version",
                    f"version {record.version} skips {entry.version + 1} (stored: {entry.version})",
                    record.version,
                )
            ]
            return
        if not _differs(_content(entry), new):
            result.status = "duplicate"
            return
        next_version = entry.version + 1
        s.add(KbVersionRow(entry_id=entry.id, **_values(record, next_version, now)))
        for name, value in _values(record, next_version, now).items():
            setattr(entry, name, value)
        await s.flush()
        result.status = "updated"

    async def get(self, entry_id: str) -> tuple[KbEntryRow, list[KbVersionRow]] | None:
        async with self.store.sessions() as s:
            entry = await s.scalar(select(KbEntryRow).where(KbEntryRow.entry_id == entry_id))
            if entry is None:
                return None
            versions = await s.scalars(
                select(KbVersionRow)
                .where(KbVersionRow.entry_id == entry.id)
                .order_by(KbVersionRow.version)
            )
            return entry, list(versions.all())

    def _scope(self, valid_on: dt.date | None, category: str | None) -> list:
        conditions = []
        if valid_on is not None:
            conditions.append(or_(KbEntryRow.valid_to.is_(None), KbEntryRow.valid_to >= valid_on))
            conditions.append(
                or_(KbEntryRow.valid_from.is_(None), KbEntryRow.valid_from <= valid_on)
            )
        if category is not None:
            conditions.append(KbEntryRow.category == category)
        return conditions

    async def list(
        self,
        *,
        valid_on: dt.date | None = None,
        category: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[KbEntryRow], int]:
        """Entries, latest change first (valid on ``valid_on`` when given)."""
        conditions = self._scope(valid_on, category)
        query = (
            select(KbEntryRow)
            .where(*conditions)
            .order_by(KbEntryRow.updated_at.desc(), KbEntryRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.store.sessions() as s:
            rows = list((await s.scalars(query)).all())
            total = await s.scalar(select(func.count()).select_from(KbEntryRow).where(*conditions))
        return rows, int(total or 0)

    async def search(
        self,
        query: Query,
        *,
        valid_on: dt.date | None = None,
        category: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[tuple[KbEntryRow, int]], int]:
        """Entries holding every term in title, question or answer. Tiers: 0 the title is the
        query, 1 the phrase is in the title, 2 in the question or answer, 3 terms apart."""
        dialect = self.store.backend
        columns = [getattr(KbEntryRow, c) for c in SEARCHED]
        conditions = self._scope(valid_on, category) + textsearch.match(
            dialect, "kb_fts", KbEntryRow.id, columns, query
        )

        def phrase_in(*cols):
            return or_(*[textsearch.contains(dialect, c, p) for p in query.phrases for c in cols])

        rank = case(
            (func.lower(KbEntryRow.title) == query.text.lower(), 0),
            (phrase_in(KbEntryRow.title), 1),
            (phrase_in(KbEntryRow.question, KbEntryRow.answer), 2),
            else_=3,
        ).label("tier")
        stmt = (
            select(KbEntryRow, rank)
            .where(*conditions)
            .order_by(rank, KbEntryRow.updated_at.desc(), KbEntryRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.store.sessions() as s:
            rows = [(row, int(t)) for row, t in (await s.execute(stmt)).all()]
            total = await s.scalar(select(func.count()).select_from(KbEntryRow).where(*conditions))
        return rows, int(total or 0)

    async def count(self) -> int:
        async with self.store.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(KbEntryRow)) or 0)


def _differs(stored: dict[str, Any], new: dict[str, Any]) -> bool:
    """A new version unless every content field is the same (here, empty is a value too:
    clearing a question is a change)."""
    return any(
        diff({k: stored.get(k)}, {k: v}) or (v is None and stored.get(k) is not None)
        for k, v in new.items()
    )
