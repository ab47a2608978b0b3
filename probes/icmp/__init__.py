"""ICMP echo probe: latency, loss and jitter through one shared raw socket."""

from probes.icmp.pinger import IcmpPinger
from probes.icmp.probe import IcmpParams, default_pinger, probe_icmp, set_default_pinger, sweep

__all__ = [
    "IcmpParams",
    "IcmpPinger",
    "default_pinger",
    "probe_icmp",
    "set_default_pinger",
    "sweep",
]
