"""The SLA's facts: the store's rows for a span (:mod:`noc.store.sla_facts`) turned into
:class:`sla.compute.Inputs`.

:func:`load_inputs` is the only I/O (four queries, one session, and two for the monitoring
coverage of :mod:`noc.store.coverage`); :func:`to_inputs` is pure: it folds each incident's
events into its services, gradings and merge, looks up the acknowledge deadlines its runbook
sets for each severity it had, and dates a fault found present when monitoring resumed from
the last good observation before the gap (:func:`sla.coverage.backdate`). The rules that take
more than a lookup (merge parents, group members, outages measured under flapping) are in
:mod:`sla.derive`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Any

from noc.engine.incidents import PHONE_GROUP
from noc.store.coverage import CoverageRepo, CoverageRows
from noc.store.repo import Store
from noc.store.sla_facts import SlaFactsRepo, SlaRows
from noc.store.tables import Incident
from sla.compute import IncidentFact, Inputs, MaintenanceFact, StepOverride, TransitionFact
from sla.coverage import CoverageFacts, FreshFact, RunFact, backdate
from sla.derive import by_check, measured_down, member_spans, merge_parents


async def load_inputs(
    store: Store,
    start: dt.datetime,
    end: dt.datetime,
    runbooks: Any = None,
    planned_until: dt.datetime | None = None,
) -> Inputs:
    """Everything that can touch ``[start, end)``: one query per table. Maintenance is read up to
    ``planned_until`` (a period's end): planned windows still to come shape its error budget."""
    rows = await SlaFactsRepo(store).rows(start, end, planned_until)
    return to_inputs(rows, runbooks, await CoverageRepo(store).rows(start, end))


def to_coverage(rows: CoverageRows) -> CoverageFacts:
    """Runs (ended by their clean stop, else their last heartbeat) and fresh stretches."""
    runs = tuple(
        RunFact(
            r.id,
            r.started_at,
            r.stopped_at or r.heartbeat_at,
            r.stopped_at is not None,
            frozenset((c["asset"], c["check"]) for c in r.checks or () if isinstance(c, dict)),
        )
        for r in rows.runs
    )
    fresh = tuple(
        FreshFact(s.run_id, s.asset, s.check, s.since, s.until, s.first_ok_at, s.last_ok_at)
        for s in rows.stretches
    )
    return CoverageFacts(runs=runs, fresh=fresh)


def to_inputs(rows: SlaRows, runbooks: Any = None, coverage: CoverageRows | None = None) -> Inputs:
    """``coverage`` None: not recorded (every second counts as watched, as before it was)."""
    services: dict[int, set[str]] = defaultdict(set)
    gradings: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    merged: set[int] = set()
    # issue 11 (9b, 9d): merges (when, into which fault key) and each incident's member changes
    merges: dict[int, tuple[dt.datetime, str]] = {}
    timeline: dict[int, list[tuple[str, dt.datetime, dict]]] = defaultdict(list)
    for event in rows.events:
        incident_id, kind, at, data = event.incident_id, event.kind, event.at, event.data or {}
        timeline[incident_id].append((kind, at, data))
        if kind == "merged":
            merged.add(incident_id)
            if data.get("into"):
                merges[incident_id] = (at, str(data["into"]))
        elif kind == "graded" and data.get("severity"):
            gradings[incident_id].append((at, str(data["severity"])))
        elif kind == "regraded" and data.get("to"):
            gradings[incident_id].append((at, str(data["to"])))
        services[incident_id] |= _names(data.get("services"))
    # issue 11 (9b, 9d, 10): merge parents, group members, measured outages under flapping
    parents = merge_parents(
        [(r.id, r.fault_key, r.detected_at, r.recovered_at or r.closed_at) for r in rows.incidents],
        merges,
    )
    facts = tuple(
        TransitionFact(
            t.asset,
            t.check,
            t.from_state,
            t.to_state,
            t.at,
            (t.details or {}).get("flapping") if t.from_state == t.to_state else None,
        )
        for t in rows.transitions
    )
    per_check = by_check(facts)
    incidents = []
    for row in rows.incidents:
        impact = row.impact or {}
        runbook = _runbook(row, runbooks)
        grouped = row.fault_type == PHONE_GROUP
        ended = row.recovered_at or row.closed_at
        incidents.append(
            IncidentFact(
                id=row.id,
                fault_started_at=row.fault_started_at,
                detected_at=row.detected_at,
                peak_severity=row.peak_severity,
                root_asset=row.root_asset,
                recovered_at=row.recovered_at,
                recovery_kind=row.recovery_kind,
                members=frozenset(impact.get("members") or ()),
                services=frozenset(services[row.id] | _names(impact.get("services"))),
                parent_id=row.parent_id,
                merged=row.id in merged or (row.close_note or "").startswith("merged into"),
                alarmed_at=row.alarmed_at,
                acknowledged_at=row.acknowledged_at,
                closed_at=row.closed_at,
                ack_deadline_seconds=_ack_deadline(
                    runbook, row.peak_severity
                ),  # without a grading event
                ack_deadlines=_ack_deadlines(runbook, gradings[row.id]),
                merged_into=parents.get(row.id),
                grouped=grouped,
                member_spans=member_spans(row.fault_started_at, timeline[row.id])
                if grouped
                else (),
                measured_down=measured_down(
                    per_check, _checks(row, impact, timeline[row.id]), row.fault_started_at, ended
                ),
                overrides=_overrides(timeline[row.id]),
            )
        )
    watching = None
    if coverage is not None:
        watching = to_coverage(coverage)
        incidents, found = backdate(incidents, watching.fresh)
        watching = dataclasses.replace(watching, found_at_start=tuple(found))
    return Inputs(
        coverage=watching,
        incidents=tuple(incidents),
        transitions=facts,
        maintenance=tuple(
            MaintenanceFact(
                w.id,
                frozenset(w.assets or ()),
                w.starts_at,
                w.ends_at,
                w.ended_at,
                w.created_at,
                approved=w.approved_at is not None,  # by a second person: only then it excuses
            )
            for w in rows.maintenance
        ),
    )


def _overrides(timeline: list[tuple[str, dt.datetime, dict]]) -> tuple[StepOverride, ...]:
    """Steps recorded with an intervention flag a lead overrode (``step_done`` + ``override``)."""
    out = []
    for kind, at, data in timeline:
        override = data.get("override") if kind == "step_done" else None
        if isinstance(override, dict):
            out.append(
                StepOverride(
                    step=str(data.get("step", "")),
                    intervention=bool(data.get("intervention")),
                    reason=str(override.get("reason", "")),
                    by=str(override.get("by", "")),
                    at=at,
                )
            )
    return tuple(out)


def _names(services: Any) -> set[str]:
    """Service names from an impact's ``services`` (dicts ``{"service": …}`` or plain names)."""
    out: set[str] = set()
    for entry in services or ():
        if isinstance(entry, str):
            out.add(entry)
        elif isinstance(entry, dict) and entry.get("service"):
            out.add(str(entry["service"]))
    return out


def _checks(row: Incident, impact: dict, timeline: list) -> list[tuple[str, str]]:
    """The (asset, check) pairs whose DOWN is this incident's fault: as the engine recorded them
    (``impact.checks``), else the check of the opening evidence on the root or the members."""
    recorded = [tuple(pair) for pair in impact.get("checks") or () if len(pair) == 2]
    if recorded:
        return recorded
    opened = next((data for kind, _, data in timeline if kind == "opened"), {})
    check = (opened.get("evidence") or {}).get("check")
    if not check:
        return []
    return [(asset, check) for asset in {row.root_asset, *(impact.get("members") or ())}]


def _runbook(row: Incident, runbooks: Any) -> Any:
    if runbooks is None:
        return None
    try:
        return runbooks.get(row.runbook) if row.runbook else runbooks.for_fault(row.fault_type)
    except KeyError:
        return None


def _ack_deadline(runbook: Any, level: str | None) -> float | None:
    try:
        return runbook.deadline(level).acknowledge if runbook is not None and level else None
    except KeyError:
        return None


def _ack_deadlines(
    runbook: Any, gradings: list[tuple[dt.datetime, str]]
) -> tuple[tuple[dt.datetime, float], ...]:
    """(since, acknowledge seconds) for the severity at detection and after each regrade."""
    out = []
    for at, level in sorted(gradings, key=lambda g: g[0]):
        seconds = _ack_deadline(runbook, level)
        if seconds is not None:
            out.append((at, seconds))
    return tuple(out)
