"""The ``kpi:`` section: targets, options and scoring rules of the scorecard (docs/kpi.md).

The tender gives targets and points but not deductions ("最终考核指标以实际考核内容为准"), so
every rule is here with its documented default; a file without the section scores by them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator

from kpi.model import DEFAULT_POSTS, INDICATORS, ReportSchedule, Rule, Rules, _default_rules
from noc.core.units import Duration
from noc.core.validation import StrictModel

Ratio = Annotated[float, Field(ge=0, le=1)]


class PointsRule(StrictModel):
    rule: Literal["rate", "count", "bonus"] | None = None
    points: Annotated[float, Field(ge=0, le=100)] | None = None
    per_point: Annotated[float, Field(ge=0)] | None = None
    points_per_item: Annotated[float, Field(ge=0)] | None = None
    no_data: Literal["full", "zero", "exclude"] | None = None


class KpiOptions(StrictModel):
    abandon_grace_seconds: Annotated[float, Field(ge=0, le=600)] = 0.0
    basic_satisfied_counts: bool = True
    instant_answer_kb_only: bool = False
    callback_within: Annotated[Duration, Field(gt=0)] = 24 * 3600.0
    emergency_response: Annotated[Duration, Field(gt=0)] = 1800.0
    fault_response: Annotated[Duration, Field(gt=0)] = 900.0
    emergency_levels: list[Literal["I", "II", "III", "IV"]] = Field(
        default_factory=lambda: ["I", "II"]
    )


class StaffingRequirement(StrictModel):
    total: Annotated[int, Field(ge=0)] = 37
    posts: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_POSTS)
    )


class ReportDue(StrictModel):
    kind: Annotated[str, Field(min_length=1, max_length=32)]
    due_day: Annotated[int, Field(ge=1, le=31)] = 5
    due_time: dt.time = dt.time(18, 0)


class Correlation(StrictModel):
    voice_services: list[str] = Field(default_factory=lambda: ["voice-intake"])
    ticket_services: list[str] = Field(default_factory=lambda: ["ticket-exchange"])


class KpiSettings(StrictModel):
    targets: dict[str, Ratio] = Field(default_factory=dict)
    points: dict[str, PointsRule] = Field(default_factory=dict)
    options: KpiOptions = KpiOptions()
    staffing: StaffingRequirement = StaffingRequirement()
    reports: list[ReportDue] = Field(default_factory=lambda: [ReportDue(kind="monthly")])
    correlation: Correlation = Correlation()

    @field_validator("targets", "points")
    @classmethod
    def _known_indicators(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(INDICATORS))
        if unknown:
            raise ValueError(
                f"unknown indicator(s) {', '.join(unknown)}; known: {', '.join(INDICATORS)}"
            )
        return value

    def rules(self) -> Rules:
        table: dict[str, Rule] = {}
        for name, base in _default_rules().items():
            over = self.points.get(name, PointsRule())
            table[name] = Rule(
                kind=over.rule or base.kind,
                points=base.points if over.points is None else over.points,
                target=self.targets.get(name, base.target),
                per_point=base.per_point if over.per_point is None else over.per_point,
                points_per_item=(
                    base.points_per_item if over.points_per_item is None else over.points_per_item
                ),
                no_data=over.no_data or base.no_data,
            )
        o = self.options
        return Rules(
            rules=table,
            abandon_grace_seconds=o.abandon_grace_seconds,
            basic_satisfied_counts=o.basic_satisfied_counts,
            instant_answer_kb_only=o.instant_answer_kb_only,
            callback_within=dt.timedelta(seconds=o.callback_within),
            emergency_response=dt.timedelta(seconds=o.emergency_response),
            fault_response=dt.timedelta(seconds=o.fault_response),
            staff_total=self.staffing.total,
            staff_posts=dict(self.staffing.posts),
            reports=tuple(ReportSchedule(r.kind, r.due_day, r.due_time) for r in self.reports),
            voice_services=tuple(self.correlation.voice_services),
            ticket_services=tuple(self.correlation.ticket_services),
            emergency_levels=tuple(o.emergency_levels),
        )
