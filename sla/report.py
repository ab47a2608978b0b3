"""The SLA report: the store's facts for the widest window asked for, then every (scope, window).

One read of the store (:func:`sla.facts.load_inputs`: six queries) bounded by the
widest window, then pure computation for every (scope, window) pair — so the metrics snapshot
of ~30 scopes × 2 windows costs six queries. Scopes come from :mod:`sla.scope`, text from
:mod:`sla.render`; their public names are re-exported here for the CLI and the API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from noc.config import NocConfig
from noc.store.repo import Store
from sla.compute import LOOKBACK_SECONDS, Scope, ScopeReport, compute
from sla.facts import load_inputs
from sla.gauges import SlaSnapshot
from sla.intervals import Window, current_month, rolling
from sla.render import document, render
from sla.scope import (
    ScopeError,
    UnknownScope,
    all_scopes,
    checks_by_asset,
    parse_scope,
    upstream_map,
)

__all__ = [
    "ScopeError",
    "UnknownScope",
    "build",
    "current_snapshot",
    "document",
    "parse_scope",
    "render",
]


async def build(
    store: Store,
    config: NocConfig,
    runbooks: Any,
    windows: Sequence[Window],
    scopes: Sequence[Scope],
    now: dt.datetime,
) -> list[ScopeReport]:
    """One report row per (window, scope)."""
    longest = dt.timedelta(
        seconds=max(LOOKBACK_SECONDS.values())
    )  # burn rates look back from the end
    start = min(min(w.start, min(w.end, now) - longest) for w in windows)
    end = max(min(w.end, now) for w in windows)
    inputs = await load_inputs(store, start, max(end, start), runbooks, max(w.end for w in windows))
    inputs = dataclasses.replace(inputs, upstream=upstream_map(config))
    if inputs.coverage is not None:  # a scope is watched when every check of its assets was
        inputs = dataclasses.replace(
            inputs, coverage=dataclasses.replace(inputs.coverage, checks=checks_by_asset(config))
        )
    targets = config.sla.targets()
    # pure but CPU-bound (about 1 s for 1,000 asset scopes): off the event loop
    return await asyncio.to_thread(
        lambda: [
            compute(inputs, scope, window, targets, now) for window in windows for scope in scopes
        ]
    )


async def current_snapshot(
    store: Store, config: NocConfig, runbooks: Any, now: dt.datetime
) -> SlaSnapshot:
    """For the metrics collector: the current Asia/Shanghai month so far and the rolling 30 days,
    for the site, every service and every asset with a check."""
    tz = ZoneInfo(config.sla.timezone)
    named = {"month": current_month(now, tz), "30d": rolling(now, 30)}
    reports = await build(store, config, runbooks, list(named.values()), all_scopes(config), now)
    by_label = {w.label: name for name, w in named.items()}
    rows = tuple(r.gauges(config.site.name, by_label[r.window.label]) for r in reports)
    return SlaSnapshot(computed_at=now, targets=config.sla.targets(), rows=rows)
