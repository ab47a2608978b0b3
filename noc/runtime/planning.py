"""Inventory checks → what a probe needs: the target, its parameters, and a deadline.

One place turns a configured check into ``(probe kind, Target, params)``, so the scheduler,
the runbook automation and the CLI agree on how an asset is probed. What the parameters imply
(the deadline, a confirmation re-probe's parameters) is the probe kind's own knowledge
(``probes.probeset.probe_kind``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from noc.config import _SIP_URI_RE, Asset, IcmpCheck, NocConfig, SipCheck, SnmpCheck
from noc.engine.observe import CheckRef
from probes.base import Target
from probes.probeset import probe_kind


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
        ref = CheckRef(asset.name, name, "sip", asset.kind)
    deadline = probe_kind(ref.check_type).deadline(params)
    return PlannedCheck(ref, ref.check_type, target, params, interval, deadline)


def plan_all(config: NocConfig) -> list[PlannedCheck]:
    return [plan_check(config, asset, check) for asset, check in config.iter_checks()]
