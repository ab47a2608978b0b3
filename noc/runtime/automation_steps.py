"""Run a runbook's automated step (reprobe, SNMP interface dump, traceroute, SIP OPTIONS,
ARP scan) for one incident, and render the outcome for the incident timeline.

Automated steps only observe. Each runs under its own timeout and never raises: whatever
happens (timeout, refusal, a bad inventory entry, a missing blackhole route for the test
range) comes back as a :class:`StepOutput` with ``ok=False`` and the reason. ``ok`` means
"ran, and what it looked at is healthy", so the timeline can show it green or red.
Timeline text is Chinese first, then English, like the rest of the operator output. How a
probe result reads is its kind's own (``probes.<kind>.render``, which the CLI uses too): a
re-probe row ends with the kind's ``brief``, the interface dump is the SNMP kind's timeline
table, a SIP OPTIONS row its ``answer``. Probes run on the clients of the ``ProbeSet`` in the
step's context (the service's own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from incident_runbooks.model import (
    ArpScan,
    Reprobe,
    SipOptions,
    SnmpInterfaces,
    Step,
    Traceroute,
)
from noc.config import Asset, NocConfig, SipCheck, SnmpCheck
from noc.engine.observe import to_observation
from noc.runtime.planning import PlannedCheck, plan_check
from probes.base import ProbeResult, ResultCode, Target
from probes.diag import (
    DiagError,
    arp_scan_async,
    format_arp_scan,
    format_traceroute,
    traceroute_async,
)
from probes.probeset import ProbeSet
from probes.safety import ProbeSafetyError, check_probe_safety
from probes.sip import render as sip_render
from probes.snmp import AgentMemory, SnmpParams, SnmpPoller
from probes.snmp import render as snmp_render

RESULT_LABELS = {
    "ok": "正常 ok",
    "timeout": "超时 timeout",
    "unreachable": "不可达 unreachable",
    "refused": "被拒绝 refused",
    "error_response": "错误应答 error response",
    "auth_required": "需要认证 auth required",
    "auth_failed": "认证失败 auth failed",
    "malformed": "应答格式错误 malformed",
    "error": "本地错误 local error",
    "interface_down": "接口down interface down",
}


@dataclass(frozen=True)
class StepContext:
    """What the incident is about: its root asset, member assets (grouped phones, symptoms)
    and the inventory; ``probes`` are the clients to probe with. ``netns`` runs
    traceroute/ARP scan in a network namespace."""

    config: NocConfig
    root_asset: str
    member_assets: tuple[str, ...] = ()
    netns: str | None = None
    probes: ProbeSet = field(kw_only=True)

    def assets(self, members: bool = True) -> list[Asset]:
        """Root first, then the members the inventory knows (a member removed since is skipped)."""
        if self.root_asset not in self.config.assets_by_name:
            raise _StepFailed(f"资产不存在 / unknown asset {self.root_asset!r}")
        names = [self.root_asset, *(self.member_assets if members else ())]
        seen: dict[str, Asset] = {}
        for name in names:
            asset = self.config.assets_by_name.get(name)
            if asset is not None:
                seen.setdefault(name, asset)
        return list(seen.values())


@dataclass
class StepOutput:
    ok: bool
    summary: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


class _StepFailed(Exception):
    """A reason the step could not run; becomes ``StepOutput(ok=False)``."""


def _label(code: str) -> str:
    return RESULT_LABELS.get(code, code)


def _output(
    ok: bool, title: str, verdict: str, lines: list[str], data: dict[str, Any]
) -> StepOutput:
    summary = f"{title}: {verdict}"
    return StepOutput(ok, summary, "\n".join([summary, *lines]), data)


async def _guard(addresses: list[str]) -> None:
    """Probes of the RFC 2544 lab range need the blackhole route first (probes.safety)."""
    await asyncio.to_thread(check_probe_safety, [a for a in addresses if a])


async def _run_planned(planned: PlannedCheck, probes: ProbeSet) -> ProbeResult:
    probe = probes[planned.kind]
    try:
        return await asyncio.wait_for(probe(planned.target, planned.params), planned.deadline)
    except TimeoutError:
        return ProbeResult.failure(
            ResultCode.TIMEOUT,
            f"no result within {planned.deadline:g}s",
            kind=planned.kind,
            target=planned.target.address,
        )


def _check_line(
    planned: PlannedCheck, result: ProbeResult, probes: ProbeSet
) -> tuple[bool | None, str]:
    """Verdict for one re-probed check (None: no verdict, e.g. a circuit whose agent is silent)."""
    obs = to_observation(planned.ref, result)
    who = f"{planned.ref.asset} {planned.ref.check}({planned.kind})"
    if obs is None:
        return (
            None,
            f"  {who}: 无结论 no verdict - SNMP agent did not answer ({_label(str(result.result))}: {result.reason})",
        )
    detail = probes.kinds[planned.kind].brief(result)
    extra = f" ({detail})" if detail else ""
    reason = f" - {obs.reason}" if obs.reason else ""
    return obs.ok, f"  {who}: {_label(obs.result)}{reason}{extra}"


async def _reprobe(action: Reprobe, ctx: StepContext) -> StepOutput:
    planned: list[PlannedCheck] = []
    for asset in ctx.assets(action.members):
        for check in asset.checks:
            if check.enabled and (not action.checks or check.check_name in action.checks):
                planned.append(plan_check(ctx.config, asset, check))
    if not planned:
        raise _StepFailed("没有可执行的检查 / no configured check matches")
    await _guard([p.target.address for p in planned])
    results = await asyncio.gather(*(_run_planned(p, ctx.probes) for p in planned))
    verdicts = [_check_line(p, r, ctx.probes) for p, r in zip(planned, results, strict=True)]
    failed = sum(1 for ok, _ in verdicts if ok is False)
    unknown = sum(1 for ok, _ in verdicts if ok is None)
    verdict = (
        f"{len(planned)} 项检查, {len(planned) - failed - unknown} 正常, {failed} 异常"
        + (f", {unknown} 无结论" if unknown else "")
        + f" / {len(planned)} checks, {failed} failing"
    )
    data = {
        "checks": [
            {
                "asset": p.ref.asset,
                "check": p.ref.check,
                "type": p.kind,
                "ok": ok,
                "result": r.to_dict(),
            }
            for p, r, (ok, _) in zip(planned, results, verdicts, strict=True)
        ]
    }
    return _output(
        failed == 0 and unknown == 0,
        "重新探测 / re-probe",
        verdict,
        [line for _, line in verdicts],
        data,
    )


def _snmp_agent(ctx: StepContext) -> tuple[Asset, Asset, list[str]]:
    """(asset, its SNMP agent, the interfaces that matter) for the incident's root asset."""
    asset = ctx.config.assets_by_name.get(ctx.root_asset)
    if asset is None:
        raise _StepFailed(f"资产不存在 / unknown asset {ctx.root_asset!r}")
    for check in asset.checks:
        if isinstance(check, SnmpCheck):
            agent = ctx.config.asset(check.agent) if check.agent else asset
            focus = list(check.interfaces) or (
                [asset.interface] if asset.interface and check.agent else []
            )
            return asset, agent, focus
    if asset.snmp is not None:
        return asset, asset, []
    raise _StepFailed(
        f"资产 {asset.name} 没有SNMP检查或凭据 / asset {asset.name!r} has no SNMP check or credentials"
    )


