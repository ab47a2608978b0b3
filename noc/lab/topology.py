"""The Lingshui site as namespaces, veths and a bridge (addressing plan: docs/lab.md).

The plan is data (`WAN_LINKS`, `LAN_HOSTS`) so that the inventory, the faults and the
tests read the same addresses the build uses; `build()` and `remove()` are the only
functions that change the kernel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from noc.lab import netns as nx

CE = "noclab-ce"
LAN_BRIDGE = "lan"
ROOT_LINK = "noclab0"
ROOT_ADDRESS = "198.18.10.254"
CE_LAN_ADDRESS = "198.18.10.1"
LAN_PREFIX = 24
LAB_ROUTE = "198.18.0.0/16"
TBF_BURST = "16kb"  # bytes; one GSO super-packet is split by tbf when larger than this
TBF_LATENCY = "50ms"


@dataclass(frozen=True)
class WanLink:
    """A point-to-point circuit from the CE to a far-end namespace, with a contracted rate."""

    name: str  # interface name on the CE side (what SNMP ifName shows)
    far_ns: str
    ce_address: str
    far_address: str
    rate_mbit: int
    far_ifname: str = "eth0"
    prefix: int = 30


@dataclass(frozen=True)
class LanHost:
    """A namespace hanging off the CE's LAN bridge through port `ce_port`."""

    ns: str
    ce_port: str
    addresses: tuple[str, ...]
    ifname: str = "eth0"


@dataclass
class Plan:
    wan: tuple[WanLink, ...]
    lan: tuple[LanHost, ...]
    root_port: str = "lan-noc"  # the CE-side peer of ROOT_LINK, a bridge member
    namespaces: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.namespaces = (CE, *(w.far_ns for w in self.wan), *(h.ns for h in self.lan))

    def wan_link(self, name: str) -> WanLink:
        for link in self.wan:
            if link.name == name:
                return link
        raise KeyError(name)

    def link_names(self) -> list[str]:
        """Every CE interface a fault may act on: the circuits and the LAN bridge ports."""
        return [w.name for w in self.wan] + [h.ce_port for h in self.lan] + [self.root_port]

    def namespace_of(self, address: str) -> str | None:
        if address in (CE_LAN_ADDRESS, *(w.ce_address for w in self.wan)):
            return CE
        for link in self.wan:
            if link.far_address == address:
                return link.far_ns
        for host in self.lan:
            if address in host.addresses:
                return host.ns
        return None

    def far_end_of(self, link_name: str) -> tuple[str, str] | None:
        """(namespace, ifname) at the other end of a CE interface, or None (bridge)."""
        for link in self.wan:
            if link.name == link_name:
                return link.far_ns, link.far_ifname
        for host in self.lan:
            if host.ce_port == link_name:
                return host.ns, host.ifname
        if link_name == self.root_port:
            return None, ROOT_LINK  # root namespace
        return None


PHONE_ADDRESSES = tuple(f"198.18.10.{n}" for n in range(101, 120))
GATEWAY_ADDRESS = "198.18.10.2"

PLAN = Plan(
    wan=(
        WanLink("mstp-voice", "noclab-pv", "198.18.1.1", "198.18.1.2", 10),
        WanLink("mstp-ticket", "noclab-pt", "198.18.2.1", "198.18.2.2", 10),
        WanLink("internet", "noclab-isp", "198.18.3.1", "198.18.3.2", 50),
    ),
    lan=(
        LanHost("noclab-gw", "lan-gw", (GATEWAY_ADDRESS,)),
        LanHost("noclab-ph", "lan-ph", PHONE_ADDRESSES),
    ),
)


def build(plan: Plan = PLAN) -> list[str]:
    """Create the namespaces, links, addresses, shaping and routes; return root routes added.

    The caller removes leftovers first (`remove`), so every step here may assume a clean slate.
    """
    for ns in plan.namespaces:
        nx.add_netns(ns)
    nx.sysctl("net.ipv4.ip_forward", 1, netns=CE)

    nx.ip(
        "link",
        "add",
        LAN_BRIDGE,
        "type",
        "bridge",
        "forward_delay",
        "0",
        "stp_state",
        "0",
        netns=CE,
    )
    nx.ip("addr", "add", f"{CE_LAN_ADDRESS}/{LAN_PREFIX}", "dev", LAN_BRIDGE, netns=CE)
    nx.ip("link", "set", LAN_BRIDGE, "up", netns=CE)

    # Root namespace <-> CE LAN: the NOC host itself sits on the LAN.
    nx.ip("link", "add", ROOT_LINK, "type", "veth", "peer", "name", plan.root_port, "netns", CE)
    _enslave(plan.root_port)
    nx.ip("addr", "add", f"{ROOT_ADDRESS}/{LAN_PREFIX}", "dev", ROOT_LINK)
    nx.ip("link", "set", ROOT_LINK, "up")

    for host in plan.lan:
        nx.ip(
            "link",
            "add",
            host.ce_port,
            "netns",
            CE,
            "type",
            "veth",
            "peer",
            "name",
            host.ifname,
            "netns",
            host.ns,
        )
        _enslave(host.ce_port)
        for address in host.addresses:
            nx.ip("addr", "add", f"{address}/{LAN_PREFIX}", "dev", host.ifname, netns=host.ns)
        nx.ip("link", "set", host.ifname, "up", netns=host.ns)
        nx.ip("route", "add", "default", "via", CE_LAN_ADDRESS, netns=host.ns)

    for link in plan.wan:
        nx.ip(
            "link",
            "add",
            link.name,
            "netns",
            CE,
            "type",
            "veth",
            "peer",
            "name",
            link.far_ifname,
            "netns",
            link.far_ns,
        )
        nx.ip("addr", "add", f"{link.ce_address}/{link.prefix}", "dev", link.name, netns=CE)
        nx.ip(
            "addr",
            "add",
            f"{link.far_address}/{link.prefix}",
            "dev",
            link.far_ifname,
            netns=link.far_ns,
        )
        nx.ip("link", "set", link.name, "up", netns=CE)
        nx.ip("link", "set", link.far_ifname, "up", netns=link.far_ns)
        nx.ip("route", "add", "default", "via", link.ce_address, netns=link.far_ns)
        shape(link.name, link.rate_mbit, CE)
        shape(link.far_ifname, link.rate_mbit, link.far_ns)

    nx.ip("route", "replace", LAB_ROUTE, "via", CE_LAN_ADDRESS, "dev", ROOT_LINK)
    return [LAB_ROUTE]


