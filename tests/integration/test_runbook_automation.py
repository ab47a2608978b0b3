"""Automated runbook steps for real, against loopback peers: Kamailio (SIP OPTIONS and a
re-probe of a SIP check), net-snmp snmpd (the interface table dump), scapy traceroute to
127.0.0.1, and the failure paths (a silent SIP port, a step timeout) that must come back as
``ok=False`` with the reason instead of an exception."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest

from incident_runbooks import load_runbooks
from incident_runbooks.model import ArpScan, Reprobe, SipOptions, SnmpInterfaces, Traceroute
from noc.config import parse_config
from noc.lab.kamailio import DEFAULT_SERVER, KamailioPeer
from noc.lab.snmpd import SnmpdPeer
from noc.runtime.automation_steps import StepContext, run_automated_step
from probes.probeset import ProbeSet

pytestmark = pytest.mark.root

SIP_PORT = 15120
CLOSED_SIP_PORT = 15121  # nothing listens here: ICMP port unreachable
SILENT_SIP_PORT = 15122  # a socket that swallows every request
SNMP_PORT = 16250
COMMUNITY = "runbook-ro"

CONFIG = f"""
site: {{name: rbtest, title: {{zh: 测试, en: test}}}}
assets:
  - name: ce
    kind: router
    address: 127.0.0.1
    snmp: {{version: "2c", community: {COMMUNITY}, port: {SNMP_PORT}}}
    checks: [{{type: snmp, params: {{timeout: 1s, retries: 0}}}}]
  - name: circuit
    kind: mstp_circuit
    address: 127.0.0.1
    bandwidth: 10M
    interface: lo
    depends_on: [ce]
    checks: [{{type: snmp, agent: ce, interfaces: [lo]}}]
  - name: gw
    kind: voice_gateway
    address: 127.0.0.1
    sip: {{uri: "sip:options@127.0.0.1:{SIP_PORT}"}}
    checks:
      - {{type: sip, params: {{timeout: 2s}}}}
      - {{type: sip, name: trunk, uri: "sip:options@127.0.0.1:{CLOSED_SIP_PORT}", params: {{timeout: 1s}}}}
      - {{type: sip, name: silent, uri: "sip:options@127.0.0.1:{SILENT_SIP_PORT}", params: {{timeout: 1s}}}}
  - {{name: phone-a, kind: phone, address: 198.19.77.2}}
  - {{name: phone-b, kind: phone, address: 198.19.77.3}}
"""


@pytest.fixture(scope="module")
def config():
    return parse_config(CONFIG, "runbook-test.yaml")


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory) -> Iterator[KamailioPeer]:
    assert shutil.which("kamailio"), "kamailio is not installed (apt-get install kamailio)"
    peer = KamailioPeer(
        ["127.0.0.1"], SIP_PORT, tmp_path_factory.mktemp("kamailio-rb"), transports=("udp",)
    )
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory) -> Iterator[SnmpdPeer]:
    assert shutil.which("snmpd"), "snmpd is not installed (apt-get install snmpd snmp)"
    peer = SnmpdPeer(
        "127.0.0.1",
        SNMP_PORT,
        tmp_path_factory.mktemp("snmpd-rb"),
        community=COMMUNITY,
        overrides={"lo": 10},
    )
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def silent_port() -> Iterator[None]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", SILENT_SIP_PORT))
    yield
    sock.close()


@pytest.fixture
async def probes():
    """The test's probe clients; their sockets belong to this test's event loop."""
    async with ProbeSet() as probes:
        yield probes


@pytest.fixture
def context(config, probes):
    """A StepContext for an incident on ``root`` that probes with the test's ProbeSet."""

    def make(root: str, members: tuple[str, ...] = (), netns: str | None = None) -> StepContext:
        return StepContext(config, root, members, netns, probes=probes)

    return make


async def test_sip_options_reports_status_server_and_rtt(kamailio, context):
    out = await run_automated_step(SipOptions(action="sip_options", check="sip"), context("gw"))
    assert out.ok, out.text
    [row] = out.data["targets"]
    assert row["status_code"] == 200 and row["server"] == DEFAULT_SERVER
    assert row["rtt_seconds"] is not None and row["rtt_seconds"] >= 0
    assert out.summary == f"SIP OPTIONS: sip:options@127.0.0.1:{SIP_PORT} 应答 200 / answered 200"
    assert f"server {DEFAULT_SERVER}" in out.text and "status 200 OK" in out.text


async def test_sip_options_to_a_closed_port_fails_with_the_reason(kamailio, context):
    out = await run_automated_step(SipOptions(action="sip_options", check="trunk"), context("gw"))
    assert not out.ok
    assert out.data["targets"][0]["result"] == "refused"
    assert out.summary.startswith(
        f"SIP OPTIONS: sip:options@127.0.0.1:{CLOSED_SIP_PORT} 被拒绝 refused: "
    )


async def test_sip_options_to_a_silent_port_times_out_with_the_reason(silent_port, context):
    out = await run_automated_step(SipOptions(action="sip_options", check="silent"), context("gw"))
    assert not out.ok
    assert out.data["targets"][0]["result"] == "timeout"
    assert out.summary.startswith(
        f"SIP OPTIONS: sip:options@127.0.0.1:{SILENT_SIP_PORT} 超时 timeout: "
    )


async def test_reprobe_of_a_sip_check_uses_the_configured_target(kamailio, context):
    out = await run_automated_step(Reprobe(action="reprobe", checks=["sip"]), context("gw"))
    assert out.ok, out.text
    [check] = out.data["checks"]
    assert (check["asset"], check["check"], check["type"]) == ("gw", "sip", "sip")
    assert check["result"]["status_code"] == 200
    assert out.text.splitlines()[1].startswith("  gw sip(sip): 正常 ok")


