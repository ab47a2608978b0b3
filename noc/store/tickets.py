"""Tickets in the store: their events (append-only), the ticket row as their projection, the
registers events feed (spot checks, complaints against agents, commendations), and queries.

A ticket record is a snapshot: it creates the ticket with the history it states (created,
dispatched, closed, callback, rated). Sent again later (next month's export), it may *add*
history: an event it implies that is not stored yet is appended and the ticket row
recomputed (``updated``). It may not *change* what was recorded: a field the ticket was created
with, or an event stored with other data, makes it a conflict and nothing of it is written.

Events that arrive on their own (``ingest_events``) name their ticket; a repeat of one (same
``event_id``) is acknowledged, a different one under the same id is a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from noc.ingest.lifecycle import Lifecycle, project
from noc.ingest.records import EventRecord, FieldError, TicketRecord, diff
from noc.ingest.search import Query
from noc.store import textsearch
from noc.store.bulk import ItemResult, chunks, insert_new, is_postgres, transaction
from noc.store.repo import Store
from noc.store.tables_calls import (
    AgentComplaintRow,
    CommendationRow,
    SpotCheckRow,
    TicketEventRow,
    TicketRow,
)
from noc.store.types import utcnow

BASE = (
    "created_at",
    "channel",
    "type",
    "category",
    "town",
    "content",
    "caller_hash",
    "call_id",
    "agent",
    "instant_answer",
    "kb_entry",
    "source",
    "province_ref",
)
LIFECYCLE = tuple(Lifecycle().as_dict())
SEARCHED = ("ticket_no", "town", "content")


def _base(record: TicketRecord) -> dict[str, Any]:
    out = {name: getattr(record, name) for name in BASE if name != "caller_hash"}
    out["caller_hash"] = record.caller.hash if record.caller else None
    return out


def _ticket_values(
    record: TicketRecord, now: dt.datetime, events: list[EventRecord]
) -> dict[str, Any]:
    """The ticket row of a new ticket, ``events`` being ``record.events()``."""
    caller = record.caller
    values = _base(record)
    values.update(
        ticket_no=record.ticket_no,
        caller_masked=caller.masked if caller else None,
        caller_enc=caller.encrypted if caller else None,
        instant_answer=bool(record.instant_answer),
        source=record.source or "local",
        recorded_at=now,
        updated_at=now,
        **project(events).as_dict(),
    )
    return values


def _event_values(event: EventRecord, ticket_id: int | None, now: dt.datetime) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "ticket_id": ticket_id,
        "kind": event.kind,
        "at": event.at,
        "data": event.data,
        "recorded_at": now,
    }


@dataclass(frozen=True)
class TicketFilter:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    type: str | None = None
    town: str | None = None
    agent: str | None = None
    status: str | None = None
    channel: str | None = None
    source: str | None = None

    def conditions(self) -> list:
        out = []
        if self.start is not None:
            out.append(TicketRow.created_at >= self.start)
        if self.end is not None:
            out.append(TicketRow.created_at < self.end)
        for name in ("type", "town", "agent", "status", "channel", "source"):
            value = getattr(self, name)
            if value is not None:
                out.append(getattr(TicketRow, name) == value)
        return out


@dataclass
class TicketDetail:
    ticket: TicketRow
    events: list[TicketEventRow]
    spot_checks: list[SpotCheckRow]
    complaints: list[AgentComplaintRow]
    commendations: list[CommendationRow]


class TicketRepo:
    def __init__(self, store: Store, tz: ZoneInfo):
        self.store = store
        self.tz = tz  # a commendation is dated in site time

    # -- tickets ---------------------------------------------------------------------------

    async def ingest_tickets(
        self, records: Sequence[TicketRecord], session: AsyncSession | None = None
    ) -> list[ItemResult]:
        now = utcnow()
        results = [ItemResult(i, r.ticket_no, "created") for i, r in enumerate(records)]
        async with transaction(self.store, session) as s:
            stated = [r.events() for r in records]  # the history each record states
            # in key order: concurrent batches then take the unique index's locks in one order
            rows = [
                _ticket_values(records[i], now, stated[i])
                for i in sorted(range(len(records)), key=lambda i: records[i].ticket_no)
            ]
            table = TicketRow.__table__
            ids = dict(await insert_new(s, table, rows, ["ticket_no"], ["ticket_no", "id"]))
            created: set[str] = set()
            new_events: list[dict[str, Any]] = []
            searched: list[tuple[int, str, str | None, str]] = []
            repeats: list[int] = []
            for i, record in enumerate(records):
                if record.ticket_no in ids and record.ticket_no not in created:
                    created.add(record.ticket_no)
                    tid = ids[record.ticket_no]
                    new_events += [_event_values(e, tid, now) for e in stated[i]]
                    searched.append((tid, record.ticket_no, record.town, record.content))
                else:
                    repeats.append(i)
            await textsearch.index_tickets(s, searched)
            new_events.sort(key=lambda v: v["event_id"])
            await insert_new(s, TicketEventRow.__table__, new_events, ["event_id"])
            if repeats:
                await self._repeats(s, records, repeats, results, now)
        return results

    async def _repeats(
        self,
        s: AsyncSession,
        records: Sequence[TicketRecord],
        repeats: list[int],
        results: list[ItemResult],
        now: dt.datetime,
    ) -> None:
        tickets = await self._tickets(s, {records[i].ticket_no for i in repeats}, lock=True)
        implied = {i: records[i].events() for i in repeats}  # (repeats are few)
        stored = await self._events_by_id(s, {e.event_id for es in implied.values() for e in es})
        touched: set[int] = set()
        for i in repeats:
            record, row = records[i], tickets[records[i].ticket_no]
            stored_base = {name: getattr(row, name) for name in BASE}
            errors = diff(stored_base, _base(record))
            fresh: list[EventRecord] = []
            for event in implied[i]:
                old = stored.get(event.event_id)
                if old is None:
                    fresh.append(event)
                else:
                    errors += _event_conflicts(old, event, row.id)
            if errors:
                results[i].status, results[i].errors = "conflict", errors
                continue
            if not fresh:
                results[i].status = "duplicate"
                continue
            values = [_event_values(e, row.id, now) for e in fresh]
            inserted = await self._insert_events(s, values)
            for e in fresh:
                if e.event_id in inserted:
                    stored[e.event_id] = _EventView(row.id, e.kind, e.at, e.data)
            results[i].status = "updated" if inserted else "duplicate"
            if inserted:
                touched.add(row.id)
        await self._reproject(s, touched, now)

    # -- events ----------------------------------------------------------------------------

    async def ingest_events(
        self, records: Sequence[EventRecord], session: AsyncSession | None = None
    ) -> list[ItemResult]:
        now = utcnow()
        results = [ItemResult(i, r.event_id, "created") for i, r in enumerate(records)]
        async with transaction(self.store, session) as s:
            tickets = await self._tickets(
                s, {r.ticket_no for r in records if r.ticket_no is not None}, lock=True
            )
            stored = await self._events_by_id(s, {r.event_id for r in records})
            pending: list[tuple[int, dict[str, Any]]] = []
            batch: dict[str, int] = {}
            for i, record in enumerate(records):
                row = tickets.get(record.ticket_no) if record.ticket_no else None
                if record.ticket_no is not None and row is None:
                    results[i].status = "invalid"
                    results[i].errors = [
                        FieldError("ticket_no", f"no ticket {record.ticket_no!r}", record.ticket_no)
                    ]
                    continue
                tid = row.id if row is not None else None
                old = stored.get(record.event_id)
                if old is None and record.event_id in batch:
                    first = records[batch[record.event_id]]
                    old = _EventView(tid, first.kind, first.at, first.data)
                if old is not None:
                    errors = _event_conflicts(old, record, tid)
                    results[i].status = "conflict" if errors else "duplicate"
                    results[i].errors = errors
                    continue
                batch[record.event_id] = i
                pending.append((i, _event_values(record, tid, now)))
            inserted = await self._insert_events(s, [v for _, v in pending])
            touched: set[int] = set()
            registers: list[tuple[EventRecord, int, int | None]] = []
            for i, values in pending:
                event_pk = inserted.get(values["event_id"])
                if event_pk is None:  # a concurrent request stored it first
                    results[i].status = "duplicate"
                    continue
                if values["ticket_id"] is not None:
                    touched.add(values["ticket_id"])
                registers.append((records[i], event_pk, values["ticket_id"]))
            self._add_registers(s, registers)
            await self._reproject(s, touched, now)
        return results

    def _add_registers(
        self, s: AsyncSession, registers: list[tuple[EventRecord, int, int | None]]
    ) -> None:
        for record, event_pk, ticket_id in registers:
            data = record.data
            if record.kind == "spot_checked":
                s.add(
                    SpotCheckRow(
                        event_id=event_pk,
                        ticket_id=ticket_id,
                        checked_at=record.at,
                        result=data["result"],
                        reason=data.get("reason"),
                    )
                )
            elif record.kind == "complaint_ruled":
                s.add(
                    AgentComplaintRow(
                        event_id=event_pk,
                        ticket_id=ticket_id,
                        agent=data["agent"],
                        ruled_at=record.at,
                        justified=bool(data["justified"]),
                        reason=data.get("reason"),
                    )
                )
            elif record.kind == "commended":
                s.add(
                    CommendationRow(
                        event_id=event_pk,
                        ticket_id=ticket_id,
                        agent=data["agent"],
                        date=record.at.astimezone(self.tz).date(),
                        kind=data["commendation_kind"],
                    )
                )

    # -- shared steps --------------------------------------------------------------------------

    async def _tickets(
        self, s: AsyncSession, numbers: set[str], lock: bool
    ) -> dict[str, TicketRow]:
        out: dict[str, TicketRow] = {}
        for chunk in chunks(sorted(numbers)):
            query = select(TicketRow).where(TicketRow.ticket_no.in_(chunk)).order_by(TicketRow.id)
            if lock and is_postgres(s):
                query = query.with_for_update()  # one projection writer per ticket at a time
            out.update({r.ticket_no: r for r in (await s.scalars(query)).all()})
        return out

    async def _events_by_id(self, s: AsyncSession, ids: set[str]) -> dict[str, _EventView]:
        out: dict[str, _EventView] = {}
        for chunk in chunks(sorted(ids)):
            query = select(
                TicketEventRow.event_id,
                TicketEventRow.ticket_id,
                TicketEventRow.kind,
                TicketEventRow.at,
                TicketEventRow.data,
            ).where(TicketEventRow.event_id.in_(chunk))
            for eid, tid, kind, at, data in (await s.execute(query)).all():
                out[eid] = _EventView(tid, kind, at, data or {})
        return out

    async def _insert_events(self, s: AsyncSession, values: list[dict[str, Any]]) -> dict[str, int]:
        ordered = sorted(values, key=lambda v: v["event_id"])
        table = TicketEventRow.__table__
        return dict(await insert_new(s, table, ordered, ["event_id"], ["event_id", "id"]))

    async def _reproject(self, s: AsyncSession, ticket_ids: set[int], now: dt.datetime) -> None:
        """Make each ticket row the projection of all its events."""
        for chunk in chunks(sorted(ticket_ids)):
            events: dict[int, list[TicketEventRow]] = defaultdict(list)
            query = select(TicketEventRow).where(TicketEventRow.ticket_id.in_(chunk))
            for event in (await s.scalars(query)).all():
                events[event.ticket_id].append(event)
            rows = await s.scalars(select(TicketRow).where(TicketRow.id.in_(chunk)))
            for row in rows.all():
                state = project(sorted(events[row.id], key=lambda e: e.id)).as_dict()
                changed = {k: v for k, v in state.items() if getattr(row, k) != v}
                for k, v in changed.items():
                    setattr(row, k, v)
                if changed:
                    row.updated_at = now
        await s.flush()

    # -- queries -----------------------------------------------------------------------------

    async def get(self, ticket_no: str) -> TicketDetail | None:
        async with self.store.sessions() as s:
            row = await s.scalar(select(TicketRow).where(TicketRow.ticket_no == ticket_no))
            if row is None:
                return None

            async def of(model, order):
                query = select(model).where(model.ticket_id == row.id).order_by(*order)
                return list((await s.scalars(query)).all())

            return TicketDetail(
                ticket=row,
                events=await of(TicketEventRow, (TicketEventRow.at, TicketEventRow.id)),
                spot_checks=await of(SpotCheckRow, (SpotCheckRow.checked_at,)),
                complaints=await of(AgentComplaintRow, (AgentComplaintRow.ruled_at,)),
                commendations=await of(CommendationRow, (CommendationRow.date,)),
            )

    async def list(
        self, flt: TicketFilter, limit: int = 50, offset: int = 0
    ) -> tuple[list[TicketRow], int]:
        """Tickets newest first (by index: created_at, or type/town/agent + created_at)."""
        conditions = flt.conditions()
        query = (
            select(TicketRow)
            .where(*conditions)
            .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.store.sessions() as s:
            rows = list((await s.scalars(query)).all())
            total = await s.scalar(select(func.count()).select_from(TicketRow).where(*conditions))
        return rows, int(total or 0)

    async def search(
        self, query: Query, flt: TicketFilter, limit: int = 20, offset: int = 0
    ) -> tuple[list[tuple[TicketRow, int]], int]:
        """Tickets holding every term in their content, number or town, best tier first, then
        newest; with the number of matches."""
        dialect = self.store.backend
        columns = [getattr(TicketRow, c) for c in SEARCHED]
        matched = textsearch.match(
            dialect, "tickets_fts", TicketRow.id, columns, query, short_grams_index=True
        )
        conditions = flt.conditions()
        one_term = query.terms == (query.text,)  # ("水 水" is one term, but its phrase is two)
        if not conditions and one_term and textsearch.simple_case(query.text):
            return await self._search_one_term(query, columns, matched, limit, offset)
        conditions += matched
        rank = textsearch.tier(dialect, query, TicketRow.ticket_no, columns).label("tier")
        stmt = (
            select(TicketRow, rank)
            .where(*conditions)
            .order_by(rank, TicketRow.created_at.desc(), TicketRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.store.sessions() as s:
            await textsearch.prefer_indexes(s, query)
            rows = [(row, int(t)) for row, t in (await s.execute(stmt)).all()]
            total = await s.scalar(select(func.count()).select_from(TicketRow).where(*conditions))
        return rows, int(total or 0)

    async def _search_one_term(
        self, query: Query, columns: list, matched: list, limit: int, offset: int
    ) -> tuple[list[tuple[TicketRow, int]], int]:
        """:meth:`search` for one term over all tickets, without ranking every hit.

        With one term the phrase *is* the term, so every hit is tier 1 except the ticket whose
        number is the query (tier 0, by the ``lower(ticket_no)`` index): the page is those,
        then the other hits newest first — which the ``created_at`` index gives in order,
        without sorting all of them. The term's case must mean the same to Python and the
        database (:func:`~noc.store.textsearch.simple_case`), as the tiers are computed in both.
        """
        number = func.lower(TicketRow.ticket_no) == query.text.lower()
        newest = (TicketRow.created_at.desc(), TicketRow.id.desc())
        dialect = self.store.backend
        async with self.store.sessions() as s:
            await textsearch.prefer_indexes(s, query)
            counted = textsearch.index_count(dialect, "tickets_fts", query)
            if counted is None:
                counted = select(func.count()).select_from(TicketRow).where(*matched)
            total = int(await s.scalar(counted) or 0)
            if total == 0:
                return [], 0
            first = list(
                await s.scalars(select(TicketRow).where(number, *matched).order_by(*newest))
            )
            page = [(row, 0) for row in first[offset : offset + limit]]
            wanted = limit - len(page)
            if wanted > 0 and total > len(first):
                skip = max(0, offset - len(first))
                rows = await self._newest_hits(s, query, total, skip, wanted)
                if rows is None:  # read every hit, then sort
                    order = newest
                    if dialect == "postgresql":
                        # an order the created_at index cannot give: PostgreSQL, guessing the
                        # hits rarer than they are, would walk it testing every ticket
                        order = (
                            literal_column("tickets.created_at + INTERVAL '0'").desc(),
                            newest[1],
                        )
                    rest = (
                        select(TicketRow)
                        .where(~number, *matched)
                        .order_by(*order)
                        .limit(wanted)
                        .offset(skip)
                    )
                    rows = list((await s.scalars(rest)).all())
                page += [(row, 1) for row in rows]
        return page, total

    async def _newest_hits(
        self, s: AsyncSession, query: Query, hits: int, skip: int, wanted: int
    ) -> list[TicketRow] | None:
        """When hits are common, the page from the newest tickets alone: of the newest
        ``window`` tickets (``created_at`` index), those that hit. Exact when at least
        ``skip + wanted`` of them hit (every older hit comes after); else ``None``, and the
        caller reads every hit. ``window`` is eight times what an even spread of the hits
        needs; a term whose hits cluster in the past (台风, a typhoon month) falls back.
        The planners cannot choose this themselves: they do not know how many tickets hold
        the term (PostgreSQL then tests every ticket's text, SQLite reads every hit)."""
        tickets = int(await s.scalar(select(func.max(TicketRow.id))) or 0)
        needed = skip + wanted
        if hits * hits <= 4 * needed * tickets:  # reading the hits is cheaper
            return None
        window = min(tickets, max(2000, 8 * needed * tickets // hits))
        newest = (TicketRow.created_at.desc(), TicketRow.id.desc())
        recent = aliased(TicketRow, select(TicketRow).order_by(*newest).limit(window).subquery())
        columns = [getattr(recent, c) for c in SEARCHED]
        # "id + 0": SQLite must not look the hits up by id, only test the recent ones
        tests = textsearch.match(self.store.backend, "tickets_fts", recent.id + 0, columns, query)
        stmt = (
            select(recent)
            .where(func.lower(recent.ticket_no) != query.text.lower(), *tests)
            .order_by(recent.created_at.desc(), recent.id.desc())
            .limit(wanted)
            .offset(skip)
        )
        rows = list((await s.scalars(stmt)).all())
        return rows if skip + len(rows) >= needed else None

    async def count(self) -> int:
        async with self.store.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(TicketRow)) or 0)


@dataclass(frozen=True)
class _EventView:
    ticket_id: int | None
    kind: str
    at: dt.datetime
    data: dict[str, Any]


def _event_conflicts(old: _EventView, new: EventRecord, ticket_id: int | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if old.ticket_id != ticket_id:
        errors.append(FieldError("ticket_no", "this event_id is stored for another ticket"))
    stored = {"kind": old.kind, "at": old.at, **old.data}
    errors += diff(stored, {"kind": new.kind, "at": new.at, **new.data})
    return errors
