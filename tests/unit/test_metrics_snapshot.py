"""The /metrics snapshot, pure: updates in, exposition text out, parsed back with
prometheus_client's own parser (both the registry's ``generate_latest`` view and the
pre-rendered fast path the service serves)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from noc.metrics import Metrics
from noc.metrics.snapshot import CHECK_STATES, MetricsSnapshot, snapshot_for_config
from probes.base import ProbeResult, ResultCode
from sla.gauges import SlaGauges, SlaSnapshot, SlaTargets

SITE = "lab"
T = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC).timestamp()


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate series {key}"
            out[key] = s.value
    return out


def scrape(snap: MetricsSnapshot) -> dict[tuple[str, frozenset], float]:
    """Through a registry, the ordinary prometheus_client way."""
    registry = CollectorRegistry()
    registry.register(snap)
    return samples(generate_latest(registry).decode())


def series(data: dict, name: str, **labels: str) -> dict[frozenset, float]:
    """Samples of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return {k[1]: v for k, v in data.items() if k[0] == name and want <= k[1]}


def value(data: dict, name: str, **labels: str) -> float:
    [(_, v)] = series(data, name, **labels).items()
    return v


def lab() -> MetricsSnapshot:
    snap = MetricsSnapshot(SITE)
    snap.add_check("gw", "icmp", "icmp", "voice_gateway")
    snap.add_check("gw", "sip", "sip", "voice_gateway")
    snap.add_check("gw", "trunk", "sip", "voice_gateway")
    snap.add_check("ce", "snmp", "snmp", "router")
    snap.add_check("line", "snmp", "snmp", "mstp_circuit")
    return snap


def icmp_ok(rtts: list[float]) -> ProbeResult:
    avg = sum(rtts) / len(rtts)
    jitter = sum(abs(b - a) for a, b in zip(rtts, rtts[1:], strict=False)) / (len(rtts) - 1)
    return ProbeResult.success(
        kind="icmp",
        started_at=T,
        duration_seconds=0.25,
        values={
            "sent": 3,
            "received": 3,
            "loss_ratio": 0.0,
            "rtt_avg_seconds": avg,
            "jitter_seconds": jitter,
        },
    )


def test_icmp_result_sets_up_rtt_loss_jitter_duration_and_time():
    snap = lab()
    snap.observe_result(("gw", "icmp"), icmp_ok([0.001, 0.003, 0.002]))
    data = scrape(snap)
    labels = {"site": SITE, "asset": "gw", "kind": "voice_gateway", "check": "icmp"}
    assert value(data, "noc_probe_up", **labels) == 1.0
    assert value(data, "noc_probe_rtt_seconds", **labels) == pytest.approx(0.002)
    assert value(data, "noc_probe_loss_ratio", **labels) == 0.0
    assert value(data, "noc_probe_jitter_seconds", **labels) == pytest.approx(0.0015)
    assert value(data, "noc_probe_duration_seconds", **labels) == 0.25
    assert value(data, "noc_probe_last_timestamp_seconds", **labels) == T
    # the other checks have not been probed: no probe samples invented for them
    assert set(series(data, "noc_probe_up")) == {frozenset(labels.items())}


def test_a_dead_target_drops_rtt_and_jitter_instead_of_keeping_stale_ones():
    snap = lab()
    snap.observe_result(("gw", "icmp"), icmp_ok([0.001, 0.003, 0.002]))
    snap.observe_result(
        ("gw", "icmp"),
        ProbeResult.failure(
            ResultCode.TIMEOUT,
            "no reply",
            kind="icmp",
            started_at=T + 1,
            values={"sent": 3, "received": 0, "loss_ratio": 1.0},
        ),
    )
    data = scrape(snap)
    assert value(data, "noc_probe_up", asset="gw", check="icmp") == 0.0
    assert value(data, "noc_probe_loss_ratio", asset="gw", check="icmp") == 1.0
    assert series(data, "noc_probe_rtt_seconds") == {}
    assert series(data, "noc_probe_jitter_seconds") == {}
    assert value(data, "noc_probe_last_timestamp_seconds", asset="gw", check="icmp") == T + 1


