"""Monitoring coverage: when the NOC was watching a scope, and what that leaves to count. Pure.

Why: a second the service did not observe is not a second of uptime. The store records the
service's runs (start, clean stop or last heartbeat) and, per check, stretches of fresh results
(:mod:`noc.store.coverage`, written by :mod:`noc.runtime.watch`). From them, for one scope:

* **monitored** time: scheduled time (the period so far minus planned maintenance) in which
  *every* check of the scope's assets (and what they depend on) had fresh results;
* **unmonitored** time, by reason: the service was not running, a check of the scope was not
  configured in that run (added later), or its results were stale beyond the limit;
* the scope's **status**: ``no_data`` without monitored time (never a figure, never "meets"),
  ``insufficient`` when monitored ÷ scheduled is under the threshold (default 99 %), else ``ok``.

Availability, MTBF's operating time and the error budget count monitored time only
(:func:`monitored_operating` hands :func:`sla.compute.compute` the time to leave out).

A fault found already present when monitoring resumed (the check's first results after a gap
were already bad) is dated from the check's last good observation before the gap when there
is one (:func:`backdate`): the conservative side for the purchaser, and the report says so.
Rules and a worked example: ``docs/sla.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sla.intervals import Interval, intersect, subtract, total_seconds, union

if TYPE_CHECKING:
    from sla.compute import IncidentFact, Inputs, Scope

UNMONITORED_REASONS = ("not_running", "not_configured", "stale")
STATUSES = ("ok", "insufficient", "no_data")
DEFAULT_THRESHOLD = 0.99
_DAWN = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # before any record: "not watched" starts here

CheckKey = tuple[str, str]  # (asset, check)


@dataclass(frozen=True)
class RunFact:
    """One run of the service: ``ended_at`` is the clean stop, or the last heartbeat (a crash)."""

    id: int
    started_at: dt.datetime
    ended_at: dt.datetime
    stopped: bool = True  # False: the run crashed (or is still running) and ends at its heartbeat
    checks: frozenset[CheckKey] = frozenset()  # configured in this run

    @property
    def interval(self) -> Interval:
        return (self.started_at, max(self.started_at, self.ended_at))


@dataclass(frozen=True)
class FreshFact:
    """A stretch of fresh results of one check: ``[since, until)``, first to last result.
    ``first_ok_at``/``last_ok_at``: its first and last good observation (None: none was good)."""

    run_id: int
    asset: str
    check: str
    since: dt.datetime
    until: dt.datetime
    first_ok_at: dt.datetime | None = None
    last_ok_at: dt.datetime | None = None

    @property
    def key(self) -> CheckKey:
        return (self.asset, self.check)


@dataclass(frozen=True)
class FoundAtStart:
    """An incident whose fault was already present when monitoring resumed.

    ``dated_from``: the last good observation before the gap, the fault's start for the SLA;
    None when there was none (the first run, or the check was never good before)."""

    incident_id: int
    found_at: dt.datetime  # the start the engine recorded (its first bad observation)
    dated_from: dt.datetime | None


@dataclass(frozen=True)
class CoverageFacts:
    """What the store knows of the watching, plus the inventory's checks (``asset → names``)."""

    runs: Sequence[RunFact] = ()
    fresh: Sequence[FreshFact] = ()
    checks: Mapping[str, frozenset[str]] = field(default_factory=dict)
    found_at_start: Sequence[FoundAtStart] = ()

    def scope_checks(self, scope: Scope) -> frozenset[CheckKey]:
        return frozenset((a, c) for a in scope.assets for c in self.checks.get(a, ()))

    @cached_property
    def running(self) -> list[Interval]:
        return union(r.interval for r in self.runs)

    @cached_property
    def by_check(self) -> dict[CheckKey, list[Interval]]:
        """Each check's fresh stretches as a union, never past their run's end."""
        ends = {r.id: r.interval[1] for r in self.runs}
        out: dict[CheckKey, list[Interval]] = {}
        for f in self.fresh:
            out.setdefault(f.key, []).append((f.since, min(f.until, ends.get(f.run_id, f.until))))
        return {k: union(v) for k, v in out.items()}


@dataclass(frozen=True)
class Coverage:
    """One scope's monitoring over ``[start, until)``; seconds are of scheduled time."""

    scheduled_seconds: float  # the period so far minus planned maintenance
    monitored_seconds: float
    unmonitored_seconds: dict[str, float]  # by reason (UNMONITORED_REASONS)
    threshold: float = DEFAULT_THRESHOLD
    found_at_start: tuple[FoundAtStart, ...] = ()
    recorded: bool = True  # False: no coverage was recorded (pure callers): all time watched

    @property
    def unmonitored_total(self) -> float:
        return sum(self.unmonitored_seconds.values())

    @property
    def ratio(self) -> float | None:
        """Monitored ÷ scheduled; None when nothing was scheduled (a period all maintenance)."""
        return self.monitored_seconds / self.scheduled_seconds if self.scheduled_seconds else None

    @property
    def no_data(self) -> bool:
        return self.monitored_seconds <= 0

    @property
    def insufficient(self) -> bool:
        return not self.no_data and self.ratio is not None and self.ratio < self.threshold

    @property
    def status(self) -> str:
        return "no_data" if self.no_data else "insufficient" if self.insufficient else "ok"


