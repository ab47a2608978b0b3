"""`noc diag …`: the runbook diagnostics by hand — where does the path break (traceroute),
who is on the segment (ARP scan). Both need root (scapy sends raw packets).

Readable output is the runbook timeline text (``probes.diag.format_*``); ``--json`` prints
one JSON object. Exit codes: 0 destination reached / some host answered, 1 not reached /
nobody answered / the diagnostic could not run, 2 bad usage or refused by the lab guard.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress

import click

from noc.cli.access import local
from noc.cli.common import DURATION, as_json, exit_on_error, finish, json_option, refuse_unsafe


@click.group("diag")
def diag() -> None:
    """故障诊断 / runbook diagnostics: traceroute, ARP scan (root)."""


@diag.command("traceroute")
@local(
    "sends diagnostic packets from this host and reads or writes no store data: raw sockets need root, so the OS decides; run from an incident, the same diagnostic is the API's and console's audited `diagnose` act"
)
@click.argument("host")
@click.option("--max-hops", type=click.IntRange(1, 64), default=15, show_default=True)
@click.option(
    "--timeout",
    type=DURATION,
    default="2s",
    show_default=True,
    help="等待应答 / wait for answers (all TTLs are sent at once).",
)
@json_option("输出一个JSON对象 / print one JSON object.", "json_out")
@exit_on_error
def traceroute(host: str, max_hops: int, timeout: float, json_out: bool) -> None:
    """路由追踪 / ICMP traceroute to HOST: the hop where the path breaks."""
    from probes.diag import format_traceroute, traceroute_async

    refuse_unsafe([host])
    trace = asyncio.run(traceroute_async(host, max_hops=max_hops, timeout=timeout))
    text = as_json(dataclasses.asdict(trace)) if json_out else "\n".join(format_traceroute(trace))
    finish(trace.reached, text)


@diag.command("arp")
@local(
    "sends diagnostic packets from this host and reads or writes no store data: raw sockets need root, so the OS decides; run from an incident, the same diagnostic is the API's and console's audited `diagnose` act"
)
@click.argument("cidr")
@click.option("--iface", metavar="IF", help="接口 / interface to scan on (default: the route's).")
@click.option(
    "--timeout", type=DURATION, default="2s", show_default=True, help="等待应答 / wait for answers."
)
@json_option("输出一个JSON对象 / print one JSON object.", "json_out")
@exit_on_error
def arp(cidr: str, iface: str | None, timeout: float, json_out: bool) -> None:
    """ARP扫描 / which hosts of CIDR answer ARP (even those that ignore ping)."""
    from probes.diag import arp_scan_async, format_arp_scan
    from probes.safety import TEST_RANGE

    try:
        network = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        raise click.BadParameter(
            f"不是IPv4网段 / not an IPv4 network: {cidr!r}", param_hint="CIDR"
        ) from None
    refuse_unsafe([str(TEST_RANGE.network_address)] if network.overlaps(TEST_RANGE) else [])
    hosts = asyncio.run(arp_scan_async(str(network), iface=iface, timeout=timeout))
    if json_out:
        text = as_json({"cidr": str(network), "hosts": [dataclasses.asdict(h) for h in hosts]})
    else:
        text = "\n".join(format_arp_scan(str(network), hosts))
    finish(bool(hosts), text)