def test_sip_status_code_and_response_time_and_zero_without_response():
    snap = lab()
    ok = ProbeResult.success(
        "200 OK", kind="sip", started_at=T, status_code=200, timings={"rtt": 0.004}
    )
    busy = ProbeResult.failure(
        ResultCode.ERROR_RESPONSE,
        "503",
        kind="sip",
        started_at=T,
        status_code=503,
        timings={"rtt": 0.006},
    )
    snap.observe_result(("gw", "sip"), ok)
    snap.observe_result(("gw", "trunk"), busy)
    data = scrape(snap)
    assert value(data, "noc_sip_status_code", check="sip") == 200
    assert value(data, "noc_probe_rtt_seconds", check="sip") == pytest.approx(0.004)
    assert value(data, "noc_sip_status_code", check="trunk") == 503
    assert value(data, "noc_probe_up", check="trunk") == 0.0

    snap.observe_result(
        ("gw", "sip"),
        ProbeResult.failure(ResultCode.TIMEOUT, "no final response", kind="sip", started_at=T + 5),
    )
    data = scrape(snap)
    assert value(data, "noc_sip_status_code", check="sip") == 0
    assert series(data, "noc_probe_rtt_seconds", check="sip") == {}
    assert series(data, "noc_probe_loss_ratio") == {}  # SIP has no loss figure


def snmp_ok(values: dict[str, float]) -> ProbeResult:
    return ProbeResult.success("2 interface(s)", kind="snmp", started_at=T, values=values)


def test_snmp_interface_rates_utilisation_and_oper_status_per_direction():
    snap = lab()
    snap.observe_result(
        ("ce", "snmp"),
        snmp_ok(
            {
                "sys_uptime_seconds": 100.0,
                "interfaces_reported": 2.0,
                "if.mstp-voice.oper_up": 1.0,
                "if.mstp-voice.admin_up": 1.0,
                "if.mstp-voice.bandwidth_bps": 1e7,
                "if.mstp-voice.in_bps": 2.5e6,
                "if.mstp-voice.out_bps": 1e6,
                "if.mstp-voice.in_utilisation_ratio": 0.25,
                "if.mstp-voice.out_utilisation_ratio": 0.1,
                "if.Gi0/0.100.oper_up": 0.0,  # a sub-interface: dots in the name
            }
        ),
    )
    data = scrape(snap)
    base = {"site": SITE, "asset": "ce", "kind": "router", "check": "snmp"}
    assert (
        value(
            data,
            "noc_interface_rate_bits_per_second",
            **base,
            interface="mstp-voice",
            direction="in",
        )
        == 2.5e6
    )
    assert (
        value(
            data,
            "noc_interface_rate_bits_per_second",
            **base,
            interface="mstp-voice",
            direction="out",
        )
        == 1e6
    )
    assert (
        value(
            data, "noc_interface_utilisation_ratio", **base, interface="mstp-voice", direction="in"
        )
        == 0.25
    )
    assert (
        value(
            data, "noc_interface_utilisation_ratio", **base, interface="mstp-voice", direction="out"
        )
        == 0.1
    )
    assert value(data, "noc_interface_oper_up", **base, interface="mstp-voice") == 1.0
    assert value(data, "noc_interface_oper_up", **base, interface="Gi0/0.100") == 0.0
    assert series(data, "noc_interface_rate_bits_per_second", interface="Gi0/0.100") == {}
    assert "direction" not in dict(next(iter(series(data, "noc_interface_oper_up"))))


