"""The demo history generator: deterministic, plausible, nothing in the future, valid records."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from noc.demo import vocab
from noc.demo.generate import Plan, history, knowledge_base, typhoons
from noc.ingest.privacy import CallerProtector
from noc.ingest.records import Context, validate_call, validate_event, validate_ticket

TZ = ZoneInfo("Asia/Shanghai")
KEY = "demo-test-caller-hash-key-0123"
OCTOBER = Plan(dt.date(2026, 10, 1), dt.date(2026, 11, 1), seed=7)


def days(plan: Plan):
    return list(history(plan, CallerProtector(KEY), TZ))


@pytest.fixture(scope="module")
def october():
    return days(OCTOBER)


def records(ds):
    return [r for d in ds for r in (*d.calls, *d.tickets, *d.events)]


def test_same_seed_same_data_other_seed_other_data(october):
    again = days(OCTOBER)
    assert records(again) == records(october)
    other = days(dataclasses.replace(OCTOBER, seed=8, end=dt.date(2026, 10, 3)))
    assert [t.content for t in other[0].tickets] != [t.content for t in october[0].tickets]


def test_a_longer_plan_begins_with_the_same_days(october):
    first_week = days(dataclasses.replace(OCTOBER, end=dt.date(2026, 10, 8)))
    assert records(first_week) == records(october[:7])


def test_a_month_looks_like_lingshui(october):
    tickets = [t for d in october for t in d.tickets]
    calls = [c for d in october for c in d.calls]
    assert 11_500 <= len(tickets) <= 16_500  # ~160,000 a year (October has typhoons some years)
    assert set(Counter(t.town for t in tickets)) == set(vocab.TOWNS)
    assert set(Counter(t.type for t in tickets)) == {
        "enquiry",
        "help",
        "complaint",
        "suggestion",
        "report",
        "praise",
        "other",
    }
    assert len({t.ticket_no for t in tickets}) == len(tickets)
    assert len({c.call_id for c in calls}) == len(calls)
    offered = [c for c in calls if c.entered_at is not None]
    answered = [c for c in offered if c.outcome in ("answered", "transferred")]
    assert 0.95 <= len(answered) / len(offered) <= 0.975
    abandoned = [c.wait_seconds for c in offered if c.outcome == "abandoned"]
    assert 15 <= sum(abandoned) / len(abandoned) <= 60
    phone = [t for t in tickets if t.channel == "phone"]
    assert all(t.call_id for t in phone)
    assert 0.97 <= sum(1 for t in phone if t.caller) / len(phone) < 1  # a few withheld numbers
    instant = [t for t in tickets if t.instant_answer and t.type == "enquiry"]
    assert instant and all(t.closed_at == t.created_at for t in instant)
    assert sum(1 for t in instant if t.kb_entry) / len(instant) > 0.9
    closed = [t for t in tickets if t.closed_at is not None]
    called = [t for t in closed if t.callback_at is not None]
    within = [t for t in called if t.callback_at - t.closed_at <= dt.timedelta(hours=24)]
    assert 0.9 <= len(called) / len(closed) <= 0.98 and len(within) / len(called) >= 0.8
    ratings = Counter(t.satisfaction for t in called)
    assert ratings["satisfied"] / len(called) > 0.75 and ratings["dissatisfied"] > 0
    kinds = Counter(e.kind for d in october for e in d.events)
    assert kinds["spot_checked"] > 100 and kinds["commended"] > 20 and kinds["reopened"] > 10
    assert kinds["complaint_ruled"] >= 1
    # the day's shape: the morning peak is busier than the small hours
    hours = Counter(t.created_at.astimezone(TZ).hour for t in tickets)
    assert hours[10] > 10 * hours[4]


def test_typhoon_days_surge_and_bring_power_cuts():
    storms = typhoons(7, 2026)
    assert storms and all(7 <= d.month <= 11 for d in storms)
    peak = max(storms, key=storms.get)
    ds = days(Plan(peak - dt.timedelta(days=7), peak + dt.timedelta(days=1), seed=7))
    ordinary = [d for d in ds if d.typhoon == 1.0 and d.date.weekday() == peak.weekday()]
    storm = ds[-1]
    assert len(storm.tickets) > 2 * len(ordinary[0].tickets)
    assert sum("台风" in t.content for t in storm.tickets) > len(storm.tickets) / 5


def test_nothing_happens_after_now():
    now = dt.datetime(2026, 10, 10, 12, 0, tzinfo=TZ).astimezone(dt.UTC)
    ds = days(dataclasses.replace(OCTOBER, now=now))
    assert ds[-1].date == dt.date(2026, 10, 10)
    instants = []
    for d in ds:
        for t in d.tickets:
            instants += [t.created_at, t.dispatched_at, t.closed_at, t.callback_at]
        instants += [c.ended_at for c in d.calls] + [e.at for e in d.events]
    assert max(i for i in instants if i is not None) <= now
    assert any(t.closed_at is None for t in ds[-1].tickets)  # still open


def test_records_pass_the_one_validation_path(october):
    ctx = Context(TZ, CallerProtector(KEY))
    day = october[3]
    for t in day.tickets[:200]:
        raw = {k: v for k, v in dataclasses.asdict(t).items() if v is not None}
        raw["caller"] = None
        again = validate_ticket(raw, ctx)
        assert dataclasses.replace(again, caller=t.caller) == t
    for c in day.calls[:200]:
        raw = {k: v for k, v in dataclasses.asdict(c).items() if v is not None}
        raw.pop("details"), raw.pop("end_reason", None)
        raw["caller"] = None
        assert dataclasses.replace(validate_call(raw, ctx), caller=c.caller) == c
    for e in [e for d in october for e in d.events]:
        raw = {"event_id": e.event_id, "ticket_no": e.ticket_no, "kind": e.kind, "at": e.at}
        assert validate_event({**raw, **e.data}, ctx) == e


def test_the_knowledge_base_covers_the_instant_answers(october):
    entries = {e.entry_id: e for e in knowledge_base(OCTOBER, TZ)}
    used = {t.kb_entry for d in october for t in d.tickets if t.kb_entry}
    assert used <= set(entries) and len(used) >= 15
    for d in october[:3]:
        for t in d.tickets:
            if t.kb_entry:
                assert entries[t.kb_entry].category == t.category
