"""ICMP echo probe: latency, loss and jitter of one target, or a sweep of many.

Every probe goes through one long-lived :class:`IcmpPinger` (one socket shared by all
targets, see ``icmp_pinger``). The service creates it once and installs it with
``set_default_pinger``; without that, the first probe creates a default instance.

Result codes: ``ok`` if any reply came back, ``unreachable`` if none did and the network
said so (ICMP destination unreachable / time exceeded, or no route locally), ``timeout``
if nothing came back at all, ``error`` for local problems (socket permission, bad name).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from noc.core.units import Duration
from probes.base import ProbeResult, Target, register
from probes.icmp.pinger import IcmpPinger

__all__ = [
    "IcmpParams",
    "IcmpPinger",
    "default_pinger",
    "probe_icmp",
    "set_default_pinger",
    "sweep",
]


class IcmpParams(BaseModel):
    """Per-check ICMP settings (YAML ``icmp:`` module)."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(1, ge=1, le=100, description="echo requests per target")
    interval: Duration = Field(0.2, description="time between packets to one target")
    timeout: Duration = Field(1.0, gt=0, description="wait per packet before counting it lost")
    privileged: bool | None = Field(
        None, description="raw socket (true), datagram ICMP socket (false), raw if allowed (null)"
    )
    payload_size: int = Field(56, ge=0, le=65000, description="echo payload bytes")


_default: IcmpPinger | None = None


def default_pinger() -> IcmpPinger:
    """The process-wide pinger, created on first use."""
    global _default
    if _default is None:
        _default = IcmpPinger()
    return _default


def set_default_pinger(pinger: IcmpPinger | None) -> None:
    """Install the service's pinger (or ``None`` to drop it; the caller closes the old one)."""
    global _default
    _default = pinger


def _params(params: Any) -> IcmpParams:
    if params is None:
        return IcmpParams()
    if isinstance(params, IcmpParams):
        return params
    return IcmpParams.model_validate(params)


async def sweep(
    addresses: Iterable[str], params: IcmpParams | None = None, *, pinger: IcmpPinger | None = None
) -> dict[str, ProbeResult]:
    """Probe many addresses at once over one socket; a result for every distinct address."""
    return await (pinger or default_pinger()).sweep(addresses, _params(params))


@register("icmp")
async def probe_icmp(target: Target, params: IcmpParams | None) -> ProbeResult:
    return await default_pinger().ping(target.address, _params(params))
