"""The console's pure parts: roles and permissions, the message catalog, number formats, the
board's service tiles, and the live feed's hub."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from noc.core.vocabulary import FAULT_NAMES, FAULT_TYPES, LEVELS
from noc.incident_view import EVENT_ZH
from noc.runtime.events import EventHub
from noc.web.console import formats
from noc.web.console.board import CheckState, asset_lines, service_tiles
from noc.web.console.messages import MESSAGES, translate
from noc.web.console.pages import NAV
from noc.web.permissions import PERMISSIONS, ROLES, allows

TEMPLATES = Path(__file__).resolve().parents[2] / "noc" / "web" / "templates" / "console"


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        ("viewer", "read", True),
        ("viewer", "ack", False),
        ("operator", "ack", True),
        ("operator", "diagnose", True),
        ("operator", "close", False),
        ("operator", "step.override", False),
        ("lead", "close", True),
        ("lead", "regrade", True),
        ("lead", "maintenance.write", True),
        ("lead", "token.manage", False),
        ("admin", "close", True),
        ("admin", "token.manage", True),
        ("admin", "user.manage", False),
        ("admin", "audit.read", False),
        ("security", "user.manage", True),
        ("security", "ack", False),
        ("security", "system.view", True),
        ("auditor", "audit.read", True),
        ("auditor", "ack", False),
        ("auditor", "maintenance.write", False),
        (None, "read", False),
        (None, "public", True),
        ("root", "read", False),
    ],
)
def test_who_may_do_what(role, permission, allowed):
    assert allows(role, permission) is allowed


def test_no_separated_role_acts_on_operations():
    from noc.identity.roles import OPERATIONAL_WRITES

    operational = sorted(OPERATIONAL_WRITES)
    for role in ("security", "auditor"):
        assert not any(allows(role, p) for p in operational)


def _template_keys() -> tuple[set[str], set[str]]:
    literal, prefixes = set(), set()
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        literal |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_]+)'\s*[,)]", text))
        prefixes |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_]*)' ~", text))
    return literal, prefixes


def test_every_text_in_the_templates_is_in_the_catalog_in_both_languages():
    literal, prefixes = _template_keys()
    assert literal, "no t('…') found: the scan is broken"
    missing = sorted(k for k in literal if k not in MESSAGES)
    assert missing == []
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in MESSAGES), prefix
    for key, (zh, en) in MESSAGES.items():
        assert zh and en, key


def test_every_message_key_the_code_names_is_in_the_catalog():
    code = TEMPLATES.parents[1] / "console"
    keys = set()
    for path in code.glob("*.py"):
        keys |= set(re.findall(r'"((?:error|login|alerting)\.[a-z_]+)"', path.read_text("utf-8")))
    assert {"error.needs_roles", "login.pending", "alerting.test_body"} <= keys
    unknown = [k for k in keys if k not in MESSAGES and k not in PERMISSIONS]
    assert sorted(k for k in unknown if not k.endswith("html")) == []


def test_the_domain_vocabularies_are_all_named():
    for fault in FAULT_TYPES:
        assert f"fault.{fault}" in MESSAGES and fault in FAULT_NAMES
    for level in LEVELS:
        assert translate(f"level.{level}", "zh-CN").startswith(f"{level}级")
    for kind in EVENT_ZH:
        assert translate(f"event.{kind}", "zh-CN") == EVENT_ZH[kind]
        assert translate(f"event.{kind}", "en") != EVENT_ZH[kind]
    for role in ROLES:
        assert f"role.{role}" in MESSAGES
    for state in ("UP", "DEGRADED", "DOWN", "UNKNOWN"):
        assert f"state.{state}" in MESSAGES


def test_templates_carry_no_chinese_of_their_own():
    """Chinese text lives in the catalog; a template with CJK characters grew a string."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    offenders = [p.name for p in TEMPLATES.glob("*.html") if cjk.search(p.read_text("utf-8"))]
    assert offenders == []


def test_the_navigation_table():
    keys = [p.key for p in NAV]
    assert keys[0] == "board" and len(set(keys)) == len(keys)
    assert {p.path for p in NAV} >= {"/", "/incidents", "/assets", "/maintenance", "/sla"}
    assert [p.name_zh for p in NAV if p.nav][:3] == ["总览", "故障", "资产"]


