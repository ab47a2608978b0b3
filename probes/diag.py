"""Runbook diagnostics with scapy: ICMP traceroute (where does the path break?) and ARP scan
(which hosts are on the segment, even those that ignore ping).

Scapy reads the interface and routing tables of the namespace it is imported in and keeps
them, so running it in another namespace via setns() in a thread would send by the wrong
tables. We run it in a child process instead: ``[ip netns exec NS] python -m probes.diag
traceroute HOST`` prints JSON, and ``traceroute_async``/``arp_scan_async`` wrap that for the
service. ``traceroute``/``arp_scan`` do the work in the current process (root needed).
The verdict and text formatting are pure functions for the runbook timeline.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import ipaddress
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from noc.core.errors import UnavailableError
from probes.icmp.codec import describe_error

TIME_EXCEEDED, ECHO_REPLY, DEST_UNREACHABLE = 11, 0, 3


class DiagError(UnavailableError):
    """The diagnostic could not run (no namespace, scapy failure, a name that does not resolve)
    - not a path fault. An :class:`UnavailableError` (exit 1): the tool, not the request, failed."""

    label = "诊断无法执行 / diagnostic could not run"


@dataclass(frozen=True, slots=True)
class Hop:
    """One TTL of a traceroute. ``kind``: ``transit`` (time exceeded), ``reached`` (echo
    reply from the destination), ``unreachable`` (an ICMP error stops the path), ``silent``."""

    ttl: int
    address: str | None
    rtt_seconds: float | None
    kind: str
    detail: str = ""

    @property
    def reached(self) -> bool:
        return self.kind == "reached"


@dataclass(frozen=True, slots=True)
class Traceroute:
    destination: str
    hops: list[Hop]
    reached: bool
    verdict: str


@dataclass(frozen=True, slots=True)
class ArpHost:
    ip: str
    mac: str


def trim_hops(hops: list[Hop]) -> list[Hop]:
    """Hops in TTL order, cut after the destination or the first unreachable, and after
    one silent hop beyond the last that answered."""
    hops = sorted(hops, key=lambda h: h.ttl)
    for index, hop in enumerate(hops):
        if hop.kind in ("reached", "unreachable"):
            return hops[: index + 1]
    answered = [i for i, h in enumerate(hops) if h.address]
    return hops[: (answered[-1] + 2 if answered else 1)]


def path_verdict(destination: str, hops: list[Hop]) -> str:
    """One line for the runbook: reached in N hops, or where the path breaks."""
    for hop in hops:
        if hop.reached:
            return f"reached {destination} in {hop.ttl} hops"
    stop = next((h for h in hops if h.kind == "unreachable"), None)
    if stop is not None:
        # The reporting router may also be an earlier hop (it forwarded before, now it has no route).
        n = min(h.ttl for h in hops if h.address == stop.address)
        return f"breaks after hop {n} ({stop.address}): {stop.address} reports {stop.detail}"
    answered = [h for h in hops if h.address]
    if not answered:
        return "breaks before hop 1: no hop answered"
    last = answered[-1]
    return f"breaks after hop {last.ttl} ({last.address}): no answer from hop {last.ttl + 1} on"


def format_traceroute(trace: Traceroute) -> list[str]:
    """Timeline lines: the verdict first, then one line per hop."""
    lines = [f"traceroute to {trace.destination}: {trace.verdict}"]
    for hop in trace.hops:
        if hop.address is None:
            lines.append(f"{hop.ttl:>2}  *")
            continue
        rtt = f"{hop.rtt_seconds * 1000:.2f} ms" if hop.rtt_seconds is not None else "-"
        note = f"  !{hop.detail}" if hop.kind == "unreachable" else ""
        lines.append(f"{hop.ttl:>2}  {hop.address}  {rtt}{note}")
    return lines


def format_arp_scan(cidr: str, hosts: list[ArpHost]) -> list[str]:
    lines = [f"ARP scan {cidr}: {len(hosts)} host(s) answered"]
    lines += [f"{h.ip:<15}  {h.mac}" for h in hosts]
    return lines


def _classify(sent, received, destination: str) -> Hop:
    from scapy.layers.inet import ICMP

    icmp = received[ICMP]
    rtt = max(0.0, float(received.time) - float(sent.sent_time))
    if icmp.type == ECHO_REPLY and received.src == destination:
        kind, detail = "reached", ""
    elif icmp.type == TIME_EXCEEDED:
        kind, detail = "transit", ""
    else:
        kind, detail = "unreachable", describe_error(icmp.type, icmp.code)
    return Hop(sent.ttl, received.src, rtt, kind, detail)


def traceroute(host: str, max_hops: int = 15, timeout: float = 2.0) -> Traceroute:
    """ICMP traceroute from this process's namespace; all TTLs are sent at once."""
    from scapy.layers.inet import ICMP, IP
    from scapy.sendrecv import sr

    try:
        destination = socket.gethostbyname(host)
    except OSError as exc:
        raise DiagError(f"cannot resolve {host!r}: {exc}") from exc
    ident = os.getpid() & 0xFFFF
    probes = [IP(dst=destination, ttl=t) / ICMP(id=ident, seq=t) for t in range(1, max_hops + 1)]
    answered, _ = sr(probes, timeout=timeout, verbose=0)
    by_ttl = {sent.ttl: _classify(sent, received, destination) for sent, received in answered}
    hops = trim_hops([by_ttl.get(t, Hop(t, None, None, "silent")) for t in range(1, max_hops + 1)])
    reached = any(h.reached for h in hops)
    return Traceroute(destination, hops, reached, path_verdict(destination, hops))


