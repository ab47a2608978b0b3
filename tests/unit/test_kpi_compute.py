"""The eleven indicators by hand (docs/kpi.md), with the edge cases the doc names."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kpi.compute import Context, Scope, add_month, compute, parse_scope, scheduled_due
from kpi.correlation import correlate
from kpi.errors import ScopeError
from kpi.model import (
    Call,
    Commendation,
    Complaint,
    Emergency,
    Facts,
    Fault,
    ReportSchedule,
    Rules,
    SpotCheck,
    StaffSpell,
    Submission,
    Ticket,
    TicketEvent,
)
from kpi.score import score_one, scorecard
from sla.intervals import parse_period

TZ = ZoneInfo("Asia/Shanghai")
NOV = parse_period("2026-11", TZ)
DEC = parse_period("2026-12", TZ)
END = dt.datetime(2026, 12, 10, tzinfo=TZ)  # long after November: nothing pending
SITE = Scope()


def t(day: str, hm: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=TZ)


def figs(facts, window=NOV, as_of=END, scope=SITE, rules=None):
    return {f.id: f for f in compute(facts, window, as_of, scope, rules or Rules(), TZ)}


def test_answer_rate_strict_and_with_abandon_grace():
    calls = [Call(f"a{i}", t("2026-11-03"), "answered") for i in range(7)]
    calls += [
        Call("x1", t("2026-11-03"), "abandoned", wait_seconds=3),
        Call("x2", t("2026-11-03"), "abandoned", wait_seconds=5),  # exactly N: counted
        Call("x3", t("2026-11-03"), "timeout", wait_seconds=2),
        Call("tr", t("2026-11-04"), "transferred"),
        Call("ivr", t("2026-11-04"), "ivr_only"),
        Call("oct", t("2026-10-31", "23:59"), "abandoned", wait_seconds=1),
    ]
    strict = figs(Facts(calls=tuple(calls)))["answer_rate"]
    assert (strict.numerator, strict.denominator) == (8, 11)
    graced = figs(Facts(calls=tuple(calls)), rules=Rules(abandon_grace_seconds=5))["answer_rate"]
    assert (graced.numerator, graced.denominator) == (8, 10)
    assert graced.records["excluded"] == ["x1"]
    # 8/11 = 72.73 % → 95 − 72.73 = 22.27 points below → 0 (never below zero)
    assert score_one(strict, Rules().rules["answer_rate"]).points == 0.0


def test_answer_rate_scores_a_point_per_percentage_point():
    calls = [Call(f"a{i}", t("2026-11-03"), "answered") for i in range(948)]
    calls += [Call(f"m{i}", t("2026-11-03"), "abandoned", wait_seconds=9) for i in range(52)]
    fig = figs(Facts(calls=tuple(calls)))["answer_rate"]
    assert score_one(fig, Rules().rules["answer_rate"]).points == 9.8


def test_a_call_at_the_month_boundary_belongs_to_the_month_it_entered():
    calls = (Call("c", t("2026-12-01", "00:00"), "answered"),)
    assert figs(Facts(calls=calls))["answer_rate"].status == "no_data"
    assert figs(Facts(calls=calls), window=DEC)["answer_rate"].denominator == 1


def test_no_data_is_never_met():
    f = figs(Facts())
    assert f["answer_rate"].status == "no_data" and f["answer_rate"].value is None
    rules = Rules()
    assert score_one(f["answer_rate"], rules.rules["answer_rate"]).points == 0.0
    assert score_one(f["spot_check"], rules.rules["spot_check"]).points == 10.0
    excl = dataclasses.replace(rules.rules["answer_rate"], no_data="exclude")
    assert score_one(f["answer_rate"], excl).points is None


def test_spot_checks_by_check_time_and_scope():
    tickets = (
        Ticket("T1", t("2026-10-20"), "help", town="椰林镇", agent="a1"),
        Ticket("T2", t("2026-11-02"), "help", town="光坡镇", agent="a2"),
    )
    checks = (
        SpotCheck("s1", "T1", t("2026-11-05"), "pass"),
        SpotCheck("s2", "T1", t("2026-11-06"), "fail"),  # the same ticket checked twice
        SpotCheck("s3", "T2", t("2026-11-07"), "pass"),
        SpotCheck("s4", "T2", t("2026-12-01", "00:00"), "fail"),
    )
    f = figs(Facts(tickets=tickets, spot_checks=checks))["spot_check"]
    assert (f.numerator, f.denominator) == (2, 3)
    town = figs(Facts(tickets=tickets, spot_checks=checks), scope=Scope("town", "椰林镇"))
    assert (town["spot_check"].numerator, town["spot_check"].denominator) == (1, 2)


def test_instant_answers_with_the_kb_only_option():
    tickets = (
        Ticket("E1", t("2026-11-01"), "enquiry", instant_answer=True, kb_entry="K1"),
        Ticket("E2", t("2026-11-01"), "enquiry", instant_answer=True),
        Ticket("E3", t("2026-11-01"), "enquiry", kb_entry="K2"),
        Ticket("E4", t("2026-11-01"), "enquiry"),
        Ticket("H1", t("2026-11-01"), "help", instant_answer=True),
    )
    f = figs(Facts(tickets=tickets))["instant_answer"]
    assert (f.numerator, f.denominator) == (2, 4)
    kb = figs(Facts(tickets=tickets), rules=Rules(instant_answer_kb_only=True))["instant_answer"]
    assert (kb.numerator, kb.denominator) == (1, 2)


def _closed(no, closed, callback=None, extra=()):
    events = [TicketEvent("closed", closed), *extra]
    if callback:
        events.append(TicketEvent("callback", callback))
    return Ticket(no, closed - dt.timedelta(days=1), "help", events=tuple(events))


def test_callbacks_pending_at_month_end_are_not_failed():
    tickets = (
        _closed("ok", t("2026-11-10"), t("2026-11-11", "10:00")),  # exactly 24 h
        _closed("late", t("2026-11-10"), t("2026-11-11", "10:01")),
        _closed("none", t("2026-11-10")),
        _closed("pend", t("2026-11-30", "20:00")),
        _closed("dec", t("2026-12-01", "08:00"), t("2026-12-01", "09:00")),
    )
    as_of = t("2026-12-01", "09:00")
    f = figs(Facts(tickets=tickets), as_of=as_of)["callback_on_time"]
    assert (f.numerator, f.denominator) == (1, 3)
    assert f.records["pending"] == ["pend"]
    later = figs(Facts(tickets=tickets), as_of=t("2026-12-02", "09:00"))["callback_on_time"]
    assert (later.numerator, later.denominator) == (1, 4) and later.records["pending"] == []


def test_a_reopened_ticket_is_judged_on_its_last_closing():
    events = (
        TicketEvent("closed", t("2026-11-02")),
        TicketEvent("reopened", t("2026-11-02", "12:00")),
        TicketEvent("closed", t("2026-11-05")),
        TicketEvent("callback", t("2026-11-05", "18:00")),
    )
    ticket = Ticket("R", t("2026-11-01"), "help", events=events)
    f = figs(Facts(tickets=(ticket,)))["callback_on_time"]
    assert (f.numerator, f.denominator) == (1, 1)


def test_a_ticket_rated_twice_counts_once_with_its_latest_rating():
    def rated(no, *ratings):
        return Ticket(
            no,
            t("2026-11-01"),
            "help",
            events=tuple(TicketEvent("rated", at, {"satisfaction": s}) for at, s in ratings),
        )

    tickets = (
        rated("twice", (t("2026-11-03"), "dissatisfied"), (t("2026-11-20"), "satisfied")),
        rated("basic", (t("2026-11-03"), "basically_satisfied")),
        rated("bad", (t("2026-11-03"), "dissatisfied")),
        rated("unrated", (t("2026-11-03"), "unrated")),
        rated("moved", (t("2026-11-03"), "satisfied"), (t("2026-12-02"), "dissatisfied")),
    )
    now = figs(Facts(tickets=tickets))["satisfaction"]
    assert (now.numerator, now.denominator) == (2, 3)  # "moved" is December's now
    assert now.records["excluded"] == ["unrated"]
    then = figs(Facts(tickets=tickets), as_of=t("2026-12-01"))["satisfaction"]
    assert (then.numerator, then.denominator) == (3, 4)
    strict = figs(Facts(tickets=tickets), rules=Rules(basic_satisfied_counts=False))
    assert (strict["satisfaction"].numerator, strict["satisfaction"].denominator) == (1, 3)


def test_complaints_count_in_the_month_they_were_ruled():
    complaints = (
        Complaint("c1", "T1", "a1", t("2026-11-10"), True),
        Complaint("c2", "T2", "a2", t("2026-11-11"), False),
        Complaint("c3", "T3", "a1", t("2026-12-03"), True),  # complained 28 Nov, ruled Dec
        Complaint("c4", "T4", "a3", t("2026-11-12"), True),
        Complaint("c5", "T4", "a3", t("2026-11-20"), False),  # re-ruled: not justified
    )
    nov = figs(Facts(complaints=complaints))["complaints"]
    assert nov.count == 1 and nov.records["items"] == ["c1"]
    assert figs(Facts(complaints=complaints), window=DEC)["complaints"].count == 1
    assert score_one(nov, Rules().rules["complaints"]).points == 8.0
    agent = figs(Facts(complaints=complaints), scope=Scope("agent", "a2"))["complaints"]
    assert agent.count == 0


def _staff(extra=(), gap=None):
    """37 people: 27 agents and one of each post; ``gap`` replaces agent 0's spell(s)."""
    rules = Rules()
    spells = []
    n = 0
    for post, need in rules.staff_posts.items():
        for _ in range(need):
            spells.append(StaffSpell(f"s{n}", f"p{n}", post, dt.date(2025, 1, 1)))
            n += 1
    if gap:
        spells[0] = gap[0]
        spells += gap[1:]
    return tuple(spells) + tuple(extra)


