"""Which faults a set of check states means, per asset kind (table-driven)."""

import pytest

from noc.engine.faults import CheckView, classify
from noc.engine.health import State

UP, DOWN, DEG, UNK = State.UP, State.DOWN, State.DEGRADED, State.UNKNOWN


def views(asset, **states):
    out = {}
    for check, spec in states.items():
        state, degraded_by = spec if isinstance(spec, tuple) else (spec, frozenset())
        ctype = "sip" if check in ("sip", "trunk") else check
        out[check] = CheckView(
            asset, check, ctype, state, 100.0 + len(out), "r", False, frozenset(degraded_by)
        )
    return out


@pytest.mark.parametrize(
    ("kind", "asset", "states", "expected"),
    [
        ("mstp_circuit", "c", {"icmp": UP, "snmp": UP}, []),
        ("mstp_circuit", "c", {"icmp": DOWN, "snmp": UP}, [("circuit_down", "outage")]),
        ("mstp_circuit", "c", {"icmp": UNK, "snmp": DOWN}, [("circuit_down", "outage")]),
        ("mstp_circuit", "c", {"icmp": UP, "snmp": DOWN}, []),  # stale ifOperStatus: pings win
        (
            "mstp_circuit",
            "c",
            {"icmp": (DEG, {"loss_ratio"}), "snmp": UP},
            [("circuit_degraded", "degraded")],
        ),
        (
            "mstp_circuit",
            "c",
            {"icmp": UP, "snmp": (DEG, {"max_utilisation_ratio"})},
            [("circuit_congested", "congested")],
        ),
        ("internet_line", "i", {"icmp": DOWN}, [("internet_down", "outage")]),
        (
            "internet_line",
            "i",
            {"icmp": UP, "snmp": (DEG, {"max_utilisation_ratio"})},
            [("internet_degraded", "congested")],
        ),
        (
            "voice_gateway",
            "gw",
            {"icmp": UP, "sip": DOWN, "trunk": UP},
            [("gateway_unreachable", "outage")],
        ),
        (
            "voice_gateway",
            "gw",
            {"icmp": DOWN, "sip": DOWN, "trunk": DOWN},
            [("gateway_unreachable", "outage")],
        ),
        (
            "voice_gateway",
            "gw",
            {"icmp": UP, "sip": UP, "trunk": DOWN},
            [("sip_trunk_error", "outage")],
        ),
        (
            "voice_gateway",
            "gw",
            {"icmp": DOWN, "sip": UP, "trunk": UP},
            [("gateway_degraded", "minor")],
        ),
        ("phone", "p", {"icmp": DOWN, "sip": UP}, []),  # ignores ping, answers SIP: fine
        ("phone", "p", {"icmp": UP, "sip": DOWN}, [("phone_unreachable", "outage")]),
        ("phone", "p", {"icmp": DOWN}, [("phone_unreachable", "outage")]),
        ("router", "r", {"icmp": DOWN, "snmp": DOWN}, [("router_down", "outage")]),
        ("router", "r", {"icmp": UP, "snmp": DOWN}, [("snmp_agent_lost", "minor")]),
    ],
)
def test_classify(kind, asset, states, expected):
    faults = classify(kind, asset, views(asset, **states))
    assert [(f.type, f.fault_class) for f in faults] == expected
    assert all(f.key == f"{f.type}:{asset}" for f in faults)
