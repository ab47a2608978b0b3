"""The /metrics snapshot, pure: updates in, exposition text out, parsed back with
prometheus_client's own parser (both the registry's ``generate_latest`` view and the
pre-rendered fast path the service serves)."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from noc.metrics import Metrics
from noc.metrics.snapshot import CHECK_STATES, MetricsSnapshot, snapshot_for_config
from probes.base import ProbeResult, ResultCode
from probes.snmp import build_result
from probes.snmp.rates import AgentSample, InterfaceSample
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
    # bytes per second (Prometheus base unit): the probe's 2.5 Mbit/s is 312,500 B/s
    assert (
        value(
            data,
            "noc_interface_rate_bytes_per_second",
            **base,
            interface="mstp-voice",
            direction="in",
        )
        == 312_500
    )
    assert (
        value(
            data,
            "noc_interface_rate_bytes_per_second",
            **base,
            interface="mstp-voice",
            direction="out",
        )
        == 125_000
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
    assert series(data, "noc_interface_rate_bytes_per_second", interface="Gi0/0.100") == {}
    assert not [k for k in data if "bits" in k[0]]
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
    assert series(data, "noc_interface_rate_bytes_per_second", asset="line") == {}
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
            data,
            "noc_interface_rate_bytes_per_second",
            asset="ce",
            interface="eth0",
            direction="in",
        )
        == 1 / 8
    )


class Agent:
    """An SNMP agent's interface ``lo`` (ifIndex 1) as the poller reads it, turned into the
    probe's real result (``build_result``) at ``T + at``."""

    def __init__(self) -> None:
        self.previous: AgentSample | None = None

    def poll(self, at: float, uptime: float, octets: int, errors: int = 0, if_index: int = 1):
        row = InterfaceSample(
            if_index=if_index,
            name="lo",
            admin_status=1,
            oper_status=1,
            in_octets=octets,
            out_octets=2 * octets,
            in_errors=errors,
            out_errors=0,
            in_discards=0,
            out_discards=0,
        )
        sample = AgentSample(at=at, uptime_ticks=round(uptime * 100), interfaces={if_index: row})
        result = build_result(self.previous, sample, {}, ["lo"], {})
        result.started_at = T + at
        self.previous = sample
        return result


def counter(snap: MetricsSnapshot, name: str, direction: str = "in") -> float | None:
    found = series(scrape(snap), name, asset="ce", interface="lo", direction=direction)
    assert len(found) <= 1
    return next(iter(found.values()), None)


def test_interface_octets_errors_and_discards_are_counters_that_never_go_backwards():
    snap, agent, key = lab(), Agent(), ("ce", "snmp")
    history = []

    def observe(*args, **kwargs) -> float | None:
        snap.observe_result(key, agent.poll(*args, **kwargs))
        total = counter(snap, "noc_interface_bytes_total")
        history.append(total)
        return total

    near_wrap = 2**32 - 20
    assert observe(0, 1000, 10_000, errors=near_wrap) == 0  # the first reading: the baseline
    assert counter(snap, "noc_interface_bytes_total", "out") == 0
    assert observe(10, 1010, 12_000, errors=near_wrap) == 2_000
    assert counter(snap, "noc_interface_bytes_total", "out") == 4_000
    # the rate gauge of the same interval, in bytes per second
    assert value(scrape(snap), "noc_interface_rate_bytes_per_second", direction="in") == 200
    # a 32-bit error counter wraps: the increase counts
    observe(20, 1020, 13_000, errors=2**32 - 4)
    observe(30, 1030, 14_000, errors=6)
    assert counter(snap, "noc_interface_errors_total") == 16 + 10
    assert counter(snap, "noc_interface_discards_total") == 0
    assert observe(30 + 1, 1031, 14_000, errors=6) == 4_000
    # the agent restarts: sysUpTime back to 5 s, the counters from near 0 — held, not reset
    assert observe(40, 5, 500) == 4_000
    assert observe(50, 15, 1_500) == 5_000
    # it restarts in a silence and its counters have already passed the old reading: no jump
    snap.observe_result(key, ProbeResult.failure(ResultCode.TIMEOUT, "no answer", kind="snmp"))
    assert counter(snap, "noc_interface_bytes_total") is None  # no data while it is silent
    assert observe(400, 30, 90_000) == 5_000
    # a timeout without a restart: the next reading's increase covers the gap
    snap.observe_result(key, ProbeResult.failure(ResultCode.TIMEOUT, "no answer", kind="snmp"))
    assert observe(420, 50, 91_000) == 6_000
    # someone cleared the counters (sysUpTime carries on): a new start from that reading
    assert observe(430, 60, 100) == 6_000
    assert observe(440, 70, 400) == 6_300
    # ifIndex renumbered: "lo" is another interface's counter now
    assert observe(450, 80, 7_777_777, if_index=9) == 6_300
    assert observe(460, 90, 7_777_877, if_index=9) == 6_400
    assert [h for h in history if h is not None] == sorted(h for h in history if h is not None)