def test_a_vacancy_of_exactly_one_month_is_not_overdue():
    gap = (
        StaffSpell("s0", "p0", "接话", dt.date(2025, 1, 1), dt.date(2026, 10, 31)),
        StaffSpell("new", "q", "接话", dt.date(2026, 12, 1)),
    )
    f = figs(Facts(staff=_staff(gap=gap)))["staffing"]
    assert f.count == 0 and (f.numerator, f.denominator) == (30, 30)
    gap2 = (gap[0], StaffSpell("new", "q", "接话", dt.date(2026, 12, 2)))
    dec = figs(Facts(staff=_staff(gap=gap2)), window=DEC)["staffing"]
    # vacancy from 1 Nov, overdue from 1 Dec (the total and 接话 both), filled on 2 Dec
    assert dec.count == 2 and dec.records["overdue_days"] == ["2026-12-01"]
    assert (dec.numerator, dec.denominator) == (9, 10)  # as of 10 December


def test_a_vacancy_carried_into_the_month_and_filled_late():
    gap = (
        StaffSpell("s0", "p0", "接话", dt.date(2025, 1, 1), dt.date(2026, 10, 10)),
        StaffSpell("new", "q", "接话", dt.date(2026, 11, 20)),
    )
    f = figs(Facts(staff=_staff(gap=gap)))["staffing"]
    assert f.records["overdue_days"][0] == "2026-11-11"
    assert f.records["overdue_days"][-1] == "2026-11-19"
    assert score_one(f, Rules().rules["staffing"]).points == 6.0  # total and 接话: 2 items


