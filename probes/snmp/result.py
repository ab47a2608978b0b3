"""The ProbeResult of one successful poll (pure: no I/O, no clock).

Result shape (``ProbeResult`` of kind ``snmp``):

- ``values``: ``sys_uptime_seconds``, ``interfaces_reported``, ``interfaces_oper_down``
  and per reported interface ``if.<label>.<metric>`` where ``<label>`` is ifName (else
  ifDescr) and ``<metric>`` is one of ``oper_up`` / ``admin_up`` (1 or 0),
  ``bandwidth_bps``, and from the second poll on ``in_bps``, ``out_bps``,
  ``in_utilisation_ratio``, ``out_utilisation_ratio``, ``in_errors_per_second``,
  ``out_errors_per_second``, ``in_discards_per_second``, ``out_discards_per_second``.
- ``info``: ``sys_name``, ``sys_descr``, ``interfaces`` (a list of dicts, one per
  reported interface: ``if_index``, ``name``, ``descr``, ``label``, ``admin_status``,
  ``oper_status``, ``high_speed_mbps``, ``bandwidth_bps``, ``bandwidth_source``, the
  raw counters, the rates above and the interface's own ``findings``),
  ``missing_interfaces``, ``down_interfaces``, ``interval_seconds``; and on every result,
  failed or not, ``version`` (``2c`` or ``3``, set by the poller).
- ``findings``: ``agent_restarted``, ``counter_wrap``, ``counter_reset``,
  ``if_index_changed``, ``interface_missing`` (a configured interface is not in the
  table), ``interface_down`` (an admin-up interface that is oper-down).

An interface being down is a measured value, not a probe failure: ``ok`` is True whenever
the agent answered with its table. Library outcomes become result codes in
``classify_error`` and nowhere else; the probe never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from probes.base import ProbeResult
from probes.snmp.rates import (
    ADMIN_UP,
    AGENT_RESTARTED,
    INTERFACE_DOWN,
    INTERFACE_MISSING,
    OPER_UP,
    AgentSample,
    InterfaceRates,
    InterfaceSample,
    compute_rates,
    select_interfaces,
)

RATE_FIELDS = (
    "in_bps",
    "out_bps",
    "in_utilisation_ratio",
    "out_utilisation_ratio",
    "in_errors_per_second",
    "out_errors_per_second",
    "in_discards_per_second",
    "out_discards_per_second",
)


def build_result(
    previous: AgentSample | None,
    sample: AgentSample,
    sys_info: dict[str, str],
    wanted: list[str],
    contracted: Mapping[str, int],
) -> ProbeResult:
    """The ProbeResult for one successful poll (pure: no I/O, no clock)."""
    report = compute_rates(previous, sample, contracted)
    chosen, missing = select_interfaces(sample, wanted)
    findings = [f for f in report.findings if f == AGENT_RESTARTED]
    for s in chosen:
        findings += [f for f in report.interfaces[s.if_index].findings if f not in findings]
    values: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    down: list[str] = []
    for s in chosen:
        rates = report.interfaces[s.if_index]
        prefix = f"if.{s.label}."
        oper_up = s.oper_status == OPER_UP
        admin_up = s.admin_status == ADMIN_UP
        values[prefix + "oper_up"] = 1.0 if oper_up else 0.0
        values[prefix + "admin_up"] = 1.0 if admin_up else 0.0
        if rates.bandwidth_bps:
            values[prefix + "bandwidth_bps"] = float(rates.bandwidth_bps)
        for name in RATE_FIELDS:
            value = getattr(rates, name)
            if value is not None:
                values[prefix + name] = value
        if admin_up and not oper_up:
            down.append(s.label)
        rows.append(_interface_row(s, rates))
    if missing:
        findings.append(INTERFACE_MISSING)
    if down:
        findings.append(INTERFACE_DOWN)
    if sample.uptime_ticks is not None:
        values["sys_uptime_seconds"] = sample.uptime_ticks / 100.0
    values["interfaces_reported"] = float(len(chosen))
    values["interfaces_oper_down"] = float(len(down))
    info: dict[str, Any] = dict(sys_info)
    info.update(
        interfaces=rows,
        missing_interfaces=missing,
        down_interfaces=down,
        interval_seconds=report.interval_seconds,
    )
    reason = f"{len(chosen)} interface(s), {len(down)} down"
    if missing:
        reason += f", missing: {', '.join(missing)}"
    return ProbeResult.success(reason, kind="snmp", values=values, info=info, findings=findings)


def _interface_row(s: InterfaceSample, rates: InterfaceRates) -> dict[str, Any]:
    row: dict[str, Any] = {
        "if_index": s.if_index,
        "name": s.name,
        "descr": s.descr,
        "label": s.label,
        "admin_status": s.admin_status,
        "oper_status": s.oper_status,
        "high_speed_mbps": s.high_speed_mbps,
        "bandwidth_bps": rates.bandwidth_bps,
        "bandwidth_source": rates.bandwidth_source,
        "in_octets": s.in_octets,
        "out_octets": s.out_octets,
        "in_errors": s.in_errors,
        "out_errors": s.out_errors,
        "in_discards": s.in_discards,
        "out_discards": s.out_discards,
        "findings": list(rates.findings),
    }
    for name in RATE_FIELDS:
        row[name] = getattr(rates, name)
    return row
