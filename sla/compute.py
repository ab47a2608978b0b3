"""The SLA formulas: availability, failures, MTBF, MTTR (automatic / manual), alarm delay,
response timeliness, error budget and burn rates — for one scope over one window. Pure.

Inputs are plain dataclasses (the report edge fills them from the store); ``now`` is injected,
so a month is recomputed to the same figures every time and tests need no clock. Every rule
below is stated, with the reasons, in ``docs/sla.md``; the short form:

* a **failure** is a non-symptom incident of level I–III on the scope; level IV is counted apart;
  a symptom (merged or attached upstream) is not counted, but its time is downtime, and the
  failure it was merged into starts when the symptom started (repair time, breaches);
* an incident held open by **flapping** is as many failures as the outages measured inside it
  (``IncidentFact.measured_down``), each with its own repair time: downtime is what was measured
  down, not how long the incident stayed open;
* a **maintenance** window counts only once a second person approved it (an unapproved one mutes
  alerts but excuses nothing here, and is listed), and from ``max(starts_at, created_at)``
  (entered after the fact it cannot erase what already happened); it removes time from a *failure* only where it covers
  the failure's root asset, a member, or something upstream of them (a grouped incident: only
  while it covers every member then in the group); it removes time from a *scope's operating
  time* only where it takes the scope down by plan (``Scope.needs``); a failure counts for a
  scope unless the scope's *own* planned time covers it (for the site: the planned time of the
  services the failure impairs, not of any service);
* **downtime** is the union of the failure and symptom intervals (level I–III, incidents only),
  minus both, so it never exceeds the operating time; an open incident runs to ``min(now, end)``;
  a failure counts in the window where its first such instant falls;
* only **monitored** time counts (:mod:`sla.coverage`): time the service did not watch is left
  out of the operating time like planned time, and is not downtime (a failure still counts in
  the window where it starts); a scope without any monitored time reports no figures;
* **MTBF** (平均无故障时间) is up time ÷ failures, up time = monitored operating time − downtime:
  downtime is not time between failures (IEC 60050-192 / GB/T 2900.99 mean operating time
  between failures), and unwatched time is not up time;
* **repair time** (MTTR) is a failure's whole duration outside the maintenance that covers it,
  not clipped to the window; targets are strict (contract: 少于 15 分钟 / 24 小时; MTBF 超过 600 小时);
* a recovery whose kind rests on a step's **overridden** intervention flag is listed with the
  lead's reason;
* **alarm delay** runs from the fault start to the first delivered alert, minus the time muted by
  the maintenance covering the incident (shown apart); an alert never delivered leaves the delay
  open until the end of what is evaluated, and the incident is listed.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from noc.core.vocabulary import (
    BURN_ALERTS,
    BURN_RATE_LOOKBACKS,
    LEVELS,
    LOOKBACK_SECONDS,
    RECOVERY_KINDS,
    normalize_level,
)
from sla.coverage import Coverage, CoverageFacts, monitored_operating
from sla.gauges import SlaGauges, SlaTargets
from sla.intervals import Interval, Window, clip, intersect, subtract, total_seconds, union

FAILURE_LEVELS = LEVELS[:3]  # level IV is counted apart
FAR = dt.datetime.max.replace(tzinfo=dt.UTC)  # the open end of an interval still running


@dataclass(frozen=True)
class StepOverride:
    """A runbook step whose intervention flag a lead overrode, with the reason given."""

    step: str
    intervention: bool  # as recorded (the runbook said the opposite)
    reason: str
    by: str
    at: dt.datetime


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
    merged_into: int | None = None  # the incident a merged symptom was merged into, when known
    grouped: bool = False  # one incident for many members (the phones): root is not the fault
    # (member, joined, left or None): when each member was in a grouped incident; empty → every
    # member for the whole incident
    member_spans: tuple[tuple[str, dt.datetime, dt.datetime | None], ...] = ()
    # the outages measured inside an incident held open by flapping (its checks' DOWN intervals);
    # None → the incident's own span [fault_started_at, end) is the outage
    measured_down: tuple[Interval, ...] | None = None
    # steps recorded with another intervention flag than their runbook's (step.override, with a
    # reason): the recovery kind is the override's, and the report lists it
    overrides: tuple[StepOverride, ...] = ()

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
        return str(normalize_level(self.peak_severity.upper()))

    @property
    def is_symptom(self) -> bool:
        return self.parent_id is not None or self.merged

    @property
    def upstream_id(self) -> int | None:
        """The incident this symptom belongs to (merged into, or attached to), when known."""
        return self.merged_into if self.merged_into is not None else self.parent_id


@dataclass(frozen=True)
class TransitionFact:
    asset: str
    check: str
    from_state: str
    to_state: str
    at: dt.datetime
    flapping: bool | None = None  # a flap record (from == to): True started, False stopped


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
    # a second person approved it (the store's rows say; a pure test's window is approved unless
    # it says otherwise): an unapproved window mutes alerts but excuses nothing in the SLA
    approved: bool = True

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
    upstream of it). Empty: every asset of ``assets`` is a hard need. ``parts``: for the site,
    each service (or, without services, each asset) with its needs: a failure is excused for the
    site only while planned work takes down every part the failure hit (its own planned window),
    not while some other part is down by plan."""

    kind: str
    name: str
    assets: frozenset[str]
    services: frozenset[str] | None = frozenset()
    needs: tuple[Need, ...] = ()
    parts: tuple[tuple[str, tuple[Need, ...]], ...] = ()

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

    def parts_hit(self, inc: IncidentFact) -> list[str]:
        """The site's parts the incident hit: its services (without services: its assets)."""
        named = ({inc.root_asset} | inc.members) if self.services is None else inc.services
        return [name for name, _ in self.parts if name in named]


