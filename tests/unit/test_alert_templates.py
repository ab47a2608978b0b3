"""Alert texts: short titles, the facts a NOC needs, Chinese by default, English on request."""

from __future__ import annotations

import datetime as dt
import functools

import jinja2
import pytest

from alerting.config import AlertingConfig
from alerting.grouping import AlertGrouper
from alerting.model import EVENT_KINDS, AlertEvent
from alerting.templates import (
    FAULT_NAMES,
    TITLE_MAX,
    environment,
    format_span,
    render,
    to_message,
    truncate_title,
)
from incident_runbooks.loader import load_runbooks
from noc.core.vocabulary import FAULT_TYPES

DETECTED = dt.datetime(2026, 11, 29, 2, 3, 4, tzinfo=dt.UTC).timestamp()  # 10:03:04 in Shanghai


@functools.cache
def runbooks():
    return load_runbooks()


def runbook_context(fault_type: str) -> dict:
    rb = runbooks().for_fault(fault_type)
    return {"title": rb.title, "steps": [s.title for s in rb.steps]}


def opened(kind: str = "opened", severity: str = "I", **extra) -> AlertEvent:
    ctx = {
        "fault_type": "circuit_down",
        "asset": "mstp-voice",
        "asset_title": {"zh": "MSTP语音专线", "en": "MSTP voice circuit"},
        "services": [
            {
                "service": "voice-intake",
                "title": {"zh": "市民来电受理", "en": "Citizen voice intake"},
            }
        ],
        "evidence": {"check": "icmp", "reason": "timeout", "metrics": {"loss_ratio": 1.0}},
        "detected_at": DETECTED,
        "fault_started_at": DETECTED - 5,
        "runbook": runbook_context("circuit_down"),
        "symptoms": [
            {"asset": "voice-gw", "type": "sip_trunk_error"},
            {"asset": "phone-01", "type": "phone_unreachable"},
        ],
        **extra,
    }
    return AlertEvent(
        7,
        kind,
        DETECTED + 60,
        severity,
        {"site": "lingshui", "asset": "mstp-voice", "fault_type": "circuit_down"},
        ctx,
        seq=1,
        assets=("mstp-voice", "voice-gw", "phone-01"),
    )


def test_every_fault_type_has_a_chinese_and_an_english_name():
    assert set(FAULT_NAMES) == set(FAULT_TYPES)
    for zh, en in FAULT_NAMES.values():
        assert zh and en and zh != en
    assert FAULT_NAMES["circuit_down"][0] == "专线中断"
    assert FAULT_NAMES["phones_unreachable"][0] == "办公固话不可达"


def test_opened_in_chinese_has_every_fact():
    title, body = render(opened(), "zh-CN", "noc-oncall", public_url="https://noc.example/")
    assert title == "【I级 特别重大】专线中断 mstp-voice"
    lines = body.splitlines()
    assert lines[0] == "【I级 特别重大】专线中断"
    assert "资产：MSTP语音专线（mstp-voice）" in lines
    assert "涉及：mstp-voice、voice-gw、phone-01" in lines
    assert "影响：市民来电受理" in lines
    assert "证据：icmp timeout (loss_ratio=1)" in lines
    assert "发现：2026-11-29 10:03:04" in lines  # Asia/Shanghai
    assert "预案：MSTP专线中断" in lines
    assert [ln.strip() for ln in lines if ln.startswith("  ")] == [
        "1. 复测确认",
        "2. 查看CE接口状态",
        "3. 路由跟踪定位",
    ]
    assert "关联症状（2）：voice-gw SIP中继故障；phone-01 固话不可达" in lines
    assert lines[-1] == "详情：https://noc.example/incidents/7"


def test_opened_in_english():
    title, body = render(opened(severity="P2"), "en", "noc-oncall")
    assert title == "[P2 major] circuit down mstp-voice"
    assert "Runbook: MSTP leased circuit down" in body
    assert "  1. Re-probe to confirm" in body
    assert "Detected: 2026-11-29 10:03:04 (Asia/Shanghai)" in body
    assert body.rstrip().endswith("Console: http://127.0.0.1:8080/incidents/7")


@pytest.mark.parametrize(
    ("recovery", "zh", "en"),
    [("automatic", "自动恢复", "automatic"), ("manual", "人工恢复", "manual")],
)
def test_recovered_says_duration_and_kind(recovery, zh, en):
    event = opened("recovered", duration_seconds=3725, recovery_kind=recovery)
    title, body = render(event, "zh-CN")
    assert title == "【I级 特别重大】[已恢复] 专线中断 mstp-voice"
    assert f"恢复：{zh}，历时1小时2分（2026-11-29 10:04:04）" in body
    assert "预案" not in body  # a recovery does not repeat the runbook
    assert "关联症状（2）" in body  # but says which symptoms ended with it
    assert f"Recovered: {en} after 1h 2m" in render(event, "en")[1]


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_event_kind_renders_in_both_languages(kind):
    event = opened(
        kind,
        **{
            "from": "II",
            "escalation_title": {"zh": "通知值班长", "en": "notify the lead"},
            "renotify_count": 2,
            "acknowledged_by": "张三",
            "duration_seconds": 90,
            "recovery_kind": "automatic",
        },
    )
    for locale in ("zh-CN", "en"):
        title, body = render(event, locale)
        assert 0 < len(title) <= TITLE_MAX and body.endswith("/incidents/7\n")
    assert "等级：II级 重大 → I级 特别重大" in render(opened("regraded", **{"from": "II"}))[1]
    assert (
        "升级：通知值班长"
        in render(opened("escalated", escalation_title={"zh": "通知值班长", "en": "x"}))[1]
    )
    assert "提醒：第2次，尚未确认" in render(opened("renotify", renotify_count=2))[1]


