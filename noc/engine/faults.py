"""From check states to faults on assets. Pure.

A *fault* is what a NOC engineer would name: "the voice circuit is down", "the internet line
loses packets", "phone 07 does not answer SIP". Each has a type (which selects the runbook;
the types are ``noc.core.vocabulary.FAULT_TYPES``), a class (outage / degraded / congested /
minor: the row of the severity matrix), the asset it is on, and the instant it started (the
first observation of the health transition).

Which checks count, by asset kind:

| kind | outage | degraded / congested / minor |
|---|---|---|
| mstp_circuit | icmp DOWN, or snmp (interface oper status) DOWN while icmp is not up → ``circuit_down`` | icmp loss/RTT/jitter or snmp errors → ``circuit_degraded``; snmp utilisation → ``circuit_congested`` |
| internet_line | → ``internet_down`` | → ``internet_degraded`` (congestion: class congested) |
| voice_gateway | sip DOWN (icmp when it has no sip check) → ``gateway_unreachable``; another sip check (the provincial trunk) DOWN → ``sip_trunk_error`` | sip/icmp degraded → ``gateway_degraded`` (minor) |
| phone | sip DOWN (icmp when no sip) → ``phone_unreachable`` | — |
| router, switch | icmp DOWN → ``router_down`` | snmp DOWN while icmp is up → ``snmp_agent_lost``; agent restart → ``router_reboot`` |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from noc.core.vocabulary import CIRCUIT_KINDS
from noc.engine.health import State

CHECK_LEVEL_TYPES = frozenset({"sip_trunk_error"})
"""Faults of one check of an asset that still answers (the gateway's provincial SIP trunk): they
impair only the services that need that check (see ``Topology.needs_check``), not every service
that needs the asset — a dead trunk does not take the office phones with it."""

_UTILISATION = "max_utilisation_ratio"


@dataclass(frozen=True)
class CheckView:
    """What the classifier needs to know of one check's health."""

    asset: str
    check: str
    check_type: str
    state: State
    since: float
    reason: str = ""
    flapping: bool = False
    degraded_by: frozenset[str] = frozenset()
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    type: str
    asset: str
    check: str
    fault_class: str
    started_at: float
    reason: str = ""
    metrics: Mapping[str, Any] = field(default_factory=dict)
    flapping: bool = False

    @property
    def key(self) -> str:
        return f"{self.type}:{self.asset}"

    @property
    def is_outage(self) -> bool:
        return self.fault_class == "outage"

    @property
    def whole_asset(self) -> bool:
        """The asset itself is affected (not one check of it: see ``CHECK_LEVEL_TYPES``)."""
        return self.type not in CHECK_LEVEL_TYPES


def _down(view: CheckView | None) -> bool:
    return view is not None and view.state is State.DOWN


def _degraded(view: CheckView | None) -> bool:
    return view is not None and view.state is State.DEGRADED


def classify(kind: str, asset: str, checks: Mapping[str, CheckView]) -> list[Fault]:
    """The faults on one asset, from its checks' current views (keyed by check name)."""
    faults: list[Fault] = []

    def fault(type_: str, view: CheckView, cls: str, **metrics: Any) -> None:
        faults.append(
            Fault(
                type_,
                asset,
                view.check,
                cls,
                view.since,
                view.reason,
                dict(metrics) or dict(view.metrics),
                view.flapping,
            )
        )

    by_type: dict[str, list[CheckView]] = {}
    for view in checks.values():
        by_type.setdefault(view.check_type, []).append(view)
    icmp = checks.get("icmp") or next(iter(by_type.get("icmp", [])), None)
    snmp = checks.get("snmp") or next(iter(by_type.get("snmp", [])), None)

    if kind in CIRCUIT_KINDS:
        down_type, degraded_type = (
            ("circuit_down", "circuit_degraded")
            if kind == "mstp_circuit"
            else ("internet_down", "internet_degraded")
        )
        congested_type = "circuit_congested" if kind == "mstp_circuit" else "internet_degraded"
        # ICMP through the circuit is the direct evidence; the CE's ifOperStatus confirms it, and
        # decides alone only when ICMP has no say (net-snmp caches ifTable for seconds, so an
        # "oper down" can outlive a repaired line that already answers pings). When pings begin failing at the
        # moment the interface goes down, the engine takes ICMP DOWN at once (Engine._corroborate)
        icmp_up = icmp is not None and icmp.state in (State.UP, State.DEGRADED)
        down_views = [v for v in (icmp, snmp) if _down(v) and not (v is snmp and icmp_up)]
        if down_views:
            fault(down_type, min(down_views, key=lambda v: v.since), "outage")
            return faults
        if _degraded(icmp):
            fault(degraded_type, icmp, "degraded")
        if _degraded(snmp):
            if _UTILISATION in snmp.degraded_by:
                fault(congested_type, snmp, "congested")
            if snmp.degraded_by - {_UTILISATION} and not _degraded(icmp):
                fault(degraded_type, snmp, "degraded")
        return _merge_same_type(faults)

    if kind == "voice_gateway":
        sip_views = by_type.get("sip", [])
        main_sip = checks.get("sip") or (sip_views[0] if sip_views else None)
        reach = main_sip or icmp
        if _down(reach):
            fault("gateway_unreachable", reach, "outage")
            return faults
        for view in sip_views:
            if view is not main_sip and _down(view):
                fault("sip_trunk_error", view, "outage")
        if _degraded(reach) or (main_sip is not None and _down(icmp)):
            fault("gateway_degraded", reach if _degraded(reach) else icmp, "minor")
        return faults

    if kind == "phone":
        sip = checks.get("sip") or next(iter(by_type.get("sip", [])), None)
        reach = sip or icmp
        if _down(reach):
            fault("phone_unreachable", reach, "outage")
        return faults

    if kind in ("router", "switch"):
        if _down(icmp):
            fault("router_down", icmp, "outage")
        elif _down(snmp):
            fault("snmp_agent_lost", snmp, "minor")
        return faults
    return faults


def _merge_same_type(faults: list[Fault]) -> list[Fault]:
    """Degradation seen by two checks of one circuit is one fault (the earlier start wins)."""
    merged: dict[str, Fault] = {}
    for f in faults:
        prev = merged.get(f.type)
        if prev is None or (f.fault_class == "degraded" and prev.fault_class == "congested"):
            merged[f.type] = (
                f
                if prev is None
                else Fault(
                    f.type,
                    f.asset,
                    f.check,
                    f.fault_class,
                    min(f.started_at, prev.started_at),
                    f.reason,
                    {**prev.metrics, **f.metrics},
                    f.flapping,
                )
            )
    return list(merged.values())


def classify_all(kinds: Mapping[str, str], views: Iterable[CheckView]) -> list[Fault]:
    """Faults of every asset; ``kinds`` maps asset name → kind."""
    per_asset: dict[str, dict[str, CheckView]] = {}
    for view in views:
        per_asset.setdefault(view.asset, {})[view.check] = view
    out: list[Fault] = []
    for asset, checks in per_asset.items():
        out.extend(classify(kinds[asset], asset, checks))
    return out
