"""``/metrics`` of the real service: the app probes 127.0.0.1 by ICMP (a live check) and a SIP
port on 127.0.0.1 where nothing listens (a dead check that opens an incident), on both store
backends; the exposition is read back with prometheus_client's parser. With a net-snmp snmpd
on loopback as well, Debian's ``promtool check metrics`` must find nothing to say about the
live exposition (Prometheus naming conventions), nor about one with every family filled.
Needs root (raw ICMP)."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.auth import authorize
from support.promtool import promtool_check

from kpi.gauges import KpiGauges, KpiSnapshot
from noc.app import create_app
from noc.config import parse_config
from noc.core.vocabulary import LEVELS
from noc.lab.snmpd import SnmpdPeer
from noc.metrics import Metrics
from noc.store.incidents import IncidentRepo
from probes.base import ProbeResult
from probes.snmp import build_result
from probes.snmp.rates import AgentSample, InterfaceSample
from sla.gauges import SlaGauges, SlaSnapshot, SlaTargets

pytestmark = pytest.mark.root

COMMUNITY = "metrics-c0mmunity-s3cret"
HOOK_TOKEN = "hook-t0ken-s3cret"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(dead_sip_port: int, snmp_port: int | None = None):
    """The loopback router (ICMP), a dead SIP gateway and, given an snmpd's port, SNMP polls of
    its ``lo`` for the router and for a 10M circuit on it (interface rates, counters, contract)."""
    hook = f"json://127.0.0.1:9/{HOOK_TOKEN}"  # port 9 (discard): delivery fails and is retried; never sent
    snmp_poll = "{type: snmp, interval: 1s, interfaces: [lo], params: {timeout: 500ms, retries: 0}}"
    loop_checks = "{type: icmp, interval: 1s, params: {count: 3, interval: 20ms, timeout: 500ms}}"
    circuit = ""
    if snmp_port is not None:
        loop_checks += f", {snmp_poll}"
        circuit = f"""
  - name: line
    kind: mstp_circuit
    address: 127.0.0.2
    bandwidth: 10M
    interface: lo
    depends_on: [loop]
    checks: [{snmp_poll[:-1]}, agent: loop}}]"""
    port = f", port: {snmp_port}" if snmp_port is not None else ""
    return parse_config(
        f"""
site: {{name: mtest, title: {{zh: 指标测试, en: metrics test}}}}
assets:
  - name: loop
    kind: router
    address: 127.0.0.1
    snmp: {{version: "2c", community: {COMMUNITY}{port}}}
    checks: [{loop_checks}]{circuit}
  - name: gw
    kind: voice_gateway
    address: 127.0.0.1
    sip: {{uri: "sip:options@127.0.0.1:{dead_sip_port}"}}
    checks: [{{type: sip, interval: 1s, params: {{timeout: 500ms}}}}]
alerting:
  receivers:
    - {{name: noc-oncall, urls: ["{hook}"]}}
    - {{name: noc-lead, urls: ["{hook}"]}}
    - {{name: carrier-liaison, urls: ["{hook}"]}}
    - {{name: purchaser-contact, urls: ["{hook}"]}}
