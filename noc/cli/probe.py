"""`noc probe …`: run one ICMP, SNMP or SIP probe now and show what the service would see.

For the operator on the phone with a carrier ("is the voice circuit answering right now?")
and for runbook steps. Readable output by default (Chinese label first, then English);
``--json`` prints exactly one ``ProbeResult.to_dict()`` object on stdout.

Exit codes: 0 the probe said ok, 1 it did not, 2 bad usage (or a probe of the RFC 2544
test range refused by the lab guard). Secrets given as options are masked in everything
printed, and the clients (pinger, SIP sockets, SNMP engine) are closed before exit.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

import click

from noc.core.secrets import mask_secrets
from noc.core.text import table
from noc.core.units import format_bandwidth, parse_bandwidth, parse_duration

OPER_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent",
               7: "lowerLayerDown"}  # fmt: skip


# --- shared helpers (also used by noc.cli.diag) ------------------------------------------


class DurationType(click.ParamType):
    """Seconds from ``1.5``, ``500ms``, ``2s`` (the config's duration syntax)."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class BandwidthType(click.ParamType):
    """Bits per second from ``10M``, ``50Mbit``, ``512k``."""

    name = "bandwidth"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_bandwidth(value)
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


DURATION = DurationType()
BANDWIDTH = BandwidthType()


def refuse_unsafe(addresses: Iterable[str]) -> None:
    """Exit 2 when the lab guard refuses a probe of 198.18.0.0/15 (no blackhole route).

    Host names are resolved first, so a name pointing into the test range is caught too.
    """
    from probes.safety import ProbeSafetyError, check_probe_safety

    candidates: list[str] = []
    for address in addresses:
        candidates.append(address)
        try:
            infos = socket.getaddrinfo(address, None, family=socket.AF_INET, type=socket.SOCK_DGRAM)
        except (OSError, UnicodeError):
            continue  # the probe itself reports an unresolvable name
        candidates += [info[4][0] for info in infos]
    try:
        check_probe_safety(candidates)
    except ProbeSafetyError as exc:
        click.echo(f"拒绝探测 / probe refused: {exc}", err=True)
        sys.exit(2)


def finish(ok: bool, text: str, secrets: Iterable[str | None] = ()) -> NoReturn:
    """Print ``text`` (secrets masked) and exit 0 when ``ok``, else 1."""
    click.echo(mask_secrets(text, secrets))
    sys.exit(0 if ok else 1)


def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.3f} ms"


def _result_line(result: Any) -> str:
    reason = f" — {result.reason}" if result.reason else ""
    return f"结果 result: {result.result}{reason}"


# --- the group ----------------------------------------------------------------------------


@click.group("probe")
def probe() -> None:
    """立即探测 / run one probe now (exit 0 ok, 1 failed, 2 bad usage)."""


json_option = click.option(
    "--json",
    "json_out",
    is_flag=True,
    help="输出一个JSON对象 / print one JSON object (ProbeResult).",
)


# --- ICMP -----------------------------------------------------------------------------------


@probe.command("icmp")
@click.argument("host")
@click.option(
    "--count",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="回显请求数 / echo requests to send.",
)
@click.option(
    "--interval",
    type=DURATION,
    default="200ms",
    show_default=True,
    help="包间隔 / time between packets.",
)
@click.option(
    "--timeout",
    type=DURATION,
    default="1s",
    show_default=True,
    help="每包等待 / wait per packet before counting it lost.",
)
@click.option(
    "--privileged/--unprivileged",
    default=None,
    help="原始套接字/数据报套接字 / raw socket or datagram ICMP socket (default: raw if allowed).",
)
@json_option
def icmp(
    host: str, count: int, interval: float, timeout: float, privileged: bool | None, json_out: bool
) -> None:
    """ICMP回显 / ping HOST: RTT, loss and jitter."""
    from pydantic import ValidationError

    from probes.icmp import IcmpParams, IcmpPinger

    try:
        params = IcmpParams(count=count, interval=interval, timeout=timeout, privileged=privileged)
    except ValidationError as exc:
        raise click.UsageError(_validation_text(exc)) from None
    refuse_unsafe([host])

    async def go() -> Any:
        pinger = IcmpPinger()
        try:
            return await pinger.ping(host, params)
        finally:
            await pinger.aclose()

    result = asyncio.run(go())
    finish(result.ok, as_json(result.to_dict()) if json_out else "\n".join(render_icmp(result)))


def render_icmp(result: Any) -> list[str]:
    v = result.values
    address = result.info.get("address", result.target)
    lines = [
        f"ICMP {result.target}" + (f" ({address})" if address != result.target else ""),
        _result_line(result),
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
                _ms(v.get(k)).removesuffix(" ms")
                for k in ("rtt_min_seconds", "rtt_avg_seconds", "rtt_max_seconds")
            )
            + " ms"
        )
    if "jitter_seconds" in v:
        lines.append(f"抖动 jitter: {_ms(v['jitter_seconds'])}")
    if "socket" in result.info:
        lines.append(f"套接字 socket: {result.info['socket']}")
    return lines