async def _snmp_interfaces(action: SnmpInterfaces, ctx: StepContext) -> StepOutput:
    asset, agent, focus = _snmp_agent(ctx)
    creds = agent.snmp
    if creds is None or not agent.address:
        raise _StepFailed(
            f"SNMP代理 {agent.name} 缺少地址或凭据 / agent {agent.name!r} lacks address or credentials"
        )
    await _guard([agent.address])
    contracted = {name: asset.bandwidth for name in focus if asset.bandwidth}
    target = Target(
        agent.address,
        creds.port,
        asset=asset.name,
        check="runbook",
        extra={"credentials": creds, "bandwidth_bps": contracted},
    )
    params = SnmpParams(timeout=min(2.0, action.timeout / 4), retries=1)
    poller: SnmpPoller = ctx.probes.client("snmp")
    memory = AgentMemory()  # its own samples: the service's rate history stays untouched
    result = await poller.poll(target, creds, params, memory)
    if result.ok and action.rate_interval > 0:
        await asyncio.sleep(action.rate_interval)
        result = await poller.poll(target, creds, params, memory)
    where = f"{agent.name} ({agent.address})"
    if not result.ok:
        verdict = f"{where} 无应答 / no answer - {_label(str(result.result))}: {result.reason}"
        return _output(False, "接口表 / interface table", verdict, [], {"result": result.to_dict()})
    rows = result.info.get("interfaces", [])
    down = [
        r.get("label")
        for r in rows
        if snmp_render.status_word(r.get("admin_status")) == "up"
        and snmp_render.status_word(r.get("oper_status")) != "up"
    ]
    focus_down = [f for f in focus if f in down or f in result.info.get("missing_interfaces", [])]
    uptime = result.values.get("sys_uptime_seconds")
    verdict = (
        f"{where} {len(rows)} 个接口, {len(down)} 个down / {len(rows)} interfaces, {len(down)} down"
    )
    if focus:
        verdict += f"; 关注接口 {', '.join(focus)}: " + ("down" if focus_down else "up")
    lines = [
        f"  sysName {result.info.get('sys_name', '')}, uptime {uptime / 3600:.1f} h"
        if uptime is not None
        else ""
    ]
    lines = [line for line in lines if line] + snmp_render.timeline_table(rows, focus)
    data = {"agent": agent.name, "focus": focus, "down": down, "result": result.to_dict()}
    return _output(not focus_down, "接口表 / interface table", verdict, lines, data)


