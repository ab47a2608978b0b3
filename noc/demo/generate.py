"""The synthetic history itself: day by day, the calls offered to agents, the tickets they and the
other channels make, and each ticket's life (dispatch, closing, callback, rating, spot checks,
complaints against agents, commendations, reopening).

Pure and deterministic: every day draws from its own ``random.Random`` seeded with the seed and
the date, so the same plan gives the same records, a day can be made on its own, and a longer
plan begins with the same days as a shorter one. Records come out as the validated records of
:mod:`noc.ingest.records` (codes, UTC instants, protected callers), ready for the store.

``Plan.now`` cuts the history: nothing after it happens (tickets created before it may still be
open), so a demo loaded today has nothing in the future.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from noc.demo import vocab as v
from noc.ingest import fields
from noc.ingest.privacy import Caller, CallerProtector
from noc.ingest.records import CallRecord, EventRecord, KbRecord, TicketRecord, event_id_for

UTC = dt.UTC
AGENTS = tuple(str(8001 + i) for i in range(36))
QUEUE = "12345"
# synthetic mobile ranges (10,000 numbers each) and one landline range of Lingshui (0898)
MOBILE_PREFIXES = ("1380000", "1390000", "1500000", "1510000", "1860000", "1870000", "1770000")
LANDLINE_PREFIX = "0898833"
FREQUENT_CALLERS = 1500  # the regulars who call again and again
_NORM = sum(v.WEEKDAY) / 7 * sum(v.MONTH) / 12


@dataclass(frozen=True)
class Plan:
    """Which days (``start`` inclusive, ``end`` exclusive, site dates) and how busy."""

    start: dt.date
    end: dt.date
    seed: int = 14
    tickets_per_year: int = 160_000
    now: dt.datetime | None = None
    source: str = "demo"  # the calls' source (their call ids are unique per source)

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass
class Day:
    date: dt.date
    typhoon: float  # load multiplier of a typhoon day, 1.0 on an ordinary day
    calls: list[CallRecord] = field(default_factory=list)
    tickets: list[TicketRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)  # beyond what the tickets state


class Callers:
    """Synthetic numbers, protected once each (the keyed hash is the slow part)."""

    def __init__(self, protector: CallerProtector):
        self.protector = protector
        self._cache: dict[str, Caller | None] = {}

    def number(self, rng: random.Random) -> str | None:
        r = rng.random()
        if r < 0.01:
            return None  # withheld
        if r < 0.2:
            n = rng.randrange(FREQUENT_CALLERS)
            return f"{MOBILE_PREFIXES[n % 7]}{n:04d}"
        if r < 0.27:
            return f"{LANDLINE_PREFIX}{rng.randrange(100_000):05d}"
        return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10_000):04d}"

    def protect(self, number: str | None) -> Caller | None:
        if number is None:
            return None
        if number not in self._cache:
            self._cache[number] = self.protector.protect(number)
        return self._cache[number]


def typhoons(seed: int, year: int) -> dict[dt.date, float]:
    """The typhoon days of a year (July–October, one to three storms) and their surge."""
    rng = random.Random(f"{seed}/typhoon/{year}")
    out: dict[dt.date, float] = {}
    for _ in range(rng.choice((1, 2, 2, 3))):
        first = dt.date(year, 7, 1) + dt.timedelta(days=rng.randrange(110))
        for offset, surge in enumerate((1.8, rng.uniform(2.8, 4.0), 2.0, 1.3)):
            out[first + dt.timedelta(days=offset)] = max(surge, out.get(first, 1.0))
    return out


def knowledge_base(plan: Plan, tz: ZoneInfo) -> list[KbRecord]:
    """A small KB (知识库) of the questions people ask most, one entry per question."""
    updated = _local(plan.start - dt.timedelta(days=30), tz, 9 * 3600)
    return [
        KbRecord(
            entry_id=f"KB{i:04d}",
            title=title,
            question=question,
            answer=answer,
            category=category,
            tags=[category, title[:4]],
            department=v.CATEGORIES[category][1] or "县人民政府",
            valid_from=plan.start - dt.timedelta(days=365),
            updated_at=updated,
        )
        for i, (category, title, question, answer) in enumerate(v.KB, start=1)
    ]


def history(plan: Plan, protector: CallerProtector, tz: ZoneInfo) -> Iterator[Day]:
    """Every day of the plan, in order (none after ``plan.now``)."""
    callers = Callers(protector)
    kb = _kb_by_category(plan, tz)
    storms: dict[int, dict[dt.date, float]] = {}
    for offset in range(plan.days):
        date = plan.start + dt.timedelta(days=offset)
        if plan.now is not None and _local(date, tz) > plan.now:
            return
        if date.year not in storms:
            storms[date.year] = typhoons(plan.seed, date.year)
        yield make_day(plan, date, storms[date.year].get(date, 1.0), callers, kb, tz)


def _kb_by_category(plan: Plan, tz: ZoneInfo) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in knowledge_base(plan, tz):
        out.setdefault(entry.category or "", []).append(entry.entry_id)
    return out


def _local(date: dt.date, tz: ZoneInfo, seconds: float = 0) -> dt.datetime:
    start = dt.datetime.combine(date, dt.time(), tzinfo=tz)
    return (start + dt.timedelta(seconds=seconds)).astimezone(UTC)


def _code(vocabulary: fields.Vocabulary, label: str) -> str:
    code = vocabulary.parse(label)
    assert code is not None
    return code


TYPE_CODES = {label: _code(fields.TICKET_TYPES, label) for label in v.TYPES}
SATISFACTION_CODES = {
    label: _code(fields.SATISFACTION, label) for label in ("满意", "基本满意", "不满意", "未评价")
}


# -- one day -----------------------------------------------------------------------------------


class _DayMaker:
    def __init__(self, plan, date, typhoon, callers, kb, tz):
        self.plan, self.date, self.typhoon = plan, date, typhoon
        self.callers, self.kb, self.tz = callers, kb, tz
        self.rng = random.Random(f"{plan.seed}/{date.isoformat()}")
        self.day = Day(date, typhoon)
        self.call_seq = 0
        self.cut = plan.now

    # time ----------------------------------------------------------------------------------

    def moment(self) -> dt.datetime:
        hour = self.rng.choices(range(24), v.HOURS)[0]
        return _local(self.date, self.tz, hour * 3600 + self.rng.randrange(3600))

    def happened(self, at: dt.datetime | None) -> dt.datetime | None:
        """``at`` if it is not after the cut, else ``None`` (it has not happened yet)."""
        if at is None or (self.cut is not None and at > self.cut):
            return None
        return at

    # calls ---------------------------------------------------------------------------------

    def call(self, entered: dt.datetime, outcome: str, wait: int, talk: int = 0) -> CallRecord:
        rng = self.rng
        self.call_seq += 1
        started = entered - dt.timedelta(seconds=rng.randrange(15, 60))  # the IVR menu
        answered = entered + dt.timedelta(seconds=wait) if outcome != "abandoned" else None
        if outcome == "timeout":
            answered = None
        ended = (answered or entered + dt.timedelta(seconds=wait)) + dt.timedelta(seconds=talk)
        return CallRecord(
            call_id=self.call_id(started),
            source=self.plan.source,
            queue=QUEUE,
            caller=self.callers.protect(self.callers.number(rng)),
            started_at=started,
            entered_at=entered,
            answered_at=answered,
            agent=rng.choice(AGENTS) if answered else None,
            ended_at=ended,
            outcome=outcome,
            wait_seconds=float(wait),
            talk_seconds=float(talk) if answered else 0.0,
        )

    def call_id(self, started: dt.datetime) -> str:
        """Asterisk's ``uniqueid`` shape (epoch.sequence), unique across days."""
        return f"{int(started.timestamp())}.{self.date.toordinal() % 1000:03d}{self.call_seq:05d}"

    def answer_wait(self) -> int:
        pressure = 1.0 + 2.0 * (self.typhoon - 1.0)
        return min(110, int(self.rng.expovariate(1 / (11 * pressure))) + 2)

    def abandon_wait(self) -> int:
        if self.rng.random() < 0.35:
            return self.rng.randrange(2, 10)  # hung up almost at once
        return min(115, int(self.rng.expovariate(1 / 40)) + 5)

    def other_calls(self, answered_with_ticket: int) -> None:
        """Calls that make no ticket: abandons, queue timeouts, wrong numbers, IVR only."""
        rng, calls = self.rng, self.day.calls
        rate = min(0.15, 0.035 + 0.03 * (self.typhoon - 1.0))
        for _ in range(round(answered_with_ticket * rate / (1 - rate))):
            calls.append(self.call(self.moment(), "abandoned", self.abandon_wait()))
        for _ in range(round(answered_with_ticket * 0.003)):
            calls.append(self.call(self.moment(), "timeout", 120))
        for _ in range(round(answered_with_ticket * 0.03)):
            calls.append(
                self.call(self.moment(), "answered", self.answer_wait(), rng.randrange(8, 60))
            )
        for _ in range(round(answered_with_ticket * 0.06)):
            self.call_seq += 1
            at = self.moment()
            calls.append(
                CallRecord(
                    call_id=self.call_id(at),
                    source=self.plan.source,
                    queue=QUEUE,
                    caller=self.callers.protect(self.callers.number(rng)),
                    started_at=at,
                    ended_at=at + dt.timedelta(seconds=rng.randrange(20, 120)),
                    outcome="ivr_only",
                )
            )

    # tickets -------------------------------------------------------------------------------

    def what(self) -> tuple[str, str, str]:
        """(type label, category, content) of one ticket."""
        rng = self.rng
        kind = rng.choices(v.TYPES, [v.TYPE_WEIGHTS[t] for t in v.TYPES])[0]
        if kind == "表扬":
            text = rng.choice(v.PRAISE).format(agent=rng.choice(AGENTS))
            return kind, "热线服务", text
        if kind == "其他":
            return kind, "其他", rng.choice(v.OTHER)
        storm = self.typhoon > 1.0 and rng.random() < 0.5
        pool = v.TYPHOON_TEMPLATES if storm else v.TEMPLATES
        if storm:
            kind = "求助"
        names = [c for c in pool if kind in pool[c]] or [
            c for c in v.TEMPLATES if kind in v.TEMPLATES[c]
        ]
        if not names:  # no template of this kind: an enquiry
            kind, names = "咨询", [c for c in v.TEMPLATES if "咨询" in v.TEMPLATES[c]]
        season = v.SEASONAL.get(self.date.month, {})
        weights = [
            v.CATEGORIES[c][0] * season.get(c, 1.0) * (v.TYPHOON.get(c, 1.0) if storm else 1.0)
            for c in names
        ]
        category = rng.choices(names, weights)[0]
        templates = (pool.get(category) or v.TEMPLATES[category]).get(kind) or v.TEMPLATES[
            category
        ][kind]
        return kind, category, rng.choice(templates)

    def fill(self, template: str, town: str) -> str:
        rng = self.rng
        text = template.format(
            town=town,
            village=rng.choice(v.VILLAGE_HEADS) + rng.choice(v.VILLAGE_TAILS),
            road=rng.choice(v.ROADS),
            shop=rng.choice(v.SHOPS),
            school=rng.choice(v.SCHOOLS),
            n=rng.randrange(2, 10),
        )
        if text.startswith(("咨询", "建议")):  # 来电人咨询…, not 来电人反映：咨询…
            opening = rng.choice(v.ASKERS)
        else:
            opening = rng.choice(v.OPENINGS)
        closing = rng.choice(v.CLOSINGS)
        if not closing:
            return f"{opening}{text}。"
        return f"{opening}{text}{'，' if rng.random() < 0.5 else '。'}{closing}"

    def department(self, category: str, town: str, content: str) -> str:
        dept = v.CATEGORIES.get(category, (0, None))[1]
        if category == "供水供电" and "电" in content:
            return v.POWER_DEPARTMENT
        if dept is None or (category in ("城管", "环境保护") and self.rng.random() < 0.2):
            return f"{town}人民政府"
        return dept

    def ticket(self, seq: int, draft: dict) -> TicketRecord:
        rng, date = self.rng, self.date
        no = f"LS{date:%Y%m%d}{seq:05d}"
        kind, category, created = draft["type"], draft["category"], draft["created_at"]
        instant = draft["instant"]
        dispatched_to = dispatched_at = deadline = closed = None
        if instant:
            closed = created
        else:
            dispatched_to = self.department(category, draft["town"], draft["content"])
            delay = min(8 * 3600, 300 + rng.expovariate(1 / 2700))
            dispatched_at = created + dt.timedelta(seconds=int(delay))
            deadline = dispatched_at + dt.timedelta(days=v.DEADLINE_DAYS[kind])
            window = (deadline - dispatched_at).total_seconds()
            if rng.random() < 0.93:
                took = window * rng.betavariate(1.6, 3.0)
            else:
                took = window + rng.expovariate(1 / 130_000)
            closed = dispatched_at + dt.timedelta(seconds=int(took))
        callback = method = satisfaction = None
        if rng.random() < 0.95:
            r = rng.random()
            hours = rng.uniform(0.3, 23.5) if r < 0.86 else rng.uniform(24, 72)
            if r >= 0.97:
                hours = rng.uniform(72, 168)
            callback = closed + dt.timedelta(seconds=int(hours * 3600))
            method = "sms" if rng.random() < (0.8 if instant else 0.3) else "phone"
            weights = (0.78, 0.11, 0.07, 0.04) if kind == "投诉" else (0.87, 0.08, 0.02, 0.03)
            satisfaction = rng.choices(tuple(SATISFACTION_CODES.values()), weights)[0]
        dispatched_at, closed, callback = map(self.happened, (dispatched_at, closed, callback))
        if dispatched_at is None:
            dispatched_to = deadline = None
        if closed is None:
            callback = None
        if callback is None:
            method = satisfaction = None
        province = draft["channel"] == "province"
        return TicketRecord(
            ticket_no=no,
            created_at=created,
            type=TYPE_CODES[kind],
            content=draft["content"],
            channel=draft["channel"],
            category=category,
            town=draft["town"],
            caller=draft["caller"],
            call_id=draft["call_id"],
            agent=draft["agent"],
            instant_answer=instant,
            kb_entry=draft["kb_entry"],
            dispatched_to=dispatched_to,
            dispatched_at=dispatched_at,
            deadline=deadline,
            closed_at=closed,
            callback_at=callback,
            callback_method=method,
            satisfaction=satisfaction,
            source="province" if province else "local",
            province_ref=f"HN{no[2:]}" if province else None,
        )

    def event(self, ticket_no: str | None, kind: str, at: dt.datetime, **data) -> bool:
        """Append an event that has happened; False when it has not (yet)."""
        if self.happened(at) is None:
            return False
        extra = str(data.get("agent", ""))
        self.day.events.append(
            EventRecord(kind, at, ticket_no, event_id_for(ticket_no, kind, at, extra), data)
        )
        return True

    def afterlife(self, t: TicketRecord, praised_agent: str | None) -> None:
        """Spot checks, complaints against agents, commendations, reopening."""
        rng, no = self.rng, t.ticket_no
        hour = dt.timedelta(hours=1)
        if t.satisfaction == "dissatisfied" and t.dispatched and rng.random() < 0.35:
            at = t.callback_at + rng.uniform(1, 48) * hour
            if self.event(no, "reopened", at, reason="回访不满意，重新办理"):
                closed = at + rng.uniform(24, 96) * hour
                if self.event(no, "closed", closed):
                    back = closed + rng.uniform(2, 20) * hour
                    if self.event(no, "callback", back, method="phone"):
                        rating = rng.choices(
                            ("satisfied", "basically_satisfied", "dissatisfied"), (5, 4, 1)
                        )[0]
                        self.event(no, "rated", back, satisfaction=rating)
        if t.closed_at is not None and rng.random() < 0.03:
            at = t.closed_at + rng.uniform(24, 144) * hour
            if rng.random() < 0.96:
                self.event(no, "spot_checked", at, result="pass")
            else:
                self.event(
                    no, "spot_checked", at, result="fail", reason=rng.choice(v.SPOT_FAIL_REASONS)
                )
        if t.call_id and t.agent and rng.random() < 0.0015:
            at = t.created_at + rng.uniform(72, 240) * hour
            justified = rng.random() < 0.35
            self.event(
                no,
                "complaint_ruled",
                at,
                agent=t.agent,
                justified=justified,
                reason=rng.choice(v.AGENT_COMPLAINTS),
            )
        if praised_agent and rng.random() < 0.6:
            at = t.created_at + rng.uniform(2, 72) * hour
            self.event(no, "commended", at, agent=praised_agent, commendation_kind="call")

    def make(self) -> Day:
        rng, plan = self.rng, self.plan
        load = v.WEEKDAY[self.date.weekday()] * v.MONTH[self.date.month - 1] * self.typhoon
        mean = plan.tickets_per_year / 365 * load / _NORM
        count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
        channels = list(v.CHANNELS)
        channel_weights = list(v.CHANNELS.values())
        drafts = []
        for _ in range(count):
            channel = rng.choices(channels, channel_weights)[0]
            kind, category, template = self.what()
            town = rng.choices(v.TOWNS, v.TOWN_WEIGHTS)[0]
            content = self.fill(template, town) if kind not in ("表扬", "其他") else template
            praised = None
            if kind == "表扬" and "号话务员" in content:
                praised = content.split("号话务员")[0][-4:]
            instant_rate = v.INSTANT.get(kind, 0.0) * (1.0 if channel == "phone" else 0.3)
            kb = self.kb.get(category)
            instant = kind == "表扬" or rng.random() < (
                instant_rate if kb or kind == "其他" else instant_rate / 2
            )
            at = self.moment()
            draft = {
                "type": kind,
                "category": category,
                "town": town,
                "content": content,
                "channel": channel,
                "instant": instant,
                "kb_entry": rng.choice(kb) if instant and kb else None,
                "praised": praised,
                "call_id": None,
                "agent": rng.choice(AGENTS),
                "caller": None,
                "created_at": at,
            }
            if channel == "phone":
                talk = int(rng.lognormvariate(math.log(110 if instant else 170), 0.5)) + 15
                outcome = "transferred" if rng.random() < 0.015 else "answered"
                call = self.call(at, outcome, self.answer_wait(), talk)
                self.day.calls.append(call)
                draft.update(
                    call_id=call.call_id,
                    agent=call.agent,
                    caller=call.caller,
                    created_at=call.ended_at,
                )
            elif channel not in ("letter", "email") and rng.random() < 0.8:
                draft["caller"] = self.callers.protect(self.callers.number(rng))
            drafts.append(draft)
        answered = len(self.day.calls)
        self.other_calls(answered)
        drafts = [d for d in drafts if self.happened(d["created_at"]) is not None]
        drafts.sort(key=lambda d: d["created_at"])
        for seq, draft in enumerate(drafts, start=1):
            t = self.ticket(seq, draft)
            self.day.tickets.append(t)
            self.afterlife(t, draft["praised"])
        self.day.calls = [c for c in self.day.calls if self.happened(c.ended_at) is not None]
        self.day.calls.sort(key=lambda c: c.started_at)
        self.commendations()
        return self.day

    def commendations(self) -> None:
        """Letters and banners (锦旗) that name an agent but no ticket."""
        rng = self.rng
        if rng.random() < 0.06:
            at = _local(self.date, self.tz, rng.randrange(9 * 3600, 17 * 3600))
            self.event(None, "commended", at, agent=rng.choice(AGENTS), commendation_kind="letter")
        if rng.random() < 0.012:
            at = _local(self.date, self.tz, rng.randrange(9 * 3600, 17 * 3600))
            self.event(None, "commended", at, agent=rng.choice(AGENTS), commendation_kind="banner")


def make_day(
    plan: Plan,
    date: dt.date,
    typhoon: float,
    callers: Callers,
    kb: dict[str, list[str]],
    tz: ZoneInfo,
) -> Day:
    return _DayMaker(plan, date, typhoon, callers, kb, tz).make()


def months_back(today: dt.date, years: int, months: int) -> dt.date:
    """The first day ``years`` years and ``months`` months before ``today``'s month ends."""
    total = today.year * 12 + today.month - 1 - (years * 12 + months) + 1
    return dt.date(total // 12, total % 12 + 1, 1)