async def test_reprobe_of_all_checks_reports_the_failing_ones(kamailio, silent_port, context):
    out = await run_automated_step(Reprobe(action="reprobe"), context("gw"))
    assert not out.ok
    assert {(c["check"], c["ok"]) for c in out.data["checks"]} == {
        ("sip", True),
        ("trunk", False),
        ("silent", False),
    }
    assert "3 项检查, 1 正常, 2 异常" in out.summary


async def test_snmp_interfaces_dumps_the_agent_table_for_a_circuit(snmpd, context):
    step = SnmpInterfaces(action="snmp_interfaces", rate_interval=0)
    out = await run_automated_step(step, context("circuit"))
    assert out.ok, out.text
    assert out.data["agent"] == "ce" and out.data["focus"] == ["lo"]
    assert "关注接口 lo: up" in out.summary
    lo_row = next(line for line in out.text.splitlines() if line.startswith(" *lo"))
    assert "up/up" in lo_row and "10M" in lo_row


async def test_snmp_interfaces_with_rates_and_a_silent_agent(snmpd, context):
    out = await run_automated_step(
        SnmpInterfaces(action="snmp_interfaces", rate_interval=0.5), context("ce")
    )
    assert out.ok and out.data["focus"] == []
    snmpd.stop()
    try:
        silent = await run_automated_step(
            SnmpInterfaces(action="snmp_interfaces", rate_interval=0),
            context("circuit"),
        )
    finally:
        snmpd.start()
    assert not silent.ok
    assert "无应答 / no answer - 超时 timeout" in silent.summary


async def test_traceroute_to_loopback(context):
    out = await run_automated_step(
        Traceroute(action="traceroute", max_hops=3, probe_timeout=1), context("gw")
    )
    assert out.ok, out.text
    assert out.data["reached"] and out.data["hops"][-1]["address"] == "127.0.0.1"
    assert out.summary == "路由跟踪 / traceroute: 到达 reached - reached 127.0.0.1 in 1 hops"


async def test_a_step_that_outlives_its_timeout_is_a_failure_not_an_exception(silent_port, context):
    step = SipOptions(action="sip_options", check="silent", timeout=0.3)  # the probe waits 1 s
    out = await run_automated_step(step, context("gw"))
    assert not out.ok
    assert out.data["error"] == "未在 0.3s 内完成 / did not finish within 0.3s"


async def test_bad_context_and_manual_steps_are_failures(context):
    rb = load_runbooks().for_fault("circuit_down")
    manual = await run_automated_step(rb.step("report-carrier"), context("circuit"))
    assert not manual.ok and manual.data["error"] == "not_automated"
    unknown = await run_automated_step(rb.step("ce-interface"), context("no-such-asset"))
    assert not unknown.ok and "unknown asset 'no-such-asset'" in unknown.summary
    no_sip = await run_automated_step(SipOptions(action="sip_options"), context("circuit"))
    assert not no_sip.ok and "no sip check" in no_sip.summary


async def test_shipped_runbook_step_runs_for_a_phone_group(kamailio, silent_port, context):
    """The grouped phone runbook's first step probes root and members alike."""
    rb = load_runbooks().for_fault("phones_unreachable")
    out = await run_automated_step(rb.step("sip-check"), context("gw", ("circuit",)))
    assert [t["check"] for t in out.data["targets"]] == ["sip", "trunk", "silent"]
    assert not out.ok  # the trunk is down


@pytest.fixture
def lan_pair() -> Iterator[str]:
    """Two namespaces on one veth: the scanner (198.19.77.1) and one host (198.19.77.2)."""
    a, b = f"nocrb-a-{os.getpid()}", f"nocrb-b-{os.getpid()}"

    def ip(*args: str) -> None:
        proc = subprocess.run(["ip", *args], capture_output=True, text=True)
        assert proc.returncode == 0, f"ip {' '.join(args)}: {proc.stderr}"

    try:
        ip("netns", "add", a)
        ip("netns", "add", b)
        ip(
            "link",
            "add",
            "nocrb-a0",
            "netns",
            a,
            "type",
            "veth",
            "peer",
            "name",
            "nocrb-b0",
            "netns",
            b,
        )
        ip("-n", a, "addr", "add", "198.19.77.1/29", "dev", "nocrb-a0")
        ip("-n", b, "addr", "add", "198.19.77.2/29", "dev", "nocrb-b0")
        ip("-n", a, "link", "set", "nocrb-a0", "up")
        ip("-n", b, "link", "set", "nocrb-b0", "up")
        yield a
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


async def test_arp_scan_finds_the_host_and_names_the_silent_asset(lan_pair, context):
    step = ArpScan(action="arp_scan", cidr="198.19.77.0/29", iface="nocrb-a0", probe_timeout=1)
    out = await run_automated_step(step, context("phone-a", ("phone-b",), netns=lan_pair))
    assert [h["ip"] for h in out.data["hosts"]] == ["198.19.77.2"]
    assert out.data["silent_assets"] == ["phone-b"] and not out.ok
    assert out.summary.endswith("无ARP应答 no ARP answer: phone-b")
    alone = await run_automated_step(step, context("phone-a", netns=lan_pair))
    assert alone.ok, alone.text


async def test_arp_scan_on_a_missing_interface_is_a_failure(context):
    step = ArpScan(action="arp_scan", cidr="127.0.0.0/30", iface="nocrb-nosuch", probe_timeout=0.5)
    out = await run_automated_step(step, context("phone-a"))
    assert not out.ok
    assert (
        out.summary
        == "ARP扫描 / ARP scan: 执行失败 / failed - arp-scan failed: ValueError: Interface 'nocrb-nosuch' not found !"
    )
