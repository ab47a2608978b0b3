"""Monitoring coverage on hand-computed months (docs/sla.md, "Monitoring coverage"). Pure.

November 2026 in Asia/Shanghai is 30 days, 720 h. The voice-intake scope relies on three checks
(mstp-voice icmp, voice-gw sip, ce-router icmp); a run of the service watches them as stretches
of fresh results. Every expected figure is the arithmetic of the scenario's own instants.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from zoneinfo import ZoneInfo

import pytest

from sla.compute import IncidentFact, Inputs, MaintenanceFact, Scope, compute
from sla.coverage import (
    CoverageFacts,
    FoundAtStart,
    FreshFact,
    RunFact,
    backdate,
)
from sla.gauges import SlaTargets
from sla.intervals import intersect, parse_period
from sla.render import document, render_md, render_table

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
ROUTER = Scope("asset", "ce-router", frozenset({"ce-router"}), frozenset())
GATEWAY = Scope("asset", "voice-gw", frozenset({"voice-gw"}), frozenset())
CHECKS = {
    "mstp-voice": frozenset({"icmp"}),
    "voice-gw": frozenset({"sip"}),
    "ce-router": frozenset({"icmp"}),
}
ALL = frozenset((a, c) for a, names in CHECKS.items() for c in names)
NOV = parse_period("2026-11", SH)
AFTER = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
HOUR = 3600
DAY = 86400
MONTH = 30 * DAY  # 2,592,000 s


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH).astimezone(dt.UTC)


def run(
    id: int,
    start: dt.datetime,
    end: dt.datetime,
    checks: frozenset = ALL,
    stopped: bool = True,
    fresh_until: dt.datetime | None = None,
) -> tuple[RunFact, list[FreshFact]]:
    """A run watching ``checks`` with fresh, good results from its start to its end."""
    until = fresh_until or end
    fresh = [FreshFact(id, a, c, start, until, start, until) for a, c in sorted(checks)]
    return RunFact(id, start, end, stopped, checks), fresh


def facts(*runs: tuple[RunFact, list[FreshFact]], **extra) -> CoverageFacts:
    return CoverageFacts(
        runs=tuple(r for r, _ in runs),
        fresh=tuple(f for _, fs in runs for f in fs),
        checks=CHECKS,
        **extra,
    )


def voice_failure(id: int, start: dt.datetime, seconds: float | None, kind="automatic", **kw):
    return IncidentFact(
        id=id,
        fault_started_at=start,
        detected_at=start,
        peak_severity="I",
        root_asset="mstp-voice",
        recovered_at=None if seconds is None else start + dt.timedelta(seconds=seconds),
        recovery_kind=kind if seconds is not None else None,
        services=frozenset({"voice-intake"}),
        **kw,
    )


# -- a month before the first run -------------------------------------------------------------


def test_a_month_before_the_first_run_is_no_data_never_a_figure_never_meets(lingshui_config):
    # the service first ran on 12-01: November was not watched at all
    inputs = Inputs(coverage=facts(run(1, at(1, month=12), at(20, month=12))))
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    cover = r.coverage
    assert cover.scheduled_seconds == MONTH and cover.monitored_seconds == 0
    assert cover.unmonitored_seconds == {"not_running": MONTH, "not_configured": 0, "stale": 0}
    assert cover.ratio == 0 and cover.no_data and cover.status == "no_data"
    assert r.operating_seconds == 0 and r.availability_ratio is None
    assert r.mtbf_seconds is None and r.mtbf_meets_target is None and not r.mtbf_lower_bound

    table = render_table([r], lingshui_config)
    assert "无监测数据 no data" in table and "meets" not in table and "≥" not in table
    row = document([r], lingshui_config, AFTER)["rows"][0]
    assert row["availability_ratio"] is None and row["mtbf_seconds"] is None
    assert row["mtbf_meets_target"] is None and row["error_budget_remaining_ratio"] is None
    assert row["coverage"]["status"] == "no_data"
    assert row["coverage"]["label"] == {"zh": "无监测数据", "en": "no data"}
    assert row["coverage"]["unmonitored_seconds"]["not_running"] == MONTH
    g = r.gauges("lingshui", "month")
    assert math.isnan(g.availability_ratio) and math.isnan(g.error_budget_remaining_ratio)
    assert g.coverage_ratio == 0 and g.mtbf_seconds is None and g.burn_rate == {}


def test_without_any_run_or_check_there_is_no_data():
    assert compute(Inputs(coverage=CoverageFacts()), VOICE, NOV, TARGETS, AFTER).coverage.no_data
    # a scope none of whose assets has a check is never watched, however long the service ran
    unchecked = Scope("asset", "switch", frozenset({"switch"}), frozenset())
    inputs = Inputs(coverage=facts(run(1, NOV.start, NOV.end)))
    assert compute(inputs, unchecked, NOV, TARGETS, AFTER).coverage.status == "no_data"


# -- a 2-day stop in the middle ---------------------------------------------------------------


def two_day_stop() -> Inputs:
    """Stopped cleanly 11-10 00:00, started again 11-12 00:00; a 10 min failure on 11-20 and a
    planned 2 h on 11-25."""
    return Inputs(
        incidents=[voice_failure(1, at(20, 10), 600)],
        maintenance=[MaintenanceFact(1, frozenset({"mstp-voice"}), at(25, 2), at(25, 4))],
        coverage=facts(run(1, NOV.start, at(10)), run(2, at(12), NOV.end)),
    )


def test_a_two_day_stop_is_unmonitored_and_the_figures_count_monitored_time_only():
    r = compute(two_day_stop(), VOICE, NOV, TARGETS, AFTER)
    scheduled = MONTH - 2 * HOUR  # 718 h: the planned 2 h is not expected to be watched
    monitored = scheduled - 2 * DAY  # 670 h
    cover = r.coverage
    assert (cover.scheduled_seconds, cover.monitored_seconds) == (scheduled, monitored)
    assert cover.unmonitored_seconds == {"not_running": 2 * DAY, "not_configured": 0, "stale": 0}
    assert cover.ratio == pytest.approx(670 / 718) and cover.ratio < 0.99  # 93.3147 %
    assert cover.status == "insufficient"
    assert r.maintenance_seconds == 2 * HOUR and r.operating_seconds == monitored
    assert r.downtime_seconds == 600
    assert r.availability_ratio == pytest.approx((monitored - 600) / monitored, abs=1e-15)
    # MTBF divides up time, monitored operating time − downtime (issue 11, 9a, with item 1):
    # (2,412,000 − 600) / 1 = 2,411,400 s = 669.833 h > 600 h; the 48 h stop is not up time
    assert r.up_seconds == monitored - 600 == 2_411_400
    assert r.mtbf_seconds == monitored - 600 and r.mtbf_meets_target is True
    # the budget: 0.1 % of the monitored 670 h = 2,412 s; 600 s spent
    assert r.error_budget_seconds == pytest.approx(0.001 * monitored)
    assert r.error_budget_remaining_ratio == pytest.approx(1 - 600 / 2412)
    assert r.gauges("lingshui", "month").coverage_ratio == pytest.approx(670 / 718)


def test_the_stop_reads_as_insufficient_coverage_in_every_format(lingshui_config):
    r = compute(two_day_stop(), VOICE, NOV, TARGETS, AFTER)
    zh = render_table([r], lingshui_config)
    assert "监测覆盖不足 insufficient coverage：监测覆盖 93.3147%，低于阈值 99%" in zh
    assert "未监测 48.000 h：服务未运行 48.000 h" in zh
    en = render_table([r], lingshui_config, "en")
    assert "insufficient coverage: 93.3147 % monitored, under the 99 % threshold" in en
    doc = json.loads(json.dumps(document([r], lingshui_config, AFTER)))
    assert doc["targets"]["coverage_threshold_ratio"] == 0.99
    row = doc["rows"][0]
    assert row["coverage"]["status"] == "insufficient"
    assert row["coverage"]["monitored_seconds"] == 670 * HOUR
    assert row["availability_ratio"] == round((670 * HOUR - 600) / (670 * HOUR), 9)


def test_the_whole_month_watched_is_full_coverage_and_the_old_figures():
    inputs = dataclasses.replace(two_day_stop(), coverage=facts(run(1, NOV.start, NOV.end)))
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    plain = compute(dataclasses.replace(inputs, coverage=None), VOICE, NOV, TARGETS, AFTER)
    assert r.coverage.ratio == 1 and r.coverage.status == "ok"
    assert (r.operating_seconds, r.availability_ratio, r.mtbf_seconds) == (
        plain.operating_seconds,
        plain.availability_ratio,
        plain.mtbf_seconds,
    )


# -- a crash ----------------------------------------------------------------------------------


def crash() -> Inputs:
    """Run 1 crashed: its last heartbeat was 11-15 12:00 (one stretch claims 13:00, past it);
    run 2 started 11-16 00:00. A level-I failure opened 11-15 11:00 is resolved by hand 11-16
    00:30, after the restart."""
    crashed, fresh = run(1, NOV.start, at(15, 12), stopped=False)
    fresh[0] = dataclasses.replace(fresh[0], until=at(15, 13))  # never past its run's end
    return Inputs(
        incidents=[voice_failure(1, at(15, 11), 13.5 * HOUR, "manual")],
        coverage=facts((crashed, fresh), run(2, at(16), NOV.end)),
    )


def test_a_crash_ends_the_run_at_its_last_heartbeat():
    r = compute(crash(), VOICE, NOV, TARGETS, AFTER)
    monitored = MONTH - 12 * HOUR  # 11-15 12:00 → 11-16 00:00 was not watched: 708 h
    assert r.coverage.monitored_seconds == monitored == r.operating_seconds
    assert r.coverage.unmonitored_seconds["not_running"] == 12 * HOUR
    assert r.coverage.ratio == pytest.approx(708 / 720) and r.coverage.status == "insufficient"
    # downtime is what was watched: 11:00 → 12:00 and 00:00 → 00:30
    assert r.downtime_seconds == 1.5 * HOUR
    assert r.availability_ratio == pytest.approx((monitored - 1.5 * HOUR) / monitored)
    # the repair time is the whole 13.5 h: nobody saw it end earlier (the purchaser's side)
    assert [(f.repair_seconds, f.downtime_in_window_seconds) for f in r.failure_lines] == [
        (13.5 * HOUR, 1.5 * HOUR)
    ]
    assert r.mttr_seconds == {"manual": 13.5 * HOUR} and r.breaches == ()
    # up time: the 708 h watched minus the 1.5 h of watched downtime = 706.5 h > 600 h
    assert r.mtbf_seconds == monitored - 1.5 * HOUR == 2_543_400 and r.mtbf_meets_target is True


def test_a_failure_wholly_in_unmonitored_time_still_counts_with_no_downtime():
    # recorded by an operator and resolved by hand while the service was down (11-15 13:00 →
    # 20:00, inside the 12 h it was not running): a failure, its repair time, no downtime
    inputs = dataclasses.replace(
        crash(), incidents=[voice_failure(1, at(15, 13), 7 * HOUR, "manual")]
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert (r.failures, r.downtime_seconds, r.mttr_seconds) == (1, 0, {"manual": 7 * HOUR})


def test_a_failure_from_the_month_before_is_not_counted_again():
    # only November's runs are loaded; a failure that began (watched) on 10-31 22:00 and ran into
    # November counts in October, its November part is November's downtime
    inputs = Inputs(
        incidents=[voice_failure(1, at(31, 22, month=10), 4 * HOUR, "manual")],
        coverage=facts(run(1, NOV.start, NOV.end)),
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert (r.failures, r.downtime_seconds) == (0, 2 * HOUR)


# -- a check added mid-month ------------------------------------------------------------------


def check_added() -> Inputs:
    """Until 11-15 00:00 the inventory had no SIP check on voice-gw; the service was restarted
    with it, back at 00:01."""
    before = ALL - {("voice-gw", "sip")}
    return Inputs(
        coverage=facts(run(1, NOV.start, at(15), before), run(2, at(15, 0, 1), NOV.end)),
    )


@pytest.mark.parametrize(
    ("scope", "not_configured", "status"),
    [
        (GATEWAY, 14 * DAY, "insufficient"),  # its only check did not exist for 14 days
        (VOICE, 14 * DAY, "insufficient"),  # the service needs voice-gw's check too
        (ROUTER, 0, "ok"),  # ce-router's check was there all month: only the restart is missing
    ],
)
def test_a_check_added_mid_month_leaves_the_time_before_it_unmonitored(
    scope, not_configured, status
):
    r = compute(check_added(), scope, NOV, TARGETS, AFTER)
    assert r.coverage.unmonitored_seconds == {
        "not_running": 60,
        "not_configured": not_configured,
        "stale": 0,
    }
    assert r.coverage.monitored_seconds == MONTH - 60 - not_configured
    assert r.coverage.status == status
    assert r.availability_ratio == 1.0


def test_results_gone_stale_are_unmonitored_for_the_scopes_of_that_check():
    # voice-gw's SIP results stopped for 6 h while the service ran (a gap in its fresh stretches)
    whole, fresh = run(1, NOV.start, NOV.end)
    sip = next(f for f in fresh if f.key == ("voice-gw", "sip"))
    fresh.remove(sip)
    fresh += [dataclasses.replace(sip, until=at(3, 6)), dataclasses.replace(sip, since=at(3, 12))]
    inputs = Inputs(coverage=facts((whole, fresh)))
    voice = compute(inputs, VOICE, NOV, TARGETS, AFTER).coverage
    assert voice.unmonitored_seconds == {"not_running": 0, "not_configured": 0, "stale": 6 * HOUR}
    assert compute(inputs, ROUTER, NOV, TARGETS, AFTER).coverage.ratio == 1


# -- a fault found present when monitoring resumed ---------------------------------------------


def found_at_restart() -> tuple[list[IncidentFact], list[FreshFact], CoverageFacts]:
    """Stopped 11-10 00:00 with mstp-voice fine; on 11-12 00:00 its first results were already
    bad, the engine opened incident 1 then, and it recovered by itself at 02:00."""
    first, second = run(1, NOV.start, at(10)), run(2, at(12), NOV.end)
    bad_first = [
        dataclasses.replace(f, first_ok_at=at(12, 2)) if f.asset == "mstp-voice" else f
        for f in second[1]
    ]
    fresh = first[1] + bad_first
    incidents = [voice_failure(1, at(12), 2 * HOUR, "automatic")]
    return incidents, fresh, facts(first, (second[0], bad_first))


def test_a_fault_found_at_restart_is_dated_from_the_last_good_observation(lingshui_config):
    incidents, fresh, cover = found_at_restart()
    dated, found = backdate(incidents, fresh)
    assert found == [FoundAtStart(1, at(12), at(10))]
    assert dated[0].fault_started_at == at(10)
    inputs = Inputs(incidents=dated, coverage=dataclasses.replace(cover, found_at_start=found))
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    # the unwatched 2 days are no downtime (not operating time), but they are repair time: 50 h
    # for an "automatic" recovery is a breach of the 15 min
    assert r.downtime_seconds == 2 * HOUR and r.failures == 1
    assert [
        (f.started_at, f.repair_seconds, f.downtime_in_window_seconds) for f in r.failure_lines
    ] == [(at(10), 50 * HOUR, 2 * HOUR)]
    assert [(b.kind, b.duration_seconds) for b in r.breaches] == [("automatic", 50 * HOUR)]
    assert r.coverage.found_at_start == (FoundAtStart(1, at(12), at(10)),)
    table = render_table([r], lingshui_config)
    assert (
        "#1  发现于 2026-11-12 00:00:00，按中断前最后一次正常观测计起：2026-11-10 00:00:00" in table
    )
    row = document([r], lingshui_config, AFTER)["rows"][0]
    assert row["coverage"]["found_at_start"][0]["dated_from_local"] == "2026-11-10T00:00:00+08:00"


def test_a_fault_that_began_in_view_or_with_nothing_before_keeps_its_start():
    incidents, fresh, _ = found_at_restart()
    # seen good first (00:00 → 00:30), the fault began at 01:00 in view: not found at start
    later = [voice_failure(2, at(12, 1), 600)]
    good = [dataclasses.replace(f, first_ok_at=f.since) for f in fresh]
    assert backdate(later, good) == (later, [])
    # the first run ever: no earlier observation to date it from, but the report says so
    first_run = [f for f in fresh if f.run_id == 2]
    dated, found = backdate(incidents, first_run)
    assert dated == incidents and found == [FoundAtStart(1, at(12), None)]
    # a symptom keeps its start (its root's incident carries the failure)
    symptom = [voice_failure(3, at(12), 600, parent_id=1)]
    assert backdate(symptom, fresh) == (symptom, [])


def test_intersect():
    a = [(at(1), at(3)), (at(5), at(9))]
    assert intersect(a, [(at(2), at(6))]) == [(at(2), at(3)), (at(5), at(6))]
    assert intersect(a, []) == []


def test_the_coverage_reaches_the_metrics():
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from noc.metrics.snapshot import MetricsSnapshot
    from sla.gauges import SlaSnapshot

    stopped = compute(two_day_stop(), VOICE, NOV, TARGETS, AFTER).gauges("lingshui", "month")
    never = compute(Inputs(coverage=facts()), VOICE, NOV, TARGETS, AFTER).gauges("lingshui", "30d")
    snap = MetricsSnapshot("lingshui")
    snap.set_sla(SlaSnapshot(AFTER, TARGETS, (stopped, never)))
    registry = CollectorRegistry()
    registry.register(snap)
    samples = {
        (s.name, s.labels.get("window")): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
        if s.name.startswith("noc_sla_coverage")
    }
    assert samples == {
        ("noc_sla_coverage_ratio", "month"): pytest.approx(670 / 718),
        ("noc_sla_coverage_ratio", "30d"): 0.0,  # nothing watched: no data
        ("noc_sla_coverage_threshold_ratio", None): 0.99,
    }


# -- with the definitions a purchaser signs (items 9 and 10) -----------------------------------


@pytest.mark.parametrize(
    ("coverage", "operating_h", "mtbf_h"),
    [
        (None, 718, 588),  # watched all month: 9a's own example, (718 − 130) / 1
        ("stop", 670, 540),  # the 2-day stop is neither operating time nor up time
    ],
)
def test_mtbf_up_time_is_monitored_operating_time_minus_downtime(coverage, operating_h, mtbf_h):
    # 9a with item 1: one 130 h level-I outage (11-01 10:00 → 11-06 20:00), 2 h planned on 11-25,
    # and (second case) the service stopped 11-10 00:00 → 11-12 00:00
    inputs = dataclasses.replace(
        two_day_stop(), incidents=[voice_failure(1, at(1, 10), 130 * HOUR, "manual")]
    )
    if coverage is None:
        inputs = dataclasses.replace(inputs, coverage=None)
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert r.operating_seconds == operating_h * HOUR and r.downtime_seconds == 130 * HOUR
    assert r.up_seconds == (operating_h - 130) * HOUR
    assert (r.mtbf_seconds, r.mtbf_lower_bound, r.mtbf_meets_target) == (
        mtbf_h * HOUR,
        False,
        False,
    )
    # without the failure: a lower bound of the monitored time, 670 h > 600 h, "insufficient"
    quiet = compute(dataclasses.replace(inputs, incidents=[]), VOICE, NOV, TARGETS, AFTER)
    assert (quiet.mtbf_seconds, quiet.mtbf_lower_bound) == (operating_h * HOUR, True)


def test_flapping_outages_count_their_monitored_part_as_downtime():
    # item 10 with item 1: three 9 s outages a minute apart held in one incident (open 268 s);
    # the service crashed 64 s in (last heartbeat) and was back 124 s in
    t0 = at(15, 15)
    s = lambda n: t0 + dt.timedelta(seconds=n)  # noqa: E731
    measured = ((s(0), s(9)), (s(60), s(69)), (s(120), s(129)))
    inputs = Inputs(
        incidents=[voice_failure(1, t0, 268, measured_down=measured)],
        coverage=facts(run(1, NOV.start, s(64), stopped=False), run(2, s(124), NOV.end)),
    )
    r = compute(inputs, VOICE, NOV, TARGETS, AFTER)
    assert r.coverage.unmonitored_seconds["not_running"] == 60
    # downtime: 9 s, then 60 → 64 s (4 s) and 124 → 129 s (5 s): 18 s watched of 27 s down
    assert (r.downtime_seconds, r.failures) == (18, 3)
    # repair times are whole (nobody saw the second one end earlier): 9 s each, no breach
    assert [(f.repair_seconds, f.downtime_in_window_seconds) for f in r.failure_lines] == [
        (9, 9),
        (9, 4),
        (9, 5),
    ]
    assert r.breaches == ()
    # MTBF: (2,592,000 − 60 − 18) / 3 = 863,974 s
    assert r.up_seconds == MONTH - 60 - 18 and r.mtbf_seconds == (MONTH - 78) / 3 == 863_974


def test_a_flapping_fault_found_at_restart_dates_its_first_outage_too():
    incidents, fresh, _ = found_at_restart()
    measured = ((at(12, 0, 1), at(12, 0, 2)), (at(12, 0, 5), at(12, 0, 6)))
    held = [dataclasses.replace(incidents[0], measured_down=measured)]
    [dated], _ = backdate(held, fresh)
    # the first measured outage is the one found present: it began before the gap as well
    assert dated.fault_started_at == at(10)
    assert dated.measured_down == ((at(10), at(12, 0, 2)), (at(12, 0, 5), at(12, 0, 6)))
    r = compute(Inputs(incidents=[dated], coverage=fresh_facts(fresh)), VOICE, NOV, TARGETS, AFTER)
    assert [f.repair_seconds for f in r.failure_lines] == [48 * HOUR + 120, 60]
    # downtime: only the watched part (from the restart at 11-12 00:00)
    assert r.downtime_seconds == 120 + 60


def fresh_facts(fresh: list[FreshFact]) -> CoverageFacts:
    _, _, cover = found_at_restart()
    return dataclasses.replace(cover, fresh=tuple(fresh))


def undelivered(coverage: CoverageFacts) -> Inputs:
    """One failure 11-20 10:00 (10 min) whose alert was never delivered: reported after the
    month, its open delay runs to the month's end, 11-20 10:00 → 12-01 00:00 = 254 h."""
    return Inputs(incidents=[voice_failure(1, at(20, 10), 600)], coverage=coverage)


