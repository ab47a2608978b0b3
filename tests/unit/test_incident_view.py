"""The incident presenter (``noc incident show`` and the API): a timeline written out of order
reads in the order things happened, the text is all in site time with the zone named once, and
the JSON gives every instant in UTC and in site time (issue 11)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from incident_runbooks import load_runbooks
from noc.incident_view import TIME_KEYS, incident_detail, render_text
from noc.store.tables import Incident, IncidentEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(hms: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-11-30T{hms}+00:00")


# (seq, kind, at UTC, actor, data) in the order they were written: the symptom's probe started
# before the automated step finished, and the outbox recorded the alert after both
EVENTS = [
    (1, "opened", "02:00:00", None, {"runbook": "mstp-circuit-down"}),
    (2, "graded", "02:00:00", None, {"severity": "II", "impact": "degraded"}),
    (3, "step_done", "02:00:03", "noc-auto", {"step": "confirm", "automated": True}),
    (4, "symptom_attached", "02:00:01", None, {"fault": "sip_trunk_error:voice-gw"}),
    (5, "alarmed", "02:00:02", None, {}),
    (6, "acknowledged", "02:05:00", "张三", {"note": ""}),
    (7, "recovered", "02:10:00", None, {"recovery_kind": "automatic"}),
    (8, "step_done", "02:10:02", "noc-auto", {"step": "verify", "automated": True}),
    (9, "closed", "02:10:02", "张三", {"note": "光缆中断"}),  # same instant: seq decides
]
IN_TIME_ORDER = [1, 2, 4, 5, 3, 6, 7, 8, 9]


@pytest.fixture
def detail():
    row = Incident(
        id=7,
        site="lingshui",
        fault_key="circuit_down:mstp-ticket",
        fault_type="circuit_down",
        root_asset="mstp-ticket",
        severity="II",
        peak_severity="II",
        status="closed",
        runbook="mstp-circuit-down",
        fault_started_at=utc("01:59:58"),
        detected_at=utc("02:00:00"),
        alarmed_at=utc("02:00:02"),
        acknowledged_at=utc("02:05:00"),
        acknowledged_by="张三",
        recovered_at=utc("02:10:00"),
        recovery_kind="automatic",
        closed_at=utc("02:10:02"),
        close_note="光缆中断",
        impact={"members": ["mstp-ticket"], "symptoms": [{"fault": "sip_trunk_error:voice-gw"}]},
    )
    events = [
        IncidentEvent(incident_id=7, seq=seq, kind=kind, at=utc(at), actor=actor, data=data)
        for seq, kind, at, actor, data in EVENTS
    ]
    runbook = load_runbooks().for_fault("circuit_down")
    return incident_detail(row, events, runbook, SHANGHAI, now=utc("03:00:00"))


def test_timeline_is_in_time_order_with_seq_breaking_ties(detail):
    assert [e["seq"] for e in detail["timeline"]] == IN_TIME_ORDER
    ats = [e["at"] for e in detail["timeline"]]
    assert ats == sorted(ats)
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds.index("step_done", kinds.index("recovered")) < kinds.index("closed")


def test_json_gives_every_instant_in_utc_and_in_site_time(detail):
    assert detail["timezone"] == "Asia/Shanghai"
    assert detail["fault_started_at"] == "2026-11-30T01:59:58.000+00:00"
    assert detail["fault_started_at_local"] == "2026-11-30T09:59:58.000+08:00"
    for key in TIME_KEYS:
        utc_value, local = detail[key], detail[f"{key}_local"]
        assert utc_value.endswith("+00:00") and local.endswith("+08:00"), key
        assert dt.datetime.fromisoformat(utc_value) == dt.datetime.fromisoformat(local), key
    for event in detail["timeline"]:
        assert event["at"].endswith("+00:00") and event["at_local"].endswith("+08:00")
    deadlines = detail["deadlines"]
    assert deadlines["acknowledge_by"] == "2026-11-30T02:10:00.000+00:00"  # level II: 10 min
    assert deadlines["acknowledge_by_local"] == "2026-11-30T10:10:00.000+08:00"
    assert deadlines["recover_by_local"] == "2026-11-30T17:59:58.000+08:00"  # II: 8 h
    verify = next(s for s in detail["runbook_progress"]["steps"] if s["id"] == "verify")
    assert verify["runs_on"] == "on_recovery" and verify["done"]
    assert (verify["done_at"], verify["done_at_local"]) == (
        "2026-11-30T02:10:02.000+00:00",
        "2026-11-30T10:10:02.000+08:00",
    )
    assert verify["done_at"] > detail["recovered_at"]


def test_text_is_all_in_site_time_with_the_zone_named_once(detail):
    text = render_text(detail)
    assert text.count("Asia/Shanghai") == 1 and "时区: Asia/Shanghai (UTC+08:00)" in text
    assert "故障开始: 2026-11-30 09:59:58   发现: 2026-11-30 10:00:00" in text
    assert "确认时限: 2026-11-30 10:10:00   恢复时限: 2026-11-30 17:59:58" in text
    rest = text.replace("(UTC+08:00)", "", 1)  # the one place the offset is named
    assert not re.search(r"\d{2}T\d{2}|\+0[08]:00|UTC|01:59:58|02:00:0\d", rest)
    timeline = text.split("时间线 timeline:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    times = [line[2:21] for line in timeline]
    assert times == [
        "2026-11-30 10:00:00",
        "2026-11-30 10:00:00",
        "2026-11-30 10:00:01",
        "2026-11-30 10:00:02",
        "2026-11-30 10:00:03",
        "2026-11-30 10:05:00",
        "2026-11-30 10:10:00",
        "2026-11-30 10:10:02",
        "2026-11-30 10:10:02",
    ]
    assert timeline[6].endswith("已恢复") and timeline[7].endswith("执行步骤 (noc-auto)  verify")
    assert "[x] 8. verify: 恢复验证 — operator [auto 恢复后]" in text
    assert "[x] 1. confirm: 复测确认 — operator [auto]" in text


def test_english_text_names_the_zone_too(detail):
    text = render_text(detail, "en")
    assert "time zone: Asia/Shanghai (UTC+08:00)" in text
    assert "fault started: 2026-11-30 09:59:58   detected: 2026-11-30 10:00:00" in text
    assert "[x] 8. verify: 恢复验证 — operator [auto, after recovery]" in text  # titles: --lang
