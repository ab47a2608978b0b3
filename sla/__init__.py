"""The SLA engine: intervals from the event log (:mod:`sla.intervals`), the formulas
(:mod:`sla.compute`, pure), monitored time (:mod:`sla.coverage`, pure), scopes
(:mod:`sla.scope`), the store edge (:mod:`sla.facts`) and its pure rules (:mod:`sla.derive`:
merges, group members, outages measured under flapping), renderings (:mod:`sla.render`), the
glue (:mod:`sla.report`) and the gauge contract the metrics collector reads
(:mod:`sla.gauges`). Definitions: ``docs/sla.md``.

Only the pure parts are imported here, so ``import sla`` never pulls in the store."""

from sla.compute import (
    IncidentFact,
    Inputs,
    MaintenanceFact,
    Scope,
    ScopeReport,
    TransitionFact,
    compute,
)
from sla.intervals import PeriodError, Window, parse_period

__all__ = [
    "IncidentFact",
    "Inputs",
    "MaintenanceFact",
    "PeriodError",
    "Scope",
    "ScopeReport",
    "TransitionFact",
    "Window",
    "compute",
    "parse_period",
]