def _sip_checks(ctx: StepContext, action: SipOptions) -> list[PlannedCheck]:
    planned = []
    for asset in ctx.assets(action.members):
        for check in asset.checks:
            if (
                isinstance(check, SipCheck)
                and check.enabled
                and action.check in (None, check.check_name)
            ):
                planned.append(plan_check(ctx.config, asset, check))
    return planned


async def _sip_options(action: SipOptions, ctx: StepContext) -> StepOutput:
    planned = _sip_checks(ctx, action)
    if not planned:
        which = f" {action.check!r}" if action.check else ""
        raise _StepFailed(f"没有SIP检查{which} / no sip check{which} on the incident's assets")
    await _guard([p.target.address for p in planned])
    results = await asyncio.gather(*(_run_planned(p, ctx.probes) for p in planned))
    lines, rows = [], []
    for p, r in zip(planned, results, strict=True):
        lines.append(
            f"  {p.ref.asset} {p.ref.check} {r.target}: {_label(str(r.result))}, "
            + sip_render.answer(r)
            + ("" if r.ok else f" - {r.reason}")
        )
        rows.append(
            {
                "asset": p.ref.asset,
                "check": p.ref.check,
                "uri": r.target,
                "ok": r.ok,
                "result": str(r.result),
                "reason": r.reason,
                "status_code": r.status_code,
                "server": r.info.get("server"),
                "rtt_seconds": r.timings.get("rtt"),
            }
        )
    failed = [row for row in rows if not row["ok"]]
    verdict = (
        f"{len(rows)} 个目标, {len(failed)} 个异常 / {len(rows)} targets, {len(failed)} failing"
    )
    if len(rows) == 1:
        only = rows[0]
        verdict = (
            f"{only['uri']} 应答 {only['status_code']} / answered {only['status_code']}"
            if only["ok"]
            else f"{only['uri']} {_label(only['result'])}: {only['reason']}"
        )
    return _output(not failed, "SIP OPTIONS", verdict, lines, {"targets": rows})


def _trace_address(action: Traceroute, ctx: StepContext) -> str:
    asset = ctx.config.assets_by_name.get(ctx.root_asset)
    if asset is None:
        raise _StepFailed(f"资产不存在 / unknown asset {ctx.root_asset!r}")
    if action.check:
        for check in asset.checks:
            if check.check_name == action.check:
                return plan_check(ctx.config, asset, check).target.address
        raise _StepFailed(
            f"资产 {asset.name} 没有检查 {action.check!r} / asset {asset.name!r} has no check {action.check!r}"
        )
    if not asset.address:
        raise _StepFailed(f"资产 {asset.name} 没有地址 / asset {asset.name!r} has no address")
    return asset.address


