"""``/metrics`` of the real service: the app probes 127.0.0.1 by ICMP (a live check) and a SIP
port on 127.0.0.1 where nothing listens (a dead check that opens an incident), on both store
backends; the exposition is read back with prometheus_client's parser. Needs root (raw ICMP)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from prometheus_client.parser import text_string_to_metric_families

from noc.app import create_app
from noc.config import parse_config
from noc.engine.severity import LEVELS
from noc.store.incidents import IncidentRepo

pytestmark = pytest.mark.root

COMMUNITY = "metrics-c0mmunity-s3cret"
HOOK_TOKEN = "hook-t0ken-s3cret"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(dead_sip_port: int):
    hook = f"json://127.0.0.1:9/{HOOK_TOKEN}"  # port 9 (discard): delivery fails and is retried; never sent
    return parse_config(
        f"""
site: {{name: mtest, title: {{zh: 指标测试, en: metrics test}}}}
assets:
  - name: loop
    kind: router
    address: 127.0.0.1
    snmp: {{version: "2c", community: {COMMUNITY}}}
    checks: [{{type: icmp, interval: 1s, params: {{count: 3, interval: 20ms, timeout: 500ms}}}}]
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
    loop_icmp = {"site": "mtest", "asset": "loop", "kind": "router", "check": "icmp"}
    gw_sip = {"site": "mtest", "asset": "gw", "kind": "voice_gateway", "check": "sip"}

    def ready(data: dict) -> bool:
        return (
            pick(data, "noc_check_state", **loop_icmp, state="up")
            == {frozenset({**loop_icmp, "state": "up"}.items()): 1.0}
            and sum(pick(data, "noc_incidents_open").values()) >= 1
            and bool(pick(data, "noc_sla_last_computed_timestamp_seconds"))
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
