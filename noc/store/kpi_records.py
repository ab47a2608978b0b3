"""The rows behind a KPI figure (drill-down): a page of the ids that :mod:`kpi.compute` put in a
figure's ``records``, looked up by the same keys the facts were built with
(:mod:`noc.store.kpi_facts`): calls by ``source/call_id``, tickets by number, spot checks,
complaints, commendations and emergencies by row id, incidents by id.

Each function answers ``{id: row}`` for the ids it found; an id it does not find is simply
absent (the caller shows it bare). A page is at most a few hundred ids, read in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from noc.store.repo import Store
from noc.store.tables import Incident
from noc.store.tables_calls import (
    AgentComplaintRow,
    CallRow,
    CommendationRow,
    SpotCheckRow,
    TicketRow,
)
from noc.store.tables_kpi import EmergencyRow

CHUNK = 500


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _row_ids(ids: Iterable[str]) -> list[int]:
    return sorted({int(i) for i in ids if str(i).isdigit()})


@dataclass(frozen=True)
class Linked:
    """A row that names a ticket by its row id, with the ticket's number."""

    row: Any
    ticket_no: str | None


async def calls(store: Store, refs: Sequence[str]) -> dict[str, CallRow]:
    """Calls by ``source/call_id`` (the id :mod:`noc.store.kpi_facts` gives a call)."""
    wanted = set(refs)
    call_ids = sorted({r.split("/", 1)[1] for r in wanted if "/" in r})
    out: dict[str, CallRow] = {}
    async with store.sessions() as s:
        for part in _chunks(call_ids):
            for row in (await s.scalars(select(CallRow).where(CallRow.call_id.in_(part)))).all():
                ref = f"{row.source}/{row.call_id}"
                if ref in wanted:
                    out[ref] = row
    return out


async def tickets(store: Store, numbers: Sequence[str]) -> dict[str, TicketRow]:
    out: dict[str, TicketRow] = {}
    async with store.sessions() as s:
        for part in _chunks(sorted(set(numbers))):
            query = select(TicketRow).where(TicketRow.ticket_no.in_(part))
            for row in (await s.scalars(query)).all():
                out[row.ticket_no] = row
    return out


async def _linked(store: Store, model, ids: Sequence[str]) -> dict[str, Linked]:
    out: dict[str, Linked] = {}
    async with store.sessions() as s:
        for part in _chunks(_row_ids(ids)):
            query = (
                select(model, TicketRow.ticket_no)
                .outerjoin(TicketRow, TicketRow.id == model.ticket_id)
                .where(model.id.in_(part))
            )
            for row, number in (await s.execute(query)).all():
                out[str(row.id)] = Linked(row, number)
    return out


async def spot_checks(store: Store, ids: Sequence[str]) -> dict[str, Linked]:
    return await _linked(store, SpotCheckRow, ids)


async def complaints(store: Store, ids: Sequence[str]) -> dict[str, Linked]:
    return await _linked(store, AgentComplaintRow, ids)


async def commendations(store: Store, ids: Sequence[str]) -> dict[str, Linked]:
    return await _linked(store, CommendationRow, ids)


async def emergencies(store: Store, ids: Sequence[str]) -> dict[str, EmergencyRow]:
    out: dict[str, EmergencyRow] = {}
    async with store.sessions() as s:
        for part in _chunks(_row_ids(ids)):
            query = select(EmergencyRow).where(EmergencyRow.id.in_(part))
            for row in (await s.scalars(query)).all():
                out[str(row.id)] = row
    return out


async def incidents(store: Store, ids: Sequence[str]) -> dict[str, Incident]:
    out: dict[str, Incident] = {}
    async with store.sessions() as s:
        for part in _chunks(_row_ids(ids)):
            for row in (await s.scalars(select(Incident).where(Incident.id.in_(part)))).all():
                out[str(row.id)] = row
    return out
