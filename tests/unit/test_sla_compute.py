"""The SLA formulas on hand-computed scenarios (docs/sla.md). Pure: no store, injected ``now``.

Every expected figure is written as the arithmetic that produces it, from the scenario's own
instants, so a wrong edge (clipping, maintenance, overlap, window of a failure) shows as a
number that differs by a known amount.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla.compute import (
    IncidentFact,
    Inputs,
    MaintenanceFact,
    Scope,
    TransitionFact,
    compute,
)
from sla.gauges import SlaTargets
from sla.intervals import parse_period

SH = ZoneInfo("Asia/Shanghai")
TARGETS = SlaTargets(
    availability_objective_ratio=0.999,
    mtbf_seconds=600 * 3600.0,
    mttr_seconds={"automatic": 900.0, "manual": 86400.0},
)
VOICE = Scope(
    "service",
    "voice-intake",
    frozenset({"mstp-voice", "voice-gw", "ce-router"}),
    frozenset({"voice-intake"}),
)
SITE = Scope(
    "site",
    "lingshui",
    frozenset({"mstp-voice", "voice-gw", "ce-router", "mstp-ticket"}),
    frozenset({"voice-intake", "ticket-exchange"}),
)
NOV = parse_period("2026-11", SH)
DEC = parse_period("2026-12", SH)
AFTER = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)  # "now" well after the months under test
DAY = 86400
HOUR = 3600


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A site-time (Asia/Shanghai) instant of 2026, as UTC."""
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=SH).astimezone(dt.UTC)


def incident(
    id: int,
    start: dt.datetime,
    seconds: float | None,
    kind: str | None = "automatic",
    level: str = "I",
    services=("voice-intake",),
    **extra,
) -> IncidentFact:
    return IncidentFact(
        id=id,
        fault_started_at=start,
        detected_at=extra.pop("detected_at", start),
        peak_severity=level,
        root_asset=extra.pop("root_asset", "mstp-voice"),
        recovered_at=None if seconds is None else start + dt.timedelta(seconds=seconds),
        recovery_kind=kind if seconds is not None else None,
        services=frozenset(services),
        **extra,
    )


def maintenance(
    id: int, start: dt.datetime, seconds: float, assets=("mstp-voice",), **extra
) -> MaintenanceFact:
    return MaintenanceFact(
        id, frozenset(assets), start, start + dt.timedelta(seconds=seconds), **extra
    )


# -- (a) the contract month -------------------------------------------------------------------


def scenario_a() -> Inputs:
    return Inputs(
        incidents=[
            incident(1, at(11, 5, 10), 10 * 60, "automatic", alarmed_at=at(11, 5, 10, 0, 30)),
            incident(2, at(11, 20, 9), 3 * HOUR, "manual", alarmed_at=at(11, 20, 9, 1, 30)),
        ],
        maintenance=[maintenance(1, at(11, 10, 2), 2 * HOUR)],
    )


def test_a_contract_month_two_level_i_failures_and_a_maintenance():
    r = compute(scenario_a(), VOICE, NOV, TARGETS, AFTER)
    # November 2026 in Asia/Shanghai: 2026-10-31T16:00Z … 2026-11-30T16:00Z, 30 days
    assert (NOV.start, NOV.end) == (
        dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC),
    )
    assert r.period_seconds == 30 * DAY == 2_592_000
    assert r.maintenance_seconds == 2 * HOUR == 7_200
    assert r.operating_seconds == 2_592_000 - 7_200 == 2_584_800  # 718 h
    assert r.downtime_seconds == 10 * 60 + 3 * HOUR == 11_400
    assert r.availability_ratio == pytest.approx(
        (2_584_800 - 11_400) / 2_584_800, abs=1e-15
    )  # 0.995589…
    assert r.failures == 2 and r.level_iv == 0
    # MTBF is up time ÷ failures: the 11,400 s of downtime are not time between failures
    assert r.up_seconds == 2_584_800 - 11_400 == 2_573_400
    assert r.mtbf_seconds == 2_573_400 / 2 == 1_286_700  # 357.4 h
    assert r.mtbf_lower_bound is False and r.mtbf_meets_target is False  # 357.4 h < 600 h
    assert r.mttr_seconds == {"automatic": 600.0, "manual": 10_800.0}
    assert r.recoveries == {"automatic": 1, "manual": 1}
    assert r.breaches == ()  # 10 min ≤ 15 min, 3 h ≤ 24 h
    assert r.alarm_delay_p50_seconds == (30 + 90) / 2 and r.alarm_delay_max_seconds == 90
    # budget: 0.1 % of 2,584,800 s = 2,584.8 s; 11,400 s spent → 1 − 11,400 / 2,584.8 left (overspent)
    assert r.error_budget_seconds == pytest.approx(0.001 * 2_584_800)
    assert r.error_budget_remaining_ratio == pytest.approx(1 - 11_400 / 2_584.8)
    assert [
        (f.incident_id, f.repair_seconds, f.downtime_in_window_seconds) for f in r.failure_lines
    ] == [(1, 600, 600), (2, 10_800, 10_800)]


