"""Severity levels I–IV from fault severity × platform impact. Pure.

The tender asks faults to be graded "by fault severity and by how much the platform is
affected" (按照故障严重程度和平台受影响的程度进行分级). So a level is looked up in a matrix:
rows are the *fault class* (outage, degraded, congested, minor), columns the *platform impact*
(critical … none), derived from the services the fault impairs. The default matrix gives the
levels of docs/severity.md: a dead voice circuit or gateway is an outage of citizen voice intake
(critical) → I; the ticket circuit down → II; voice-circuit loss → degraded × critical → II;
half the phones → outage × major → II; internet down or degraded → III; ≥ 3 phones → III;
congestion → III; one or two phones → IV. The words (levels, fault classes, impacts) are
``noc.core.vocabulary``'s.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field, model_validator

from noc.core.validation import StrictModel
from noc.core.vocabulary import IMPACTS, Impact, Level


def worst_impact(impacts: Iterable[str]) -> str:
    result = "none"
    for impact in impacts:
        if IMPACTS.index(impact) < IMPACTS.index(result):
            result = impact
    return result


class ImpactRow(StrictModel):
    critical: Level
    major: Level
    moderate: Level
    minor: Level
    none: Level


class SeverityMatrix(StrictModel):
    """Level per fault class (row) and platform impact (column)."""

    outage: ImpactRow = ImpactRow(critical="I", major="II", moderate="III", minor="IV", none="IV")
    degraded: ImpactRow = ImpactRow(
        critical="II", major="III", moderate="III", minor="IV", none="IV"
    )
    congested: ImpactRow = ImpactRow(
        critical="III", major="III", moderate="III", minor="IV", none="IV"
    )
    minor: ImpactRow = ImpactRow(critical="IV", major="IV", moderate="IV", minor="IV", none="IV")

    def level(self, fault_class: str, impact: str) -> str:
        return getattr(getattr(self, fault_class), impact)


class PartialImpact(StrictModel):
    """Impact of a service whose redundant group (any_of) is thinned but not gone."""

    impact: Impact
    down_count: int | None = Field(None, ge=1)
    down_fraction: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _one_condition(self) -> PartialImpact:
        if (self.down_count is None) == (self.down_fraction is None):
            raise ValueError("give exactly one of down_count or down_fraction")
        return self

    def applies(self, down: int, size: int) -> bool:
        if self.down_count is not None:
            return down >= self.down_count
        return size > 0 and down / size >= (self.down_fraction or 0)


def service_impact(
    full: bool,
    impact_if_down: str,
    partial: Iterable[PartialImpact],
    group_down: int,
    group_size: int,
) -> str:
    """Impact of one impaired service: its own impact when fully down, else its worst partial tier."""
    if full:
        return impact_if_down
    return worst_impact(p.impact for p in partial if p.applies(group_down, group_size))


def grade(matrix: SeverityMatrix, fault_class: str, impact: str) -> str:
    return matrix.level(fault_class, impact)
