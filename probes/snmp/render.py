"""An SNMP interface poll for people (the CLI, the runbook timeline) and for the dashboards.

``render`` is the operator's full view (system, then one table row per interface);
``timeline_table`` the compact table of the runbook's interface dump, which marks the
interfaces the incident is about.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from noc.core.units import format_bandwidth
from probes.base import ProbeResult
from probes.kind import CounterReading, Gauges
from probes.render import result_line, table
from probes.snmp.oids import IF_STATUS
from probes.snmp.rates import COUNTER_BITS

_HEADER = [
    "接口 if",
    "管理 admin",
    "运行 oper",
    "带宽 bandwidth",
    "入 in",
    "出 out",
    "入利用率 in %",
    "出利用率 out %",
    "错包 err/s",
    "丢弃 discards/s",
]


def status_word(value: Any) -> str:
    """IF-MIB admin/oper status as a word (the probe reports the integer)."""
    if isinstance(value, int):
        return IF_STATUS.get(value, str(value))
    return str(value) if value is not None else "?"


def _rate(bps: float | None) -> str:
    if bps is None:
        return "-"
    for unit, size in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= size:
            return f"{bps / size:.2f} {unit}"
    return f"{bps:.0f} bit/s"


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.2f} %"


def _uptime(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _sum_rate(row: dict[str, Any], a: str, b: str) -> str:
    if row.get(a) is None and row.get(b) is None:
        return "-"
    return f"{(row.get(a) or 0.0) + (row.get(b) or 0.0):.2f}"


def _table_row(row: dict[str, Any]) -> list[str]:
    bw = row.get("bandwidth_bps")
    source = {"contract": " (合同 contract)", "ifHighSpeed": ""}.get(
        row.get("bandwidth_source") or "", ""
    )
    return [
        row["label"],
        IF_STATUS.get(row.get("admin_status"), str(row.get("admin_status") or "-")),
        IF_STATUS.get(row.get("oper_status"), str(row.get("oper_status") or "-")),
        (format_bandwidth(bw) + source) if bw else "-",
        _rate(row.get("in_bps")),
        _rate(row.get("out_bps")),
        _pct(row.get("in_utilisation_ratio")),
        _pct(row.get("out_utilisation_ratio")),
        _sum_rate(row, "in_errors_per_second", "out_errors_per_second"),
        _sum_rate(row, "in_discards_per_second", "out_discards_per_second"),
    ]


def render(result: ProbeResult) -> str:
    """The operator's view: agent, outcome, sysName/uptime/sysDescr, the interface table."""
    info, values = result.info, result.values
    version = f" (v{info['version']})" if info.get("version") else ""
    lines = [f"SNMP {result.target}{version}", result_line(result)]
    if not result.ok:
        return "\n".join(lines)
    lines.append(
        f"设备 sysName: {info.get('sys_name') or '-'}   运行时间 uptime: "
        + (_uptime(values["sys_uptime_seconds"]) if "sys_uptime_seconds" in values else "-")
    )
    if info.get("sys_descr"):
        lines.append(f"描述 sysDescr: {info['sys_descr']}")
    interval = info.get("interval_seconds")
    lines.append(
        f"速率区间 rate interval: {interval:.2f} s"
        if interval
        else "速率 rates: 无（单次轮询）/ none (one poll; use --rate-interval)"
    )
    rows = [_table_row(row) for row in info.get("interfaces", [])]
    lines.append("接口 interfaces:")
    lines += ["  " + line for line in table(_HEADER, rows)]
    if info.get("missing_interfaces"):
        lines.append(f"缺失 missing: {', '.join(info['missing_interfaces'])}")
    if result.findings:
        lines.append(f"发现 findings: {', '.join(result.findings)}")
    return "\n".join(lines)


def timeline_table(rows: list[dict[str, Any]], focus: Iterable[str]) -> list[str]:
    """The runbook's compact interface table; ``*`` marks the interfaces in ``focus``."""
    focus = set(focus)
    lines = ["  接口 interface        admin/oper   速率 speed   in / out            错包 errors/s"]
    for row in rows:
        mark = "*" if row.get("label") in focus or row.get("name") in focus else " "
        speed = row.get("bandwidth_bps") or 0
        rates = "-"
        if row.get("in_bps") is not None:
            rates = f"{row['in_bps'] / 1e6:.2f}/{row.get('out_bps', 0) / 1e6:.2f} Mbit/s"
        errors = "-"
        if row.get("in_errors_per_second") is not None:
            errors = f"{row['in_errors_per_second']:.1f}/{row.get('out_errors_per_second', 0):.1f}"
        status = status_word(row.get("admin_status")) + "/" + status_word(row.get("oper_status"))
        lines.append(
            f" {mark}{row.get('label', '?'):<20} {status:<12} {speed / 1e6:>6g}M   {rates:<19} {errors}"
        )
    return lines


# result value of an interface → (its dashboard figure, factor): rates go out in bytes per
# second (Prometheus base units); the result and the operator's text keep bits
_FIGURES = {
    "in_bps": ("in_bytes_per_second", 1 / 8),
    "out_bps": ("out_bytes_per_second", 1 / 8),
    "in_utilisation_ratio": ("in_utilisation_ratio", 1),
    "out_utilisation_ratio": ("out_utilisation_ratio", 1),
    "oper_up": ("oper_up", 1),
}


def gauges(result: ProbeResult) -> Gauges:
    """Per interface, the figures of its ``if.<label>.<metric>`` values and its raw counters,
    with the agent's uptime (none of it when the poll failed)."""
    interfaces: dict[str, dict[str, float]] = {}
    counters: dict[str, dict[str, CounterReading]] = {}
    if not result.ok:
        return Gauges(interfaces=interfaces, counters=counters)
    for name, value in result.values.items():
        if not name.startswith("if."):
            continue
        interface, _, metric = name[3:].rpartition(".")
        if interface and metric in _FIGURES:
            figure, factor = _FIGURES[metric]
            interfaces.setdefault(interface, {})[figure] = value * factor
    for row in result.info.get("interfaces", []):
        readings = {
            name: CounterReading(int(row[name]), bits, row.get("if_index"))
            for name, bits in COUNTER_BITS.items()
            if row.get(name) is not None
        }
        if readings:
            counters[row["label"]] = readings
    return Gauges(
        interfaces=interfaces,
        counters=counters,
        uptime_seconds=result.values.get("sys_uptime_seconds"),
    )
