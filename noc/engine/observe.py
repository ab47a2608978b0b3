"""Probe results → observations the health machines understand. Pure.

Mostly a probe's ``ok`` is the observation's ``ok``. The exception is SNMP on a circuit: the
probe asks the CE router, so "the agent answered" says nothing about the circuit; what
matters is the interface's oper status. When the agent does not answer, the circuit gets *no*
observation (the router's own checks report an agent that is lost), rather than a failure
that would blame the circuit for the router.
"""

from __future__ import annotations

from dataclasses import dataclass

from noc.engine.health import Observation
from probes.base import ProbeResult

_RATE_KEYS = ("in_utilisation_ratio", "out_utilisation_ratio")
_ERROR_KEYS = ("in_errors_per_second", "out_errors_per_second")


@dataclass(frozen=True)
class CheckRef:
    """Which (asset, check) a result belongs to, and what kind of check it is."""

    asset: str
    check: str
    check_type: str
    asset_kind: str
    interfaces: tuple[str, ...] = ()
    via_agent: bool = False  # SNMP of this asset is read on another asset's agent

    @property
    def key(self) -> tuple[str, str]:
        return (self.asset, self.check)


def to_observation(ref: CheckRef, result: ProbeResult) -> Observation | None:
    """The observation for ``result``, or None when the result says nothing about this asset."""
    values = {k: float(v) for k, v in result.values.items() if isinstance(v, int | float)}
    if ref.check_type == "snmp":
        return _snmp_observation(ref, result, values)
    return Observation(
        ref.asset,
        ref.check,
        result.started_at,
        result.ok,
        str(result.result),
        result.reason,
        values,
        tuple(result.findings),
    )


def _snmp_observation(
    ref: CheckRef, result: ProbeResult, values: dict[str, float]
) -> Observation | None:
    if not result.ok:
        if ref.via_agent:
            return None
        return Observation(
            ref.asset,
            ref.check,
            result.started_at,
            False,
            str(result.result),
            result.reason,
            {},
            tuple(result.findings),
        )
    names = ref.interfaces or _reported_interfaces(values)
    down = [n for n in names if values.get(f"if.{n}.oper_up", 0.0) < 1.0]
    missing = [n for n in names if f"if.{n}.oper_up" not in values]
    derived: dict[str, float] = dict(values)
    utils = [values[f"if.{n}.{k}"] for n in names for k in _RATE_KEYS if f"if.{n}.{k}" in values]
    if utils:
        derived["max_utilisation_ratio"] = max(utils)
    errors = [values[f"if.{n}.{k}"] for n in names for k in _ERROR_KEYS if f"if.{n}.{k}" in values]
    if errors:
        derived["errors_per_second"] = sum(errors)
    if ref.via_agent or ref.interfaces:
        # a circuit: its interface must be there and up
        ok = not down and not missing
        if missing:
            reason = f"interface {', '.join(missing)} not in the agent's ifTable"
        elif down:
            reason = f"interface {', '.join(down)} oper down"
        else:
            reason = result.reason
        return Observation(
            ref.asset,
            ref.check,
            result.started_at,
            ok,
            "ok" if ok else "interface_down",
            reason,
            derived,
            tuple(result.findings),
        )
    # a router's own agent: answering is health; interface states are the circuits' business
    return Observation(
        ref.asset,
        ref.check,
        result.started_at,
        True,
        "ok",
        result.reason,
        derived,
        tuple(result.findings),
    )


def _reported_interfaces(values: dict[str, float]) -> list[str]:
    return sorted(
        {k[3:].rsplit(".", 1)[0] for k in values if k.startswith("if.") and k.endswith(".oper_up")}
    )
