"""Incidents from faults: open, grade, attach symptoms, re-grade, recover. Pure.

:class:`IncidentBook` keeps the active incidents (open or acknowledged) and, each time the
set of faults changes, reconciles: it returns :class:`Change` records that the shell appends
to the incident timeline (and that alerting turns into messages). Rules:

* A fault explained by an outage upstream (topology) is a **symptom**: it is attached to the
  upstream fault's incident, not opened on its own. If it had an incident of its own (it was
  seen first), that incident is **merged** into the upstream one.
* Phones are **grouped**: any number of unreachable phones is one ``phones_unreachable``
  incident whose members change, graded by how many are down.
* Severity is looked up in the matrix from the incident's fault class and the platform impact
  of all its assets (root and symptoms); a change is a ``regraded`` change; the peak is kept.
* When the fault is gone the incident is **recovered** (at the instant the health came back),
  *automatic* unless an operator intervention was recorded, *manual* otherwise. Symptoms that
  outlive their parent by more than ``symptom_grace`` (10 s: checks lag, a SIP trunk probed
  every 5 s recovers after the circuit under it) become incidents of their own.
* A fault on a **flapping** check is held: the incident stays open through the flaps, so people
  are not paged for every bounce. The book still measures each bounce (when the fault was live
  and when only held), and the recovery says so: ``flapping`` = outages, minutes, seconds really
  down. The SLA takes downtime from those measured outages, not from how long the incident was
  open (``docs/sla.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from noc.core.vocabulary import FAULT_CLASSES, more_severe
from noc.engine.faults import Fault
from noc.engine.severity import (
    PartialImpact,
    SeverityMatrix,
    grade,
    service_impact,
    worst_impact,
)
from noc.engine.topology import Topology

PHONE_GROUP = "phones_unreachable"


@dataclass(frozen=True)
class ServiceSpec:
    impact: str
    partial: tuple[PartialImpact, ...] = ()


@dataclass
class ActiveIncident:
    key: str
    type: str
    root_asset: str
    fault_class: str
    severity: str
    peak_severity: str
    impact: str
    fault_started_at: float
    detected_at: float
    members: set[str] = field(default_factory=set)
    symptoms: dict[str, Fault] = field(default_factory=dict)
    services: list[dict[str, Any]] = field(default_factory=list)
    status: str = "open"
    intervention: bool = False
    id: int | None = None
    checks: set[tuple[str, str]] = field(default_factory=set)  # (asset, check) of its faults
    down_since: float | None = None  # the current measured outage began (None: held, not down)
    outages: list[tuple[float, float]] = field(default_factory=list)  # ended measured outages
    flapped: bool = False  # held open by flapping at least once

    def flap_summary(self, now: float) -> dict[str, Any]:
        """What a recovery after flapping tells: outages, over how long, really down how long."""
        spans = self.outages + ([(self.down_since, now)] if self.down_since is not None else [])
        return {
            "outages": len(spans),
            "minutes": round((now - self.fault_started_at) / 60, 1),
            "down_seconds": round(sum(end - start for start, end in spans), 3),
        }


@dataclass(frozen=True)
class Change:
    """One thing that happened to an incident; ``kind`` is the timeline event kind."""

    kind: str  # opened | regraded | symptom_attached | symptom_detached | members_changed | merged | recovered
    key: str
    at: float
    data: Mapping[str, Any] = field(default_factory=dict)


class IncidentBook:
    def __init__(
        self,
        topology: Topology,
        services: Mapping[str, ServiceSpec],
        matrix: SeverityMatrix,
        site: str,
        kinds: Mapping[str, str],
        runbook_for: Callable[[str], str | None] = lambda t: None,
        symptom_grace: float = 10.0,
    ):
        self.topology = topology
        self.services = dict(services)
        self.matrix = matrix
        self.site = site
        self.kinds = dict(kinds)
        self.runbook_for = runbook_for
        self.active: dict[str, ActiveIncident] = {}
        self.symptom_grace = symptom_grace
        self._held: dict[str, Fault] = {}
        self._orphaned: dict[str, float] = {}  # symptom fault key → when its parent recovered

    @property
    def waiting(self) -> bool:
        """Symptoms of a recovered parent are in their grace period: reconcile again soon."""
        return bool(self._orphaned)

    # -- operator actions -----------------------------------------------------------------

    def acknowledge(self, key: str) -> None:
        self.active[key].status = "acknowledged"

    def record_intervention(self, key: str) -> None:
        """An operator changed something: a recovery after this is manual, not automatic."""
        self.active[key].intervention = True

    def restore(self, incident: ActiveIncident) -> None:
        """Resume an active incident loaded from the store after a restart."""
        self.active[incident.key] = incident

    # -- the reconciliation ----------------------------------------------------------------

    def reconcile(self, faults: Iterable[Fault], now: float) -> list[Change]:
        faults = list(faults)
        live = {(f.asset, f.check) for f in faults}
        faults = self._hold_flapping(faults)
        outage_assets = {f.asset for f in faults if f.is_outage}
        outage_key = {}
        for f in faults:
            if f.is_outage:
                outage_key.setdefault(f.asset, f)

        was_symptom = {s for incident in self.active.values() for s in incident.symptoms}
        desired: dict[str, dict[str, Any]] = {}
        symptoms_of: dict[str, dict[str, Fault]] = {}
        for f in sorted(faults, key=lambda f: (f.started_at, f.key)):
            root = self.topology.root_cause(f.asset, f.check, outage_assets - {f.asset})
            if root is not None:
                parent = self._incident_key(outage_key[root])
                symptoms_of.setdefault(parent, {})[f.key] = f
                self._orphaned.pop(f.key, None)
                continue
            if f.key in was_symptom:
                self._orphaned.setdefault(f.key, now)
            orphaned_at = self._orphaned.get(f.key)
            if orphaned_at is not None and now - orphaned_at < self.symptom_grace:
                continue  # a lagging check of a recovered parent gets a moment to recover too
            self._orphaned.pop(f.key, None)
            key = self._incident_key(f)
            entry = desired.setdefault(
                key,
                {
                    "type": PHONE_GROUP if key.startswith(PHONE_GROUP) else f.type,
                    "root": self.site if key.startswith(PHONE_GROUP) else f.asset,
                    "class": f.fault_class,
                    "started": f.started_at,
                    "members": set(),
                    "faults": [],
                },
            )
            entry["members"].add(f.asset)
            entry["faults"].append(f)
            entry["started"] = min(entry["started"], f.started_at)
            if _class_rank(f.fault_class) < _class_rank(entry["class"]):
                entry["class"] = f.fault_class

        changes: list[Change] = []
        # symptoms that had an incident of their own are merged into their parent's
        for parent, symptoms in symptoms_of.items():
            for fault in symptoms.values():
                own = self._incident_key(fault)
                if own in self.active and own not in desired and own != parent:
                    merged = self.active.pop(own)
                    changes.append(Change("merged", own, now, {"into": parent, "id": merged.id}))

        for key, entry in desired.items():
            symptoms = symptoms_of.get(key, {})
            incident = self.active.get(key)
            if incident is None:
                incident = self._open(key, entry, symptoms, now)
                changes.append(Change("opened", key, now, self._opened_data(incident, entry)))
                for s in symptoms.values():
                    changes.append(Change("symptom_attached", key, now, _symptom_data(s)))
                continue
            changes.extend(self._update(incident, entry, symptoms, now))
            _measure(incident, [f for f in entry["faults"] if (f.asset, f.check) in live], now)

        current = {f.key for f in faults}
        self._orphaned = {k: t for k, t in self._orphaned.items() if k in current}
        for key in [k for k in self.active if k not in desired]:
            incident = self.active.pop(key)
            for s in incident.symptoms.values():
                changes.append(Change("symptom_detached", key, now, _symptom_data(s)))
            data = {
                "recovery_kind": "manual" if incident.intervention else "automatic",
                "duration_seconds": round(now - incident.fault_started_at, 3),
                "id": incident.id,
            }
            if incident.flapped:  # held open through bounces: say how long it was really down
                data["flapping"] = incident.flap_summary(now)
                data["checks"] = sorted(incident.checks)
            changes.append(Change("recovered", key, now, data))
        return changes

    # -- internals -------------------------------------------------------------------------

    def _incident_key(self, fault: Fault) -> str:
        if fault.type == "phone_unreachable":
            return f"{PHONE_GROUP}:{self.site}"
        return fault.key

    def _hold_flapping(self, faults: list[Fault]) -> list[Fault]:
        """Keep the last fault of a flapping check alive while it flaps (one incident, no churn)."""
        current = {(f.asset, f.check): f for f in faults}
        held = []
        for check_key, fault in list(self._held.items()):
            if check_key in current or not fault.flapping:
                continue
            held.append(fault)
        self._held = {k: v for k, v in self._held.items() if v.flapping}
        for f in faults:
            if f.flapping:
                self._held[(f.asset, f.check)] = f
        return faults + held

    def release_flapping(self, asset: str, check: str) -> None:
        """The check stopped flapping: its held fault (if any) no longer keeps an incident open."""
        self._held.pop((asset, check), None)

    def _assess(
        self, fault_class: str, faults: Iterable[Fault], symptoms: Mapping[str, Fault]
    ) -> tuple[str, str, list]:
        """Impact and level from the incident's faults and its outage symptoms. A fault on one
        check of an asset (the trunk) impairs only the services that need that check."""
        involved = list(faults) + [s for s in symptoms.values() if s.is_outage]
        assets = {f.asset for f in involved if f.whole_asset}
        checks = {(f.asset, f.check) for f in involved if not f.whole_asset}
        impaired = self.topology.impaired_services(assets, checks)
        impacts, described = [], []
        for imp in impaired:
            spec = self.services.get(imp.service, ServiceSpec("moderate"))
            impact = service_impact(
                imp.full, spec.impact, spec.partial, imp.group_down, imp.group_size
            )
            impacts.append(impact)
            described.append(
                {
                    "service": imp.service,
                    "full": imp.full,
                    "impact": impact,
                    "down": sorted(imp.down_assets),
                    **(
                        {"group_down": imp.group_down, "group_size": imp.group_size}
                        if not imp.full
                        else {}
                    ),
                }
            )
        impact = worst_impact(impacts)
        return impact, grade(self.matrix, fault_class, impact), described

    def _open(
        self, key: str, entry: dict, symptoms: dict[str, Fault], now: float
    ) -> ActiveIncident:
        impact, severity, services = self._assess(entry["class"], entry["faults"], symptoms)
        incident = ActiveIncident(
            key=key,
            type=entry["type"],
            root_asset=entry["root"],
            fault_class=entry["class"],
            severity=severity,
            peak_severity=severity,
            impact=impact,
            fault_started_at=entry["started"],
            detected_at=now,
            members=set(entry["members"]),
            symptoms=dict(symptoms),
            services=services,
            checks={(f.asset, f.check) for f in entry["faults"]},
            down_since=entry["started"],
        )
        self.active[key] = incident
        return incident

    def _opened_data(self, incident: ActiveIncident, entry: dict) -> dict[str, Any]:
        first = min(entry["faults"], key=lambda f: f.started_at)
        return {
            "type": incident.type,
            "root_asset": incident.root_asset,
            "fault_class": incident.fault_class,
            "severity": incident.severity,
            "impact": incident.impact,
            "services": incident.services,
            "members": sorted(incident.members),
            "fault_started_at": incident.fault_started_at,
            "runbook": self.runbook_for(incident.type),
            "evidence": {
                "check": first.check,
                "reason": first.reason,
                "metrics": dict(first.metrics),
            },
        }

    def _update(
        self, incident: ActiveIncident, entry: dict, symptoms: dict[str, Fault], now: float
    ) -> list[Change]:
        changes = []
        if entry["members"] != incident.members:
            added, removed = (
                entry["members"] - incident.members,
                incident.members - entry["members"],
            )
            incident.members = set(entry["members"])
            changes.append(
                Change(
                    "members_changed",
                    incident.key,
                    now,
                    {
                        "added": sorted(added),
                        "removed": sorted(removed),
                        "members": sorted(incident.members),
                    },
                )
            )
        for key in incident.symptoms.keys() - symptoms.keys():
            changes.append(
                Change("symptom_detached", incident.key, now, _symptom_data(incident.symptoms[key]))
            )
        for key in symptoms.keys() - incident.symptoms.keys():
            changes.append(
                Change("symptom_attached", incident.key, now, _symptom_data(symptoms[key]))
            )
        incident.symptoms = dict(symptoms)
        incident.fault_class = entry["class"]
        incident.checks |= {(f.asset, f.check) for f in entry["faults"]}
        impact, severity, services = self._assess(entry["class"], entry["faults"], symptoms)
        incident.services = services
        if severity != incident.severity:
            before = incident.severity
            incident.severity, incident.impact = severity, impact
            incident.peak_severity = more_severe(incident.peak_severity, severity)
            changes.append(
                Change(
                    "regraded",
                    incident.key,
                    now,
                    {
                        "from": before,
                        "to": severity,
                        "peak": incident.peak_severity,
                        "impact": impact,
                        "fault_class": entry["class"],
                        "services": services,
                    },
                )
            )
        else:
            incident.impact = impact
        return changes


def _measure(incident: ActiveIncident, live: list[Fault], now: float) -> None:
    """Follow the measured outages of an incident: live while one of its faults is current, not
    down while only a held (flapping) fault keeps it open."""
    if not live and incident.down_since is not None:  # back up; flapping holds it open
        incident.outages.append((incident.down_since, now))
        incident.down_since, incident.flapped = None, True
    elif live and incident.down_since is None:  # down again (or resumed after a restart)
        since = min(f.started_at for f in live)
        if incident.outages:
            since = max(since, incident.outages[-1][1])
        incident.down_since = min(since, now)


def _class_rank(fault_class: str) -> int:
    return FAULT_CLASSES.index(fault_class)


def _symptom_data(fault: Fault) -> dict[str, Any]:
    return {
        "fault": fault.key,
        "type": fault.type,
        "asset": fault.asset,
        "check": fault.check,
        "started_at": fault.started_at,
        "reason": fault.reason,
    }