async def _traceroute(action: Traceroute, ctx: StepContext) -> StepOutput:
    address = _trace_address(action, ctx)
    await _guard([address])
    trace = await traceroute_async(
        address, max_hops=action.max_hops, timeout=action.probe_timeout, netns=ctx.netns
    )
    verdict = ("到达 reached" if trace.reached else "中断 broken") + f" - {trace.verdict}"
    data = {
        "destination": trace.destination,
        "reached": trace.reached,
        "verdict": trace.verdict,
        "hops": [
            {
                "ttl": h.ttl,
                "address": h.address,
                "rtt_seconds": h.rtt_seconds,
                "kind": h.kind,
                "detail": h.detail,
            }
            for h in trace.hops
        ],
    }
    return _output(trace.reached, "路由跟踪 / traceroute", verdict, format_traceroute(trace), data)


async def _arp_scan(action: ArpScan, ctx: StepContext) -> StepOutput:
    await _guard([action.cidr.split("/")[0]])
    hosts = await arp_scan_async(
        action.cidr, iface=action.iface, timeout=action.probe_timeout, netns=ctx.netns
    )
    by_ip = {h.ip: h.mac for h in hosts}
    watched = [a for a in ctx.assets() if a.address]
    missing = [
        a.name for a in watched if _in_cidr(a.address, action.cidr) and a.address not in by_ip
    ]
    verdict = f"{action.cidr} {len(hosts)} 台主机应答 / {len(hosts)} host(s) answered"
    if missing:
        verdict += f"; 无ARP应答 no ARP answer: {', '.join(missing)}"
    data = {
        "cidr": action.cidr,
        "hosts": [{"ip": h.ip, "mac": h.mac} for h in hosts],
        "silent_assets": missing,
    }
    return _output(
        bool(hosts) and not missing,
        "ARP扫描 / ARP scan",
        verdict,
        format_arp_scan(action.cidr, hosts)[1:],
        data,
    )


def _in_cidr(address: str | None, cidr: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address or "") in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


_RUNNERS: dict[type, Callable[[Any, StepContext], Awaitable[StepOutput]]] = {
    Reprobe: _reprobe,
    SnmpInterfaces: _snmp_interfaces,
    Traceroute: _traceroute,
    SipOptions: _sip_options,
    ArpScan: _arp_scan,
}

_TITLES = {
    Reprobe: "重新探测 / re-probe",
    SnmpInterfaces: "接口表 / interface table",
    Traceroute: "路由跟踪 / traceroute",
    SipOptions: "SIP OPTIONS",
    ArpScan: "ARP扫描 / ARP scan",
}


async def run_automated_step(
    step: Step | Reprobe | SnmpInterfaces | Traceroute | SipOptions | ArpScan, context: StepContext
) -> StepOutput:
    """Run ``step``'s automated action for the incident in ``context``; never raises."""
    action = step.automated if isinstance(step, Step) else step
    if action is None:
        return StepOutput(
            False,
            f"步骤 {step.id} 不是自动步骤 / step {step.id!r} is not automated",  # type: ignore[union-attr]
            "",
            {"error": "not_automated"},
        )
    title = _TITLES[type(action)]
    try:
        return await asyncio.wait_for(_RUNNERS[type(action)](action, context), action.timeout)
    except TimeoutError:
        reason = f"未在 {action.timeout:g}s 内完成 / did not finish within {action.timeout:g}s"
    except DiagError as exc:  # the child's stderr can be a traceback: keep its head and last line
        lines = [line for line in str(exc).splitlines() if line.strip()]
        reason = lines[0] if len(lines) < 2 else f"{lines[0].split(':', 1)[0]}: {lines[-1].strip()}"
    except (_StepFailed, ProbeSafetyError) as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - an automated step reports, it never takes the caller down
        reason = f"{type(exc).__name__}: {exc}"
    summary = f"{title}: 执行失败 / failed - {reason}"
    return StepOutput(False, summary, summary, {"error": reason, "action": action.action})