def test_a_the_site_sees_the_same_failures_and_maintenance():
    r = compute(scenario_a(), SITE, NOV, TARGETS, AFTER)
    assert (r.operating_seconds, r.downtime_seconds, r.failures) == (2_584_800, 11_400, 2)


def test_a_maintenance_on_another_service_does_not_shorten_this_one():
    inputs = scenario_a()
    ticket = Scope(
        "service", "ticket-exchange", frozenset({"mstp-ticket"}), frozenset({"ticket-exchange"})
    )
    r = compute(inputs, ticket, NOV, TARGETS, AFTER)
    assert r.operating_seconds == 2_592_000  # the maintenance names mstp-voice only
    assert r.failures == 0 and r.downtime_seconds == 0  # the failures impaired voice-intake only


def test_breaches_are_listed_with_duration_and_target_to_the_second():
    # the contract: 自动恢复时间少于15分钟, 手工恢复时间少于24小时 — less than, so the target itself breaches
    inputs = Inputs(
        incidents=[
            incident(1, at(11, 3, 8), 899, "automatic"),  # 14 min 59 s: within target
            incident(
                2, at(11, 4, 8), 900, "automatic"
            ),  # exactly 15 min: not less than 15 min → breach
            incident(3, at(11, 5, 8), 86_399, "manual"),  # 23 h 59 min 59 s: within
            incident(4, at(11, 7, 8), 86_400, "manual"),  # exactly 24 h: breach
        ]
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert [(b.incident_id, b.kind, b.duration_seconds, b.target_seconds) for b in r.breaches] == [
        (2, "automatic", 900, 900),
        (4, "manual", 86_400, 86_400),
    ]
    assert r.mttr_seconds == {"automatic": (899 + 900) / 2, "manual": (86_399 + 86_400) / 2}
    gauges = r.gauges("lingshui", "month")
    assert gauges.breaches == {"automatic": 1, "manual": 1} and gauges.failures == 4


# -- (b) an incident across the month boundary; an incident still open ------------------------


def test_b_incident_spanning_the_month_boundary_is_split_but_counted_once():
    # 2026-11-30 22:00 → 2026-12-01 02:00 site time, manual: 4 h
    inputs = Inputs(incidents=[incident(7, at(11, 30, 22), 4 * HOUR, "manual")])
    nov = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    dec = compute(inputs, VOICE, DEC, TARGETS, AFTER)
    assert nov.downtime_seconds == 2 * HOUR  # 22:00 → 24:00
    assert dec.downtime_seconds == 2 * HOUR  # 00:00 → 02:00
    assert (nov.failures, dec.failures) == (1, 0)  # counted where it started
    assert nov.mttr_seconds == {"manual": 4 * HOUR}  # repair time is not clipped
    assert dec.mttr_seconds == {}
    assert dec.period_seconds == 31 * DAY
    # no failure in December: MTBF ≥ December's up time (its first 2 h were down)
    assert dec.mtbf_seconds == 31 * DAY - 2 * HOUR and dec.mtbf_lower_bound is True
    assert dec.availability_ratio == pytest.approx((31 * DAY - 2 * HOUR) / (31 * DAY), abs=1e-15)


def test_b_open_incident_counts_its_elapsed_part_until_now():
    now = at(11, 29, 12)
    inputs = Inputs(
        incidents=[
            incident(1, at(11, 29, 10), None),  # open 2 h
            incident(2, at(11, 28, 11), None, level="II"),
        ]
    )  # open 25 h
    r = compute(inputs, VOICE, NOV, TARGETS, now)
    # the window runs to now: 28 days 12 h (from 11-01 00:00 to 11-29 12:00)
    assert r.evaluated_until == now and r.period_seconds == 28 * DAY + 12 * HOUR
    assert r.downtime_seconds == 25 * HOUR  # 11-28 11:00 → now covers the 2-hour one too
    assert r.failures == 2 and r.mttr_seconds == {}
    assert [(b.incident_id, b.kind, b.duration_seconds, b.target_seconds) for b in r.breaches] == [
        (2, "open", 25 * HOUR, 86_400)
    ]  # already past the longest target, whatever ends it
    assert [f.recovered_at for f in r.failure_lines] == [None, None]


# -- (c) no failures ------------------------------------------------------------------------


def test_c_month_without_failures_reports_mtbf_as_a_lower_bound():
    inputs = Inputs(maintenance=[maintenance(1, at(11, 10, 2), 2 * HOUR)])
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert r.failures == 0 and r.availability_ratio == 1.0 and r.downtime_seconds == 0
    assert r.mtbf_seconds == 30 * DAY - 2 * HOUR and r.mtbf_lower_bound is True
    assert r.mtbf_meets_target is True  # 718 h of operation ≥ 600 h
    assert r.error_budget_remaining_ratio == 1.0 and r.breaches == ()
    assert r.alarm_delay_max_seconds is None and r.response_timeliness_ratio is None


def test_c_a_quiet_day_is_too_short_to_prove_the_mtbf_target():
    r = compute(Inputs(), VOICE, parse_period("2026-11-29", SH), TARGETS, AFTER)
    assert r.mtbf_seconds == DAY and r.mtbf_lower_bound is True
    assert r.mtbf_meets_target is False  # ≥ 24 h proves nothing about 600 h


# -- (d) flapping and overlaps --------------------------------------------------------------


def test_d_flapping_period_counts_every_short_failure():
    # 12 failures of 30 s, one every 5 min from 2026-11-15 03:00
    flaps = [incident(i + 1, at(11, 15, 3, 5 * i), 30, level="III") for i in range(12)]
    r = compute(Inputs(incidents=flaps), VOICE, NOV, TARGETS, AFTER)
    assert r.failures == 12
    assert r.downtime_seconds == 12 * 30 == 360
    assert r.mtbf_seconds == (30 * DAY - 360) / 12 == 215_970  # up time ÷ 12: 59.99 h
    assert r.mttr_seconds == {"automatic": 30.0}
    assert r.availability_ratio == pytest.approx((2_592_000 - 360) / 2_592_000, abs=1e-15)


def test_d_overlapping_failures_are_not_double_counted():
    inputs = Inputs(
        incidents=[
            incident(1, at(11, 6, 10), HOUR, "manual"),  # 10:00 → 11:00
            incident(2, at(11, 6, 10, 30), HOUR, "manual"),
        ]
    )  # 10:30 → 11:30
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert r.downtime_seconds == 90 * 60  # the union 10:00 → 11:30, not 2 h
    assert r.failures == 2 and r.mttr_seconds == {"manual": HOUR}


# -- (e) maintenance and incidents ----------------------------------------------------------


def test_e_incident_recovered_inside_maintenance_is_charged_only_outside_it():
    inputs = Inputs(
        incidents=[
            incident(1, at(11, 10, 1), 2 * HOUR, "manual"),  # 01:00 → 03:00, recovered inside
            incident(2, at(11, 10, 2, 30), HOUR, "automatic"),  # 02:30 → 03:30, wholly inside
            incident(3, at(11, 10, 3, 30), 90 * 60, "manual"),  # 03:30 → 05:00, outlives it
        ],
        maintenance=[maintenance(1, at(11, 10, 2), 2 * HOUR)],  # 02:00 → 04:00
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert r.operating_seconds == 30 * DAY - 2 * HOUR
    assert r.downtime_seconds == HOUR + HOUR  # 01:00 → 02:00 and 04:00 → 05:00
    assert r.failures == 2  # #2 was planned work
    assert r.mttr_seconds == {
        "manual": (HOUR + HOUR) / 2
    }  # only the unplanned hour of each is repair time
    assert [(f.incident_id, f.started_at) for f in r.failure_lines] == [
        (1, at(11, 10, 1)),
        (3, at(11, 10, 4)),
    ]


def test_e_maintenance_ended_early_stops_excluding_time_then():
    inputs = Inputs(
        incidents=[incident(1, at(11, 10, 3), HOUR, "manual")],  # 03:00 → 04:00
        maintenance=[maintenance(1, at(11, 10, 2), 4 * HOUR, ended_at=at(11, 10, 3, 30))],
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert r.maintenance_seconds == 90 * 60  # 02:00 → 03:30, not the planned 4 h
    assert r.downtime_seconds == 30 * 60  # 03:30 → 04:00
    assert r.failures == 1 and r.failure_lines[0].started_at == at(11, 10, 3, 30)


# -- what is and is not a failure ---------------------------------------------------------------


def test_level_iv_is_counted_apart_and_costs_no_availability():
    inputs = Inputs(
        incidents=[
            incident(1, at(11, 8, 9), HOUR, level="IV"),
            incident(2, at(11, 9, 9), 60, level="P3"),
        ]
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert (r.failures, r.level_iv) == (1, 1)  # P3 is level III
    assert r.downtime_seconds == 60


def test_symptoms_attached_to_a_parent_or_merged_are_not_failures_but_their_time_is_downtime():
    inputs = Inputs(
        incidents=[
            incident(1, at(11, 8, 9), HOUR, "manual"),
            incident(2, at(11, 8, 9, 1), 50 * 60, "manual", parent_id=1),
            incident(
                3, at(11, 8, 8, 59), 10 * 60, None, merged=True
            ),  # seen first, then merged upstream
        ]
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert r.failures == 1  # only #1 is counted
    assert r.downtime_seconds == 60 + HOUR  # union 08:59 → 10:00: #3's minute before #1 is not lost


def test_asset_scope_downtime_is_its_incidents_and_check_transitions_are_only_evidence():
    gw = Scope("asset", "voice-gw", frozenset({"voice-gw"}))

    def move(check, to, when, frm="UP"):
        return TransitionFact("voice-gw", check, frm, to, when)

    inputs = Inputs(
        incidents=[
            incident(
                1, at(11, 12, 20), 10 * 60, root_asset="mstp-voice", members=frozenset({"voice-gw"})
            ),
            incident(
                2, at(11, 13, 20), 10 * 60, root_asset="mstp-ticket", services=("ticket-exchange",)
            ),
        ],
        transitions=[
            move("icmp", "DOWN", at(10, 31, 23)),
            move("icmp", "UP", at(11, 1, 1), "DOWN"),
            move("icmp", "DOWN", at(11, 12, 10)),
            move("icmp", "UP", at(11, 12, 10, 20), "DOWN"),
            move("sip", "DOWN", at(11, 12, 10, 10)),
            move("sip", "DEGRADED", at(11, 12, 10, 40), "DOWN"),
        ],
    )
    r = compute(inputs, gw, NOV, TARGETS, AFTER)
    # only incident #1 (voice-gw a member): 10 min; the DOWN checks (1 h + 40 min) are not a second source
    assert r.downtime_seconds == 10 * 60
    assert r.failures == 1  # #2 is another asset's


def test_response_timeliness_against_the_runbook_deadline():
    base = at(11, 16, 9)
    inputs = Inputs(
        incidents=[
            # detected at +60 s, deadline 15 min → acknowledge by +960 s
            incident(
                1,
                base,
                HOUR,
                "manual",
                detected_at=base + dt.timedelta(seconds=60),
                acknowledged_at=base + dt.timedelta(seconds=960),
                ack_deadline_seconds=900,
            ),  # on time (at the limit)
            incident(
                2,
                base + dt.timedelta(hours=2),
                HOUR,
                "manual",
                acknowledged_at=base + dt.timedelta(hours=2, seconds=901),
                ack_deadline_seconds=900,
            ),  # 1 s late
            incident(
                3, base + dt.timedelta(hours=4), 300, "automatic", ack_deadline_seconds=900
            ),  # gone before due
            incident(
                4, base + dt.timedelta(hours=6), HOUR, "automatic", ack_deadline_seconds=900
            ),  # never acknowledged
            incident(
                5,
                base + dt.timedelta(hours=8),
                2 * HOUR,
                "manual",
                level="IV",
                ack_deadline_seconds=3600,
                acknowledged_at=base + dt.timedelta(hours=8, minutes=30),
            ),  # level IV, on time
            incident(6, base + dt.timedelta(hours=10), HOUR, "manual"),  # no runbook: not rated
        ]
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert (r.responses_due, r.responses_on_time) == (4, 2)  # #1 #2 #4 #5 due; #1 #5 on time
    assert r.response_timeliness_ratio == 2 / 4


def test_burn_rates_over_the_multi_window_table():
    now = at(11, 15, 12)
    inputs = Inputs(incidents=[incident(1, at(11, 15, 11), 600, "automatic")])  # 11:00 → 11:10
    r = compute(inputs, VOICE, parse_period("2026-11-15", SH), TARGETS, now)
    allowed = 1 - 0.999
    expected = {
        "5m": 0.0,
        "30m": 0.0,
        "1h": 600 / 3600 / allowed,
        "2h": 600 / 7200 / allowed,
        "6h": 600 / 21600 / allowed,
        "1d": 600 / 86400 / allowed,
        "3d": 600 / 259200 / allowed,
    }
    assert r.burn_rates == pytest.approx(expected)
    # 5m/1h and 30m/6h need both windows hot: the short ones are cold now; 2h/1d (83.3×, 6.9× > 3×)
    # and 6h/3d (27.8×, 2.3× > 1×) fire
    assert r.burn_alerts == ("ticket:2h/1d@3x", "ticket:6h/3d@1x")
    assert r.gauges("lingshui", "month").burn_rate == r.burn_rates


def test_burn_rate_lookback_excludes_maintenance_from_operating_time():
    now = at(11, 15, 12)
    inputs = Inputs(
        incidents=[incident(1, at(11, 15, 11, 58), None)],  # open for the last 2 min
        maintenance=[maintenance(1, at(11, 15, 11, 30), 25 * 60)],
    )  # 11:30 → 11:55
    r = compute(inputs, VOICE, parse_period("2026-11-15", SH), TARGETS, now)
    allowed = 1 - 0.999
    assert r.burn_rates["5m"] == pytest.approx(120 / 300 / allowed)
    assert r.burn_rates["30m"] == pytest.approx(
        120 / (1800 - 25 * 60) / allowed
    )  # 5 min of operation
    assert "page:5m/1h@14.4x" in r.burn_alerts


def test_a_window_entirely_under_maintenance_has_no_availability():
    inputs = Inputs(maintenance=[maintenance(1, at(11, 29, 0), DAY)])
    r = compute(inputs, VOICE, parse_period("2026-11-29", SH), TARGETS, AFTER)
    assert r.operating_seconds == 0 and r.availability_ratio is None and r.mtbf_seconds is None
    gauges = r.gauges("lingshui", "month")
    assert (
        gauges.availability_ratio != gauges.availability_ratio
    )  # NaN: no figure, not a perfect one


def test_error_budget_covers_the_whole_period_including_planned_work_still_to_come():
    now = at(11, 15, 12)
    inputs = Inputs(
        incidents=[incident(1, at(11, 3, 8), 1000, "manual")],
        maintenance=[maintenance(1, at(11, 20, 2), 2 * HOUR)],
    )  # later this month
    r = compute(inputs, VOICE, NOV, TARGETS, now)
    assert r.maintenance_seconds == 0  # nothing planned has happened yet
    assert r.operating_seconds == 14 * DAY + 12 * HOUR  # 11-01 00:00 → 11-15 12:00
    assert r.error_budget_seconds == pytest.approx(
        0.001 * (30 * DAY - 2 * HOUR)
    )  # 2,584.8 s for the month
    assert r.error_budget_remaining_ratio == pytest.approx(1 - 1000 / 2_584.8)