@dataclass(frozen=True)
class Inputs:
    """``transitions`` are evidence (shown beside the figures), not a source of downtime: an
    asset's downtime is its incidents', so a level-IV fault costs no availability anywhere. (Inside
    an incident held open by flapping they say which parts were really down: :mod:`sla.facts` puts
    that in ``IncidentFact.measured_down``, by the rule in :mod:`sla.derive`.)
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
            out |= self.upstream_of(asset)
        return frozenset(out)

    def upstream_of(self, asset: str) -> frozenset[str]:
        return self.upstream.get(asset, frozenset({asset}))


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
    recovered_at: dt.datetime | None  # for an outage inside a flapping incident: when it ended
    recovery_kind: str | None
    repair_seconds: float  # unplanned duration (elapsed so far when still open)
    downtime_in_window_seconds: float


@dataclass(frozen=True)
class AlarmLine:
    """How long the NOC waited for the first delivered alert of one incident."""

    incident_id: int
    delay_seconds: float  # fault start → alarm, minus the muted time; open: until evaluated_until
    muted_seconds: float  # time of that wait under maintenance covering the incident (muted)
    alarmed_at: dt.datetime | None  # None: never delivered (the delay is open, a lower bound)


@dataclass(frozen=True)
class UnapprovedLine:
    """A maintenance window on the scope that no second person approved: it muted alerts, but
    the SLA counts its time as operating time (and any failure in it)."""

    window_id: int
    assets: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    seconds_in_window: float


@dataclass(frozen=True)
class OverrideLine:
    """A recovery of the scope whose kind rests on an overridden intervention flag."""

    incident_id: int
    recovery_kind: str | None
    overrides: tuple[StepOverride, ...]


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
    up_seconds: float = 0.0  # monitored operating time − downtime: what MTBF divides
    alarm_lines: tuple[AlarmLine, ...] = ()
    alarm_muted_seconds: float = 0.0  # of the alarm delays, the time muted by maintenance
    coverage: Coverage | None = None  # monitored time (sla.coverage); the figures count only it
    unapproved: tuple[UnapprovedLine, ...] = ()  # maintenance not counted: nobody approved it
    overridden: tuple[OverrideLine, ...] = ()  # recoveries whose kind a lead overrode

    @property
    def not_alarmed(self) -> tuple[int, ...]:
        """Incidents whose alert was never delivered (counted with an open delay)."""
        return tuple(a.incident_id for a in self.alarm_lines if a.alarmed_at is None)

    @property
    def no_data(self) -> bool:
        """No monitored time: no figure of this row may be read as a number (docs/sla.md)."""
        return self.coverage is not None and self.coverage.no_data

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
            if self.no_data
            else self.error_budget_remaining_ratio,
            response_timeliness_ratio=self.response_timeliness_ratio,
            alarm_delay_seconds=alarm,
            burn_rate={} if self.no_data else dict(self.burn_rates),
            mtbf_lower_bound=self.mtbf_lower_bound,
            coverage_ratio=_coverage_ratio(self.coverage),
        )


def maintenance_of(scope: Scope, maintenance: Iterable[MaintenanceFact]) -> list[Interval]:
    """When maintenance takes the scope down by plan."""
    return planned_by_needs(scope.effective_needs, maintenance)


def planned_by_needs(
    needs: Sequence[Need], maintenance: Iterable[MaintenanceFact]
) -> list[Interval]:
    """When, for one of ``needs``, every alternative has an asset under maintenance. Swept over the
    windows' edges, because two overlapping windows can together take down an ``any_of`` group
    neither takes alone."""
    relevant = frozenset().union(*(alt for need in needs for alt in need))
    spans = [
        (m.interval, m.assets)
        for m in maintenance
        if m.interval[1] > m.interval[0] and m.assets & relevant
    ]
    edges = sorted({t for (s, e), _ in spans for t in (s, e)})
    out: list[Interval] = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        covered = frozenset().union(*(a for (s, e), a in spans if s <= lo and hi <= e))
        if covered and any(all(alt & covered for alt in need) for need in needs):
            out.append((lo, hi))
    return union(out)


def incident_planned(inputs: Inputs, inc: IncidentFact) -> list[Interval]:
    """Maintenance that covers the incident's own assets (root, members) or what is upstream of them.
    (A grouped incident is covered member by member: see :func:`unplanned`.)"""
    mine = inputs.covered_assets(inc)
    return union(m.interval for m in inputs.maintenance if m.assets & mine)


def _covering(inputs: Inputs, asset: str) -> list[Interval]:
    mine = inputs.upstream_of(asset)
    return union(m.interval for m in inputs.maintenance if m.assets & mine)


def unplanned(inputs: Inputs, inc: IncidentFact, spans: Sequence[Interval]) -> list[Interval]:
    """The part of ``spans`` (the incident's fault time) outside the maintenance that covers it.

    A grouped incident (the phones) is one incident for many members: a window on one member
    hides that member only, so an instant is planned only while every member then in the group
    is under maintenance (or something upstream of it is)."""
    if not inc.grouped or not (inc.member_spans or inc.members):
        return subtract(spans, incident_planned(inputs, inc))
    presence = inc.member_spans or tuple((m, inc.fault_started_at, None) for m in inc.members)
    out: list[Interval] = []
    for member, joined, left in presence:
        out += subtract(clip(spans, joined, left or FAR), _covering(inputs, member))
    return union(out)


def _end(inc: IncidentFact, now: dt.datetime) -> dt.datetime:
    """Recovery; for a symptom closed by a merge (no recovery of its own), the merge; else now."""
    if inc.recovered_at is not None:
        return min(inc.recovered_at, now)
    if inc.is_symptom and inc.closed_at is not None:
        return min(inc.closed_at, now)
    return now


def _kind(inc: IncidentFact) -> str:
    return inc.recovery_kind if inc.recovery_kind in RECOVERY_KINDS else "manual"


@dataclass(frozen=True)
class _Outage:
    """One failure as the SLA counts it: an incident, or one measured outage of a flapping one."""

    inc: IncidentFact
    own: list[Interval]  # outside the maintenance covering it (symptoms merged in included): repair
    counted: list[Interval]  # and outside the scope's own planned time: where the failure shows
    home: list[Interval]  # the same, of the incident alone: which period counts it
    free: list[Interval]  # outside the scope's planned and unmonitored time: downtime
    recovered_at: dt.datetime | None
    kind: str | None


def outages(
    inputs: Inputs, inc: IncidentFact, now: dt.datetime, before: Sequence[IncidentFact] = ()
) -> list[tuple[list[Interval], list[Interval], dt.datetime | None, str | None]]:
    """(unplanned time, the same with merged symptoms, recovered at, recovery kind) of each outage
    of ``inc`` known at ``now``.

    Without measurements the incident is one outage, ``[fault_started_at, end)``. An incident
    held open by flapping is one outage per measured down interval: each but the last ended by
    itself (automatic) when the check came back; the last ends with the incident. ``before``:
    the symptoms merged into it: their time before the merge belongs to the first outage (a
    merged incident keeps its own start for repair time and breaches)."""
    end = _end(inc, now)
    recovered = inc.recovered_at is not None and inc.recovered_at <= now
    measured = clip(inc.measured_down or (), inc.fault_started_at, end)
    spans = [[span] for span in measured] or [[(inc.fault_started_at, end)]]
    out = []
    for i, span in enumerate(spans):
        core = unplanned(inputs, inc, span)
        own = core
        if i == 0 and before:
            own = union(
                core
                + [
                    part
                    for symptom in before
                    for part in unplanned(
                        inputs, symptom, [(symptom.fault_started_at, _end(symptom, now))]
                    )
                ]
            )
        hi = span[0][1]
        if measured and hi < end:  # measured back up: this outage ended by itself
            last_of_recovered = i == len(spans) - 1 and recovered
            out.append((core, own, hi, _kind(inc) if last_of_recovered else "automatic"))
        elif recovered:  # down until the incident recovered
            out.append((core, own, hi if measured else inc.recovered_at, _kind(inc)))
        else:
            out.append((core, own, None, None))
    return out


def mtbf(
    up_seconds: float, operating_seconds: float, failures: int, target_seconds: float
) -> tuple[float | None, bool, bool | None]:
    """(MTBF, is a lower bound, meets the target): up time ÷ failures, 平均无故障时间.

    Down time is not time between failures (IEC 60050-192 / GB/T 2900.99: mean *operating* time
    between failures; point estimate: total up time ÷ number of failures). With no failure the
    figure is only a lower bound, ``≥ up time``. ``operating_seconds`` (monitored operating time,
    :mod:`sla.coverage`) says whether there was any time to judge at all; the contract's 超过
    (exceeds): exactly the target does not meet it."""
    if operating_seconds <= 0:
        return None, False, None
    if failures:
        value = up_seconds / failures
        return value, False, value > target_seconds
    return up_seconds, True, up_seconds > target_seconds


def up_time(operating_seconds: float, downtime_seconds: float) -> float:
    """Failure-free time: (monitored) operating time minus downtime (never negative)."""
    return max(0.0, operating_seconds - downtime_seconds)


def compute(
    inputs: Inputs, scope: Scope, window: Window, targets: SlaTargets, now: dt.datetime
) -> ScopeReport:
    """Every figure of ``scope`` over ``window`` as known at ``now``. Only approved maintenance
    excuses anything; unapproved windows are listed (``unapproved``)."""
    unapproved = unapproved_lines(inputs, scope, window)
    inputs = approved_only(inputs)
    until = max(window.start, min(window.end, now))
    planned = maintenance_of(scope, inputs.maintenance)
    # unmonitored time is left out like planned time (sla.coverage): `off` is both
    cover, off = monitored_operating(
        inputs, scope, window.start, until, planned, targets.coverage_threshold_ratio
    )
    period = until - window.start
    maintenance_s = total_seconds(clip(planned, window.start, until))
    operating_s = cover.monitored_seconds  # monitored operating time only
    part_planned = {
        name: planned_by_needs(needs, inputs.maintenance) for name, needs in scope.parts
    }

    def own_planned(inc: IncidentFact) -> list[Interval]:
        """The scope's own planned time for this incident: for the site, while every part the
        incident hit is down by plan; for a service or an asset, the scope's planned time."""
        if not scope.parts:
            return planned
        hit = scope.parts_hit(inc)
        if not hit:
            return []
        out = part_planned[hit[0]]
        for name in hit[1:]:
            out = intersect(out, part_planned[name])
        return out

    merged: dict[int, list[IncidentFact]] = {}
    for inc in inputs.incidents:
        if inc.is_symptom and inc.upstream_id is not None and inc.level in FAILURE_LEVELS:
            merged.setdefault(inc.upstream_id, []).append(inc)

    failures: list[_Outage] = []
    others: list[_Outage] = []  # level IV
    handled: list[tuple[IncidentFact, list[Interval]]] = []  # (incident, its counted time)
    bad: list[Interval] = []
    for inc in inputs.incidents:
        if inc.fault_started_at >= now or not scope.hit_by(inc):
            continue
        excused = own_planned(inc)
        if inc.is_symptom:  # not counted apart, but its time is downtime
            own = unplanned(inputs, inc, [(inc.fault_started_at, _end(inc, now))])
            if inc.level in FAILURE_LEVELS:
                bad += subtract(own, off)  # off: planned and unmonitored time
            continue
        before = [m for m in merged.get(inc.id, ()) if m.fault_started_at < now]
        parts = []
        for core, own, recovered_at, kind in outages(inputs, inc, now, before):
            home = subtract(core, excused)
            if not home:  # wholly inside the scope's own planned work
                continue
            # downtime: outside the scope's planned time and only where it was monitored
            # (sla.coverage); the failure still counts where it starts (`home`)
            free = subtract(core, off)
            parts.append(_Outage(inc, own, subtract(own, excused), home, free, recovered_at, kind))
            if inc.level in FAILURE_LEVELS:
                bad += free
        (failures if inc.level in FAILURE_LEVELS else others).extend(parts)
        if parts:
            handled.append((inc, union(i for p in parts for i in p.home)))
    bad = union(bad)
    downtime_s = total_seconds(clip(bad, window.start, until))

    def started_here(counted: list[Interval]) -> bool:
        return window.start <= counted[0][0] < until

    counted = [o for o in failures if started_here(o.home)]
    level_iv = sum(1 for o in others if started_here(o.home))

    lines, durations, breaches = [], {k: [] for k in RECOVERY_KINDS}, []
    longest = max(targets.mttr_seconds.values())
    for o in counted:
        inc = o.inc
        repair = total_seconds(o.own)
        lines.append(
            FailureLine(
                inc.id,
                inc.level,
                o.counted[0][0],
                o.recovered_at,
                o.kind,
                repair,
                total_seconds(clip(o.free, window.start, until)),
            )
        )
        if o.kind is not None:
            durations[o.kind].append(repair)
            # the contract's 少于 (less than): exactly the target is a breach
            if repair >= targets.mttr_seconds[o.kind]:
                breaches.append(Breach(inc.id, o.kind, repair, targets.mttr_seconds[o.kind]))
        elif repair >= longest:
            breaches.append(Breach(inc.id, "open", repair, longest))

    n = len(counted)
    up_s = up_time(operating_s, downtime_s)
    mtbf_s, lower, meets = mtbf(up_s, operating_s, n, targets.mtbf_seconds)

    # alarm delay and response timeliness: every incident of the scope started here, levels I–IV
    started = [inc for inc, time in handled if started_here(time)]
    alarms = [alarm_line(inputs, inc, until) for inc in started]
    delays = sorted(a.delay_seconds for a in alarms)
    due = on_time = 0
    for inc in started:
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
        mtbf_seconds=mtbf_s,
        mtbf_lower_bound=lower,
        mtbf_meets_target=meets,
        mttr_seconds={k: statistics.fmean(v) for k, v in durations.items() if v},
        recoveries={k: len(v) for k, v in durations.items()},
        breaches=tuple(breaches),
        alarm_delay_p50_seconds=statistics.median(delays) if delays else None,
        alarm_delay_max_seconds=delays[-1] if delays else None,
        alarmed=sum(1 for a in alarms if a.alarmed_at is not None),
        responses_due=due,
        responses_on_time=on_time,
        response_timeliness_ratio=on_time / due if due else None,
        error_budget_seconds=budget_s,
        error_budget_remaining_ratio=remaining,
        burn_rates=burn,
        burn_alerts=tuple(alerting_pairs(burn)),
        failure_lines=tuple(lines),
        up_seconds=up_s,
        coverage=cover,
        alarm_lines=tuple(alarms),
        alarm_muted_seconds=sum(a.muted_seconds for a in alarms),
        unapproved=unapproved,
        overridden=tuple(  # every one of the scope started here, excused by maintenance or not
            OverrideLine(inc.id, inc.recovery_kind, inc.overrides)
            for inc in inputs.incidents
            if inc.overrides and scope.hit_by(inc) and window.start <= inc.fault_started_at < until
        ),
    )


