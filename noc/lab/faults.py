"""Faults the lab can inject into the Lingshui site, each undone by `heal`.

A fault is a small record `{"kind", "target", "value"}` kept in the lab state, so `heal`
(possibly from another process) knows exactly what to reverse. The kernel has no netem,
so loss is an nft `numgen random` drop on the CE's egress of that interface.

Kinds: link-down LINK · loss LINK PERCENT · icmp-silence NS|ADDRESS ·
sip-silence ADDRESS · sip-503 ADDRESS · snmpd-stop. (link-up LINK and snmpd-start
are the heals of link-down and snmpd-stop.)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol

from noc.lab import netns as nx
from noc.lab.topology import CE, PLAN, Plan, restore_routes

KINDS = ("link-down", "loss", "icmp-silence", "sip-silence", "sip-503", "snmpd-stop")
SIP_KINDS = {"sip-silence": "silent", "sip-503": "503"}


class FaultError(ValueError):
    """The fault request names an unknown kind, link, namespace or address."""


class DaemonControl(Protocol):
    """What faults need from the lab's daemons (implemented by noc.lab.daemons)."""

    def set_sip_mode(self, address: str, mode: str) -> None: ...
    def stop_snmpd(self) -> None: ...
    def start_snmpd(self) -> None: ...


@dataclass(frozen=True)
class Fault:
    kind: str
    target: str = ""
    value: int | None = None

    @property
    def key(self) -> str:
        """Identity for heal: SIP faults on one address share a slot (one mode at a time)."""
        kind = "sip" if self.kind in SIP_KINDS else self.kind
        return f"{kind} {self.target}".strip()

    def describe(self) -> str:
        return " ".join(p for p in (self.kind, self.target, _str(self.value)) if p)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "value": self.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        return cls(data["kind"], data.get("target", ""), data.get("value"))


