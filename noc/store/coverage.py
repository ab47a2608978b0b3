"""Monitoring coverage in the store: the service's runs and each check's stretches of fresh
results, written by the watch (:mod:`noc.runtime.watch`) and read by the SLA (:mod:`sla.facts`).

Why stretches and not results: a check probed every second would add 2.6 million rows a month;
a stretch is one row per run and per stale episode, extended in place by the heartbeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update

from noc.store.tables import CheckCoverage, MonitorRun

if TYPE_CHECKING:
    from noc.store.repo import Store


@dataclass
class Stretch:
    """What the watch writes for one check: a new row (``row_id`` None) or an extension."""

    asset: str
    check: str
    since: dt.datetime
    until: dt.datetime
    first_ok_at: dt.datetime | None = None
    last_ok_at: dt.datetime | None = None
    closed: bool = False
    row_id: int | None = None


@dataclass(frozen=True)
class CoverageRows:
    runs: list[MonitorRun]  # by start
    stretches: list[CheckCoverage]  # by since, then id


class CoverageRepo:
    def __init__(self, store: Store):
        self.store = store

    async def start_run(
        self, site: str, at: dt.datetime, checks: Sequence[dict[str, Any]], host: str, pid: int
    ) -> int:
        """A new run, heartbeat at its start; returns its id."""
        row = MonitorRun(
            site=site,
            started_at=at,
            heartbeat_at=at,
            stopped_at=None,
            host=host,
            pid=pid,
            checks=list(checks),
        )
        async with self.store.sessions.begin() as session:
            session.add(row)
        return row.id

    async def beat(
        self,
        run_id: int,
        site: str,
        at: dt.datetime,
        stretches: Sequence[Stretch],
        *,
        stop: bool = False,
    ) -> list[int]:
        """One heartbeat in one transaction: the run's heartbeat (and its clean stop with
        ``stop``), each stretch inserted or extended. Returns the stretches' row ids, in order."""
        ids: list[int] = []
        async with self.store.sessions.begin() as session:
            values: dict[str, Any] = {"heartbeat_at": at}
            if stop:
                values["stopped_at"] = at
            await session.execute(update(MonitorRun).where(MonitorRun.id == run_id).values(values))
            for s in stretches:
                fields = {
                    "until": s.until,
                    "first_ok_at": s.first_ok_at,
                    "last_ok_at": s.last_ok_at,
                    "closed": s.closed,
                }
                if s.row_id is None:
                    row = CheckCoverage(
                        run_id=run_id,
                        site=site,
                        asset=s.asset,
                        check=s.check,
                        since=s.since,
                        **fields,
                    )
                    session.add(row)
                    await session.flush()
                    ids.append(row.id)
                else:
                    await session.execute(
                        update(CheckCoverage).where(CheckCoverage.id == s.row_id).values(fields)
                    )
                    ids.append(s.row_id)
        return ids

    async def rows(self, start: dt.datetime, end: dt.datetime) -> CoverageRows:
        """The runs overlapping ``[start, end)`` and the stretches overlapping it, plus each
        check's last stretch before ``start`` (its last good observation dates a fault found
        present when monitoring resumed)."""
        run_end = func.coalesce(MonitorRun.stopped_at, MonitorRun.heartbeat_at)
        last_before = (
            select(func.max(CheckCoverage.id))
            .where(CheckCoverage.until < start)
            .group_by(CheckCoverage.asset, CheckCoverage.check)
        )
        async with self.store.sessions() as session:
            runs = (
                await session.scalars(
                    select(MonitorRun)
                    .where(MonitorRun.started_at < end, run_end >= start)
                    .order_by(MonitorRun.started_at, MonitorRun.id)
                )
            ).all()
            stretches = (
                await session.scalars(
                    select(CheckCoverage)
                    .where(
                        CheckCoverage.since < end,
                        or_(CheckCoverage.until >= start, CheckCoverage.id.in_(last_before)),
                    )
                    .order_by(CheckCoverage.since, CheckCoverage.id)
                )
            ).all()
        return CoverageRows(list(runs), list(stretches))
