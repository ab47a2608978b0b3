"""Writing a generated history into the store, in bulk, through the ingest repositories.

Days are gathered into batches of about ``batch`` tickets; each batch stores its calls, then its
tickets (with the history they state), then the other events (which name those tickets), each
kind in its own committed transaction (``noc.calls_intake.store_records``). Loading the same
plan again finds every record stored and changes nothing (duplicates); loading another seed
over it reports the ticket numbers it clashes with as conflicts and writes none of those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from noc.calls_intake import store_records
from noc.demo.generate import Day, Plan, history, knowledge_base
from noc.ingest.privacy import CallerProtector
from noc.store import Store


@dataclass
class LoadReport:
    days: int = 0
    typhoon_days: int = 0
    records: Counter = field(default_factory=Counter)  # kind → records handed to the store
    statuses: Counter = field(default_factory=Counter)  # created / duplicate / conflict / …

    def line(self) -> str:
        r = self.records
        return (
            f"{self.days} days ({self.typhoon_days} typhoon days): {r['tickets']} tickets, "
            f"{r['calls']} calls, {r['events']} further events, {r['kb']} KB entries; "
            + ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        )


async def load(
    store: Store,
    plan: Plan,
    protector: CallerProtector,
    tz: ZoneInfo,
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Store the plan's KB and history; ``progress`` is told the days done after each batch."""
    report = LoadReport()
    await _store(store, report, "kb", knowledge_base(plan, tz), tz)
    pending: list[Day] = []
    for day in history(plan, protector, tz):
        report.days += 1
        report.typhoon_days += day.typhoon > 1.0
        pending.append(day)
        if sum(len(d.tickets) for d in pending) >= batch:
            await _flush(store, report, pending, tz)
            if progress:
                progress(len(pending))
            pending = []
    if pending:
        await _flush(store, report, pending, tz)
        if progress:
            progress(len(pending))
    return report


async def _flush(store: Store, report: LoadReport, days: list[Day], tz: ZoneInfo) -> None:
    for kind in ("calls", "tickets", "events"):
        records = [r for d in days for r in getattr(d, kind)]
        await _store(store, report, kind, records, tz)


async def _store(store: Store, report: LoadReport, kind: str, records: list, tz: ZoneInfo) -> None:
    if not records:
        return
    report.records[kind] += len(records)
    for result in await store_records(store, kind, records, tz):
        report.statuses[result.status] += 1