def restore_routes(link_name: str, plan: Plan = PLAN) -> None:
    """Re-add the routes the kernel flushed when `link_name` (or its far end) went down."""
    for link in plan.wan:
        if link.name == link_name:
            nx.ip("route", "replace", "default", "via", link.ce_address, netns=link.far_ns)
    for host in plan.lan:
        if host.ce_port == link_name:
            nx.ip("route", "replace", "default", "via", CE_LAN_ADDRESS, netns=host.ns)
    if link_name == plan.root_port:
        nx.ip("route", "replace", LAB_ROUTE, "via", CE_LAN_ADDRESS, "dev", ROOT_LINK)


def shape(ifname: str, rate_mbit: int, netns: str) -> None:
    """Token bucket at the contracted rate (the circuit's real ceiling; netem is absent)."""
    nx.run(
        [
            "tc",
            "qdisc",
            "replace",
            "dev",
            ifname,
            "root",
            "tbf",
            "rate",
            f"{rate_mbit}mbit",
            "burst",
            TBF_BURST,
            "latency",
            TBF_LATENCY,
        ],
        netns=netns,
    )


def shaping(ifname: str, netns: str) -> str:
    """The root qdisc's rate ("10Mbit") or "none" — status shows whether tbf is in place."""
    proc = nx.run(["tc", "-j", "qdisc", "show", "dev", ifname, "root"], netns=netns, check=False)
    try:
        entries = json.loads(proc.stdout or "[]")
    except ValueError:
        return "unknown"
    for entry in entries:
        if entry.get("kind") == "tbf":
            rate = entry.get("options", {}).get("rate", 0)
            return f"{rate * 8 // 1_000_000}Mbit" if isinstance(rate, int) else str(rate)
    return "none"


def remove(plan: Plan = PLAN, routes: list[str] | tuple[str, ...] = (LAB_ROUTE,)) -> None:
    """Delete the lab's root routes, the root veth and every lab namespace (with its daemons).

    Safe to call on a partial or absent lab. The 198.18.0.0/15 blackhole is never touched.
    """
    for route in routes:
        if _root_route_via_lab(route):
            nx.ip("route", "del", route, check=False)
    if nx.link_exists(ROOT_LINK):
        nx.ip("link", "del", ROOT_LINK, check=False)
    for ns in plan.namespaces:
        nx.delete_netns(ns)


def status(plan: Plan = PLAN) -> dict:
    """Which namespaces exist and the oper state of every lab link (CE side and far side)."""
    present = nx.list_netns()
    links: dict[str, dict[str, str]] = {}
    ce_up = CE in present
    for name in plan.link_names():
        far = plan.far_end_of(name)
        far_ns, far_if = far if far else (None, None)
        far_state = "ABSENT"
        if far_if and (far_ns is None or far_ns in present):
            far_state = nx.link_oper_state(far_if, netns=far_ns)
        links[name] = {
            "ce": nx.link_oper_state(name, netns=CE) if ce_up else "ABSENT",
            "far": far_state,
        }
        if ce_up and name in {w.name for w in plan.wan}:
            links[name]["shaping"] = shaping(name, CE)
    links[LAN_BRIDGE] = {
        "ce": nx.link_oper_state(LAN_BRIDGE, netns=CE) if ce_up else "ABSENT",
        "far": "-",
    }
    return {
        "namespaces": {ns: ns in present for ns in plan.namespaces},
        "links": links,
    }


def _enslave(port: str) -> None:
    nx.ip("link", "set", port, "master", LAN_BRIDGE, netns=CE)
    nx.ip("link", "set", port, "up", netns=CE)


def _root_route_via_lab(route: str) -> bool:
    for entry in nx.ip_json("route", "show", "exact", route):
        if entry.get("type", "unicast") == "unicast" and entry.get("dev") == ROOT_LINK:
            return True
    return False