def test_not_alarmed_under_no_data_and_insufficient_coverage(lingshui_config):
    # 9e with item 1: the incident is still listed (which alert never went out is a fact), but a
    # row without monitored time gives no figure, and each line carries the row's status
    nothing = compute(undelivered(facts()), VOICE, NOV, TARGETS, AFTER)
    assert nothing.no_data and nothing.not_alarmed == (1,)
    row = document([nothing], lingshui_config, AFTER)["rows"][0]
    assert row["not_alarmed"] == [{"incident_id": 1, "open_delay_seconds": 254 * HOUR}]
    assert row["up_seconds"] is None and row["alarm_muted_seconds"] is None
    assert row["alarm_delay_seconds"] == {"p50": None, "max": None, "count": 0}
    assert row["mtbf_meets_target"] is None
    zh = render_table([nothing], lingshui_config)
    assert "未送达告警 not alarmed:" in zh
    assert "service:voice-intake  #1  ≥914400s  无监测数据 no data" in zh
    md = render_md([nothing], lingshui_config, "en")
    assert "## Not alarmed" in md and "- service:voice-intake  #1  ≥914400s  no data" in md

    stopped = undelivered(two_day_stop().coverage)
    short = compute(stopped, VOICE, NOV, TARGETS, AFTER)
    assert short.coverage.status == "insufficient" and short.alarm_delay_max_seconds == 254 * HOUR
    en = render_table([short], lingshui_config, "en")
    assert "service:voice-intake  #1  ≥914400s  insufficient coverage" in en
    row = document([short], lingshui_config, AFTER)["rows"][0]
    assert row["up_seconds"] == 672 * HOUR - 600 and row["coverage"]["status"] == "insufficient"
    # fully watched: no qualifier on the line (9e's own rendering)
    full = compute(undelivered(facts(run(1, NOV.start, NOV.end))), VOICE, NOV, TARGETS, AFTER)
    assert (
        "service:voice-intake  #1  ≥914400s\n" in render_table([full], lingshui_config, "en") + "\n"
    )