def arp_scan(cidr: str, iface: str | None = None, timeout: float = 2.0) -> list[ArpHost]:
    """Hosts of ``cidr`` that answer an ARP who-has, sorted by address."""
    from scapy.config import conf
    from scapy.layers.l2 import ARP, Ether
    from scapy.sendrecv import srp

    try:
        network = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError as exc:
        raise DiagError(f"not an IPv4 network: {cidr!r}") from exc
    if iface is None:
        iface = conf.route.route(str(network.network_address + 1))[0]
    request = Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=str(network))
    answered, _ = srp(request, iface=iface, timeout=timeout, verbose=0)
    hosts = {r[ARP].psrc: r[ARP].hwsrc for _, r in answered}
    return [ArpHost(ip, hosts[ip]) for ip in sorted(hosts, key=ipaddress.IPv4Address)]


async def _reap(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
    await proc.wait()


async def _run_child(args: list[str], netns: str | None, deadline: float) -> object:
    argv = [sys.executable, "-m", "probes.diag", *args]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    try:
        async with asyncio.timeout(deadline):
            out, err = await proc.communicate()
    except TimeoutError:
        await _reap(proc)
        raise DiagError(f"{args[0]} did not finish within {deadline:g}s") from None
    except (
        asyncio.CancelledError
    ):  # service stopping: never leave the child (or its transport) behind
        await asyncio.shield(_reap(proc))
        raise
    if proc.returncode != 0:
        raise DiagError(f"{args[0]} failed: {err.decode(errors='replace').strip()[-500:]}")
    return json.loads(out)


async def traceroute_async(
    host: str, *, max_hops: int = 15, timeout: float = 2.0, netns: str | None = None
) -> Traceroute:
    """``traceroute`` in a child process (in network namespace ``netns`` when given)."""
    data = await _run_child(
        ["traceroute", host, "--max-hops", str(max_hops), "--timeout", str(timeout)],
        netns,
        deadline=timeout + 30,
    )
    hops = [Hop(**h) for h in data["hops"]]
    return Traceroute(data["destination"], hops, data["reached"], data["verdict"])


async def arp_scan_async(
    cidr: str, *, iface: str | None = None, timeout: float = 2.0, netns: str | None = None
) -> list[ArpHost]:
    """``arp_scan`` in a child process (in network namespace ``netns`` when given)."""
    args = ["arp-scan", cidr, "--timeout", str(timeout)] + (["--iface", iface] if iface else [])
    data = await _run_child(args, netns, deadline=timeout + 30)
    return [ArpHost(**h) for h in data]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m probes.diag", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("traceroute")
    tr.add_argument("host")
    tr.add_argument("--max-hops", type=int, default=15)
    tr.add_argument("--timeout", type=float, default=2.0)
    arp = sub.add_parser("arp-scan")
    arp.add_argument("cidr")
    arp.add_argument("--iface")
    arp.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    try:
        if args.command == "traceroute":
            result: object = dataclasses.asdict(traceroute(args.host, args.max_hops, args.timeout))
        else:
            result = [dataclasses.asdict(h) for h in arp_scan(args.cidr, args.iface, args.timeout)]
    except DiagError as exc:
        print(exc, file=sys.stderr)
        return 2
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
