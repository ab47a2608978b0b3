"""ICMP echo probe: latency, loss and jitter through one shared raw socket."""

from probes.icmp import params, render
from probes.icmp.params import IcmpParams
from probes.icmp.pinger import IcmpPinger, sweep
from probes.kind import ProbeKind

KIND = ProbeKind(
    "icmp",
    client=IcmpPinger,
    deadline=params.deadline,
    confirm=params.confirmation,
    render=render.render,
    brief=render.brief,
    gauges=render.gauges,
)

__all__ = ["KIND", "IcmpParams", "IcmpPinger", "sweep"]
