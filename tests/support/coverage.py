"""Monitoring coverage for tests that seed a store: a run of the service that watched every
check of the inventory, written through the store's own repository (what the watch writes)."""

from __future__ import annotations

import datetime as dt

from noc.config import NocConfig
from noc.store.coverage import CoverageRepo, Stretch
from noc.store.repo import Store


async def watched(
    store: Store,
    config: NocConfig,
    start: dt.datetime,
    end: dt.datetime,
    *,
    stopped: bool = True,
) -> int:
    """One run ``[start, end)`` (a clean stop, or with ``stopped=False`` a crash whose last
    heartbeat was ``end``) in which every enabled check had fresh, good results throughout."""
    repo = CoverageRepo(store)
    checks = [{"asset": a.name, "check": c.check_name} for a, c in config.iter_checks()]
    run = await repo.start_run(config.site.name, start, checks, "test", 0)
    stretches = [
        Stretch(c["asset"], c["check"], start, end, start, end, closed=stopped) for c in checks
    ]
    await repo.beat(run, config.site.name, end, stretches, stop=stopped)
    return run