def test_interface_series_vanish_when_the_agent_stops_answering_or_stops_reporting_them():
    snap = lab()
    snap.observe_result(
        ("line", "snmp"),
        snmp_ok({"if.lo.oper_up": 1.0, "if.lo.in_bps": 8.0, "if.lo.out_bps": 16.0}),
    )
    snap.observe_result(("ce", "snmp"), snmp_ok({"if.eth0.oper_up": 1.0, "if.eth0.in_bps": 1.0}))
    snap.observe_result(
        ("line", "snmp"), snmp_ok({"if.lo.oper_up": 1.0})
    )  # e.g. after an agent restart
    data = scrape(snap)
    assert series(data, "noc_interface_rate_bits_per_second", asset="line") == {}
    assert value(data, "noc_interface_oper_up", asset="line", interface="lo") == 1.0

    snap.observe_result(
        ("line", "snmp"), ProbeResult.failure(ResultCode.TIMEOUT, "no answer", kind="snmp")
    )
    data = scrape(snap)
    assert series(data, "noc_interface_oper_up", asset="line") == {}
    assert value(data, "noc_probe_up", asset="line") == 0.0
    # another check's interfaces are untouched
    assert (
        value(
            data, "noc_interface_rate_bits_per_second", asset="ce", interface="eth0", direction="in"
        )
        == 1.0
    )


def test_check_state_is_one_hot_flapping_shown_and_asset_up_follows_down_checks():
    snap = lab()
    data = scrape(snap)
    states = series(data, "noc_check_state", asset="gw", check="sip")
    assert {dict(k)["state"] for k in states} == set(CHECK_STATES)
    assert value(data, "noc_check_state", asset="gw", check="sip", state="unknown") == 1.0
    assert value(data, "noc_asset_up", asset="gw", kind="voice_gateway") == 1.0

    snap.set_check_state(("gw", "icmp"), "UP")
    snap.set_check_state(("gw", "sip"), "DOWN")
    data = scrape(snap)
    assert {
        dict(k)["state"]: v
        for k, v in series(data, "noc_check_state", asset="gw", check="sip").items()
    } == {"unknown": 0, "up": 0, "degraded": 0, "down": 1, "flapping": 0}
    assert value(data, "noc_asset_up", asset="gw") == 0.0
    assert value(data, "noc_asset_up", asset="ce") == 1.0

    snap.set_check_state(("gw", "sip"), "DOWN", flapping=True)
    data = scrape(snap)
    assert value(data, "noc_check_state", asset="gw", check="sip", state="flapping") == 1.0
    assert sum(series(data, "noc_check_state", asset="gw", check="sip").values()) == 1.0
    assert value(data, "noc_asset_up", asset="gw") == 0.0  # still down underneath the flaps

    snap.set_check_state(("gw", "sip"), "UP")
    snap.set_check_state(("gw", "trunk"), "DEGRADED")
    assert value(scrape(snap), "noc_asset_up", asset="gw") == 1.0  # degraded is not down
    with pytest.raises(ValueError, match="unknown check state 'sideways'"):
        snap.set_check_state(("gw", "sip"), "sideways")


def test_open_incidents_always_show_all_four_levels():
    snap = lab()
    data = scrape(snap)
    assert {dict(k)["severity"]: v for k, v in series(data, "noc_incidents_open").items()} == {
        "I": 0,
        "II": 0,
        "III": 0,
        "IV": 0,
    }
    snap.set_open_incidents({"I": 1, "III": 2})
    snap.set_open_incidents({"III": 2, "IV": 1})  # the level-I incident recovered
    data = scrape(snap)
    assert {
        dict(k)["severity"]: v for k, v in series(data, "noc_incidents_open", site=SITE).items()
    } == {"I": 0, "II": 0, "III": 2, "IV": 1}
    with pytest.raises(ValueError, match="unknown severity"):
        snap.set_open_incidents({"P1": 1})


