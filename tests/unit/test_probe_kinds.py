"""The probe kinds as the service sees them (deadline, text, dashboard figures) and the
ProbeSet that holds one client of each; pure, no sockets are opened."""

from __future__ import annotations

import pytest

from probes.base import ProbeResult, ResultCode
from probes.icmp import IcmpParams, IcmpPinger
from probes.kind import CounterReading, ProbeKind
from probes.probeset import KINDS, ProbeSet, probe_kind
from probes.sip import SipClient, SipParams
from probes.sip import render as sip_render
from probes.snmp import SnmpParams, SnmpPoller
from probes.snmp import render as snmp_render


def test_every_kind_has_its_package_and_the_set_lists_them():
    assert list(KINDS) == ["icmp", "snmp", "sip"]
    assert all(kind.name == name for name, kind in KINDS.items())
    with pytest.raises(KeyError, match="known: \\['icmp', 'sip', 'snmp'\\]"):
        probe_kind("http")


def test_deadlines_are_each_kinds_worst_case_plus_a_second():
    icmp = IcmpParams(count=3, interval="50ms", timeout="500ms")
    assert probe_kind("icmp").deadline(icmp) == pytest.approx(2 * 0.05 + 0.5 + 1.0)
    snmp = SnmpParams(timeout="1s", retries=2)
    assert probe_kind("snmp").deadline(snmp) == 1.0 * 3 * 4 + 1.0
    assert probe_kind("sip").deadline(SipParams(timeout="2s")) == 3.0


async def test_a_probe_set_holds_one_client_per_kind_and_closes_them():
    closed = []

    class Client:
        def __init__(self, name: str) -> None:
            self.name = name

        async def probe(self, target, params):
            return ProbeResult.success(kind=self.name)

        async def aclose(self) -> None:
            closed.append(self.name)

    kinds = [ProbeKind(n, client=lambda n=n: Client(n), deadline=lambda p: 1.0) for n in "ab"]
    handed = Client("b")
    async with ProbeSet(kinds, b=handed) as probes:
        assert list(probes) == ["a", "b"] and len(probes) == 2
        assert probes.client("b") is handed
        assert (await probes["a"](None, None)).kind == "a"
        with pytest.raises(KeyError, match="no probe kind 'c'"):
            probes["c"]
    assert closed == ["a", "b"]
    with pytest.raises(TypeError, match="no probe kind"):
        ProbeSet(kinds, c=handed)


def test_the_service_set_is_made_of_the_real_clients():
    probes = ProbeSet()
    assert isinstance(probes.client("icmp"), IcmpPinger)
    assert isinstance(probes.client("snmp"), SnmpPoller)
    assert isinstance(probes.client("sip"), SipClient)
    assert probes["sip"] == probes.client("sip").probe


def _icmp_ok() -> ProbeResult:
    values = {
        "sent": 3.0,
        "received": 3.0,
        "loss_ratio": 0.0,
        "rtt_min_seconds": 0.001,
        "rtt_avg_seconds": 0.0015,
        "rtt_max_seconds": 0.002,
        "jitter_seconds": 0.0005,
    }
    return ProbeResult.success(
        "3/3 replies",
        kind="icmp",
        target="gw",
        values=values,
        info={"address": "10.0.0.1", "socket": "raw"},
    )


def test_icmp_text_for_the_cli_and_the_timeline():
    result = _icmp_ok()
    assert probe_kind("icmp").render(result).splitlines() == [
        "ICMP gw (10.0.0.1)",
        "结果 result: ok — 3/3 replies",
        "发送/接收 sent/received: 3/3   丢包 loss: 0.0 %",
        "时延 RTT min/avg/max: 1.000/1.500/2.000 ms",
        "抖动 jitter: 0.500 ms",
        "套接字 socket: raw",
    ]
    assert probe_kind("icmp").brief(result) == "loss 0%, rtt 1.5 ms"
    lost = ProbeResult.failure(ResultCode.TIMEOUT, "no reply", values={"loss_ratio": 1.0})
    assert probe_kind("icmp").brief(lost) == "loss 100%"
    assert probe_kind("icmp").gauges(lost).figures == {
        "rtt_seconds": None,
        "loss_ratio": 1.0,
        "jitter_seconds": None,
    }


def _sip_ok() -> ProbeResult:
    return ProbeResult.success(
        "200 OK",
        kind="sip",
        target="sip:gw@10.0.0.1:5060",
        status_code=200,
        timings={"rtt": 0.0042},
        info={"transport": "udp", "reason_phrase": "OK", "server": "kamailio", "transmissions": 1},
    )


