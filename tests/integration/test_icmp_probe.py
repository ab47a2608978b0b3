"""The ICMP probe and sweep against the real kernel, inside namespaces the tests create.

Every namespace is ``nocicmp-*`` and is deleted in fixture teardown. Loss is made by nft
(``numgen random``) because this kernel has no netem; unreachable comes from a real router
namespace with ``unreachable``/``prohibit`` routes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from probes.base import ResultCode, Target
from probes.icmp import IcmpParams, IcmpPinger, sweep
from probes.probeset import ProbeSet

pytestmark = pytest.mark.root

LOSS_RULESET = """
table inet nocicmp_loss {
  chain out {
    type filter hook output priority 0; policy accept;
    icmp type echo-reply numgen random mod 100 < 10 drop
  }
}
"""


def run(*cmd: str, stdin: str | None = None) -> None:
    assert shutil.which(cmd[0]), f"{cmd[0]} is not installed"
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed: {proc.stderr}"


def in_ns(ns: str, *cmd: str, stdin: str | None = None) -> None:
    run("ip", "netns", "exec", ns, *cmd, stdin=stdin)


@pytest.fixture
def make_ns() -> Iterator:
    """Create ``nocicmp-<name>-<pid>`` namespaces with loopback up; all deleted afterwards."""
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


@pytest.fixture
def pingers() -> Iterator:
    opened: list[IcmpPinger] = []

    def make(ns: str, send_spacing: float = 0.0005) -> IcmpPinger:
        pinger = IcmpPinger(netns=ns, send_spacing=send_spacing)
        opened.append(pinger)
        return pinger

    yield make
    for pinger in opened:
        pinger.close()


def loopback_targets(n: int) -> list[str]:
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(n)]


async def test_loopback_ok_with_raw_socket(make_ns, pingers):
    pinger = pingers(make_ns("raw"))
    params = IcmpParams(count=3, interval="10ms", privileged=True)
    result = await pinger.ping("127.0.0.1", params)
    assert result.result is ResultCode.OK and result.ok
    assert result.info["socket"] == "raw"
    values = result.values
    assert (values["sent"], values["received"], values["loss_ratio"]) == (3, 3, 0.0)
    assert 0 < values["rtt_min_seconds"] <= values["rtt_avg_seconds"] <= values["rtt_max_seconds"]
    assert values["rtt_max_seconds"] < params.timeout
    assert "jitter_seconds" in values


async def test_loopback_ok_with_unprivileged_socket(make_ns, pingers):
    ns = make_ns("dgram")
    in_ns(ns, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
    pinger = pingers(ns)
    result = await pinger.ping("127.0.0.1", IcmpParams(count=2, interval="10ms", privileged=False))
    assert result.result is ResultCode.OK
    assert result.info["socket"] == "dgram"
    assert result.values["received"] == 2


async def test_unprivileged_socket_refused_by_sysctl_is_an_error_value(make_ns, pingers):
    pinger = pingers(make_ns("nogroup"))  # a new namespace starts with ping_group_range "1 0"
    result = await pinger.ping("127.0.0.1", IcmpParams(privileged=False))
    assert result.result is ResultCode.ERROR
    assert "ping_group_range" in result.reason


async def test_the_probe_set_probes_icmp_through_the_pinger_it_holds(make_ns, pingers):
    pinger = pingers(make_ns("default"))
    probes = ProbeSet(icmp=pinger)
    assert probes.client("icmp") is pinger
    result = await probes["icmp"](Target("127.0.0.1", asset="lo"), {"count": 2, "interval": "5ms"})
    assert result.result is ResultCode.OK and result.kind == "icmp"
    assert result.info["socket"] == "raw"  # privileged=None as root: raw socket
    assert result.target == "127.0.0.1"
    assert pinger.socket_count == 1


SILENT_RULESET = """
table inet nocicmp_silent {
  chain in {
    type filter hook input priority 0; policy accept;
    ip daddr 127.0.99.0/24 icmp type echo-request drop
  }
}
"""


async def test_silent_address_times_out_without_serialising_the_sweep(make_ns, pingers):
    ns = make_ns("silent")
    in_ns(ns, "nft", "-f", "-", stdin=SILENT_RULESET)  # requests vanish: no reply, no error
    pinger = pingers(ns, send_spacing=0.001)
    targets = [f"127.0.99.{i}" for i in range(1, 41)]
    params = IcmpParams(count=2, interval="50ms", timeout="300ms")
    results = await sweep(targets, params, pinger=pinger)
    assert set(results) == set(targets)
    for result in results.values():
        assert result.result is ResultCode.TIMEOUT, result
        assert result.values["loss_ratio"] == 1.0 and result.values["sent"] == 2
        assert "rtt_avg_seconds" not in result.values
    # Lost packets did not serialise the sweep: the last target's first packet left before
    # the first target's first packet had timed out.
    first, last = results[targets[0]], results[targets[-1]]
    assert last.started_at < first.started_at + params.timeout


@pytest.fixture
def routed(make_ns) -> dict[str, str]:
    """client --veth-- router; the router has unreachable/prohibit routes, the client one
    local unreachable route."""
    client, router = make_ns("cli"), make_ns("rtr")
    run(
        "ip",
        "link",
        "add",
        "nocicmp-c0",
        "netns",
        client,
        "type",
        "veth",
        "peer",
        "name",
        "nocicmp-r0",
        "netns",
        router,
    )
    run("ip", "-n", client, "addr", "add", "198.19.80.2/24", "dev", "nocicmp-c0")
    run("ip", "-n", router, "addr", "add", "198.19.80.1/24", "dev", "nocicmp-r0")
    run("ip", "-n", client, "link", "set", "nocicmp-c0", "up")
    run("ip", "-n", router, "link", "set", "nocicmp-r0", "up")
    run("ip", "-n", client, "route", "add", "default", "via", "198.19.80.1")
    run("ip", "-n", client, "route", "add", "unreachable", "198.19.83.0/24")
    run("ip", "-n", router, "route", "add", "unreachable", "198.19.81.0/24")
    run("ip", "-n", router, "route", "add", "prohibit", "198.19.82.0/24")
    in_ns(router, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0")
    in_ns(client, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
    return {"client": client, "router": router}


@pytest.mark.parametrize("privileged", [True, False], ids=["raw", "dgram"])
async def test_icmp_unreachable_from_a_router_is_unreachable(routed, pingers, privileged):
    pinger = pingers(routed["client"])
    params = IcmpParams(timeout="2s", privileged=privileged)
    results = await sweep(["198.19.81.5", "198.19.82.5", "198.19.80.1"], params, pinger=pinger)
    host, prohibited, router = (
        results["198.19.81.5"],
        results["198.19.82.5"],
        results["198.19.80.1"],
    )
    assert router.result is ResultCode.OK
    assert host.result is ResultCode.UNREACHABLE
    assert host.reason == "198.19.80.1 reports host unreachable"
    assert prohibited.result is ResultCode.UNREACHABLE
    assert prohibited.reason == "198.19.80.1 reports communication administratively prohibited"
    assert host.values["loss_ratio"] == 1.0


async def test_a_rate_limited_router_does_not_make_the_probe_wait_for_its_timeout(routed, pingers):
    """Linux routers send about one ICMP error per second per source after a burst of ~6: of a
    10-packet burst to a dead network most get no answer at all. The router's first "unreachable"
    is the verdict; waiting 5 s for the silent rest would slow every confirmation of a dead link."""
    in_ns(routed["router"], "sysctl", "-qw", "net.ipv4.icmp_ratelimit=1000")
    result = await pingers(routed["client"]).ping(
        "198.19.81.9", IcmpParams(count=10, interval="10ms", timeout="5s")
    )
    assert result.result is ResultCode.UNREACHABLE
    assert result.values["loss_ratio"] == 1.0
    assert result.duration_seconds < 2.5  # not the 5 s timeout of the silent packets


async def test_no_local_route_is_unreachable(routed, pingers):
    result = await pingers(routed["client"]).ping("198.19.83.7", IcmpParams())
    assert result.result is ResultCode.UNREACHABLE
    assert "no route" in result.reason


async def test_random_loss_sweep_of_200_targets(make_ns, pingers):
    ns = make_ns("loss")
    in_ns(ns, "nft", "-f", "-", stdin=LOSS_RULESET)
    targets = loopback_targets(200)
    results = await sweep(targets, IcmpParams(timeout="300ms"), pinger=pingers(ns))
    assert set(results) == set(targets)  # every target gets a result, lost or not
    codes = [r.result for r in results.values()]
    assert set(codes) <= {ResultCode.OK, ResultCode.TIMEOUT}
    loss = sum(r.values["loss_ratio"] for r in results.values()) / len(results)
    # Binomial(200, 0.1): mean 0.1, sd 0.021; [0.02, 0.22] is beyond 3.5 sd on each side.
    assert 0.02 <= loss <= 0.22, loss
    assert codes.count(ResultCode.TIMEOUT) == round(loss * 200)


def socket_fds() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


async def test_sweep_of_1000_targets_uses_one_socket(make_ns, pingers):
    pinger = pingers(make_ns("many"), send_spacing=0.0002)
    targets = loopback_targets(1000)
    before = socket_fds()
    samples: list[int] = []

    async def sample() -> None:
        while True:
            samples.append(socket_fds())
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    try:
        results = await sweep(targets, IcmpParams(timeout="500ms"), pinger=pinger)
    finally:
        sampler.cancel()
    assert len(samples) >= 3
    assert max(samples) - before == 1
    assert pinger.socket_count == 1
    assert all(r.result is ResultCode.OK for r in results.values())
    assert len(results) == 1000


async def test_cancelled_sweep_leaves_the_pinger_usable(make_ns, pingers):
    ns = make_ns("cancel")
    in_ns(ns, "nft", "-f", "-", stdin=SILENT_RULESET)
    pinger = pingers(ns)
    silent = [f"127.0.99.{i}" for i in range(1, 11)]
    with pytest.raises(TimeoutError):  # the caller (scheduler) owns the overall deadline
        await asyncio.wait_for(sweep(silent, IcmpParams(timeout="5s"), pinger=pinger), 0.2)
    result = await pinger.ping("127.0.0.1", IcmpParams())
    assert result.result is ResultCode.OK
    assert pinger.socket_count == 1


def test_pinger_follows_the_running_event_loop(make_ns, pingers):
    """The service's pinger outlives test event loops; a new loop gets a fresh socket."""
    pinger = pingers(make_ns("loops"))
    first = asyncio.run(pinger.ping("127.0.0.1", IcmpParams()))
    second = asyncio.run(pinger.ping("127.0.0.2", IcmpParams()))
    assert (first.result, second.result) == (ResultCode.OK, ResultCode.OK)
    assert pinger.socket_count == 1