def test_interface_counters_are_typed_counters_in_both_views():
    snap, agent = lab(), Agent()
    snap.observe_result(("ce", "snmp"), agent.poll(0, 100, 1_000))
    snap.observe_result(("ce", "snmp"), agent.poll(5, 105, 3_000))
    fast = snap.render()
    assert "# TYPE noc_interface_bytes_total counter\n" in fast
    registry = CollectorRegistry()
    registry.register(snap)
    slow = generate_latest(registry).decode()
    types = {f.name: f.type for f in text_string_to_metric_families(slow)}
    assert types["noc_interface_bytes"] == types["noc_interface_errors"] == "counter"
    assert types["noc_interface_rate_bytes_per_second"] == "gauge"
    assert samples(fast) == samples(slow)
    assert value(samples(fast), "noc_interface_bytes_total", direction="out") == 4_000


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
    # "quantile" is a summary's label: a gauge says stat="p50" / stat="max"
    assert value(data, "noc_sla_alarm_delay_seconds", **m, stat="p50") == 12.0
    assert value(data, "noc_sla_alarm_delay_seconds", **m, stat="max") == 40.0
    assert not [k for k in data if "quantile" in dict(k[1])]
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
    assert (
        value(samples(fast), "noc_interface_rate_bytes_per_second", interface='eth"0\\x\n')
        == 1.25e8
    )
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
        for k, v in series(data, "noc_interface_contract_bytes_per_second").items()
    }
    assert contracts == {  # 10M and 50M bit/s in bytes per second
        ("mstp-voice", "mstp-voice"): 1.25e6,
        ("mstp-ticket", "mstp-ticket"): 1.25e6,
        ("internet", "internet"): 6.25e6,
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


def test_docs_list_every_exported_metric_and_no_other(lingshui_config):
    """docs/grafana.md's metric table names exactly the noc_* families on /metrics."""
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "grafana.md"
    listed = set(re.findall(r"^\| `(noc_[a-z0-9_]+)` \|", doc.read_text(encoding="utf-8"), re.M))
    body = Metrics(lingshui_config).exposition().decode()
    exported = {
        f.name + ("_total" if f.type == "counter" else "")
        for f in text_string_to_metric_families(body)
        if f.name.startswith("noc_")
    }
    assert listed == exported, (
        f"missing from the docs: {sorted(exported - listed)}; "
        f"listed but not exported: {sorted(listed - exported)}"
    )


def kpi_snapshot(at: dt.datetime):
    """November so far (as of ``at``), by hand: 19 of 20 calls answered; one enquiry answered
    at once; one ticket closed on the 29th 20:00 and not yet called back (pending at ``at``
    when the 24 h are not over); two justified complaints; no spot check, no rating."""
    from zoneinfo import ZoneInfo

    from kpi.gauges import site_gauges
    from kpi.model import Call, Complaint, Facts, Rules, Ticket, TicketEvent
    from sla.intervals import parse_period

    tz = ZoneInfo("Asia/Shanghai")
    nov = parse_period("2026-11", tz)
    day = dt.datetime(2026, 11, 3, 10, tzinfo=tz)
    calls = [Call(f"c{i}", day, "answered") for i in range(19)] + [Call("x", day, "abandoned")]
    closed = dt.datetime(2026, 11, 29, 20, tzinfo=tz)
    tickets = (
        Ticket("T1", day, "enquiry", instant_answer=True),
        Ticket("T2", day, "help", events=(TicketEvent("closed", closed),)),
    )
    complaints = tuple(Complaint(f"k{i}", f"T{i + 1}", "8001", day, True) for i in (0, 1))
    facts = Facts(calls=tuple(calls), tickets=tickets, complaints=complaints)
    return site_gauges(facts, nov, at, Rules(), tz, seconds=1.5)


def test_kpi_gauges_month_to_date_without_data_absent_never_zero():
    snap = lab()
    at = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 site time, T2 still pending
    snap.set_kpi(kpi_snapshot(at))
    data = scrape(snap)
    k = {"site": SITE}
    answer = {**k, "indicator": "answer_rate"}
    assert value(data, "noc_kpi_ratio", **answer) == 0.95
    assert (
        value(data, "noc_kpi_numerator", **answer),
        value(data, "noc_kpi_denominator", **answer),
    ) == (19, 20)
    assert value(data, "noc_kpi_target_ratio", **answer) == 0.95
    assert value(data, "noc_kpi_score_points", **answer) == 10
    assert value(data, "noc_kpi_data_present", **answer) == 1
    # no rating and no spot check: no ratio at all (not 0, not 1), data_present 0, the counts 0
    for indicator in ("satisfaction", "spot_check"):
        i = {**k, "indicator": indicator}
        assert series(data, "noc_kpi_ratio", **i) == {}
        assert value(data, "noc_kpi_data_present", **i) == 0
        assert value(data, "noc_kpi_denominator", **i) == 0
    # the rule decides what no data earns: satisfaction 0 (the data should exist), spot checks 10
    assert value(data, "noc_kpi_score_points", **k, indicator="satisfaction") == 0
    assert value(data, "noc_kpi_score_points", **k, indicator="spot_check") == 10
    # the callback not yet due is pending, neither met nor failed
    callback = {**k, "indicator": "callback_on_time"}
    assert value(data, "noc_kpi_pending", **callback) == 1
    assert value(data, "noc_kpi_denominator", **callback) == 0
    assert series(data, "noc_kpi_ratio", **callback) == {}
    # counts: two justified complaints, 2 points each
    complaints = {**k, "indicator": "complaints"}
    assert value(data, "noc_kpi_items", **complaints) == 2
    assert value(data, "noc_kpi_score_points", **complaints) == 6
    assert series(data, "noc_kpi_target_ratio", **complaints) == {}
    assert value(data, "noc_kpi_max_points", **k, indicator="commendations") == 5
    parts = {dict(key)["part"]: v for key, v in series(data, "noc_kpi_scorecard_points").items()}
    assert parts["total"] == parts["base"] + parts["bonus"] and parts["bonus"] == 0
    assert (
        value(data, "noc_kpi_period_start_timestamp_seconds")
        == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC).timestamp()
    )
    assert value(data, "noc_kpi_last_computed_timestamp_seconds") == at.timestamp()
    assert value(data, "noc_kpi_computation_duration_seconds") == 1.5

    # a day later the callback is overdue: counted as failed, and the ratio appears (0 of 1)
    snap.set_kpi(kpi_snapshot(at + dt.timedelta(days=1)))
    data = scrape(snap)
    assert value(data, "noc_kpi_pending", **callback) == 0
    assert value(data, "noc_kpi_ratio", **callback) == 0.0
    assert value(data, "noc_kpi_data_present", **callback) == 1
