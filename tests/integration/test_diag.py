"""Scapy diagnostics in namespaces the tests build: a—r—b traceroute, bridge ARP scan.

Scapy runs in a child process inside the namespace (``ip netns exec``), the way the
service runs it, so these tests also cover the JSON entry point.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from probes.base import ResultCode
from probes.diag import (
    ArpHost,
    Hop,
    Traceroute,
    arp_scan_async,
    format_arp_scan,
    format_traceroute,
    path_verdict,
    traceroute_async,
    trim_hops,
)
from probes.icmp import IcmpParams, IcmpPinger, sweep

pytestmark = pytest.mark.root


def run(*cmd: str) -> str:
    assert shutil.which(cmd[0]), f"{cmd[0]} is not installed"
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed: {proc.stderr}"
    return proc.stdout


@pytest.fixture
def make_ns() -> Iterator:
    created: list[str] = []

    def make(name: str) -> str:
        ns = f"nocicmp-{name}-{os.getpid()}"
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        run("ip", "netns", "add", ns)
        created.append(ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    yield make
    for ns in created:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def veth(ns1: str, if1: str, addr1: str | None, ns2: str, if2: str, addr2: str | None) -> None:
    run("ip", "link", "add", if1, "netns", ns1, "type", "veth", "peer", "name", if2, "netns", ns2)
    for ns, ifname, addr in ((ns1, if1, addr1), (ns2, if2, addr2)):
        if addr:
            run("ip", "-n", ns, "addr", "add", addr, "dev", ifname)
        run("ip", "-n", ns, "link", "set", ifname, "up")


@pytest.fixture
def chain(make_ns) -> dict[str, str]:
    """a (198.19.71.2) — r (198.19.71.1 | 198.19.72.1, forwarding) — b (198.19.72.2)."""
    a, r, b = make_ns("a"), make_ns("r"), make_ns("b")
    veth(a, "nocicmp-a0", "198.19.71.2/24", r, "nocicmp-ra", "198.19.71.1/24")
    veth(r, "nocicmp-rb", "198.19.72.1/24", b, "nocicmp-b0", "198.19.72.2/24")
    run("ip", "-n", a, "route", "add", "default", "via", "198.19.71.1")
    run("ip", "-n", b, "route", "add", "default", "via", "198.19.72.1")
    run(
        "ip",
        "netns",
        "exec",
        r,
        "sysctl",
        "-qw",
        "net.ipv4.ip_forward=1",
        "net.ipv4.icmp_ratelimit=0",
    )
    return {"a": a, "r": r, "b": b}


async def test_traceroute_through_a_router_then_broken_after_it(chain):
    trace = await traceroute_async("198.19.72.2", max_hops=6, timeout=1.0, netns=chain["a"])
    assert trace.reached
    assert [(h.ttl, h.address, h.kind) for h in trace.hops] == [
        (1, "198.19.71.1", "transit"),
        (2, "198.19.72.2", "reached"),
    ]
    assert all(h.rtt_seconds is not None and h.rtt_seconds >= 0 for h in trace.hops)
    assert trace.verdict == "reached 198.19.72.2 in 2 hops"

    # Down b's end of the r—b link: r still forwards onto it, and nothing comes back past r.
    # (Downing r's end instead makes r answer "network unreachable", but Linux rate-limits
    # those per source with a root-namespace sysctl, right after the first traceroute.)
    run("ip", "-n", chain["b"], "link", "set", "nocicmp-b0", "down")
    broken = await traceroute_async("198.19.72.2", max_hops=6, timeout=1.0, netns=chain["a"])
    assert not broken.reached
    assert broken.hops[0] == Hop(1, "198.19.71.1", broken.hops[0].rtt_seconds, "transit")
    assert broken.verdict.startswith("breaks after hop 1 (198.19.71.1): ")
    assert format_traceroute(broken)[0] == f"traceroute to 198.19.72.2: {broken.verdict}"


async def test_diag_entry_point_reports_bad_input_as_an_error(chain):
    proc = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            chain["a"],
            sys.executable,
            "-m",
            "probes.diag",
            "arp-scan",
            "not-a-network",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "not an IPv4 network" in proc.stderr


@pytest.fixture
def lan(make_ns) -> dict[str, str]:
    """scanner ns with bridge br0 198.19.60.1/24; h1 .11 answers ping, h2 .12 ignores it."""
    scanner, h1, h2 = make_ns("lan"), make_ns("h1"), make_ns("h2")
    run("ip", "-n", scanner, "link", "add", "br0", "type", "bridge")
    run("ip", "-n", scanner, "addr", "add", "198.19.60.1/24", "dev", "br0")
    run("ip", "-n", scanner, "link", "set", "br0", "up")
    macs = {}
    for host, ip, port in (
        (h1, "198.19.60.11/24", "nocicmp-p1"),
        (h2, "198.19.60.12/24", "nocicmp-p2"),
    ):
        veth(scanner, port, None, host, "eth0", ip)
        run("ip", "-n", scanner, "link", "set", port, "master", "br0")
        link = json.loads(run("ip", "-n", host, "-j", "link", "show", "eth0"))
        macs[ip.split("/")[0]] = link[0]["address"]
    run("ip", "netns", "exec", h2, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1")
    return {"scanner": scanner, **{f"mac {ip}": mac for ip, mac in macs.items()}}


async def test_arp_scan_finds_a_host_that_ignores_ping(lan):
    pinger = IcmpPinger(netns=lan["scanner"])
    try:
        pinged = await sweep(
            ["198.19.60.11", "198.19.60.12"], IcmpParams(timeout="500ms"), pinger=pinger
        )
    finally:
        pinger.close()
    assert pinged["198.19.60.11"].result is ResultCode.OK
    assert pinged["198.19.60.12"].result is ResultCode.TIMEOUT  # invisible to ping ...

    hosts = await arp_scan_async("198.19.60.0/24", timeout=1.0, netns=lan["scanner"])
    assert hosts == [  # ... but not to ARP
        ArpHost("198.19.60.11", lan["mac 198.19.60.11"]),
        ArpHost("198.19.60.12", lan["mac 198.19.60.12"]),
    ]
    assert format_arp_scan("198.19.60.0/24", hosts) == [
        "ARP scan 198.19.60.0/24: 2 host(s) answered",
        f"198.19.60.11     {lan['mac 198.19.60.11']}",
        f"198.19.60.12     {lan['mac 198.19.60.12']}",
    ]


# Pure verdict/formatting: table-driven, no namespaces.

R, S = "10.0.0.1", "10.0.1.1"
VERDICT_CASES = [
    ([], "breaks before hop 1: no hop answered"),
    ([Hop(1, None, None, "silent")], "breaks before hop 1: no hop answered"),
    (
        [Hop(1, R, 0.001, "transit"), Hop(2, "10.0.9.9", 0.002, "reached")],
        "reached 10.0.9.9 in 2 hops",
    ),
    (
        [Hop(1, R, 0.001, "transit"), Hop(2, S, 0.001, "transit"), Hop(3, None, None, "silent")],
        f"breaks after hop 2 ({S}): no answer from hop 3 on",
    ),
    (
        [Hop(1, R, 0.001, "unreachable", "network unreachable")],
        f"breaks after hop 1 ({R}): {R} reports network unreachable",
    ),
    (
        [Hop(1, R, 0.001, "transit"), Hop(2, R, 0.001, "unreachable", "host unreachable")],
        f"breaks after hop 1 ({R}): {R} reports host unreachable",
    ),
    (
        [Hop(1, R, 0.001, "transit"), Hop(2, S, 0.001, "unreachable", "host unreachable")],
        f"breaks after hop 2 ({S}): {S} reports host unreachable",
    ),
]


@pytest.mark.parametrize("hops,verdict", VERDICT_CASES)
def test_path_verdict(hops, verdict):
    assert path_verdict("10.0.9.9", hops) == verdict


def test_trim_hops_cuts_after_the_end_of_the_path():
    silent = [Hop(t, None, None, "silent") for t in range(1, 6)]
    assert trim_hops(silent) == silent[:1]
    answered = [Hop(1, R, 0.001, "transit"), *silent[1:]]
    assert [h.ttl for h in trim_hops(answered)] == [1, 2]
    unreachable = [Hop(1, R, 0.001, "transit")] + [
        Hop(t, R, 0.001, "unreachable", "x") for t in range(2, 6)
    ]
    assert [h.ttl for h in trim_hops(unreachable)] == [1, 2]


def test_format_traceroute():
    trace = Traceroute(
        "10.0.9.9",
        [Hop(1, R, 0.00125, "transit"), Hop(2, None, None, "silent")],
        False,
        f"breaks after hop 1 ({R}): no answer from hop 2 on",
    )
    assert format_traceroute(trace) == [
        f"traceroute to 10.0.9.9: breaks after hop 1 ({R}): no answer from hop 2 on",
        f" 1  {R}  1.25 ms",
        " 2  *",
    ]