def test_sip_text_for_the_cli_and_the_timeline():
    result = _sip_ok()
    assert probe_kind("sip").render(result).splitlines() == [
        "SIP OPTIONS sip:gw@10.0.0.1:5060 (udp)",
        "结果 result: ok — 200 OK",
        "状态码 status: 200 OK",
        "服务器 server: kamailio",
        "往返 RTT: 4.200 ms",
        "发送次数 transmissions: 1",
    ]
    assert probe_kind("sip").brief(result) == "SIP 200, rtt 4.2 ms"
    assert sip_render.answer(result) == "status 200 OK, server kamailio, rtt 4.2 ms"
    silent = ProbeResult.failure(ResultCode.TIMEOUT, "no final response", kind="sip")
    assert probe_kind("sip").brief(silent) == ""
    assert sip_render.answer(silent) == "status -, server -, rtt -"
    assert probe_kind("sip").gauges(silent).figures == {"rtt_seconds": None, "sip_status_code": 0}
    assert probe_kind("sip").gauges(result).figures == {
        "rtt_seconds": 0.0042,
        "sip_status_code": 200,
    }


def _snmp_ok() -> ProbeResult:
    row = {
        "label": "lo",
        "name": "lo",
        "admin_status": 1,
        "oper_status": 1,
        "bandwidth_bps": 10_000_000,
        "bandwidth_source": "contract",
        "in_bps": 2_000_000.0,
        "out_bps": 1_000_000.0,
        "in_utilisation_ratio": 0.2,
        "out_utilisation_ratio": 0.1,
        "in_errors_per_second": 0.0,
        "out_errors_per_second": 0.5,
    }
    down = {"label": "eth1", "name": "eth1", "admin_status": 1, "oper_status": 2}
    return ProbeResult.success(
        "2 interface(s), 1 down",
        kind="snmp",
        target="10.0.0.1:161",
        values={
            "sys_uptime_seconds": 90061.0,
            "if.lo.in_bps": 2e6,
            "if.lo.oper_up": 1.0,
            "if.eth1.oper_up": 0.0,
        },
        info={
            "version": "3",
            "sys_name": "ce",
            "interfaces": [row, down],
            "interval_seconds": 30.0,
        },
        findings=["interface_down"],
    )


def test_snmp_text_for_the_cli_and_the_timeline():
    text = probe_kind("snmp").render(_snmp_ok()).splitlines()
    assert text[:4] == [
        "SNMP 10.0.0.1:161 (v3)",
        "结果 result: ok — 2 interface(s), 1 down",
        "设备 sysName: ce   运行时间 uptime: 1d 01:01:01",
        "速率区间 rate interval: 30.00 s",
    ]
    lo = next(line for line in text if line.strip().startswith("lo "))
    assert " up " in lo and "2.00 Mbit/s" in lo and "20.00 %" in lo and "0.50" in lo
    assert text[-1] == "发现 findings: interface_down"
    rows = _snmp_ok().info["interfaces"]
    table = snmp_render.timeline_table(rows, ["lo"])
    assert table[1].startswith(" *lo") and "up/up" in table[1] and "10M" in table[1]
    assert table[2].startswith("  eth1") and "up/down" in table[2]
    failed = ProbeResult.failure(ResultCode.TIMEOUT, "no answer", target="10.0.0.1:161")
    assert probe_kind("snmp").render(failed).splitlines() == [
        "SNMP 10.0.0.1:161",
        "结果 result: timeout — no answer",
    ]


def test_snmp_gauges_are_per_interface_and_vanish_when_the_poll_fails():
    gauges = probe_kind("snmp").gauges(_snmp_ok())
    assert gauges.figures == {}
    # the dashboards get bytes per second (2 Mbit/s = 250,000 B/s); the result keeps bits
    assert gauges.interfaces == {
        "lo": {"in_bytes_per_second": 250_000.0, "oper_up": 1.0},
        "eth1": {"oper_up": 0.0},
    }
    assert gauges.counters == {}  # this result carries no raw counters
    assert gauges.uptime_seconds == 90061.0
    failed = ProbeResult.failure(ResultCode.TIMEOUT, "no answer")
    assert probe_kind("snmp").gauges(failed).interfaces == {}
    assert not probe_kind("snmp").gauges(failed).counters


def test_snmp_gauges_carry_the_raw_counters_with_their_width_and_ifindex():
    result = _snmp_ok()
    result.info["interfaces"][0].update(
        if_index=1, in_octets=123, out_octets=456, in_errors=7, out_errors=None
    )
    gauges = probe_kind("snmp").gauges(result)
    assert gauges.counters == {
        "lo": {
            "in_octets": CounterReading(123, 64, 1),
            "out_octets": CounterReading(456, 64, 1),
            "in_errors": CounterReading(7, 32, 1),
        }
    }