def test_long_titles_are_cut_cleanly():
    long_zh = AlertEvent(
        7,
        "opened",
        0.0,
        "I",
        {"asset": "mstp-voice-" + "x" * 80, "fault_type": "phones_unreachable"},
        {"fault_type": "circuit_degraded", "asset": "线路" * 40},
        assets=(),
    )
    title, _ = render(long_zh, "zh-CN")
    assert (
        len(title) == TITLE_MAX
        and title.endswith("…")
        and title.startswith("【I级 特别重大】专线质量劣化 线路")
    )
    long_en = AlertEvent(
        7,
        "recovered",
        0.0,
        "III",
        {"asset": "a-very-long-asset-name-" * 4},
        {"fault_type": "internet_degraded"},
    )
    title, _ = render(long_en, "en")
    assert len(title) <= TITLE_MAX and title.endswith("…")
    assert title.startswith("[P3 significant] RECOVERED: internet line degraded a-very-l…")
    assert truncate_title("a" * 58 + ", bcd") == "a" * 58 + "…"  # no dangling separator before "…"
    assert truncate_title("短标题") == "短标题"


def test_grouped_phones_show_a_count():
    event = AlertEvent(
        3,
        "opened",
        0.0,
        "III",
        {"asset": "lingshui", "fault_type": "phones_unreachable"},
        {},
        assets=tuple(f"phone-{i:02}" for i in range(1, 6)),
    )
    assert render(event)[0] == "【III级 较大】办公固话不可达 5部"
    assert render(event, "en")[0] == "[P3 significant] office phones unreachable ×5"


def test_a_batch_is_one_message_listing_every_event():
    g = AlertGrouper(AlertingConfig().route)
    a = AlertEvent(
        1,
        "opened",
        0.0,
        "III",
        {"site": "lingshui", "asset": "internet", "fault_type": "internet_degraded"},
        seq=1,
    )
    b = AlertEvent(
        2,
        "opened",
        5.0,
        "IV",
        {"site": "lingshui", "asset": "phone-03", "fault_type": "phone_unreachable"},
        seq=1,
    )
    g.add(a, 0.0)
    g.add(b, 5.0)
    [batch] = g.due(30.0)
    msg = to_message(batch, "zh-CN", public_url="http://noc:8080")
    assert msg.title == "【III级 较大】2条告警：互联网线路劣化 internet 等"
    assert "1) 【III级 较大】互联网线路劣化 internet" in msg.body
    assert "2) 【IV级 一般】固话不可达 phone-03" in msg.body
    assert "http://noc:8080/incidents/1" in msg.body and "http://noc:8080/incidents/2" in msg.body
    assert (msg.receiver, msg.severity, msg.event_kind, msg.incident_id) == (
        "noc-oncall",
        "III",
        "opened",
        None,
    )
    assert msg.dedup_key == batch.dedup_key


def test_templates_fail_loudly_on_unknown_names():
    env = environment()
    assert env.undefined is jinja2.StrictUndefined and not env.autoescape
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ first.no_such_key }}").render(first={})


def test_format_span():
    assert format_span(45, "zh-CN") == "45秒"
    assert format_span(750, "zh-CN") == "12分30秒"
    assert format_span(90061, "en") == "1d 1h 1m"
    assert format_span(0, "en") == "0s"


def test_warm_up_compiles_every_template_before_the_first_alert():
    from alerting.templates import environment, warm_up

    env = environment()
    env.cache.clear()
    warm_up()
    cached = {key[1] for key in env.cache}  # (loader ref, name) keys
    assert {"title.zh-CN.j2", "body.zh-CN.j2", "title.en.j2", "body.en.j2"} <= cached


def test_a_recovery_after_flapping_says_how_long_it_was_really_down():
    # issue 11 (10): open 208 s through two bounces, really down 18 s
    flap = {"outages": 2, "minutes": 3.5, "down_seconds": 18.0}
    event = opened("recovered", duration_seconds=208, recovery_kind="automatic", flapping=flap)
    assert "抖动：3.5分钟内中断2次，实际中断共18秒" in render(event, "zh-CN")[1]
    assert "Flapping, 2 outages in 3.5 min: really down 18s in all" in render(event, "en")[1]
    plain = render(opened("recovered", duration_seconds=9, recovery_kind="automatic"), "en")[1]
    assert "Flapping" not in plain
