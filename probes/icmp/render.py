"""An ICMP result for people (the CLI, the runbook timeline) and for the dashboards."""

from __future__ import annotations

from probes.base import ProbeResult
from probes.kind import Gauges
from probes.render import ms, result_line


def render(result: ProbeResult) -> str:
    """The operator's view: target, outcome, sent/received and loss, RTT, jitter, socket."""
    v = result.values
    address = result.info.get("address", result.target)
    lines = [
        f"ICMP {result.target}" + (f" ({address})" if address != result.target else ""),
        result_line(result),
    ]
    if "sent" in v:
        lines.append(
            f"发送/接收 sent/received: {int(v['sent'])}/{int(v.get('received', 0))}   "
            f"丢包 loss: {v.get('loss_ratio', 1.0) * 100:.1f} %"
        )
    if "rtt_avg_seconds" in v:
        lines.append(
            "时延 RTT min/avg/max: "
            + "/".join(
                ms(v.get(k)).removesuffix(" ms")
                for k in ("rtt_min_seconds", "rtt_avg_seconds", "rtt_max_seconds")
            )
            + " ms"
        )
    if "jitter_seconds" in v:
        lines.append(f"抖动 jitter: {ms(v['jitter_seconds'])}")
    if "socket" in result.info:
        lines.append(f"套接字 socket: {result.info['socket']}")
    return "\n".join(lines)


def brief(result: ProbeResult) -> str:
    """Loss and average RTT, for one timeline row: ``loss 0%, rtt 1.2 ms``."""
    values = result.values
    detail = []
    if "loss_ratio" in values:
        detail.append(f"loss {values['loss_ratio'] * 100:.0f}%")
    if "rtt_avg_seconds" in values:
        detail.append(f"rtt {ms(values['rtt_avg_seconds'], 1)}")
    return ", ".join(detail)


def gauges(result: ProbeResult) -> Gauges:
    values = result.values
    return Gauges(
        {
            "rtt_seconds": values.get("rtt_avg_seconds"),
            "loss_ratio": values.get("loss_ratio"),
            "jitter_seconds": values.get("jitter_seconds"),
        }
    )