def sla_snapshot(scopes: list[str], at: dt.datetime) -> SlaSnapshot:
    rows = []
    for scope in scopes:
        quiet = scope.startswith("site:")  # no failure this month: MTBF is a lower bound
        rows.append(
            SlaGauges(
                SITE,
                scope,
                "month",
                availability_ratio=0.9995,
                failures=0 if quiet else 2,
                mtbf_seconds=1_296_000.0,
                mtbf_lower_bound=quiet,
                mttr_seconds={"automatic": 600.0},
                breaches={"automatic": 0, "manual": 1},
                error_budget_remaining_ratio=0.5,
                response_timeliness_ratio=None,
                alarm_delay_seconds={"0.5": 12.0, "1": 40.0},
            )
        )
        rows.append(
            SlaGauges(
                SITE,
                scope,
                "30d",
                availability_ratio=1.0,
                failures=0,
                mtbf_seconds=None,
                mttr_seconds={},
                breaches={"automatic": 0, "manual": 0},
                error_budget_remaining_ratio=1.0,
                response_timeliness_ratio=0.75,
                alarm_delay_seconds={},
                burn_rate={"5m": 0.0, "1h": 14.4},
            )
        )
    targets = SlaTargets(0.999, 600 * 3600.0, {"automatic": 900.0, "manual": 86400.0})
    return SlaSnapshot(at, targets, tuple(rows))


def test_sla_gauges_from_a_hand_built_snapshot():
    snap = lab()
    at = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)
    snap.set_sla(sla_snapshot(["site:lab", "service:voice-intake"], at))
    data = scrape(snap)
    m = {"site": SITE, "scope": "service:voice-intake", "window": "month"}
    d = {**m, "window": "30d"}
    assert value(data, "noc_sla_availability_ratio", **m) == 0.9995
    assert value(data, "noc_sla_failures", **m) == 2
    assert value(data, "noc_sla_mtbf_seconds", **m) == 1_296_000.0
    assert series(data, "noc_sla_mtbf_seconds", **d) == {}  # no operating time: no figure, not 0
    assert (
        value(data, "noc_sla_mtbf_lower_bound", **m),
        value(data, "noc_sla_mtbf_lower_bound", **{**m, "scope": "site:lab"}),
        series(data, "noc_sla_mtbf_lower_bound", **d),
    ) == (0, 1, {})
    assert value(data, "noc_sla_mttr_seconds", **m, recovery="automatic") == 600.0
    assert series(data, "noc_sla_mttr_seconds", **m, recovery="manual") == {}
    assert value(data, "noc_sla_breaches", **m, recovery="manual") == 1
    assert value(data, "noc_sla_breaches", **d, recovery="automatic") == 0
    assert value(data, "noc_sla_error_budget_remaining_ratio", **m) == 0.5
    assert series(data, "noc_sla_response_timeliness_ratio", **m) == {}
    assert value(data, "noc_sla_response_timeliness_ratio", **d) == 0.75
    assert value(data, "noc_sla_alarm_delay_seconds", **m, quantile="0.5") == 12.0
    assert value(data, "noc_sla_alarm_delay_seconds", **m, quantile="1") == 40.0
    burn = series(data, "noc_sla_burn_rate", scope="site:lab")
    assert {dict(k)["lookback"]: v for k, v in burn.items()} == {"5m": 0.0, "1h": 14.4}
    assert all("window" not in dict(k) for k in burn)
    assert value(data, "noc_sla_availability_objective_ratio", site=SITE) == 0.999
    assert value(data, "noc_sla_mtbf_target_seconds", site=SITE) == 2_160_000.0
    assert value(data, "noc_sla_mttr_target_seconds", recovery="automatic") == 900.0
    assert value(data, "noc_sla_mttr_target_seconds", recovery="manual") == 86400.0
    assert value(data, "noc_sla_last_computed_timestamp_seconds", site=SITE) == at.timestamp()

    # the next refresh replaces everything: a scope that went away leaves no stale series
    snap.set_sla(sla_snapshot(["site:lab"], at + dt.timedelta(minutes=1)))
    data = scrape(snap)
    assert series(data, "noc_sla_availability_ratio", scope="service:voice-intake") == {}
    assert series(data, "noc_sla_breaches", scope="service:voice-intake") == {}
    assert value(data, "noc_sla_last_computed_timestamp_seconds") == at.timestamp() + 60


