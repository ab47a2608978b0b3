"""The SLA formulas: availability, failures, MTBF, MTTR (automatic / manual), alarm delay,
response timeliness, error budget and burn rates — for one scope over one window. Pure.

Inputs are plain dataclasses (the report edge fills them from the store); ``now`` is injected,
so a month is recomputed to the same figures every time and tests need no clock. Every rule
below is stated, with the reasons, in ``docs/sla.md``; the short form:

* a **failure** is a non-symptom incident of level I–III on the scope; level IV is counted apart;
  a symptom (merged or attached upstream) is not counted, but its time is downtime;
* a **maintenance** window counts from ``max(starts_at, created_at)`` (entered after the fact it
  cannot erase what already happened); it removes time from a *failure* only where it covers
  the failure's root asset, a member, or something upstream of them; it removes time from a
  *scope's operating time* only where it takes the scope down by plan (``Scope.needs``);
* **downtime** is the union of the failure and symptom intervals (level I–III, incidents only),
  minus both, so it never exceeds the operating time; an open incident runs to ``min(now, end)``;
  a failure counts in the window where its first such instant falls;
* only **monitored** time counts (:mod:`sla.coverage`): time the service did not watch is left
  out of the operating time like planned time; a scope without any reports no figures;
* **repair time** (MTTR) is a failure's whole duration outside the maintenance that covers it,
  not clipped to the window; targets are strict (contract: 少于 15 分钟 / 24 小时; MTBF 超过 600 小时).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sla.coverage import Coverage, CoverageFacts, monitored_operating
from sla.gauges import BURN_RATE_LOOKBACKS, RECOVERY_KINDS, SlaGauges, SlaTargets
from sla.intervals import Interval, Window, clip, subtract, total_seconds, union

FAILURE_LEVELS = ("I", "II", "III")
_LEVEL_ALIASES = {
    "P1": "I",
    "P2": "II",
    "P3": "III",
    "P4": "IV",
    "1": "I",
    "2": "II",
    "3": "III",
    "4": "IV",
}
LOOKBACK_SECONDS = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
}
# Sloth's multi-window, multi-burn-rate table (Sloth's own values; the "2h/1d at 1×" is not
# Sloth's, see docs/sla.md): alert when both windows burn faster than the factor.
BURN_ALERTS = (
    ("page", "5m", "1h", 14.4),
    ("page", "30m", "6h", 6.0),
    ("ticket", "2h", "1d", 3.0),
    ("ticket", "6h", "3d", 1.0),
)


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
    ack_deadline_seconds: float | None = (
        None  # runbook deadline at detection (when no gradings are known)
    )
    # (since, seconds): the acknowledge deadline of each severity the incident had, from its grading
    # at detection and from each regrade; empty → ((detected_at, ack_deadline_seconds),)
    ack_deadlines: tuple[tuple[dt.datetime, float], ...] = ()
    closed_at: dt.datetime | None = None  # a merged incident is closed (not recovered) when merged

    @property
    def ack_by(self) -> dt.datetime | None:
        """The acknowledge deadline that applied: the first one that passed while its severity was in
        force (a regrade before a deadline replaces it with the new severity's, counted from the regrade)."""
        steps = self.ack_deadlines or (
            ((self.detected_at, self.ack_deadline_seconds),)
            if self.ack_deadline_seconds is not None
            else ()
        )
        steps = sorted(steps, key=lambda step: step[0])
        for i, (since, seconds) in enumerate(steps):
            by = since + dt.timedelta(seconds=seconds)
            if i + 1 == len(steps) or by < steps[i + 1][0]:
                return by
        return None

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
    created_at: dt.datetime | None = (
        None  # when it was entered: it counts from then at the earliest
    )

    @property
    def interval(self) -> Interval:
        """``[max(starts_at, created_at), min(ends_at, ended_at))``: planned work is planned before it
        starts, so a window entered after the fact does not erase failures already recorded."""
        start = (
            max(self.starts_at, self.created_at) if self.created_at is not None else self.starts_at
        )
        end = min(self.ends_at, self.ended_at) if self.ended_at is not None else self.ends_at
        return (start, max(end, start))


Need = tuple[
    frozenset[str], ...
]  # alternatives (one for a hard need), each the asset plus its upstream


@dataclass(frozen=True)
class Scope:
    """``site:NAME``, ``service:NAME`` or ``asset:NAME``.

    ``assets``: for an asset scope, the asset (incidents naming it hit the scope); otherwise the
    assets the scope's services need, for information. ``services``: which impaired services
    make an incident hit the scope (``None`` on a site without services: every incident).
    ``needs``: when maintenance takes the scope down by plan — when, for one need, every
    alternative has an asset under maintenance (an alternative is an asset and everything
    upstream of it). Empty: every asset of ``assets`` is a hard need."""

    kind: str
    name: str
    assets: frozenset[str]
    services: frozenset[str] | None = frozenset()
    needs: tuple[Need, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def effective_needs(self) -> tuple[Need, ...]:
        return self.needs or tuple((frozenset({a}),) for a in sorted(self.assets))

    def down_by_plan(self, covered: frozenset[str]) -> bool:
        return any(all(alt & covered for alt in need) for need in self.effective_needs)

    def hit_by(self, inc: IncidentFact) -> bool:
        if self.kind == "asset":
            return inc.root_asset in self.assets or bool(inc.members & self.assets)
        if self.services is None:
            return True
        return bool(inc.services & self.services)


@dataclass(frozen=True)
class Inputs:
    """``transitions`` are evidence (shown beside the figures), not a source of downtime: an
    asset's downtime is its incidents', so a level-IV fault costs no availability anywhere.
    ``upstream``: asset → the asset and everything it depends on (an asset absent: itself)."""

    incidents: Sequence[IncidentFact] = ()
    transitions: Sequence[TransitionFact] = ()
    maintenance: Sequence[MaintenanceFact] = ()
    upstream: Mapping[str, frozenset[str]] = field(default_factory=dict)
    coverage: CoverageFacts | None = None  # None: not recorded, every second counts as watched

    def covered_assets(self, inc: IncidentFact) -> frozenset[str]:
        """The incident's root and members and everything upstream of them: maintenance on any of
        these is planned work the incident may be part of."""
        out: set[str] = set()
        for asset in {inc.root_asset} | inc.members:
            out |= self.upstream.get(asset, frozenset({asset}))
        return frozenset(out)


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
    coverage: Coverage | None = None  # monitored time (sla.coverage); the figures count only it

    def gauges(self, site: str, window_name: str) -> SlaGauges:
        """The row the metrics collector exports (``window_name`` is ``month`` or ``30d``)."""
        breaches = {
            kind: sum(1 for b in self.breaches if b.kind == kind) for kind in RECOVERY_KINDS
        }
        still_open = sum(1 for b in self.breaches if b.kind == "open")
        if still_open:  # past the longest target and not recovered: a breach the table lists too
            breaches["open"] = still_open
        alarm = (
            {"0.5": self.alarm_delay_p50_seconds, "1": self.alarm_delay_max_seconds}
            if self.alarm_delay_max_seconds is not None
            else {}
        )
        return SlaGauges(
            site=site,
            scope=self.scope,
            window=window_name,
            availability_ratio=math.nan
            if self.availability_ratio is None
            else self.availability_ratio,
            failures=self.failures,
            mtbf_seconds=self.mtbf_seconds,
            mttr_seconds=dict(self.mttr_seconds),
            breaches=breaches,
            error_budget_remaining_ratio=math.nan  # no monitored time: no figure
            if self.coverage is not None and self.coverage.no_data
            else self.error_budget_remaining_ratio,
            response_timeliness_ratio=self.response_timeliness_ratio,
            alarm_delay_seconds=alarm,
            burn_rate={} if self.coverage and self.coverage.no_data else dict(self.burn_rates),
            mtbf_lower_bound=self.mtbf_lower_bound,
            coverage_ratio=_coverage_ratio(self.coverage),
        )


def maintenance_of(scope: Scope, maintenance: Iterable[MaintenanceFact]) -> list[Interval]:
    """When maintenance takes the scope down by plan. Swept over the windows' edges, because two
    overlapping windows can together take down an ``any_of`` group neither takes alone."""
    relevant = frozenset().union(*(alt for need in scope.effective_needs for alt in need))
    spans = [
        (m.interval, m.assets)
        for m in maintenance
        if m.interval[1] > m.interval[0] and m.assets & relevant
    ]
    edges = sorted({t for (s, e), _ in spans for t in (s, e)})
    out: list[Interval] = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        covered = frozenset().union(*(a for (s, e), a in spans if s <= lo and hi <= e))
        if covered and scope.down_by_plan(covered):
            out.append((lo, hi))
    return union(out)


def incident_planned(inputs: Inputs, inc: IncidentFact) -> list[Interval]:
    """Maintenance that covers the incident's own assets (root, members) or what is upstream of them."""
    mine = inputs.covered_assets(inc)
    return union(m.interval for m in inputs.maintenance if m.assets & mine)


def _end(inc: IncidentFact, now: dt.datetime) -> dt.datetime:
    """Recovery; for a symptom closed by a merge (no recovery of its own), the merge; else now."""
    if inc.recovered_at is not None:
        return min(inc.recovered_at, now)
    if inc.is_symptom and inc.closed_at is not None:
        return min(inc.closed_at, now)
    return now


def _kind(inc: IncidentFact) -> str:
    return inc.recovery_kind if inc.recovery_kind in RECOVERY_KINDS else "manual"


def compute(
    inputs: Inputs, scope: Scope, window: Window, targets: SlaTargets, now: dt.datetime
) -> ScopeReport:
    """Every figure of ``scope`` over ``window`` as known at ``now``."""
    until = max(window.start, min(window.end, now))
    planned = maintenance_of(scope, inputs.maintenance)
    # unmonitored time is left out like planned time (sla.coverage): `off` is both
    cover, off = monitored_operating(
        inputs, scope, window.start, until, planned, targets.coverage_threshold_ratio
    )
    period = until - window.start
    maintenance_s = total_seconds(clip(planned, window.start, until))
    operating_s = cover.monitored_seconds  # monitored operating time only

    # (incident, its time outside the maintenance covering it, and outside the scope's planned time)
    failures: list[tuple[IncidentFact, list[Interval], list[Interval]]] = []
    others: list[tuple[IncidentFact, list[Interval], list[Interval]]] = []  # level IV
    bad: list[Interval] = []
    for inc in inputs.incidents:
        if inc.fault_started_at >= now or not scope.hit_by(inc):
            continue
        own = subtract([(inc.fault_started_at, _end(inc, now))], incident_planned(inputs, inc))
        free = subtract(own, planned)  # downtime is clipped to the scope's operating time
        if not free:  # wholly inside planned work
            continue
        if inc.level in FAILURE_LEVELS:
            # a symptom's time too: it joins the union, it is not counted apart; only the part
            # that was monitored (sla.coverage) is downtime
            bad += subtract(free, off)
        if not inc.is_symptom:
            (failures if inc.level in FAILURE_LEVELS else others).append((inc, own, free))
    bad = union(bad)
    downtime_s = total_seconds(clip(bad, window.start, until))

    def started_here(free: list[Interval]) -> bool:
        return window.start <= free[0][0] < until

    counted = [(inc, own, free) for inc, own, free in failures if started_here(free)]
    level_iv = sum(1 for _, _, free in others if started_here(free))

    lines, durations, breaches = [], {k: [] for k in RECOVERY_KINDS}, []
    longest = max(targets.mttr_seconds.values())
    for inc, own, free in counted:
        repair = total_seconds(own)
        recovered = inc.recovered_at is not None and inc.recovered_at <= now
        lines.append(
            FailureLine(
                inc.id,
                inc.level,
                free[0][0],
                inc.recovered_at if recovered else None,
                _kind(inc) if recovered else None,
                repair,
                total_seconds(clip(subtract(free, off), window.start, until)),
            )
        )
        if recovered:
            durations[_kind(inc)].append(repair)
            # the contract's 少于 (less than): exactly the target is a breach
            if repair >= targets.mttr_seconds[_kind(inc)]:
                breaches.append(
                    Breach(inc.id, _kind(inc), repair, targets.mttr_seconds[_kind(inc)])
                )
        elif repair >= longest:
            breaches.append(Breach(inc.id, "open", repair, longest))

    n = len(counted)
    if operating_s <= 0:
        mtbf, lower, meets = None, False, None
    elif n:  # the contract's 超过 (exceeds): exactly 600 h does not meet it
        mtbf, lower, meets = operating_s / n, False, operating_s / n > targets.mtbf_seconds
    else:
        mtbf, lower, meets = operating_s, True, operating_s > targets.mtbf_seconds

    # alarm delay and response timeliness: every incident of the scope started here, levels I–IV
    handled = [inc for inc, _, _ in counted] + [
        inc for inc, _, free in others if started_here(free)
    ]
    delays = sorted(
        (inc.alarmed_at - inc.fault_started_at).total_seconds()
        for inc in handled
        if inc.alarmed_at is not None and inc.alarmed_at <= now
    )
    due = on_time = 0
    for inc in handled:
        ack_by = inc.ack_by
        if ack_by is None or now <= ack_by:
            continue  # no runbook, or not yet due
        if inc.recovered_at is not None and inc.recovered_at <= ack_by:
            continue  # recovered before its deadline passed: nothing was due, acknowledged or not
        due += 1
        on_time += inc.acknowledged_at is not None and inc.acknowledged_at <= ack_by

    allowed = 1.0 - targets.availability_objective_ratio
    full_operating = (
        window.seconds
        - total_seconds(clip(planned, window.start, window.end))
        - cover.unmonitored_total
    )
    budget_s = allowed * full_operating
    remaining = 1.0 - downtime_s / budget_s if budget_s > 0 else (1.0 if downtime_s == 0 else 0.0)
    # a period not yet begun has nothing observed: lookbacks ending at its start would count the
    # unobserved time between now and then as good time
    burn = burn_rates(bad, off, until, allowed) if now > window.start else {}

    return ScopeReport(
        scope=scope.label,
        window=window,
        evaluated_until=until,
        period_seconds=period.total_seconds(),
        maintenance_seconds=maintenance_s,
        operating_seconds=operating_s,
        downtime_seconds=downtime_s,
        availability_ratio=(operating_s - downtime_s) / operating_s if operating_s > 0 else None,
        failures=n,
        level_iv=level_iv,
        mtbf_seconds=mtbf,
        mtbf_lower_bound=lower,
        mtbf_meets_target=meets,
        mttr_seconds={k: statistics.fmean(v) for k, v in durations.items() if v},
        recoveries={k: len(v) for k, v in durations.items()},
        breaches=tuple(breaches),
        alarm_delay_p50_seconds=statistics.median(delays) if delays else None,
        alarm_delay_max_seconds=delays[-1] if delays else None,
        alarmed=len(delays),
        responses_due=due,
        responses_on_time=on_time,
        response_timeliness_ratio=on_time / due if due else None,
        error_budget_seconds=budget_s,
        error_budget_remaining_ratio=remaining,
        burn_rates=burn,
        burn_alerts=tuple(alerting_pairs(burn)),
        failure_lines=tuple(lines),
        coverage=cover,
    )


def _coverage_ratio(cover: Coverage | None) -> float | None:
    """Monitored ÷ scheduled time; None when nothing was scheduled (or nothing is known)."""
    return None if cover is None else cover.ratio


def burn_rates(
    bad: list[Interval], planned: list[Interval], at: dt.datetime, allowed: float
) -> dict[str, float]:
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
    return [
        f"{sev}:{short}/{long}@{factor:g}x"
        for sev, short, long, factor in BURN_ALERTS
        if burn.get(short, 0.0) > factor and burn.get(long, 0.0) > factor
    ]