""",
        "metrics-test.yaml",
    )


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def pick(data: dict, name: str, **labels: str) -> dict[frozenset, float]:
    want = set(labels.items())
    return {k[1]: v for k, v in data.items() if k[0] == name and want <= k[1]}


async def scrape_until(client, ready, patience: float = 30.0) -> tuple[str, dict]:
    """Scrape every 200 ms until ``ready(data)`` holds (bounded; the probes run at 1 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        resp = await client.get("/metrics")
        assert resp.status == 200
        text = await resp.text()
        data = parse(text)
        if ready(data) or loop.time() > deadline:
            return text, data
        await asyncio.sleep(0.2)


async def test_metrics_show_live_probes_states_and_incidents(aiohttp_client, db_url, monkeypatch):
    import noc.app

    monkeypatch.setattr(noc.app, "INCIDENT_REFRESH_SECONDS", 0.2)
    cfg = config(free_udp_port())
    app = create_app(cfg, db_url, probing=True)
    client = await aiohttp_client(app)
    await authorize(client, "operator", "ops")  # /metrics is open; resolving needs an operator
    loop_icmp = {"site": "mtest", "asset": "loop", "kind": "router", "check": "icmp"}
    gw_sip = {"site": "mtest", "asset": "gw", "kind": "voice_gateway", "check": "sip"}

    def ready(data: dict) -> bool:
        return (
            pick(data, "noc_check_state", **loop_icmp, state="up")
            == {frozenset({**loop_icmp, "state": "up"}.items()): 1.0}
            and sum(pick(data, "noc_incidents_open").values()) >= 1
            and bool(pick(data, "noc_sla_last_computed_timestamp_seconds"))
            and bool(pick(data, "noc_kpi_last_computed_timestamp_seconds"))
        )

    text, data = await scrape_until(client, ready)
    assert pick(data, "noc_probe_up", **loop_icmp) == {frozenset(loop_icmp.items()): 1.0}
    [rtt] = pick(data, "noc_probe_rtt_seconds", **loop_icmp).values()
    assert rtt > 0
    assert pick(data, "noc_probe_loss_ratio", **loop_icmp) == {frozenset(loop_icmp.items()): 0.0}
    [last] = pick(data, "noc_probe_last_timestamp_seconds", **loop_icmp).values()
    assert last > 1.7e9  # a Unix time, not a monotonic clock reading
    assert pick(data, "noc_check_state", **loop_icmp, state="up")

    # the dead SIP port: refused, no status code, the check down, the asset down, one incident
    assert list(pick(data, "noc_probe_up", **gw_sip).values()) == [0.0]
    assert list(pick(data, "noc_sip_status_code", **gw_sip).values()) == [0.0]
    assert list(pick(data, "noc_check_state", **gw_sip, state="down").values()) == [1.0]
    assert list(pick(data, "noc_asset_up", asset="gw").values()) == [0.0]
    assert list(pick(data, "noc_asset_up", asset="loop").values()) == [1.0]

    # noc_incidents_open agrees with the store, level by level, and shows all four levels
    active = await IncidentRepo(app[_store_key()], "mtest").list("active")
    assert active
    by_level = {
        dict(k)["severity"]: v for k, v in pick(data, "noc_incidents_open", site="mtest").items()
    }
    assert by_level == {level: sum(1 for i in active if i.severity == level) for level in LEVELS}

    # the SLA refresh task ran sla.report.current_snapshot against this store at start
    assert (
        list(pick(data, "noc_sla_last_computed_timestamp_seconds", site="mtest").values()) != []
    ), "no SLA gauges: see the log for sla_metrics_failed"
    assert pick(data, "noc_sla_availability_ratio", scope="site:mtest", window="month")
    # and how much of it was watched (just started: little or nothing yet, never more than all)
    [coverage] = pick(data, "noc_sla_coverage_ratio", scope="site:mtest", window="month").values()
    assert 0 <= coverage <= 1
    assert list(pick(data, "noc_sla_mtbf_target_seconds", site="mtest").values()) == [
        cfg.sla.mtbf_target
    ]

    # the KPI refresh (a thread with its own loop and store) computed this month at start: the
    # store has no calls, so the answer rate has no data: no ratio at all, never a 0
    answer = {"site": "mtest", "indicator": "answer_rate"}
    assert list(pick(data, "noc_kpi_data_present", **answer).values()) == [0.0], (
        "no KPI gauges: see the log for kpi_metrics_failed"
    )
    assert pick(data, "noc_kpi_ratio", **answer) == {}
    assert list(pick(data, "noc_kpi_denominator", **answer).values()) == [0.0]
    assert list(pick(data, "noc_kpi_scorecard_points", site="mtest", part="total").values())

    for secret in (COMMUNITY, HOOK_TOKEN):
        assert secret not in text

    # an operator resolves the incidents through the API: the engine hears nothing (the check
    # stays down, no transition), the refresh from the store brings the count to zero
    for incident in active:
        resp = await client.post(
            f"/api/v1/incidents/{incident.id}/resolve", json={"by": "ops", "note": "fixed"}
        )
        assert resp.status == 200, await resp.text()
    _, data = await scrape_until(client, lambda d: sum(pick(d, "noc_incidents_open").values()) == 0)
    assert sum(pick(data, "noc_incidents_open", site="mtest").values()) == 0
    assert len(pick(data, "noc_incidents_open", site="mtest")) == 4


def _store_key():
    from noc.appkeys import STORE

    return STORE


# --- promtool -------------------------------------------------------------------------------


def test_promtool_reads_the_checks_own_failures():
    """The check can fail: promtool does complain about what the service used to export."""
    code, out = promtool_check(
        "# HELP noc_interface_rate_bits_per_second Interface bit rate.\n"
        "# TYPE noc_interface_rate_bits_per_second gauge\n"
        'noc_interface_rate_bits_per_second{interface="lo"} 8\n'
        "# HELP noc_sla_alarm_delay_seconds Alarm delay.\n"
        "# TYPE noc_sla_alarm_delay_seconds gauge\n"
        'noc_sla_alarm_delay_seconds{quantile="0.5"} 12\n'
    )
    assert code != 0
    assert 'use base unit "bytes" instead of "bits"' in out
    assert 'should not have "quantile" label' in out


@pytest.fixture(scope="module")
def snmp_agent(tmp_path_factory) -> Iterator[SnmpdPeer]:
    assert shutil.which("snmpd"), "snmpd is not installed (Debian: apt install snmpd)"
    peer = SnmpdPeer(
        "127.0.0.1",
        free_udp_port(),
        tmp_path_factory.mktemp("snmpd"),
        community=COMMUNITY,
        overrides={"lo": 10},
        interface_prefixes=["lo"],
    )
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


async def test_promtool_finds_nothing_to_say_about_the_live_metrics(
    aiohttp_client, sqlite_url, snmp_agent, monkeypatch
):
    import noc.app

    monkeypatch.setattr(noc.app, "INCIDENT_REFRESH_SECONDS", 0.2)
    app = create_app(config(free_udp_port(), snmp_agent.port), sqlite_url, probing=True)
    client = await aiohttp_client(app)
    line = {"asset": "line", "interface": "lo", "direction": "in"}

    def ready(data: dict) -> bool:  # every kind of figure is flowing, counters have counted
        return (
            sum(pick(data, "noc_interface_bytes_total", **line).values()) > 0
            and bool(pick(data, "noc_interface_rate_bytes_per_second", **line))
            and bool(pick(data, "noc_probe_rtt_seconds", asset="loop"))
            and bool(pick(data, "noc_sip_status_code", asset="gw"))
            and sum(pick(data, "noc_incidents_open").values()) >= 1
            and bool(pick(data, "noc_sla_last_computed_timestamp_seconds"))
        )

    text, data = await scrape_until(client, ready)
    assert ready(data), f"not every figure showed up within 30 s:\n{text}"
    # the families the issue named: counters in bytes, rates in bytes per second
    for name in ("noc_interface_bytes_total", "noc_interface_errors_total"):
        assert f"# TYPE {name} counter\n" in text
    assert pick(data, "noc_interface_contract_bytes_per_second", asset="line") == {
        frozenset(
            {"site": "mtest", "asset": "line", "kind": "mstp_circuit", "interface": "lo"}.items()
        ): 10e6 / 8
    }
    assert "bits" not in text
    # and a second scrape: the counters did not go backwards
    _, again = await scrape_until(client, lambda d: True)
    for name in ("noc_interface_bytes_total", "noc_interface_errors_total"):
        for labels, total in pick(data, name).items():
            assert again[(name, labels)] >= total
    code, out = promtool_check(text)
    assert (code, out) == (0, ""), out


def test_promtool_finds_nothing_to_say_about_every_family_filled():
    """Every family of the service at least once, with every label value it takes (what a live
    run shows only over days: SLA breaches, alarm delays, recoveries, deliveries)."""
    cfg = config(free_udp_port(), snmp_port=16161)
    metrics = Metrics(cfg)
    snap = metrics.snapshot
    t = 1.79e9
    snap.observe_result(
        ("loop", "icmp"),
        ProbeResult.success(
            kind="icmp",
            started_at=t,
            duration_seconds=0.1,
            values={"loss_ratio": 0.0, "rtt_avg_seconds": 0.001, "jitter_seconds": 0.0002},
        ),
    )
    snap.observe_result(
        ("gw", "sip"), ProbeResult.success(kind="sip", started_at=t, status_code=200)
    )
    previous = None
    for i, octets in enumerate((10_000, 25_000)):
        row = InterfaceSample(
            if_index=1,
            name="lo",
            admin_status=1,
            oper_status=1,
            in_octets=octets,
            out_octets=2 * octets,
            high_speed_mbps=10,
            in_errors=3 * i,
            out_errors=0,
            in_discards=i,
            out_discards=0,
        )
        sample = AgentSample(at=10.0 * i, uptime_ticks=100_000 + 1000 * i, interfaces={1: row})
        result = build_result(previous, sample, {}, ["lo"], {"lo": 10_000_000})
        result.started_at, previous = t + 10 * i, sample
        snap.observe_result(("line", "snmp"), result)
    snap.set_check_state(("gw", "sip"), "down", flapping=True)
    snap.set_open_incidents({"I": 1, "III": 2})
    rows = tuple(
        SlaGauges(
            "mtest",
            "site:mtest",
            window,
            availability_ratio=0.9991,
            failures=1,
            mtbf_seconds=2_000_000.0,
            mttr_seconds={"automatic": 600.0, "manual": 7200.0},
            breaches={"automatic": 1, "manual": 0, "open": 1},
            error_budget_remaining_ratio=0.1,
            response_timeliness_ratio=1.0,
            alarm_delay_seconds={"0.5": 30.0, "1": 90.0},
            burn_rate={"5m": 0.0, "1h": 2.0} if window == "30d" else {},
            mtbf_lower_bound=window == "30d",
            coverage_ratio=0.98 if window == "month" else 1.0,
        )
        for window in ("month", "30d")
    )
    targets = SlaTargets(0.999, 600 * 3600.0, {"automatic": 900.0, "manual": 86400.0})
    snap.set_sla(SlaSnapshot(dt.datetime.now(dt.UTC), targets, rows))
    snap.set_kpi(
        KpiSnapshot(
            computed_at=dt.datetime.now(dt.UTC),
            period="2026-11",
            period_start=dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC),
            rows=(
                KpiGauges("answer_rate", True, 0.95, 0.95, 19, 20, None, None, 10.0, 10.0),
                KpiGauges("callback_on_time", False, None, 1.0, 0, 0, None, 3, 10.0, 10.0),
                KpiGauges("complaints", True, None, None, None, None, 2, None, 6.0, 10.0),
            ),
            base_points=26.0,
            bonus_points=0.0,
            total_points=26.0,
            seconds=0.2,
        )
    )
    metrics.store_up.labels(backend="sqlite").set(1)
    metrics.outbox.snapshot = SimpleNamespace(
        attempts={("noc-oncall", "delivered"): 3, ("noc-lead", "failed"): 2},
        queue_depth={"noc-lead": 1},
        oldest_undelivered_age_seconds={"noc-lead": 42.0},
    )
    text = metrics.exposition().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    empty = [name for name, f in families.items() if name.startswith("noc_") and not f.samples]
    assert not empty, f"families without a sample: {empty}"
    assert {f.name.removesuffix("_total") for f in snap.families} <= set(families)
    code, out = promtool_check(text)
    assert (code, out) == (0, ""), out
