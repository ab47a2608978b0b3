"""The SLA formulas: availability, failures, MTBF, MTTR (automatic / manual), alarm delay,
response timeliness, error budget and burn rates — for one scope over one window. Pure.

Inputs are plain dataclasses (the report edge fills them from the store); ``now`` is injected,
so a month is recomputed to the same figures every time and tests need no clock. Every rule
below is stated, with the reasons, in ``docs/sla.md``; the short form:

* a **failure** is a non-symptom incident of level I–III on the scope; level IV is counted apart;
* time under a **maintenance** window that names one of the scope's assets is removed from the
  operating time *and* from every failure (an incident wholly inside maintenance is planned
  work, not a failure); a failure counts in the window where its first unplanned instant falls;
* **downtime** is the union of failure intervals (and, for an asset, of its checks' DOWN
  intervals), clipped to the window; an open incident runs to ``min(now, window end)``;
* **repair time** (MTTR) is a failure's whole unplanned duration, not clipped to the window.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sla.gauges import BURN_RATE_LOOKBACKS, RECOVERY_KINDS, SlaGauges, SlaTargets
from sla.intervals import Interval, Window, clip, subtract, total_seconds, union

FAILURE_LEVELS = ("I", "II", "III")
_LEVEL_ALIASES = {"P1": "I", "P2": "II", "P3": "III", "P4": "IV", "1": "I", "2": "II", "3": "III", "4": "IV"}
LOOKBACK_SECONDS = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "1d": 86400, "3d": 259200}
# Sloth's multi-window, multi-burn-rate table (as the issue gives it): alert when both windows burn
# faster than the factor.
BURN_ALERTS = (("page", "5m", "1h", 14.4), ("page", "30m", "6h", 6.0),
               ("ticket", "2h", "1d", 1.0), ("ticket", "6h", "3d", 1.0))
DOWN = "DOWN"


@dataclass(frozen=True)
class IncidentFact:
    """What the SLA needs of one incident (a row of ``incidents`` plus its timeline)."""

    id: int
    fault_started_at: dt.datetime
    detected_at: dt.datetime
    peak_severity: str
    root_asset: str
    recovered_at: dt.datetime | None = None
    recovery_kind: str | None = None  # automatic | manual
    members: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()  # every service the incident impaired at some point
    parent_id: int | None = None
    merged: bool = False  # merged into an upstream incident: a symptom, not a failure of its own
    alarmed_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    ack_deadline_seconds: float | None = None  # runbook deadline at the peak severity

    @property
    def level(self) -> str:
        return _LEVEL_ALIASES.get(self.peak_severity.upper(), self.peak_severity.upper())

    @property
    def is_symptom(self) -> bool:
        return self.parent_id is not None or self.merged


@dataclass(frozen=True)
class TransitionFact:
    asset: str
    check: str
    from_state: str
    to_state: str
    at: dt.datetime


@dataclass(frozen=True)
class MaintenanceFact:
    id: int
    assets: frozenset[str]
    starts_at: dt.datetime
    ends_at: dt.datetime
    ended_at: dt.datetime | None = None  # ended early: the work finished then

    @property
    def interval(self) -> Interval:
        end = min(self.ends_at, self.ended_at) if self.ended_at is not None else self.ends_at
        return (self.starts_at, max(end, self.starts_at))


@dataclass(frozen=True)
class Scope:
    """``site:NAME``, ``service:NAME`` or ``asset:NAME``.

    ``assets``: the assets whose maintenance is planned downtime of the scope (for an asset
    itself; for a service the assets it needs and what they depend on). ``services``: which
    impaired services make an incident hit the scope (``None`` on a site without services:
    every incident)."""

    kind: str
    name: str
    assets: frozenset[str]
    services: frozenset[str] | None = frozenset()

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    def hit_by(self, inc: IncidentFact) -> bool:
        if self.kind == "asset":
            return inc.root_asset in self.assets or bool(inc.members & self.assets)
        if self.services is None:
            return True
        return bool(inc.services & self.services)


@dataclass(frozen=True)
class Inputs:
    incidents: Sequence[IncidentFact] = ()
    transitions: Sequence[TransitionFact] = ()
    maintenance: Sequence[MaintenanceFact] = ()

    @cached_property
    def transitions_by_asset(self) -> dict[str, list[TransitionFact]]:
        """Indexed once, so a thousand asset scopes do not each scan every transition."""
        out: dict[str, list[TransitionFact]] = defaultdict(list)
        for t in self.transitions:
            out[t.asset].append(t)
        return out


@dataclass(frozen=True)
class Breach:
    incident_id: int
    kind: str  # automatic | manual | open (still open and already past the longest target)
    duration_seconds: float
    target_seconds: float


@dataclass(frozen=True)
class FailureLine:
    """One counted failure, for the report's detail and for audit."""

    incident_id: int
    level: str
    started_at: dt.datetime  # first unplanned instant
    recovered_at: dt.datetime | None
    recovery_kind: str | None
    repair_seconds: float  # unplanned duration (elapsed so far when still open)
    downtime_in_window_seconds: float


