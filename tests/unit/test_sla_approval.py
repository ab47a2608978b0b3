"""Issue 12 in the pure SLA: only approved maintenance excuses anything; unapproved windows and
recoveries resting on an overridden intervention flag are listed. No store, injected ``now``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sla.compute import IncidentFact, Inputs, MaintenanceFact, Scope, StepOverride, compute
from sla.gauges import SlaTargets
from sla.intervals import parse_period

SH = ZoneInfo("Asia/Shanghai")
TARGETS = SlaTargets(
    availability_objective_ratio=0.999,
    mtbf_seconds=600 * 3600.0,
    mttr_seconds={"automatic": 900.0, "manual": 86400.0},
)
VOICE = Scope("service", "voice-intake", frozenset({"mstp-voice"}), frozenset({"voice-intake"}))
NOV = parse_period("2026-11", SH)
AFTER = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
HOUR = 3600


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH).astimezone(dt.UTC)


OVERRIDE = StepOverride("local-fix", False, "只查看了配置", "zhang", at(10, 3))
FAILURE = (
    IncidentFact(  # 02:30 → 03:30 inside the 02:00 → 04:00 window; a lead said no intervention
        id=1,
        fault_started_at=at(10, 2, 30),
        detected_at=at(10, 2, 30),
        peak_severity="I",
        root_asset="mstp-voice",
        recovered_at=at(10, 3, 30),
        recovery_kind="automatic",
        members=frozenset({"mstp-voice"}),
        services=frozenset({"voice-intake"}),
        overrides=(OVERRIDE,),
    )
)
WINDOW = MaintenanceFact(
    7, frozenset({"mstp-voice"}), at(10, 2), at(10, 4), created_at=at(9, 12), approved=False
)
UNRELATED = MaintenanceFact(
    8, frozenset({"phone-01"}), at(11, 2), at(11, 4), created_at=at(9, 12), approved=False
)


def test_an_unapproved_window_excuses_nothing_and_is_listed():
    report = compute(Inputs([FAILURE], (), [WINDOW, UNRELATED]), VOICE, NOV, TARGETS, AFTER)
    assert report.maintenance_seconds == 0 and report.operating_seconds == 30 * 86400
    assert report.downtime_seconds == HOUR and report.failures == 1
    assert report.mttr_seconds == {"automatic": HOUR}
    [line] = report.unapproved  # the phone's window is not on this scope
    assert (line.window_id, line.assets, line.seconds_in_window) == (7, ("mstp-voice",), 2 * HOUR)
    [listed] = report.overridden
    assert (listed.incident_id, listed.recovery_kind, listed.overrides) == (
        1,
        "automatic",
        (OVERRIDE,),
    )


def test_the_same_window_approved_excuses_the_failure():
    approved = dataclasses.replace(WINDOW, approved=True)
    report = compute(Inputs([FAILURE], (), [approved]), VOICE, NOV, TARGETS, AFTER)
    assert report.maintenance_seconds == 2 * HOUR
    assert report.downtime_seconds == 0 and report.failures == 0
    assert report.unapproved == ()
    assert [o.incident_id for o in report.overridden] == [1]  # listed, excused or not


def test_windows_default_to_approved_for_pure_callers():
    assert MaintenanceFact(1, frozenset({"x"}), at(1, 0), at(1, 1)).approved is True