@pytest.mark.parametrize(
    ("function", "value", "text"),
    [
        (formats.ms, 0.0123, "12.3 ms"),
        (formats.ms, None, "–"),
        (formats.ms, float("nan"), "–"),
        (formats.pct, 0.99951, "100.0%"),
        (formats.pct, 0.25, "25.0%"),
        (formats.hours, 7200, "2.0 h"),
        (formats.duration, 45, "45 s"),
        (formats.duration, 725, "12 min 5 s"),
        (formats.duration, 12000, "3 h 20 min"),
        (formats.duration, 187200, "2 d 4 h"),
        (formats.clock, 299, "04:59"),
        (formats.clock, -62, "01:02"),
        (formats.clock, 3723, "1:02:03"),
        (formats.bandwidth, 10_000_000, "10M"),
    ],
)
def test_formats(function, value, text):
    assert function(value) == text


def _states(lingshui_config, **overrides):
    out = []
    for asset, check in lingshui_config.iter_checks():
        state, reason = overrides.get(f"{asset.name}/{check.check_name}", ("UP", ""))
        out.append(CheckState(asset.name, check.check_name, check.type, state, 1.0, reason))
    return out


def test_tiles_all_green_then_grey_before_any_result(lingshui_config):
    tiles = service_tiles(lingshui_config, _states(lingshui_config), "zh-CN")
    assert [t.title for t in tiles] == [
        "市民来电受理",
        "省平台工单流转",
        "互联网及多媒体渠道",
        "办公固话",
    ]
    assert {t.status for t in tiles} == {"green"}
    unknown = [
        CheckState(s.asset, s.check, s.check_type, "UNKNOWN") for s in _states(lingshui_config)
    ]
    assert {t.status for t in service_tiles(lingshui_config, unknown, "en")} == {"grey"}


def test_a_dead_voice_circuit_turns_voice_intake_red_with_its_reason(lingshui_config):
    states = _states(lingshui_config, **{"mstp-voice/icmp": ("DOWN", "3 probes lost")})
    tiles = {t.name: t for t in service_tiles(lingshui_config, states, "zh-CN")}
    assert tiles["voice-intake"].status == "red"
    assert tiles["voice-intake"].reasons[0][1] == "3 probes lost"
    assert "MSTP语音专线" in tiles["voice-intake"].reasons[0][0]
    assert tiles["ticket-exchange"].status == "green"


def test_one_phone_down_is_amber_and_a_dead_router_reddens_everything(lingshui_config):
    states = _states(lingshui_config, **{"phone-03/sip": ("DOWN", "timeout")})
    tiles = {t.name: t.status for t in service_tiles(lingshui_config, states, "en")}
    assert tiles["staff-phones"] == "amber" and tiles["voice-intake"] == "green"
    states = _states(lingshui_config, **{"ce-router/icmp": ("DOWN", "no reply")})
    tiles = {t.name: t.status for t in service_tiles(lingshui_config, states, "en")}
    assert tiles["voice-intake"] == tiles["ticket-exchange"] == tiles["internet-channels"] == "red"


def test_loss_on_a_circuit_is_amber(lingshui_config):
    states = _states(lingshui_config, **{"mstp-ticket/icmp": ("DEGRADED", "loss 8%")})
    tiles = {t.name: t for t in service_tiles(lingshui_config, states, "en")}
    assert tiles["ticket-exchange"].status == "amber"
    lines = {a.name: a.status for a in asset_lines(lingshui_config, states, "en")}
    assert lines["mstp-ticket"] == "amber" and lines["mstp-voice"] == "green"


async def test_the_hub_fans_out_and_a_reader_that_falls_behind_gets_one_resync():
    hub = EventHub(queue_size=2)
    async with hub.subscribe() as fast, hub.subscribe() as slow:
        hub.publish("transition", {"asset": "a"})
        assert (await fast.get()).data == {"asset": "a"}
        for i in (1, 2, 3):
            hub.publish("incident", {"id": i})
        assert [(await slow.get()).kind for _ in range(3)] == ["transition", "incident", "resync"]
        assert [(await fast.get()).data.get("id") for _ in range(3)] == [1, 2, None]
        assert hub.subscribers == 2
        hub.close()
        assert (await asyncio.wait_for(fast.get(), 1)).kind == "closing"
        assert (await asyncio.wait_for(slow.get(), 1)).kind == "closing"
    assert hub.subscribers == 0