@dataclass(frozen=True)
class ScopeReport:
    scope: str
    window: Window
    evaluated_until: dt.datetime
    period_seconds: float
    maintenance_seconds: float
    operating_seconds: float
    downtime_seconds: float
    availability_ratio: float | None  # None when there was no operating time
    failures: int
    level_iv: int
    mtbf_seconds: float | None
    mtbf_lower_bound: bool  # no failure: MTBF is at least the operating time
    mtbf_meets_target: bool | None
    mttr_seconds: dict[str, float]
    recoveries: dict[str, int]
    breaches: tuple[Breach, ...]
    alarm_delay_p50_seconds: float | None
    alarm_delay_max_seconds: float | None
    alarmed: int
    responses_due: int
    responses_on_time: int
    response_timeliness_ratio: float | None
    error_budget_seconds: float
    error_budget_remaining_ratio: float
    burn_rates: dict[str, float] = field(default_factory=dict)
    burn_alerts: tuple[str, ...] = ()
    failure_lines: tuple[FailureLine, ...] = ()

    def gauges(self, site: str, window_name: str) -> SlaGauges:
        """The row the metrics collector exports (``window_name`` is ``month`` or ``30d``)."""
        breaches = {kind: sum(1 for b in self.breaches if b.kind == kind) for kind in RECOVERY_KINDS}
        still_open = sum(1 for b in self.breaches if b.kind == "open")
        if still_open:  # past the longest target and not recovered: a breach the table lists too
            breaches["open"] = still_open
        alarm = ({"0.5": self.alarm_delay_p50_seconds, "1": self.alarm_delay_max_seconds}
                 if self.alarm_delay_max_seconds is not None else {})
        return SlaGauges(
            site=site, scope=self.scope, window=window_name,
            availability_ratio=math.nan if self.availability_ratio is None else self.availability_ratio,
            failures=self.failures, mtbf_seconds=self.mtbf_seconds, mttr_seconds=dict(self.mttr_seconds),
            breaches=breaches, error_budget_remaining_ratio=self.error_budget_remaining_ratio,
            response_timeliness_ratio=self.response_timeliness_ratio, alarm_delay_seconds=alarm,
            burn_rate=dict(self.burn_rates))


def maintenance_of(scope: Scope, maintenance: Iterable[MaintenanceFact]) -> list[Interval]:
    """Planned time of the scope: windows naming at least one of its assets."""
    return union(m.interval for m in maintenance if m.assets & scope.assets)


def down_intervals(transitions: Iterable[TransitionFact], assets: frozenset[str], until: dt.datetime) -> list[Interval]:
    """When any check of ``assets`` was DOWN (from a transition into DOWN to the next one out)."""
    since: dict[tuple[str, str], dt.datetime] = {}
    out: list[Interval] = []
    for t in sorted((t for t in transitions if t.asset in assets), key=lambda t: t.at):
        key = (t.asset, t.check)
        if t.to_state == DOWN:
            since.setdefault(key, t.at)
        elif key in since:
            out.append((since.pop(key), t.at))
    out.extend((start, until) for start in since.values())
    return union(out)


def _planned_free(inc: IncidentFact, planned: list[Interval], now: dt.datetime) -> list[Interval]:
    end = min(inc.recovered_at, now) if inc.recovered_at is not None else now
    return subtract([(inc.fault_started_at, end)], planned)


def _kind(inc: IncidentFact) -> str:
    return inc.recovery_kind if inc.recovery_kind in RECOVERY_KINDS else "manual"