def approved_only(inputs: Inputs) -> Inputs:
    """The inputs with only the maintenance a second person approved."""
    if all(m.approved for m in inputs.maintenance):
        return inputs
    return replace(inputs, maintenance=tuple(m for m in inputs.maintenance if m.approved))


def unapproved_lines(inputs: Inputs, scope: Scope, window: Window) -> tuple[UnapprovedLine, ...]:
    """Unapproved windows on the scope's assets (or upstream of them) overlapping ``window``."""
    relevant = frozenset().union(
        *(alt for need in scope.effective_needs for alt in need),
        *(inputs.upstream_of(a) for a in scope.assets),
    )
    out = []
    for m in inputs.maintenance:
        start, end = m.interval
        if m.approved or not m.assets & relevant or end <= window.start or start >= window.end:
            continue
        seconds = total_seconds(clip([(start, end)], window.start, window.end))
        out.append(UnapprovedLine(m.id, tuple(sorted(m.assets)), start, end, seconds))
    return tuple(out)


def alarm_line(inputs: Inputs, inc: IncidentFact, until: dt.datetime) -> AlarmLine:
    """Fault start → first delivered alert, minus the time muted by the maintenance covering the
    incident (the same windows that excuse it; shown apart). Never delivered (or delivered after
    ``until``): the delay is open, at least until ``until``."""
    alarmed = inc.alarmed_at if inc.alarmed_at is not None and inc.alarmed_at <= until else None
    end = max(inc.fault_started_at, alarmed or until)
    waited = [(inc.fault_started_at, end)]
    muted = total_seconds(waited) - total_seconds(unplanned(inputs, inc, waited))
    return AlarmLine(inc.id, total_seconds(waited) - muted, muted, alarmed)


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
