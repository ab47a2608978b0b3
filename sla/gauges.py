"""The SLA figures the service exports on ``/metrics``: the contract between the SLA engine
(which fills them from the event log, off the event loop's scrape path) and the metrics
collector (which only reads the last snapshot; ``collect()`` never queries the store)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

GAUGE_WINDOWS = (
    "month",
    "30d",
)  # the current Asia/Shanghai calendar month so far; the rolling 30 days


@dataclass(frozen=True)
class SlaTargets:
    """Contract targets, from the config's ``sla`` section."""

    availability_objective_ratio: float
    mtbf_seconds: float  # 600 h
    mttr_seconds: dict[str, float]  # {"automatic": 900, "manual": 86400}
    coverage_threshold_ratio: float = 0.99  # monitored ÷ scheduled time under it: "insufficient"


@dataclass(frozen=True)
class SlaGauges:
    """One scope's figures over one window. ``scope`` is ``site:NAME``, ``service:NAME`` or ``asset:NAME``."""

    site: str
    scope: str
    window: str  # one of GAUGE_WINDOWS
    availability_ratio: float
    failures: int
    mtbf_seconds: float | None  # None only if the window had no operating time
    mttr_seconds: dict[
        str, float
    ]  # by recovery kind; a kind with no recovery in the window is absent
    breaches: dict[
        str, int
    ]  # by recovery kind, every kind present; plus "open" while one is open at or past 24 h
    error_budget_remaining_ratio: float
    response_timeliness_ratio: float | None  # None when no incident was due for acknowledgement
    alarm_delay_seconds: dict[str, float]  # {"0.5": p50, "1": max}; empty when nothing was alarmed
    burn_rate: dict[str, float] = field(default_factory=dict)  # by lookback (noc.core.vocabulary)
    mtbf_lower_bound: bool = False  # no failure in the window: MTBF is at least mtbf_seconds
    coverage_ratio: float | None = None  # monitored ÷ scheduled (sla.coverage); None: unknown


@dataclass(frozen=True)
class SlaSnapshot:
    computed_at: dt.datetime
    targets: SlaTargets
    rows: tuple[SlaGauges, ...]
