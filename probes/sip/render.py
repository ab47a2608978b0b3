"""A SIP OPTIONS result for people (the CLI, the runbook timeline) and for the dashboards."""

from __future__ import annotations

from probes.base import ProbeResult
from probes.kind import Gauges
from probes.render import ms, result_line


def render(result: ProbeResult) -> str:
    """The operator's view: URI and transport, outcome, status, server/user-agent, RTT."""
    info = result.info
    lines = [f"SIP OPTIONS {result.target} ({info.get('transport', '?')})", result_line(result)]
    if result.status_code is not None:
        lines.append(
            f"状态码 status: {result.status_code} {info.get('reason_phrase', '')}".rstrip()
        )
    if info.get("server"):
        lines.append(f"服务器 server: {info['server']}")
    if info.get("user_agent"):
        lines.append(f"终端 user-agent: {info['user_agent']}")
    if "rtt" in result.timings:
        lines.append(f"往返 RTT: {ms(result.timings['rtt'])}")
    if "transmissions" in info:
        lines.append(f"发送次数 transmissions: {info['transmissions']}")
    return "\n".join(lines)


def brief(result: ProbeResult) -> str:
    """The final status and its RTT, for one timeline row: ``SIP 200, rtt 1.2 ms``."""
    if result.status_code is None:
        return ""
    detail = [f"SIP {result.status_code}"]
    if "rtt" in result.timings:
        detail.append(f"rtt {ms(result.timings['rtt'], 1)}")
    return ", ".join(detail)


def answer(result: ProbeResult) -> str:
    """Status, server and RTT of one target, for the runbook's SIP OPTIONS step."""
    info = result.info
    status = (
        f"{result.status_code} {info.get('reason_phrase', '')}".strip()
        if result.status_code
        else "-"
    )
    server = info.get("server") or info.get("user_agent") or "-"
    return f"status {status}, server {server}, rtt {ms(result.timings.get('rtt'), 1)}"


def gauges(result: ProbeResult) -> Gauges:
    """The response time (only when a final response came) and the final status (0: none)."""
    rtt = result.timings.get("rtt") if result.status_code else None
    return Gauges({"rtt_seconds": rtt, "sip_status_code": float(result.status_code or 0)})
