"""The KPI report and scorecard for a period, scope and as-of, from the store (CLI and API).

One function each, so ``noc kpi report``, ``noc scorecard`` and ``/api/v1/kpi|scorecard``
show the same numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from zoneinfo import ZoneInfo

from kpi.compute import parse_scope
from kpi.gauges import KpiSnapshot, site_gauges
from kpi.render import report_data
from noc.store.kpi_facts import load_facts
from sla.intervals import (
    PeriodError,
    Window,
    current_month,
    custom_window,
    parse_instant,
    parse_period,
)


def window_of(period: str | None, start: str | None, end: str | None, tz: ZoneInfo) -> Window:
    if period and (start or end):
        raise PeriodError("give a period or from/to, not both")
    if period:
        return parse_period(period, tz)
    if start and end:
        return custom_window(start, end, tz)
    raise PeriodError("give a period (e.g. 2026-11) or both from and to")


def as_of_of(text: str | None, tz: ZoneInfo) -> dt.datetime:
    return parse_instant(text, tz) if text else dt.datetime.now(dt.UTC)


async def kpi_data(store, config, window: Window, as_of: dt.datetime, scope_text: str | None):
    tz = ZoneInfo(config.site.timezone)
    scope = parse_scope(scope_text)
    facts = await load_facts(store, window.start, window.end)
    return kpi_document(facts, window, as_of, scope, config.kpi.rules(), tz)


def kpi_document(facts, window: Window, as_of: dt.datetime, scope, rules, tz: ZoneInfo) -> dict:
    """What ``noc kpi report --format json`` prints (:func:`kpi.render.report_data`)."""
    return report_data(facts, window, as_of, scope, rules, tz)


async def current_kpi_snapshot(store, config, now: dt.datetime) -> KpiSnapshot:
    """For the metrics: the site's figures and scorecard for the current Asia/Shanghai month up
    to ``now`` (the same computation as ``noc kpi report --period <this month>``)."""
    started = time.perf_counter()
    tz = ZoneInfo(config.site.timezone)
    window = current_month(now, tz)
    facts = await load_facts(store, window.start, window.end)
    snapshot = site_gauges(facts, window, now, config.kpi.rules(), tz)
    return dataclasses.replace(snapshot, seconds=time.perf_counter() - started)