def compute(inputs: Inputs, scope: Scope, window: Window, targets: SlaTargets, now: dt.datetime) -> ScopeReport:
    """Every figure of ``scope`` over ``window`` as known at ``now``."""
    until = max(window.start, min(window.end, now))
    planned = maintenance_of(scope, inputs.maintenance)
    period = until - window.start
    maintenance_s = total_seconds(clip(planned, window.start, until))
    operating_s = period.total_seconds() - maintenance_s

    failures: list[tuple[IncidentFact, list[Interval]]] = []
    others: list[tuple[IncidentFact, list[Interval]]] = []  # level IV
    for inc in inputs.incidents:
        if inc.is_symptom or inc.fault_started_at >= now or not scope.hit_by(inc):
            continue
        free = _planned_free(inc, planned, now)
        if not free:  # wholly inside planned work
            continue
        (failures if inc.level in FAILURE_LEVELS else others).append((inc, free))

    bad: list[Interval] = [i for _, free in failures for i in free]
    if scope.kind == "asset":
        mine = [t for asset in scope.assets for t in inputs.transitions_by_asset.get(asset, ())]
        bad = subtract(bad + down_intervals(mine, scope.assets, now), planned)
    downtime_s = total_seconds(clip(bad, window.start, until))

    def started_here(free: list[Interval]) -> bool:
        return window.start <= free[0][0] < until

    counted = [(inc, free) for inc, free in failures if started_here(free)]
    level_iv = sum(1 for _, free in others if started_here(free))

    lines, durations, breaches = [], {k: [] for k in RECOVERY_KINDS}, []
    longest = max(targets.mttr_seconds.values())
    for inc, free in counted:
        repair = total_seconds(free)
        recovered = inc.recovered_at is not None and inc.recovered_at <= now
        lines.append(FailureLine(inc.id, inc.level, free[0][0], inc.recovered_at if recovered else None,
                                 _kind(inc) if recovered else None, repair,
                                 total_seconds(clip(free, window.start, until))))
        if recovered:
            durations[_kind(inc)].append(repair)
            if repair > targets.mttr_seconds[_kind(inc)]:
                breaches.append(Breach(inc.id, _kind(inc), repair, targets.mttr_seconds[_kind(inc)]))
        elif repair > longest:
            breaches.append(Breach(inc.id, "open", repair, longest))

    n = len(counted)
    if operating_s <= 0:
        mtbf, lower, meets = None, False, None
    elif n:
        mtbf, lower, meets = operating_s / n, False, operating_s / n >= targets.mtbf_seconds
    else:
        mtbf, lower, meets = operating_s, True, operating_s >= targets.mtbf_seconds

    # alarm delay and response timeliness: every incident of the scope started here, levels I–IV
    handled = [inc for inc, free in counted] + [inc for inc, free in others if started_here(free)]
    delays = sorted((inc.alarmed_at - inc.fault_started_at).total_seconds()
                    for inc in handled if inc.alarmed_at is not None and inc.alarmed_at <= now)
    due = on_time = 0
    for inc in handled:
        if inc.ack_deadline_seconds is None:
            continue
        ack_by = inc.detected_at + dt.timedelta(seconds=inc.ack_deadline_seconds)
        acked = inc.acknowledged_at is not None and inc.acknowledged_at <= now
        if acked:
            due, on_time = due + 1, on_time + (inc.acknowledged_at <= ack_by)
        elif inc.recovered_at is not None and inc.recovered_at <= min(ack_by, now):
            continue  # gone before anyone had to answer it: nothing was due
        elif now > ack_by:
            due += 1

    allowed = 1.0 - targets.availability_objective_ratio
    full_operating = window.seconds - total_seconds(clip(planned, window.start, window.end))
    budget_s = allowed * full_operating
    remaining = 1.0 - downtime_s / budget_s if budget_s > 0 else (1.0 if downtime_s == 0 else 0.0)
    # a period not yet begun has nothing observed: lookbacks ending at its start would count the
    # unobserved time between now and then as good time
    burn = burn_rates(bad, planned, until, allowed) if now > window.start else {}

    return ScopeReport(
        scope=scope.label, window=window, evaluated_until=until, period_seconds=period.total_seconds(),
        maintenance_seconds=maintenance_s, operating_seconds=operating_s, downtime_seconds=downtime_s,
        availability_ratio=(operating_s - downtime_s) / operating_s if operating_s > 0 else None,
        failures=n, level_iv=level_iv, mtbf_seconds=mtbf, mtbf_lower_bound=lower, mtbf_meets_target=meets,
        mttr_seconds={k: statistics.fmean(v) for k, v in durations.items() if v},
        recoveries={k: len(v) for k, v in durations.items()}, breaches=tuple(breaches),
        alarm_delay_p50_seconds=statistics.median(delays) if delays else None,
        alarm_delay_max_seconds=delays[-1] if delays else None, alarmed=len(delays),
        responses_due=due, responses_on_time=on_time,
        response_timeliness_ratio=on_time / due if due else None,
        error_budget_seconds=budget_s, error_budget_remaining_ratio=remaining,
        burn_rates=burn, burn_alerts=tuple(alerting_pairs(burn)), failure_lines=tuple(lines))


def burn_rates(bad: list[Interval], planned: list[Interval], at: dt.datetime, allowed: float) -> dict[str, float]:
    """Error rate over each lookback ending at ``at``, as a multiple of the allowed rate."""
    out = {}
    for name in BURN_RATE_LOOKBACKS:
        start = at - dt.timedelta(seconds=LOOKBACK_SECONDS[name])
        operating = LOOKBACK_SECONDS[name] - total_seconds(clip(planned, start, at))
        down = total_seconds(clip(bad, start, at))
        out[name] = (down / operating) / allowed if operating > 0 and allowed > 0 else 0.0
    return out


def alerting_pairs(burn: dict[str, float]) -> list[str]:
    """The rows of the multi-window table that fire: both windows burn faster than the factor."""
    return [f"{sev}:{short}/{long}@{factor:g}x" for sev, short, long, factor in BURN_ALERTS
            if burn.get(short, 0.0) > factor and burn.get(long, 0.0) > factor]
