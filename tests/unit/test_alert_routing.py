"""Route tree: Alertmanager matching semantics, inheritance, defaults, located config errors."""

from __future__ import annotations

import textwrap

import pytest
from pydantic import ValidationError

from alerting.config import (
    ASSET_KINDS,
    DEFAULT_ALERT_URL,
    ESCALATION_RECEIVERS,
    AlertingConfig,
    Route,
    alerting_reference_issues,
)
from alerting.model import AlertEvent
from alerting.routing import Timers, compile_tree, event_labels, route
from noc.core.yamlsource import load_located

TREE = Route.model_validate(
    {
        "receiver": "noc-oncall",
        "group_by": ["site"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "2h",
        "routes": [
            {
                "matchers": {"severity": ["P1", "II"]},
                "group_by": ["incident"],
                "group_wait": 0,
                "repeat_interval": "15m",
                "continue": True,
                "routes": [{"matchers": {"asset": "mstp-voice"}, "receiver": "noc-lead"}],
            },
            {"matchers": {"service": ["voice-intake"]}, "receiver": "voice-team"},
            {
                "matchers": {"fault_type": ["phones_unreachable", "phone_unreachable"]},
                "receiver": "desk",
            },
            {"matchers": {"asset_kind": "internet_line", "site": "lingshui"}, "receiver": "isp"},
        ],
    }
)


def labels(**kw: str) -> dict[str, str]:
    base = {
        "site": "lingshui",
        "asset": "x",
        "asset_kind": "router",
        "fault_type": "router_down",
        "severity": "IV",
        "services": "",
        "incident": "1",
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("lab", "expected"),
    [
        # nothing matches: the root itself
        (labels(), [("noc-oncall", "root")]),
        # level I: the first child matches and continues; its own child does not match → itself,
        # then the voice-intake sibling is tried too
        (
            labels(severity="I", services="voice-intake,staff-phones"),
            [("noc-oncall", "root.0"), ("voice-team", "root.1")],
        ),
        # P-aliases in labels, child of child matches (inherits group_by and timers), then continue
        (labels(severity="P2", asset="mstp-voice"), [("noc-lead", "root.0.0")]),
        # the asset matcher also looks at every involved asset
        (
            labels(severity="II", asset="lingshui", assets="mstp-voice,voice-gw"),
            [("noc-lead", "root.0.0")],
        ),
        # first matching sibling wins, no continue → stop
        (
            labels(services="voice-intake", fault_type="phones_unreachable"),
            [("voice-team", "root.1")],
        ),
        (labels(fault_type="phones_unreachable"), [("desk", "root.2")]),
        # two matchers on one route: both must hold
        (labels(asset_kind="internet_line"), [("isp", "root.3")]),
        (labels(asset_kind="internet_line", site="elsewhere"), [("noc-oncall", "root")]),
    ],
)
def test_route_matching(lab, expected):
    assert [(m.receiver, m.route_id) for m in route(lab, TREE)] == expected


def test_children_inherit_unset_timers_receiver_and_group_by():
    tree = compile_tree(TREE)
    lead = tree.children[0].children[0]
    assert lead.timers == Timers(group_wait=0.0, group_interval=300.0, repeat_interval=900.0)
    assert lead.group_by == ("incident",)
    assert tree.children[1].timers == Timers(30.0, 300.0, 7200.0)
    assert tree.children[1].group_by == ("site",)
    voice = Route.model_validate({"receiver": "a", "routes": [{"matchers": {"severity": "I"}}]})
    assert route(labels(severity="I"), voice)[0].receiver == "a"  # receiver inherited


def test_group_key_is_route_plus_group_by_values():
    [m] = route(
        labels(severity="I", incident="42"),
        Route.model_validate(
            {
                "receiver": "a",
                "routes": [{"matchers": {"severity": "I"}, "group_by": ["incident", "fault_type"]}],
            }
        ),
    )
    assert m.group_key == 'root.0{incident="42",fault_type="router_down"}'
    [m2] = route(labels(severity="I", incident="43"), TREE.model_copy(update={"routes": []}))
    [m3] = route(labels(severity="IV", incident="44"), TREE.model_copy(update={"routes": []}))
    assert m2.group_key == m3.group_key == 'root{site="lingshui"}'


@pytest.mark.parametrize(
    ("severity", "timers"),
    [
        ("I", Timers(0.0, 1.0, 900.0)),
        ("P2", Timers(0.0, 1.0, 900.0)),
        ("III", Timers(30.0, 300.0, 7200.0)),
        ("IV", Timers(30.0, 300.0, 7200.0)),
    ],
)
def test_default_tree_sends_i_ii_at_once_and_groups_iii_iv(severity, timers):
    cfg = AlertingConfig()
    [m] = route(labels(severity=severity), cfg.route)
    assert m.receiver == "noc-oncall"
    assert m.timers == timers


def test_event_labels_add_incident_severity_and_assets():
    ev = AlertEvent(9, "opened", 0.0, "P1", {"site": "lingshui"}, assets=("a", "b"))
    assert event_labels(ev) == {
        "site": "lingshui",
        "incident": "9",
        "severity": "I",
        "assets": "a,b",
    }


def test_defaults_work_without_any_section(monkeypatch):
    monkeypatch.delenv("NOC_ALERT_URL", raising=False)
    cfg = AlertingConfig()
    assert cfg.receiver_names() >= set(ESCALATION_RECEIVERS)
    assert cfg.receiver("noc-oncall").urls[0].get_secret_value() == DEFAULT_ALERT_URL
    monkeypatch.setenv("NOC_ALERT_URL", "wecombot://abc")
    assert AlertingConfig().receiver("noc-oncall").urls[0].get_secret_value() == "wecombot://abc"
    src = load_located("site: x\n", "noc.yaml")
    assert alerting_reference_issues(cfg, src, [], [], ESCALATION_RECEIVERS) == []


def test_shipped_runbooks_receivers_exist_in_defaults():
    from incident_runbooks.loader import load_runbooks

    assert (
        load_runbooks().receivers()
        == set(ESCALATION_RECEIVERS)
        <= AlertingConfig().receiver_names()
    )


def test_asset_kinds_match_the_inventory():
    from noc.config import ASSET_KINDS as INVENTORY_KINDS

    assert ASSET_KINDS == INVENTORY_KINDS


def test_pass_one_accepts_aliases_and_rejects_bad_values():
    r = Route.model_validate({"receiver": "a", "continue": True, "matchers": {"severity": "P3"}})
    assert r.continue_ and r.matchers.severity == ["III"]
    with pytest.raises(ValidationError):
        Route.model_validate({"receiver": "a", "matchers": {"severity": "P9"}})
    with pytest.raises(ValidationError):
        Route.model_validate({"receiver": "a", "matchers": {"colour": "red"}})
    with pytest.raises(ValidationError):
        AlertingConfig.model_validate(
            {"receivers": [{"name": "a", "urls": []}], "route": {"receiver": "a"}}
        )
    with pytest.raises(ValidationError, match="Apprise URL"):
        AlertingConfig.model_validate(
            {"receivers": [{"name": "a", "urls": ["not a url"]}], "route": {"receiver": "a"}}
        )


BAD = textwrap.dedent("""\
    site: {name: lingshui}
    alerting:
      receivers:
        - {name: noc-oncall, urls: ["json://127.0.0.1:9099/a"]}
        - name: noc-oncall
          urls: ["json://127.0.0.1:9099/b", "wecombot://"]
      route:
        receiver: noc-oncal
        group_by: [site, colour]
        routes:
          - matchers: {asset: [mstp-voice, mstp-vioce], service: voice-intak, fault_type: [circuit_dwn]}
            receiver: noc-lead
""")


def test_reference_errors_are_located():
    src = load_located(BAD, "noc.yaml")
    cfg = AlertingConfig.model_validate(src.data["alerting"])
    issues = alerting_reference_issues(
        cfg,
        src,
        ["mstp-voice", "voice-gw"],
        ["voice-intake"],
        {"noc-oncall", "noc-lead", "purchaser-contact"},
    )
    assert [str(i) for i in issues] == [
        "noc.yaml:5 alerting.receivers[1].name: duplicate receiver name 'noc-oncall' (first at line 4)",
        "noc.yaml:6 alerting.receivers[1].urls[1]: Apprise does not understand this wecombot:// URL "
        "(see docs/alerting.md for WeCom, DingTalk, Feishu, e-mail and webhook forms)",
        "noc.yaml:8 alerting.route.receiver: unknown receiver 'noc-oncal' (did you mean 'noc-oncall'?)",
        "noc.yaml:9 alerting.route.group_by[1]: unknown label 'colour'; labels: incident, site, asset, "
        "asset_kind, fault_type, severity, services",
        "noc.yaml:12 alerting.route.routes[0].receiver: unknown receiver 'noc-lead'",
        "noc.yaml:11 alerting.route.routes[0].matchers.asset[1]: unknown asset 'mstp-vioce' "
        "(did you mean 'mstp-voice'?)",
        "noc.yaml:11 alerting.route.routes[0].matchers.service: unknown service 'voice-intak' "
        "(did you mean 'voice-intake'?)",
        "noc.yaml:11 alerting.route.routes[0].matchers.fault_type[0]: unknown fault type 'circuit_dwn' "
        "(did you mean 'circuit_down'?)",
        "noc.yaml:3 alerting.receivers: runbook escalation notifies receiver 'noc-lead', which is not defined here",
        "noc.yaml:3 alerting.receivers: runbook escalation notifies receiver 'purchaser-contact', "
        "which is not defined here",
    ]


@pytest.mark.parametrize(
    "url",
    [
        "wecombot://0123456789abcdef",
        "dingtalk://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/SECret",
        "feishu://abcdef123456",
        "mailtos://noc:pw@smtp.example.com?to=oncall@example.com",
        "json://127.0.0.1:9099/noc",
        "form://127.0.0.1:9098/sms?:to=13800000000",
    ],
)
def test_documented_channel_urls_are_accepted(url):
    src = load_located("alerting: {}\n", "noc.yaml")
    cfg = AlertingConfig.model_validate(
        {"receivers": [{"name": "noc-oncall", "urls": [url]}], "route": {"receiver": "noc-oncall"}}
    )
    assert alerting_reference_issues(cfg, src, [], []) == []


def test_root_needs_receiver_and_no_matchers():
    src = load_located("alerting:\n  route:\n    matchers: {severity: I}\n", "noc.yaml")
    cfg = AlertingConfig.model_validate(src.data["alerting"])
    assert [str(i) for i in alerting_reference_issues(cfg, src, [], [])] == [
        "noc.yaml:2 alerting.route: the root route needs a receiver (the default for every alert)",
        "noc.yaml:3 alerting.route.matchers: the root route matches every alert; put matchers on its child routes",
    ]
