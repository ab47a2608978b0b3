"""The records a KPI is computed from, and the rules it is scored by. Pure dataclasses.

Why plain records rather than the store's rows: the computation is a function of what happened
(and when we knew it), so tests build these by hand and the edge (``noc.kpi_facts``) fills them
from any backend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from noc.core.vocabulary import KPI_INDICATORS, KPI_NAMES, KPI_TENDER_TARGETS

INDICATORS: tuple[str, ...] = KPI_INDICATORS
NAMES: dict[str, tuple[str, str]] = KPI_NAMES


@dataclass(frozen=True)
class Call:
    id: str
    entered_at: dt.datetime
    outcome: str
    wait_seconds: float | None = None
    agent: str | None = None


@dataclass(frozen=True)
class TicketEvent:
    kind: str
    at: dt.datetime
    data: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Ticket:
    """A ticket with its events (any order; the computation sorts and cuts at as-of)."""

    no: str
    created_at: dt.datetime
    type: str
    channel: str | None = None
    town: str | None = None
    agent: str | None = None
    instant_answer: bool = False
    kb_entry: str | None = None
    events: tuple[TicketEvent, ...] = ()
    first_dispatched_at: dt.datetime | None = None
    category: str | None = None


@dataclass(frozen=True)
class SpotCheck:
    id: str
    ticket: str
    checked_at: dt.datetime
    result: str


@dataclass(frozen=True)
class Complaint:
    id: str
    ticket: str
    agent: str
    ruled_at: dt.datetime
    justified: bool


@dataclass(frozen=True)
class Commendation:
    id: str
    agent: str
    date: dt.date
    kind: str
    ticket: str | None = None


@dataclass(frozen=True)
class StaffSpell:
    """One person on one post from ``start`` to ``end`` (last working day, inclusive)."""

    id: str
    person: str
    post: str
    start: dt.date
    end: dt.date | None = None


@dataclass(frozen=True)
class Submission:
    id: str
    kind: str
    period: str
    submitted_at: dt.datetime
    corrected: bool = False
    due_at: dt.datetime | None = None


@dataclass(frozen=True)
class DueReport:
    kind: str
    period: str
    due_at: dt.datetime


@dataclass(frozen=True)
class Emergency:
    id: str
    kind: str
    started_at: dt.datetime
    responded_at: dt.datetime | None = None
    force_majeure: bool = False
    title: str = ""


@dataclass(frozen=True)
class Fault:
    """A platform incident: when it was detected and acknowledged (responded to)."""

    id: str
    started_at: dt.datetime
    detected_at: dt.datetime
    acknowledged_at: dt.datetime | None = None
    recovered_at: dt.datetime | None = None
    level: str = "IV"
    services: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class Facts:
    calls: tuple[Call, ...] = ()
    tickets: tuple[Ticket, ...] = ()
    spot_checks: tuple[SpotCheck, ...] = ()
    complaints: tuple[Complaint, ...] = ()
    commendations: tuple[Commendation, ...] = ()
    staff: tuple[StaffSpell, ...] = ()
    submissions: tuple[Submission, ...] = ()
    emergencies: tuple[Emergency, ...] = ()
    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class Rule:
    """How an indicator scores: ``rate`` (points per percentage point below target), ``count``
    (points per item), ``bonus`` (+1 per item); ``no_data`` says what a zero denominator earns."""

    kind: str = "rate"
    points: float = 10.0
    target: float = 1.0
    per_point: float = 1.0
    points_per_item: float = 2.0
    no_data: str = "zero"  # full | zero | exclude


def _default_rules() -> dict[str, Rule]:
    t = KPI_TENDER_TARGETS
    return {
        "answer_rate": Rule("rate", 10, t["answer_rate"], no_data="zero"),
        "spot_check": Rule("rate", 10, t["spot_check"], no_data="full"),
        "instant_answer": Rule("rate", 10, t["instant_answer"], no_data="zero"),
        "callback_on_time": Rule("rate", 10, t["callback_on_time"], no_data="full"),
        "satisfaction": Rule("rate", 10, t["satisfaction"], no_data="zero"),
        "complaints": Rule("count", 10, 0, no_data="full"),
        "staffing": Rule("count", 10, 0, no_data="full"),
        "reports": Rule("count", 10, 0, no_data="full"),
        "emergencies": Rule("count", 10, 0, no_data="full"),
        "platform_faults": Rule("rate", 10, t["platform_faults"], no_data="full"),
        "commendations": Rule("bonus", 5, 0, no_data="full"),
    }


DEFAULT_POSTS: dict[str, int] = {
    "接话": 27,
    "派单岗": 1,
    "工单回访岗": 1,
    "知识库管理岗": 1,
    "工单督办申诉岗": 1,
    "数据分析岗": 1,
    "政策材料岗": 1,
    "技术管理岗": 1,
    "运行管理岗": 1,
    "综合管理": 1,
    "信息管理": 1,
}


@dataclass(frozen=True)
class ReportSchedule:
    kind: str = "monthly"
    due_day: int = 5
    due_time: dt.time = dt.time(18, 0)


@dataclass(frozen=True)
class Rules:
    rules: dict[str, Rule] = field(default_factory=_default_rules)
    abandon_grace_seconds: float = 0.0
    basic_satisfied_counts: bool = True
    instant_answer_kb_only: bool = False
    callback_within: dt.timedelta = dt.timedelta(hours=24)
    emergency_response: dt.timedelta = dt.timedelta(minutes=30)
    fault_response: dt.timedelta = dt.timedelta(minutes=15)
    staff_total: int = 37
    staff_posts: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_POSTS))
    reports: tuple[ReportSchedule, ...] = (ReportSchedule(),)
    voice_services: tuple[str, ...] = ("voice-intake",)
    ticket_services: tuple[str, ...] = ("ticket-exchange",)
    emergency_levels: tuple[str, ...] = ("I", "II")