def test_add_month_clamps_to_the_month_end():
    assert add_month(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    assert add_month(dt.date(2026, 12, 15)) == dt.date(2027, 1, 15)


def test_reports_due_in_the_month_late_corrected_missing_pending():
    subs = (Submission("r1", "monthly", "2026-10", t("2026-11-06", "09:00")),)
    f = figs(Facts(submissions=subs))["reports"]
    assert f.records["items"] == ["monthly:2026-10 late"] and f.count == 1
    on_time = (Submission("r1", "monthly", "2026-10", t("2026-11-05", "17:00"), corrected=True),)
    assert figs(Facts(submissions=on_time))["reports"].records["items"] == [
        "monthly:2026-10 corrected"
    ]
    pend = figs(Facts(), as_of=t("2026-11-05", "12:00"))["reports"]
    assert pend.records["pending"] == ["monthly:2026-10"] and pend.count == 0
    missing = figs(Facts())["reports"]
    assert missing.records["items"] == ["monthly:2026-10 missing"]


def test_the_scheduled_due_time_of_a_report():
    """Day 5 of the next month, 18:00 site time (clamped to a short month's end); none for a
    kind the config does not schedule or a period that is not a calendar month."""
    assert scheduled_due("monthly", "2026-10", Rules(), TZ) == t("2026-11-05", "18:00")
    assert scheduled_due("monthly", "2026-12", Rules(), TZ) == t("2027-01-05", "18:00")
    late = Rules(reports=(ReportSchedule("monthly", 31, dt.time(9, 0)),))
    assert scheduled_due("monthly", "2026-01", late, TZ) == t("2026-02-28", "09:00")
    for kind, period in (("data", "2026-10"), ("monthly", "2026-W44"), ("monthly", "2026-13")):
        assert scheduled_due(kind, period, Rules(), TZ) is None, (kind, period)


def test_emergencies_and_level_one_incidents():
    ems = (
        Emergency("typhoon", "typhoon", t("2026-11-02"), t("2026-11-02", "10:20")),
        Emergency("power", "power_cut", t("2026-11-03"), t("2026-11-03", "11:00")),
        Emergency("quake", "other", t("2026-11-04"), None, force_majeure=True),
    )
    faults = (Fault("7", t("2026-11-05"), t("2026-11-05"), t("2026-11-05", "10:05"), level="I"),)
    f = figs(Facts(emergencies=ems, faults=faults))["emergencies"]
    assert (f.numerator, f.denominator, f.count) == (2, 3, 1)
    assert f.records["items"] == ["power"] and f.records["excluded"] == ["quake"]


def test_platform_fault_response_and_an_incident_spanning_month_end():
    faults = (
        Fault("1", t("2026-11-05"), t("2026-11-05"), t("2026-11-05", "10:15")),
        Fault("2", t("2026-11-06"), t("2026-11-06"), t("2026-11-06", "10:16")),
        Fault("3", t("2026-11-30", "23:50"), t("2026-11-30", "23:50"), None),
    )
    f = figs(Facts(faults=faults), as_of=t("2026-12-01", "00:01"))["platform_faults"]
    assert (f.numerator, f.denominator) == (1, 2) and f.records["pending"] == ["3"]
    assert figs(Facts(faults=faults), window=DEC)["platform_faults"].status == "no_data"


def test_commendations_plus_one_each_at_most_five():
    items = tuple(Commendation(f"m{i}", "a1", dt.date(2026, 11, 1 + i), "banner") for i in range(7))
    f = figs(Facts(commendations=items))["commendations"]
    assert f.count == 7
    assert score_one(f, Rules().rules["commendations"]).points == 5.0


def test_scorecard_totals_and_scales_excluded_indicators():
    calls = tuple(Call(f"a{i}", t("2026-11-03"), "answered") for i in range(10))
    tickets = (
        Ticket(
            "E",
            t("2026-11-01"),
            "enquiry",
            instant_answer=True,
            events=(TicketEvent("rated", t("2026-11-02"), {"satisfaction": "satisfied"}),),
        ),
    )
    subs = (Submission("r", "monthly", "2026-10", t("2026-11-01")),)
    staff = _staff()
    card = scorecard(
        list(figs(Facts(calls=calls, tickets=tickets, submissions=subs, staff=staff)).values()),
        Rules(),
    )
    assert card.base == 100.0 and card.bonus == 0 and card.total == 100.0
    rules = Rules()
    rules.rules["answer_rate"] = dataclasses.replace(rules.rules["answer_rate"], no_data="exclude")
    rules.rules["spot_check"] = dataclasses.replace(rules.rules["spot_check"], no_data="zero")
    card2 = scorecard(
        list(figs(Facts(tickets=tickets, submissions=subs, staff=staff)).values()), rules
    )
    # 9 counted indicators, 80 of 90 points (spot checks: no data, zero) → 88.89 of 100
    assert card2.base == 88.89


def test_correlation_cuts_incidents_at_the_month_end():
    calls = (
        Call("in1", t("2026-11-30", "23:30"), "abandoned", wait_seconds=30),
        Call("in2", t("2026-11-30", "23:40"), "answered"),
        Call("out", t("2026-11-30", "10:00"), "answered"),
        Call("dec", t("2026-12-01", "00:10"), "abandoned", wait_seconds=30),
    )
    tickets = (
        Ticket(
            "late",
            t("2026-11-30", "23:20"),
            "help",
            events=(TicketEvent("dispatched", t("2026-12-01", "01:00")),),
        ),
        Ticket(
            "ok",
            t("2026-11-30", "23:25"),
            "help",
            events=(TicketEvent("dispatched", t("2026-11-30", "23:26")),),
        ),
    )
    fault = Fault(
        "9",
        t("2026-11-30", "23:00"),
        t("2026-11-30", "23:00"),
        None,
        t("2026-12-01", "00:30"),
        services=("voice-intake", "ticket-exchange"),
    )
    ctx = Context(NOV, END, Scope(), Rules(), TZ)
    corr = correlate(Facts(calls=calls, tickets=tickets, faults=(fault,)), ctx)
    (imp,) = corr.incidents
    assert imp.calls_offered == ["in1", "in2"] and imp.calls_abandoned == ["in1"]
    assert imp.tickets_delayed == ["late"]
    assert corr.answer_rate_all == (2, 3) and corr.answer_rate_outside == (1, 1)
    dec = correlate(Facts(calls=calls, faults=(fault,)), Context(DEC, END, Scope(), Rules(), TZ))
    assert dec.incidents[0].calls_abandoned == ["dec"]


def test_scopes_parse_and_refuse():
    assert parse_scope("agent:a1") == Scope("agent", "a1")
    assert parse_scope(None) == Scope()
    with pytest.raises(ScopeError):
        parse_scope("region:x")
    assert figs(Facts(), scope=Scope("town", "椰林镇"))["answer_rate"].status == "n/a"
