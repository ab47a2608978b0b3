"""The SNMP probe and trap receiver against a real net-snmp snmpd.

Loopback agent on 127.0.0.1:16120 for protocol/credential behaviour; a private network
namespace ``nocsnmp-t<random>`` joined to the root namespace by a veth pair (198.19.x.0/30)
for byte-exact rate checks, agent restarts and linkDown traps on a real link change.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from noc.lab.snmpd import SnmpdPeer, TrapSink, V3User
from noc.metrics.snapshot import MetricsSnapshot
from probes.base import ResultCode, Target
from probes.probeset import ProbeSet
from probes.snmp import AgentMemory, SnmpCredentials, SnmpParams, SnmpPoller
from probes.snmp.traps import SnmpTrapReceiver, TrapObservation

pytestmark = pytest.mark.root

LO_PORT = 16120
DEAD_PORT = 16121  # nothing listens here
NS_AGENT_PORT = 16140
NS_TRAP_PORT = 16141
COMMUNITY = "noc-ro-test"
USERS = {
    "sha256-aes128": V3User("nocv3", "auth-key-256", "priv-key-128", "sha256", "aes128"),
    "sha-aes256": V3User("nocaes256", "auth-key-sha1", "priv-key-aes256", "sha", "aes256"),
    "sha-aes256c": V3User("nocaes256c", "auth-key-sha1", "priv-key-aes256c", "sha", "aes256c"),
}
FAST = SnmpParams(timeout="400ms", retries=0)
NET_SNMP_IF_CACHE_SECONDS = 3.5  # snmpd caches interface counters for ~3 s


def _require(binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.fail(f"{binary} is not installed (apt-get install snmpd snmp iproute2)")


def _v3(v3user: V3User, port: int = LO_PORT, **change) -> SnmpCredentials:
    data = dict(
        version="3",
        user=v3user.user,
        auth_protocol=v3user.auth_protocol,
        auth_key=v3user.auth_key,
        priv_protocol=v3user.priv_protocol,
        priv_key=v3user.priv_key,
        port=port,
    )
    data.update(change)
    return SnmpCredentials(**data)


def _v2c(community: str = COMMUNITY, port: int = LO_PORT) -> SnmpCredentials:
    return SnmpCredentials(version="2c", community=community, port=port)


@pytest.fixture(scope="module")
def lo_agent(tmp_path_factory) -> Iterator[SnmpdPeer]:
    _require("snmpd")
    _require("snmpget")
    peer = SnmpdPeer(
        "127.0.0.1",
        LO_PORT,
        tmp_path_factory.mktemp("snmpd-lo"),
        community=COMMUNITY,
        v3_users=list(USERS.values()),
        overrides={"lo": 10},
    )
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture
async def poller():
    p = SnmpPoller()
    yield p
    p.close()


async def _poll(poller, creds, params=FAST, extra=None, address="127.0.0.1"):
    extra = dict(extra or {})
    extra["credentials"] = creds
    return await poller.poll(Target(address, extra=extra), creds, params)


# --- loopback agent: protocol and credentials ----------------------------------------


async def test_v2c_poll_reads_lo_interface_table(lo_agent, poller):
    result = await _poll(
        poller,
        _v2c(),
        SnmpParams(timeout="1s", interfaces=["lo"]),
        extra={"bandwidth_bps": {"lo": 10_000_000}},
    )
    assert result.ok, result.reason
    assert result.result is ResultCode.OK
    (row,) = result.info["interfaces"]
    assert row["name"] == "lo" and row["if_index"] == 1
    assert row["high_speed_mbps"] == 10  # the lab's override, not the kernel's value
    assert row["bandwidth_source"] == "contract"
    assert result.values["if.lo.oper_up"] == 1.0
    assert result.values["sys_uptime_seconds"] > 0
    assert result.info["sys_name"] == "noc-lab-agent"
    assert "if.lo.in_bps" not in result.values  # first poll: no rates yet
    again = await _poll(poller, _v2c(), SnmpParams(timeout="1s", interfaces=["lo"]))
    assert again.ok, again.reason
    (row,) = again.info["interfaces"]
    assert row["descr"] == "lo"  # carried forward, not re-read
    assert "if.lo.in_bps" in again.values


async def test_a_poll_with_its_own_memory_leaves_the_rate_history_alone(lo_agent, poller):
    first = await _poll(poller, _v2c())
    assert first.ok, first.reason
    kept = dict(poller.memory.samples)
    own = AgentMemory()
    target = Target("127.0.0.1", extra={"credentials": _v2c()})
    aside = [await poller.poll(target, _v2c(), FAST, own) for _ in range(2)]
    assert all(r.ok for r in aside), [r.reason for r in aside]
    assert aside[1].info["interval_seconds"] > 0  # rates against its own first sample
    assert poller.memory.samples == kept  # the scheduler's previous sample is untouched
    assert set(own.samples) == set(kept)


async def test_the_probe_set_probe_uses_target_credentials(lo_agent):
    async with ProbeSet() as probes:
        result = await probes["snmp"](Target("127.0.0.1", extra={"credentials": _v2c()}), FAST)
    assert result.ok, result.reason
    assert result.kind == "snmp" and result.target == f"127.0.0.1:{LO_PORT}"
    assert result.info["version"] == "2c"


@pytest.mark.parametrize("name", list(USERS))
async def test_v3_auth_priv_variants(lo_agent, poller, name):
    result = await _poll(poller, _v3(USERS[name]))
    assert result.ok, f"{name}: {result.reason}"
    assert any(r["name"] == "lo" for r in result.info["interfaces"])


@pytest.mark.parametrize(("name", "other"), [("sha-aes256", "aes256c"), ("sha-aes256c", "aes256")])
async def test_aes256_key_extensions_are_not_interchangeable(lo_agent, poller, name, other):
    result = await _poll(poller, _v3(USERS[name], priv_protocol=other))
    assert result.result is ResultCode.TIMEOUT  # the agent cannot decrypt: it stays silent


async def test_wrong_v3_auth_key_is_auth_failed(lo_agent, poller):
    result = await _poll(poller, _v3(USERS["sha256-aes128"], auth_key="not-the-key"))
    assert result.result is ResultCode.AUTH_FAILED
    assert not result.ok


async def test_unknown_v3_user_is_auth_failed(lo_agent, poller):
    result = await _poll(poller, _v3(USERS["sha256-aes128"], user="nobody"))
    assert result.result is ResultCode.AUTH_FAILED


async def test_wrong_community_is_timeout_with_hint(lo_agent, poller):
    result = await _poll(poller, _v2c("wrong-community"))
    assert result.result is ResultCode.TIMEOUT
    assert "wrong community" in result.reason


async def test_no_agent_is_timeout(poller):
    result = await _poll(poller, _v2c(port=DEAD_PORT))
    assert result.result in (ResultCode.TIMEOUT, ResultCode.REFUSED)


async def test_small_max_repetitions_walks_whole_table(lo_agent, poller):
    whole = await _poll(poller, _v2c(), SnmpParams(timeout="1s"))
    paged = await _poll(SnmpPoller(), _v2c(), SnmpParams(timeout="1s", max_repetitions=1))
    assert paged.ok and whole.ok
    assert [r["if_index"] for r in paged.info["interfaces"]] == [
        r["if_index"] for r in whole.info["interfaces"]
    ]


# --- a namespace with a veth: byte-exact rates, restarts, traps ---------------------


@dataclass
class NsLab:
    ns: str
    root_if: str
    ns_if: str
    dummy_if: str
    root_addr: str
    ns_addr: str


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def nslab() -> Iterator[NsLab]:
    _require("ip")
    tag = secrets.token_hex(3)
    third = secrets.randbelow(250) + 1
    lab = NsLab(
        f"nocsnmp-t{tag}",
        f"nsr{tag}",
        f"nsa{tag}",
        f"nsd{tag}",
        f"198.19.{third}.1",
        f"198.19.{third}.2",
    )
    try:
        _ip("netns", "add", lab.ns)
        _ip("link", "add", lab.root_if, "type", "veth", "peer", "name", lab.ns_if, "netns", lab.ns)
        # no IPv6 neighbour discovery chatter in the byte counts
        subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{lab.root_if}.disable_ipv6=1"], check=True)
        subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                lab.ns,
                "sysctl",
                "-qw",
                f"net.ipv6.conf.{lab.ns_if}.disable_ipv6=1",
            ],
            check=True,
        )
        _ip("addr", "add", f"{lab.root_addr}/30", "dev", lab.root_if)
        _ip("link", "set", lab.root_if, "up")
        _ip("-n", lab.ns, "addr", "add", f"{lab.ns_addr}/30", "dev", lab.ns_if)
        _ip("-n", lab.ns, "link", "set", lab.ns_if, "up")
        _ip("-n", lab.ns, "link", "set", "lo", "up")
        # a second veth pair inside the namespace: the link the trap test takes down
        # (no dummy module on this kernel)
        _ip(
            "-n",
            lab.ns,
            "link",
            "add",
            lab.dummy_if,
            "type",
            "veth",
            "peer",
            "name",
            lab.dummy_if + "p",
        )
        _ip("-n", lab.ns, "link", "set", lab.dummy_if, "up")
        _ip("-n", lab.ns, "link", "set", lab.dummy_if + "p", "up")
        yield lab
    finally:
        subprocess.run(["ip", "link", "del", lab.root_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", lab.ns], capture_output=True)


@pytest.fixture
def ns_agent(nslab, tmp_path) -> Iterator[SnmpdPeer]:
    _require("snmpd")
    peer = SnmpdPeer(
        nslab.ns_addr,
        NS_AGENT_PORT,
        tmp_path / "snmpd-ns",
        community=COMMUNITY,
        overrides={nslab.ns_if: 50},
        trap_sink=TrapSink(nslab.root_addr, NS_TRAP_PORT, community="noc-trap"),
        netns=nslab.ns,
    )
    yield peer
    peer.stop()


def _iface(result, name):
    return next(r for r in result.info["interfaces"] if r["name"] == name)


SINK = "import socket,sys; s=socket.socket(2,2); s.bind((sys.argv[1], 9)); [s.recv(65535) for _ in iter(int, 1)]"
SEND = (
    "import socket,sys,time; s=socket.socket(2,2); n=int(sys.argv[2]); p=b'x'*int(sys.argv[3])\n"
    "for i in range(n):\n s.sendto(p,(sys.argv[1],9))\n if i % 100 == 99: time.sleep(0.002)\n"
)


async def test_rates_match_bytes_pushed_across_the_veth(nslab, ns_agent, poller):
    ns_agent.start()
    creds = _v2c(port=NS_AGENT_PORT)
    params = SnmpParams(timeout="1s", interfaces=[nslab.ns_if])
    extra = {"bandwidth_bps": {nslab.ns_if: 50_000_000}}
    count, payload = 2000, 1400
    wire = count * (payload + 8 + 20 + 14)  # UDP + IPv4 + Ethernet headers, as veth counts
    sinks = [
        subprocess.Popen(
            ["ip", "netns", "exec", nslab.ns, sys.executable, "-c", SINK, nslab.ns_addr]
        ),
        subprocess.Popen([sys.executable, "-c", SINK, nslab.root_addr]),
    ]
    try:
        await asyncio.sleep(NET_SNMP_IF_CACHE_SECONDS)  # let the agent's counter cache age out
        first = await _poll(poller, creds, params, extra, address=nslab.ns_addr)
        assert first.ok, first.reason
        # into the namespace (the agent's in_octets) …
        subprocess.run(
            [sys.executable, "-c", SEND, nslab.ns_addr, str(count), str(payload)], check=True
        )
        # … and out of it (the agent's out_octets)
        subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                nslab.ns,
                sys.executable,
                "-c",
                SEND,
                nslab.root_addr,
                str(count),
                str(payload),
            ],
            check=True,
        )
        await asyncio.sleep(NET_SNMP_IF_CACHE_SECONDS)
        second = await _poll(poller, creds, params, extra, address=nslab.ns_addr)
    finally:
        for p in sinks:
            p.kill()
            p.wait()
    assert second.ok, second.reason
    a, b = _iface(first, nslab.ns_if), _iface(second, nslab.ns_if)
    in_delta = b["in_octets"] - a["in_octets"]
    out_delta = b["out_octets"] - a["out_octets"]
    assert in_delta == pytest.approx(wire, rel=0.01)
    assert out_delta == pytest.approx(wire, rel=0.01)
    interval = second.info["interval_seconds"]
    assert b["in_bps"] == pytest.approx(in_delta * 8 / interval)
    assert b["in_utilisation_ratio"] == pytest.approx(b["in_bps"] / 50_000_000)
    assert b["high_speed_mbps"] == 50
    assert second.findings == []
    # /metrics: the octets as counters fed from ifHCInOctets/ifHCOutOctets, rates in bytes
    totals = _totals(first, second)
    assert totals[(nslab.ns_if, "in")] == in_delta
    assert totals[(nslab.ns_if, "out")] == out_delta


async def test_agent_restart_between_polls_is_a_finding(nslab, ns_agent, poller):
    ns_agent.start()
    creds = _v2c(port=NS_AGENT_PORT)
    await asyncio.sleep(1.5)  # let the agent's uptime grow beyond what a restart takes
    first = await _poll(poller, creds, address=nslab.ns_addr)
    assert first.ok and "agent_restarted" not in first.findings
    # 50 kB into the namespace, so that its kernel counters have surely moved on
    subprocess.run([sys.executable, "-c", SEND, nslab.ns_addr, "50", "1000"], check=True)
    ns_agent.restart()
    second = await _poll(poller, creds, address=nslab.ns_addr)
    assert second.ok, second.reason
    assert "agent_restarted" in second.findings
    assert not any(k.endswith("_bps") and "bandwidth" not in k for k in second.values)
    # the kernel's octet counters went on (only snmpd restarted) but sysUpTime went back: the
    # exported counter takes the restart as a new start and holds, never jumps or goes back
    raw = _iface(second, nslab.ns_if)["in_octets"] - _iface(first, nslab.ns_if)["in_octets"]
    assert raw >= 50 * 1000
    totals = _totals(first, second)
    assert totals[(nslab.ns_if, "in")] == 0


def _totals(*results) -> dict[tuple[str, str], float]:
    """(interface, direction) → noc_interface_bytes_total of a metrics snapshot that has
    observed these results of one SNMP check."""
    snap = MetricsSnapshot("t")
    snap.add_check("agent", "snmp", "snmp", "router")
    for result in results:
        snap.observe_result(("agent", "snmp"), result)
    return {
        (s.labels["interface"], s.labels["direction"]): s.value
        for family in text_string_to_metric_families(snap.render())
        for s in family.samples
        if s.name == "noc_interface_bytes_total"
    }


async def _next(
    queue: asyncio.Queue[TrapObservation], kind: str, name: str | None = None, timeout: float = 15.0
) -> TrapObservation:
    async def wait() -> TrapObservation:
        while True:
            obs = await queue.get()
            if obs.kind == kind and (name is None or obs.if_name == name):
                return obs

    return await asyncio.wait_for(wait(), timeout)


async def test_link_down_trap_on_real_link_change(nslab, ns_agent):
    queue: asyncio.Queue[TrapObservation] = asyncio.Queue()
    async with SnmpTrapReceiver(
        nslab.root_addr, NS_TRAP_PORT, communities=["noc-trap"], queue=queue
    ):
        ns_agent.start()
        cold = await _next(queue, "cold_start")
        assert cold.source == nslab.ns_addr and cold.version == "2c"
        await _next(queue, "link_up", nslab.dummy_if)  # the monitor's first look
        _ip("-n", nslab.ns, "link", "set", nslab.dummy_if, "down")
        try:
            down = await _next(queue, "link_down", nslab.dummy_if)
        finally:
            _ip("-n", nslab.ns, "link", "set", nslab.dummy_if, "up")
    assert down.if_oper_status == 2
    assert down.if_index is not None and down.trap_oid == "1.3.6.1.6.3.1.1.5.3"


async def test_v3_trap_is_received_and_decoded(tmp_path):
    engine_id = "0x80001f88804e4f43" + secrets.token_hex(4)
    user = V3User("noctrap", "trap-auth-key", "trap-priv-key", "sha256", "aes256")
    from probes.snmp.traps import TrapUser

    queue: asyncio.Queue[TrapObservation] = asyncio.Queue()
    receiver = SnmpTrapReceiver(
        "127.0.0.1",
        16122,
        communities=[],
        queue=queue,
        v3_users=[
            TrapUser(
                user=user.user,
                engine_id=engine_id,
                auth_protocol="sha256",
                auth_key=user.auth_key,
                priv_protocol="aes256",
                priv_key=user.priv_key,
            )
        ],
    )
    peer = SnmpdPeer(
        "127.0.0.1",
        16123,
        Path(tmp_path) / "snmpd-v3trap",
        community=COMMUNITY,
        trap_sink=TrapSink("127.0.0.1", 16122, user=user),
        engine_id=engine_id,
    )
    async with receiver:
        try:
            peer.start()
            cold = await _next(queue, "cold_start")
        finally:
            peer.stop()
    assert cold.version == "3" and cold.security_name == "noctrap"