def watched(facts: CoverageFacts, checks: frozenset[CheckKey]) -> list[Interval]:
    """When every one of ``checks`` had fresh results (empty without checks: nothing watched)."""
    if not checks:
        return []
    out = facts.running
    for key in sorted(checks):
        out = intersect(out, facts.by_check.get(key, []))
        if not out:
            break
    return out


def monitored_operating(
    inputs: Inputs,
    scope: Scope,
    start: dt.datetime,
    until: dt.datetime,
    planned: list[Interval],
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[Coverage, list[Interval]]:
    """The scope's coverage over ``[start, until)``, and the time to leave out of its operating
    time: planned maintenance and every instant before ``until`` that was not monitored."""
    facts = inputs.coverage
    scheduled = subtract([(start, until)], planned)
    scheduled_s = total_seconds(scheduled)
    if facts is None:  # coverage not recorded: every scheduled second counts, as before
        none = dict.fromkeys(UNMONITORED_REASONS, 0.0)
        return Coverage(scheduled_s, scheduled_s, none, threshold, recorded=False), planned
    checks = facts.scope_checks(scope)
    seen = watched(facts, checks)
    running = facts.running
    configured = union(r.interval for r in facts.runs if checks and checks <= r.checks)
    not_running = subtract(scheduled, running)
    not_configured = subtract(intersect(scheduled, running), configured)
    stale = subtract(intersect(scheduled, configured), seen)
    unmonitored = {
        "not_running": total_seconds(not_running),
        "not_configured": total_seconds(not_configured),
        "stale": total_seconds(stale),
    }
    found = tuple(
        f
        for f in facts.found_at_start
        if start <= f.found_at < until and _hits(inputs, scope, f.incident_id)
    )
    cover = Coverage(
        scheduled_s, total_seconds(intersect(scheduled, seen)), unmonitored, threshold, found
    )
    off = union(list(planned) + subtract([(_DAWN, until)], seen))
    return cover, off


def _hits(inputs: Inputs, scope: Scope, incident_id: int) -> bool:
    return any(i.id == incident_id and scope.hit_by(i) for i in inputs.incidents)


def backdate(
    incidents: Sequence[IncidentFact], fresh: Sequence[FreshFact]
) -> tuple[list[IncidentFact], list[FoundAtStart]]:
    """Date each fault found already present when monitoring resumed from the last good
    observation before the gap. "Found present": a stretch of fresh results of a check of the
    incident's root or members holds the fault's start, with no good result before it. The
    earliest such last-good instant wins (the purchaser's side); a symptom keeps its start. An
    incident held open by flapping (``measured_down``) has its first measured outage dated so."""
    by_check: dict[CheckKey, list[FreshFact]] = {}
    for f in sorted(fresh, key=lambda f: f.since):
        by_check.setdefault(f.key, []).append(f)
    out, found = [], []
    for inc in incidents:
        assets = {inc.root_asset} | set(inc.members)
        hits: list[dt.datetime | None] = []
        for (asset, _), stretches in by_check.items():
            if asset not in assets or inc.is_symptom:
                continue
            for i, s in enumerate(stretches):
                if not (s.since <= inc.fault_started_at <= s.until):
                    continue
                if s.first_ok_at is not None and s.first_ok_at < inc.fault_started_at:
                    continue  # seen good since monitoring resumed: the fault began in view
                before = [p.last_ok_at for p in stretches[:i] if p.last_ok_at is not None]
                hits.append(max(before) if before else None)
        if not hits:
            out.append(inc)
            continue
        known = [h for h in hits if h is not None and h < inc.fault_started_at]
        dated = min(known) if known else None
        found.append(FoundAtStart(inc.id, inc.fault_started_at, dated))
        out.append(_dated(inc, dated) if dated else inc)
    return out, found


def _dated(inc: IncidentFact, start: dt.datetime) -> IncidentFact:
    """``inc`` starting at ``start``; held open by flapping, its first measured outage (the one
    found present) starts there too, or the gap would fall out of its repair time."""
    moved = dataclasses.replace(inc, fault_started_at=start)
    if not inc.measured_down:
        return moved
    (lo, hi), *rest = inc.measured_down
    return dataclasses.replace(moved, measured_down=((min(lo, start), hi), *rest))