def parse_fault(kind: str, args: list[str] | tuple[str, ...], plan: Plan = PLAN) -> Fault:
    """Validate a `noc lab fault KIND ARGS…` request into a Fault (pure)."""
    args = list(args)
    if kind not in KINDS:
        raise FaultError(f"未知故障类型 / unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
    if kind == "snmpd-stop":
        _arity(kind, args, 0)
        return Fault(kind)
    if kind == "link-down":
        _arity(kind, args, 1)
        return Fault(kind, _link(args[0], plan))
    if kind == "loss":
        _arity(kind, args, 2)
        try:
            percent = int(args[1].rstrip("%"))
        except ValueError:
            raise FaultError(f"loss: PERCENT must be an integer 0–100, got {args[1]!r}") from None
        if not 0 <= percent <= 100:
            raise FaultError(f"loss: PERCENT must be 0–100, got {percent}")
        return Fault(kind, _link(args[0], plan), percent)
    if kind == "icmp-silence":
        _arity(kind, args, 1)
        return Fault(kind, _namespace_or_address(args[0], plan))
    _arity(kind, args, 1)  # sip-*
    address = _address(args[0])
    if plan.namespace_of(address) not in ("noclab-gw", "noclab-pv", "noclab-ph"):
        raise FaultError(f"{kind}: {address} is not a lab SIP peer (gateway, trunk peer, phone)")
    return Fault(kind, address)


def apply(fault: Fault, daemons: DaemonControl, plan: Plan = PLAN) -> None:
    """Make the fault true in the lab (idempotent)."""
    if fault.kind == "link-down":
        _set_link(fault.target, "down", plan)
    elif fault.kind == "loss":
        _loss_on(fault.target, int(fault.value or 0))
    elif fault.kind == "icmp-silence":
        _icmp_silence(fault.target, True, plan)
    elif fault.kind in SIP_KINDS:
        daemons.set_sip_mode(fault.target, SIP_KINDS[fault.kind])
    elif fault.kind == "snmpd-stop":
        daemons.stop_snmpd()


def heal(fault: Fault, daemons: DaemonControl, plan: Plan = PLAN) -> None:
    """Undo the fault (idempotent: healing a healthy lab changes nothing)."""
    if fault.kind == "link-down":
        _set_link(fault.target, "up", plan)
    elif fault.kind == "loss":
        nx.nft(f"delete table inet {_loss_table(fault.target)}\n", netns=CE, check=False)
    elif fault.kind == "icmp-silence":
        _icmp_silence(fault.target, False, plan)
    elif fault.kind in SIP_KINDS:
        daemons.set_sip_mode(fault.target, "ok")
    elif fault.kind == "snmpd-stop":
        daemons.start_snmpd()


def record(active: list[dict[str, Any]], fault: Fault) -> list[dict[str, Any]]:
    """The active-fault list with `fault` added (replacing one with the same key)."""
    kept = [f for f in active if Fault.from_dict(f).key != fault.key]
    return [*kept, fault.to_dict()]


def select(active: list[dict[str, Any]], which: str | None) -> list[Fault]:
    """Active faults matching `which` ("loss mstp-voice", "loss", "sip-503 198.18.10.2"…).

    None selects all. Raises FaultError when `which` matches nothing active.
    """
    faults = [Fault.from_dict(f) for f in active]
    if not which:
        return faults
    words = which.split()
    chosen = [f for f in faults if _matches(f, words)]
    if not chosen:
        names = ", ".join(f.describe() for f in faults) or "none"
        raise FaultError(f"没有匹配的故障 / no active fault matches {which!r} (active: {names})")
    return chosen


def _matches(fault: Fault, words: list[str]) -> bool:
    kind = words[0]
    if kind == "link-up":
        kind = "link-down"
    elif kind == "snmpd-start":
        kind = "snmpd-stop"
    if kind not in (fault.kind, "sip" if fault.kind in SIP_KINDS else fault.kind):
        return False
    return len(words) < 2 or words[1] == fault.target


def _set_link(link: str, state: str, plan: Plan) -> None:
    nx.ip("link", "set", link, state, netns=CE)
    far = plan.far_end_of(link)
    if far is not None:
        far_ns, far_if = far
        nx.ip("link", "set", far_if, state, netns=far_ns)
    if state == "up":
        restore_routes(link, plan)


def _loss_table(link: str) -> str:
    return "noclab_loss_" + link.replace("-", "_")


def _loss_on(link: str, percent: int) -> None:
    table = _loss_table(link)
    chance = "" if percent >= 100 else f"numgen random mod 100 < {percent} "
    # Egress only: a ping through the link then loses PERCENT % of its round trips.
    nx.nft(
        f"table inet {table}\n"
        f"delete table inet {table}\n"
        f"table inet {table} {{\n"
        f"  chain egress {{\n"
        f"    type filter hook postrouting priority 0; policy accept;\n"
        f'    oifname "{link}" {chance}drop\n'
        f"  }}\n"
        f"}}\n",
        netns=CE,
    )


def _icmp_table(address: str) -> str:
    return "noclab_icmp_" + address.replace(".", "_")


def _icmp_silence(target: str, silent: bool, plan: Plan) -> None:
    """A whole namespace ignores echo requests (sysctl); one address drops them (nft)."""
    if target in plan.namespaces:
        nx.sysctl("net.ipv4.icmp_echo_ignore_all", 1 if silent else 0, netns=target)
        return
    ns = plan.namespace_of(target)
    table = _icmp_table(target)
    if not silent:
        nx.nft(f"delete table inet {table}\n", netns=ns, check=False)
        return
    nx.nft(
        f"table inet {table}\n"
        f"delete table inet {table}\n"
        f"table inet {table} {{\n"
        f"  chain input {{\n"
        f"    type filter hook input priority 0; policy accept;\n"
        f"    ip daddr {target} icmp type echo-request drop\n"
        f"  }}\n"
        f"}}\n",
        netns=ns,
    )


def _arity(kind: str, args: list[str], n: int) -> None:
    if len(args) != n:
        usage = {
            "link-down": "link-down LINK",
            "loss": "loss LINK PERCENT",
            "icmp-silence": "icmp-silence NAMESPACE|ADDRESS",
            "sip-silence": "sip-silence ADDRESS",
            "sip-503": "sip-503 ADDRESS",
            "snmpd-stop": "snmpd-stop",
        }[kind]
        raise FaultError(f"用法 / usage: noc lab fault {usage}")


def _link(name: str, plan: Plan) -> str:
    if name not in plan.link_names():
        raise FaultError(f"未知链路 / unknown link {name!r}; one of {', '.join(plan.link_names())}")
    return name


def _address(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise FaultError(f"不是 IPv4 地址 / not an IPv4 address: {text!r}") from None


def _namespace_or_address(text: str, plan: Plan) -> str:
    for ns in plan.namespaces:
        if text in (ns, ns.removeprefix("noclab-")):
            return ns
    address = _address(text)
    if plan.namespace_of(address) is None:
        raise FaultError(f"{address} 不属于实验网 / is not a lab address")
    return address


def _str(value: int | None) -> str:
    return "" if value is None else str(value)
