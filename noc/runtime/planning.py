"""Inventory checks → what a probe needs: the target, its parameters, and a deadline.

One place turns a configured check into ``(probe kind, Target, params)``, so the scheduler,
the runbook automation and the CLI agree on how an asset is probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from noc.config import _SIP_URI_RE, Asset, IcmpCheck, NocConfig, SipCheck, SnmpCheck
from noc.engine.observe import CheckRef
from probes.base import Target


@dataclass(frozen=True)
class PlannedCheck:
    ref: CheckRef
    kind: str
    target: Target
    params: Any
    interval: float
    deadline: float  # the probe's own worst case plus a margin; the scheduler cancels after it


def plan_check(
    config: NocConfig, asset: Asset, check: IcmpCheck | SnmpCheck | SipCheck
) -> PlannedCheck:
    name = check.check_name
    interval = config.check_interval(asset, check)
    if isinstance(check, IcmpCheck):
        params = check.params
        target = Target(check.address or asset.address or "", asset=asset.name, check=name)
        deadline = (params.count - 1) * params.interval + params.timeout + 1.0
        ref = CheckRef(asset.name, name, "icmp", asset.kind)
    elif isinstance(check, SnmpCheck):
        agent = config.asset(check.agent) if check.agent else asset
        params = check.probe_params()
        bandwidth = {}
        if asset.bandwidth:
            for ifname in check.interfaces or ([asset.interface] if asset.interface else []):
                bandwidth[ifname] = asset.bandwidth
        for other in config.assets:  # the router's own poll knows every circuit's contract
            if (
                check.agent is None
                and other.interface
                and other.bandwidth
                and any(isinstance(c, SnmpCheck) and c.agent == asset.name for c in other.checks)
            ):
                bandwidth.setdefault(other.interface, other.bandwidth)
        creds = agent.snmp
        target = Target(
            agent.address or "",
            creds.port if creds else 161,
            asset=asset.name,
            check=name,
            extra={"credentials": creds, "bandwidth_bps": bandwidth},
        )
        deadline = params.timeout * (params.retries + 1) * 4 + 1.0
        ref = CheckRef(
            asset.name,
            name,
            "snmp",
            asset.kind,
            tuple(check.interfaces),
            via_agent=check.agent is not None,
        )
    else:
        params = check.params
        uri = check.uri or (asset.sip.uri if asset.sip else "")
        if (
            asset.sip
            and not check.uri
            and asset.sip.transport != params.transport
            and "transport" not in check.params.model_fields_set
        ):
            params = params.model_copy(update={"transport": asset.sip.transport})
        m = _SIP_URI_RE.match(uri)
        host = m.group("host").strip("[]") if m else ""
        port = int(m.group("port")) if m and m.group("port") else 5060
        target = Target(host, port, asset=asset.name, check=name, extra={"uri": uri})
        deadline = params.timeout + 1.0
        ref = CheckRef(asset.name, name, "sip", asset.kind)
    return PlannedCheck(ref, ref.check_type, target, params, interval, deadline)


def plan_all(config: NocConfig) -> list[PlannedCheck]:
    return [plan_check(config, asset, check) for asset, check in config.iter_checks()]


CONFIRM_TIMEOUT_FLOOR = 0.1
CONFIRM_RTT_FACTOR = 4.0


def confirm_params(kind: str, params: Any, recent_rtt: float | None = None) -> Any:
    """Parameters for a fast-confirmation re-probe: for ICMP a short burst, so one lost packet
    on a lossy line does not count as a failed probe while a dead line still fails fast.

    The burst waits 4× the slowest recent round trip (at least 100 ms, at most the check's own
    timeout, 500 ms when nothing is known): routers rate-limit their "unreachable" errors, so a
    dead line's confirmation mostly ends by timeout, and waiting the full timeout twice was most
    of the time from a link going down to its alarm. A congested line's slow replies raise
    ``recent_rtt`` and so the wait."""
    if kind == "icmp":
        wait = (
            0.5
            if recent_rtt is None
            else max(CONFIRM_TIMEOUT_FLOOR, CONFIRM_RTT_FACTOR * recent_rtt)
        )
        return params.model_copy(
            update={
                "count": max(params.count, 5),
                "interval": 0.02,
                "timeout": min(params.timeout, wait),
            }
        )
    return params