# --- SNMP -----------------------------------------------------------------------------------

AUTH_PROTOCOLS = ["sha", "sha224", "sha256", "sha384", "sha512"]
PRIV_PROTOCOLS = ["aes128", "aes192", "aes256", "aes192c", "aes256c"]


@probe.command("snmp")
@click.argument("host")
@click.option(
    "--community",
    envvar="NOC_SNMP_COMMUNITY",
    metavar="C",
    help="v2c团体名 / v2c community (or $NOC_SNMP_COMMUNITY).",
)
@click.option("--user", metavar="U", help="v3用户 / SNMPv3 user (authPriv).")
@click.option(
    "--auth-proto", type=click.Choice(AUTH_PROTOCOLS), default="sha256", show_default=True
)
@click.option(
    "--auth-key",
    envvar="NOC_SNMP_AUTH_KEY",
    metavar="K",
    help="v3认证密钥 / auth key, ≥ 8 chars (or $NOC_SNMP_AUTH_KEY).",
)
@click.option(
    "--priv-proto", type=click.Choice(PRIV_PROTOCOLS), default="aes128", show_default=True
)
@click.option(
    "--priv-key",
    envvar="NOC_SNMP_PRIV_KEY",
    metavar="K",
    help="v3加密密钥 / privacy key, ≥ 8 chars (or $NOC_SNMP_PRIV_KEY).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=161, show_default=True)
@click.option(
    "--if",
    "interfaces",
    multiple=True,
    metavar="NAME",
    help="只看这些接口 / only these interfaces (ifName or ifDescr; repeatable).",
)
@click.option(
    "--timeout",
    type=DURATION,
    default="2s",
    show_default=True,
    help="每请求等待 / wait per request.",
)
@click.option("--retries", type=click.IntRange(0, 5), default=1, show_default=True)
@click.option(
    "--rate-interval",
    type=DURATION,
    default="0",
    show_default=True,
    help="两次采样间隔 / poll twice this far apart to show rates (0: one poll, no rates).",
)
@click.option(
    "--bandwidth",
    type=BANDWIDTH,
    metavar="BW",
    help="合同带宽 / contracted bandwidth for utilisation, e.g. 10M "
    "(applies to the --if interfaces, or to every interface).",
)
@json_option
def snmp(
    host: str,
    community: str | None,
    user: str | None,
    auth_proto: str,
    auth_key: str | None,
    priv_proto: str,
    priv_key: str | None,
    port: int,
    interfaces: tuple[str, ...],
    timeout: float,
    retries: int,
    rate_interval: float,
    bandwidth: int | None,
    json_out: bool,
) -> None:
    """SNMP接口轮询 / poll HOST's interface table (v2c or v3 authPriv)."""
    ctx = click.get_current_context()
    secrets = [community, auth_key, priv_key]
    creds, params = _snmp_settings(
        ctx,
        community,
        user,
        auth_proto,
        auth_key,
        priv_proto,
        priv_key,
        port,
        interfaces,
        timeout,
        retries,
        secrets,
    )
    refuse_unsafe([host])
    result = asyncio.run(_poll_snmp(host, creds, params, rate_interval, bandwidth))
    text = as_json(result.to_dict()) if json_out else "\n".join(render_snmp(result, creds.version))
    finish(result.ok, text, secrets)


def _snmp_settings(
    ctx: click.Context,
    community: str | None,
    user: str | None,
    auth_proto: str,
    auth_key: str | None,
    priv_proto: str,
    priv_key: str | None,
    port: int,
    interfaces: tuple[str, ...],
    timeout: float,
    retries: int,
    secrets: list[str | None],
) -> tuple[Any, Any]:
    """Credentials and parameters from the options, or a usage error (exit 2)."""
    from pydantic import ValidationError

    from probes.snmp import SnmpCredentials, SnmpParams

    from_env = ctx.get_parameter_source("community") == click.core.ParameterSource.ENVIRONMENT
    if community and user and from_env:
        community = None  # an explicit --user wins over a community from the environment
    if community and user:
        raise click.UsageError(
            "--community (v2c) 与 --user (v3) 只能选一个 / "
            "give either --community (v2c) or --user (v3), not both"
        )
    if not community and not user:
        raise click.UsageError("需要 --community 或 --user / give --community (v2c) or --user (v3)")
    v3_only = [
        f"--{n.replace('_', '-')}"
        for n in ("auth_key", "priv_key", "auth_proto", "priv_proto")
        if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE
    ]
    if community and v3_only:
        raise click.UsageError(
            f"{', '.join(v3_only)} 仅用于 v3 / only for v3 (--user), not with --community"
        )
    try:
        if community:
            creds = SnmpCredentials(version="2c", community=community, port=port)
        else:
            creds = SnmpCredentials(
                version="3",
                user=user,
                auth_protocol=auth_proto,
                auth_key=auth_key,
                priv_protocol=priv_proto,
                priv_key=priv_key,
                port=port,
            )
        params = SnmpParams(timeout=timeout, retries=retries, interfaces=list(interfaces))
    except ValidationError as exc:
        raise click.UsageError(mask_secrets(_validation_text(exc), secrets)) from None
    return creds, params


async def _poll_snmp(
    host: str, creds: Any, params: Any, rate_interval: float, bandwidth: int | None
) -> Any:
    """One poll, or two ``rate_interval`` apart so the second carries rates."""
    from probes.base import Target
    from probes.snmp import SnmpPoller

    contracted = {name: bandwidth for name in params.interfaces} if bandwidth else {}
    poller = SnmpPoller()
    try:
        result = await poller.poll(
            Target(host, creds.port, extra={"bandwidth_bps": contracted}), creds, params
        )
        if not result.ok or rate_interval <= 0:
            return result
        if bandwidth and not params.interfaces:
            for row in result.info.get("interfaces", []):
                contracted.update({n: bandwidth for n in (row.get("name"), row.get("descr")) if n})
        await asyncio.sleep(rate_interval)
        return await poller.poll(
            Target(host, creds.port, extra={"bandwidth_bps": contracted}), creds, params
        )
    finally:
        poller.close()


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


def render_snmp(result: Any, version: str) -> list[str]:
    info, values = result.info, result.values
    lines = [f"SNMP {result.target} (v{version})", _result_line(result)]
    if not result.ok:
        return lines
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
    header = [
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
    rows = []
    for row in info.get("interfaces", []):
        bw = row.get("bandwidth_bps")
        source = {"contract": " (合同 contract)", "ifHighSpeed": ""}.get(
            row.get("bandwidth_source") or "", ""
        )
        rows.append(
            [
                row["label"],
                OPER_STATUS.get(row.get("admin_status"), str(row.get("admin_status") or "-")),
                OPER_STATUS.get(row.get("oper_status"), str(row.get("oper_status") or "-")),
                (format_bandwidth(bw) + source) if bw else "-",
                _rate(row.get("in_bps")),
                _rate(row.get("out_bps")),
                _pct(row.get("in_utilisation_ratio")),
                _pct(row.get("out_utilisation_ratio")),
                _sum_rate(row, "in_errors_per_second", "out_errors_per_second"),
                _sum_rate(row, "in_discards_per_second", "out_discards_per_second"),
            ]
        )
    lines.append("接口 interfaces:")
    lines += ["  " + line for line in table(header, rows)]
    if info.get("missing_interfaces"):
        lines.append(f"缺失 missing: {', '.join(info['missing_interfaces'])}")
    if result.findings:
        lines.append(f"发现 findings: {', '.join(result.findings)}")
    return lines


def _sum_rate(row: dict[str, Any], a: str, b: str) -> str:
    if row.get(a) is None and row.get(b) is None:
        return "-"
    return f"{(row.get(a) or 0.0) + (row.get(b) or 0.0):.2f}"


# --- SIP ------------------------------------------------------------------------------------


@probe.command("sip")
@click.argument("uri", metavar="sip:USER@HOST[:PORT]")
@click.option("--transport", type=click.Choice(["udp", "tcp"]), default="udp", show_default=True)
@click.option(
    "--timeout",
    type=DURATION,
    default="2s",
    show_default=True,
    help="等待最终响应 / wait for a final response.",
)
@json_option
def sip(uri: str, transport: str, timeout: float, json_out: bool) -> None:
    """SIP OPTIONS / is the gateway or phone alive at the SIP layer? (a bare HOST[:PORT] is
    taken as sip:HOST[:PORT])"""
    from probes.base import Target
    from probes.sip import DEFAULT_PORT, SipClient, SipParams
    from probes.sip.message import parse_uri

    if not uri.lower().startswith(("sip:", "sips:")):
        uri = f"sip:{uri}"
    try:
        parsed = parse_uri(uri)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URI") from None
    refuse_unsafe([parsed.host])
    target = Target(parsed.host, parsed.port or DEFAULT_PORT, extra={"uri": uri})
    params = SipParams(transport=transport, timeout=timeout)

    async def go() -> Any:
        client = SipClient()
        try:
            return await client.probe(target, params)
        finally:
            await client.close()

    result = asyncio.run(go())
    finish(result.ok, as_json(result.to_dict()) if json_out else "\n".join(render_sip(result)))


def render_sip(result: Any) -> list[str]:
    info = result.info
    lines = [f"SIP OPTIONS {result.target} ({info.get('transport', '?')})", _result_line(result)]
    if result.status_code is not None:
        lines.append(
            f"状态码 status: {result.status_code} {info.get('reason_phrase', '')}".rstrip()
        )
    if info.get("server"):
        lines.append(f"服务器 server: {info['server']}")
    if info.get("user_agent"):
        lines.append(f"终端 user-agent: {info['user_agent']}")
    if "rtt" in result.timings:
        lines.append(f"往返 RTT: {_ms(result.timings['rtt'])}")
    if "transmissions" in info:
        lines.append(f"发送次数 transmissions: {info['transmissions']}")
    return lines


def _validation_text(exc: Any) -> str:
    """A pydantic error as 'field: message' lines, without echoing input values (secrets)."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "options"
        parts.append(f"{where}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "; ".join(parts)