def filled(snap: MetricsSnapshot) -> MetricsSnapshot:
    snap.observe_result(("gw", "icmp"), icmp_ok([0.001, 0.002, 0.004]))
    snap.observe_result(
        ("gw", "sip"),
        ProbeResult.success(kind="sip", started_at=T, status_code=200, timings={"rtt": 0.003}),
    )
    snap.observe_result(
        ("ce", "snmp"), snmp_ok({'if.eth"0\\x\n.in_bps': 1e9, "if.eth1.oper_up": 1.0})
    )
    snap.set_check_state(("gw", "sip"), "DEGRADED")
    snap.set_open_incidents({"II": 3})
    snap.set_sla(sla_snapshot(["site:lab"], dt.datetime(2026, 11, 29, tzinfo=dt.UTC)))
    snap.set_contract("line", "mstp_circuit", "lo", 1e7)
    return snap


def test_the_fast_exposition_says_exactly_what_the_registry_says():
    snap = filled(lab())
    fast = snap.render()
    assert samples(fast) == scrape(snap)
    # label values are escaped (an interface name is whatever the agent calls it)
    assert value(samples(fast), "noc_interface_rate_bits_per_second", interface='eth"0\\x\n') == 1e9
    assert len(samples(fast)) == snap.sample_count()


def test_service_exposition_has_the_old_instruments_and_the_snapshot(lingshui_config):
    metrics = Metrics(lingshui_config)
    key = ("mstp-voice", "icmp")
    metrics.snapshot.observe_result(key, icmp_ok([0.010, 0.012, 0.011]))
    body = metrics.exposition().decode()
    data = samples(body)
    assert value(data, "noc_assets", kind="phone") == 19
    assert value(
        data, "noc_probe_rtt_seconds", asset="mstp-voice", kind="mstp_circuit", check="icmp"
    ) == pytest.approx(0.011)
    assert _same_but_process_figures(data, samples(generate_latest(metrics.registry).decode()))
    names = {f.name for f in text_string_to_metric_families(body)}
    assert {"noc_build_info", "noc_alert_queue_depth", "noc_store_up", "noc_check_state"} <= names


def _same_but_process_figures(a: dict, b: dict) -> bool:
    """Process CPU/memory and GC counters move between two scrapes; everything else must not."""
    moving = ("process_", "python_gc_")
    keep = lambda d: {k: v for k, v in d.items() if not k[0].startswith(moving)}  # noqa: E731
    return keep(a) == keep(b) and {k for k in a} == {k for k in b}


def test_inventory_gives_every_check_a_state_and_every_circuit_its_contract(lingshui_config):
    snap = snapshot_for_config(lingshui_config)
    data = samples(snap.render())
    unknown = series(data, "noc_check_state", state="unknown")
    assert len(unknown) == sum(1 for _ in lingshui_config.iter_checks()) and set(
        unknown.values()
    ) == {1.0}
    contracts = {
        (dict(k)["asset"], dict(k)["interface"]): v
        for k, v in series(data, "noc_interface_contract_bits_per_second").items()
    }
    assert contracts == {
        ("mstp-voice", "mstp-voice"): 10e6,
        ("mstp-ticket", "mstp-ticket"): 10e6,
        ("internet", "internet"): 50e6,
    }
    assert len(series(data, "noc_asset_up")) == len(lingshui_config.assets)
    assert all(math.isfinite(v) for v in data.values())


def test_secrets_never_reach_the_exposition(lingshui_config):
    metrics = Metrics(lingshui_config)
    body = metrics.exposition().decode()
    secrets = [
        lingshui_config.asset("ce-router").snmp.auth_key.get_secret_value(),
        lingshui_config.asset("ce-router").snmp.priv_key.get_secret_value(),
    ]
    secrets += [
        u.get_secret_value()
        for urls in lingshui_config.alerting.receiver_urls().values()
        for u in urls
    ]
    assert secrets and not [s for s in secrets if s in body]
