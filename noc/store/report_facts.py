"""What the monthly report reads beyond the KPI facts (docs/report.md): ticket counts by type,
channel, town and category for the comparison months, the calls of those months, and the titles
of the knowledge-base entries the month's tickets cite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select

from kpi.model import Call
from noc.store.kpi_facts import call_of
from noc.store.repo import Store
from noc.store.tables_calls import CallRow, KbEntryRow, TicketRow

TicketCount = tuple[
    str, str | None, str | None, str | None, int
]  # type, channel, town, category, n


async def ticket_counts(store: Store, start: dt.datetime, end: dt.datetime) -> list[TicketCount]:
    """Tickets taken in ``[start, end)`` (``created_at``), counted by type × channel × town ×
    category."""
    q = (
        select(TicketRow.type, TicketRow.channel, TicketRow.town, TicketRow.category, func.count())
        .where(TicketRow.created_at >= start, TicketRow.created_at < end)
        .group_by(TicketRow.type, TicketRow.channel, TicketRow.town, TicketRow.category)
    )
    async with store.sessions() as s:
        return [(t, c, w, k, int(n)) for t, c, w, k, n in (await s.execute(q)).all()]


async def calls_between(store: Store, start: dt.datetime, end: dt.datetime) -> tuple[Call, ...]:
    """Calls offered (``entered_at``, else ``started_at``) in ``[start, end)``.

    Read by ``started_at`` (indexed) with a day's margin, since a call is offered after it
    started; then cut by the instant it was offered."""
    q = select(CallRow).where(
        CallRow.started_at >= start - dt.timedelta(days=1), CallRow.started_at < end
    )
    async with store.sessions() as s:
        calls = (call_of(c) for c in (await s.scalars(q)).all())
        return tuple(c for c in calls if start <= c.entered_at < end)


async def kb_titles(store: Store, entries: Iterable[str]) -> dict[str, str]:
    """The current title of each named knowledge-base entry (unknown ids are left out)."""
    wanted = sorted(set(entries))
    out: dict[str, str] = {}
    async with store.sessions() as s:
        for i in range(0, len(wanted), 500):
            q = select(KbEntryRow.entry_id, KbEntryRow.title).where(
                KbEntryRow.entry_id.in_(wanted[i : i + 500])
            )
            out.update({e: t for e, t in (await s.execute(q)).all()})
    return out
