"""The ICMP check's settings, and what they imply for one run's deadline and its confirmation.

The package owns this knowledge so the scheduler and the check planning need not know what an
echo burst is: they ask ``deadline(params)`` and ``confirmation(params, recent_rtt)``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from noc.core.units import Duration

CONFIRM_TIMEOUT_FLOOR = 0.1
CONFIRM_RTT_FACTOR = 4.0


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


def as_params(params: Any) -> IcmpParams:
    """``params`` as IcmpParams: the defaults for None, validated from a mapping."""
    if params is None:
        return IcmpParams()
    if isinstance(params, IcmpParams):
        return params
    return IcmpParams.model_validate(params)


def deadline(params: IcmpParams) -> float:
    """The burst's worst case (the last packet's send plus its timeout) and a second's margin."""
    return (params.count - 1) * params.interval + params.timeout + 1.0


def confirmation(params: IcmpParams, recent_rtt: float | None = None) -> IcmpParams:
    """Parameters for a fast-confirmation re-probe: a short burst, so one lost packet on a lossy
    line does not count as a failed probe while a dead line still fails fast.

    The burst waits 4× the slowest recent round trip (at least 100 ms, at most the check's own
    timeout, 500 ms when nothing is known): routers rate-limit their "unreachable" errors, so a
    dead line's confirmation mostly ends by timeout, and waiting the full timeout twice was most
    of the time from a link going down to its alarm. A congested line's slow replies raise
    ``recent_rtt`` and so the wait."""
    wait = (
        0.5 if recent_rtt is None else max(CONFIRM_TIMEOUT_FLOOR, CONFIRM_RTT_FACTOR * recent_rtt)
    )
    return params.model_copy(
        update={
            "count": max(params.count, 5),
            "interval": 0.02,
            "timeout": min(params.timeout, wait),
        }
    )
