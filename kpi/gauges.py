"""The KPI figures the service exports on ``/metrics``: the month so far, site scope. Pure.

The contract between the KPI computation (run off the event loop every few minutes, see
``noc.app``) and the metrics snapshot (which only reads the last one). **No data is never 0**:
a figure without data (a rate whose denominator is 0: no call offered, no ticket rated …) has no
``ratio``; ``data_present`` says so, and the counts behind it stay (a denominator of 0 is a
true count). Points follow the scorecard's rules, which decide what no data earns
(docs/kpi.md, "No data is never met").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from kpi.compute import Figure, Scope, compute
from kpi.model import Facts, Rules
from kpi.score import Scorecard, scorecard
from sla.intervals import Window


@dataclass(frozen=True)
class KpiGauges:
    """One indicator's month-to-date figures."""

    indicator: str
    data_present: bool  # the figure has data (status ok); a rate without data has no ratio
    ratio: float | None  # numerator / denominator, 0..1; None without data
    target_ratio: float | None  # the configured target of a rate indicator
    numerator: int | None
    denominator: int | None
    items: int | None  # what is counted against it (complaints, late reports …) or for it
    pending: int | None  # records not yet due at the time of computing (not failed)
    points: float | None  # None: left out of the total (rule ``exclude``, or not applicable)
    max_points: float


@dataclass(frozen=True)
class KpiSnapshot:
    computed_at: dt.datetime
    period: str  # "2026-11"
    period_start: dt.datetime
    rows: tuple[KpiGauges, ...]
    base_points: float  # out of 100
    bonus_points: float
    total_points: float
    seconds: float = 0.0  # how long computing it took


def kpi_gauges(
    figures: list[Figure],
    card: Scorecard,
    rules: Rules,
    *,
    computed_at: dt.datetime,
    period: str,
    period_start: dt.datetime,
    seconds: float = 0.0,
) -> KpiSnapshot:
    points = {p.id: p for p in card.items}
    rows = []
    for fig in figures:
        rule = rules.rules[fig.id]
        pending = fig.records.get("pending")
        rows.append(
            KpiGauges(
                indicator=fig.id,
                data_present=fig.status == "ok",
                ratio=fig.value if fig.status == "ok" else None,
                target_ratio=rule.target if rule.kind == "rate" else None,
                numerator=fig.numerator,
                denominator=fig.denominator,
                items=fig.count,
                pending=None if pending is None else len(pending),
                points=points[fig.id].points,
                max_points=rule.points,
            )
        )
    return KpiSnapshot(
        computed_at=computed_at,
        period=period,
        period_start=period_start,
        rows=tuple(rows),
        base_points=card.base,
        bonus_points=card.bonus,
        total_points=card.total,
        seconds=seconds,
    )


def site_gauges(
    facts: Facts,
    window: Window,
    now: dt.datetime,
    rules: Rules,
    tz: ZoneInfo,
    *,
    seconds: float = 0.0,
) -> KpiSnapshot:
    """The site's figures and scorecard for ``window`` up to ``now`` (the computation of
    ``noc kpi report``), as the gauges of :class:`KpiSnapshot`."""
    figures = compute(facts, window, now, Scope(), rules, tz)
    return kpi_gauges(
        figures,
        scorecard(figures, rules),
        rules,
        computed_at=now,
        period=window.label,
        period_start=window.start,
        seconds=seconds,
    )
