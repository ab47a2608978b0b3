"""`noc probe …`: run one ICMP, SNMP or SIP probe now and show what the service would see.

For the operator on the phone with a carrier ("is the voice circuit answering right now?")
and for runbook steps. Readable output by default (Chinese label first, then English);
``--json`` prints exactly one ``ProbeResult.to_dict()`` object on stdout.

Exit codes: 0 the probe said ok, 1 it did not, 2 bad usage (or a probe of the RFC 2544
test range refused by the lab guard). Secrets given as options are masked in everything
printed. Each command probes through a short-lived ``ProbeSet`` (its pinger, SIP sockets or
SNMP engine closed before exit) and prints the result as the probe kind renders it, the same
text the runbook timeline builds on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from noc.cli.access import local
from noc.cli.common import (
    BANDWIDTH,
    DURATION,
    as_json,
    exit_on_error,
    finish,
    refuse_unsafe,
)
from noc.cli.common import json_option as json_flag
from noc.core.secrets import mask_secrets
from probes.snmp import params as snmp_params


def shown(kind: str, result: Any, json_out: bool) -> str:
    """``result`` as one JSON object, or as its probe kind renders it for people."""
    from probes.probeset import probe_kind

    return as_json(result.to_dict()) if json_out else probe_kind(kind).render(result)


# --- the group ----------------------------------------------------------------------------


@click.group("probe")
def probe() -> None:
    """立即探测 / run one probe now (exit 0 ok, 1 failed, 2 bad usage)."""


json_option = json_flag("输出一个JSON对象 / print one JSON object (ProbeResult).", "json_out")


# --- ICMP -----------------------------------------------------------------------------------


@probe.command("icmp")
@local(
    "one probe from this host, as ping, snmpget or a SIP OPTIONS client would, and no store data: the OS account's own network rights decide (ICMP: root or ping_group_range)"
)
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
@exit_on_error
def icmp(
    host: str, count: int, interval: float, timeout: float, privileged: bool | None, json_out: bool
) -> None:
    """ICMP回显 / ping HOST: RTT, loss and jitter."""
    from pydantic import ValidationError

    from probes.base import Target
    from probes.icmp import IcmpParams
    from probes.probeset import ProbeSet

    try:
        params = IcmpParams(count=count, interval=interval, timeout=timeout, privileged=privileged)
    except ValidationError as exc:
        raise click.UsageError(_validation_text(exc)) from None
    refuse_unsafe([host])

    async def go() -> Any:
        async with ProbeSet() as probes:
            return await probes["icmp"](Target(host), params)

    result = asyncio.run(go())
    finish(result.ok, shown("icmp", result, json_out))


# --- SNMP -----------------------------------------------------------------------------------


class SnmpProtocolType(click.ParamType):
    """An SNMPv3 protocol in net-snmp's spelling (``SHA-256``, ``AES``) or ours (``sha256``,
    ``aes128``), any case; the value is the canonical name the config uses."""

    def __init__(
        self,
        name: str,
        netsnmp: dict[str, str],
        spellings: dict[str, str],
        refused: dict[str, str],
        canonical: Any,
    ) -> None:
        self.name = name
        self.netsnmp, self.spellings, self.refused = netsnmp, spellings, refused
        self.canonical = canonical

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return self.canonical(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.netsnmp.values()) + "]"

    def help(self, zh: str, en: str) -> str:
        """Both spellings of each protocol (``AES/AES-128 (aes128)``) and the refused ones."""
        names = []
        for ours, primary in self.netsnmp.items():
            aliases = [k.upper() for k, v in self.spellings.items() if v == ours and "-" in k]
            shown = "/".join(dict.fromkeys([primary, *aliases]))
            names.append(f"{shown} ({ours})")
        refused = "/".join(k.upper() for k in self.refused)
        return (
            f"{zh} / {en}: {', '.join(names)}; net-snmp 写法或小写均可 / either spelling, "
            f"any case; {refused} 不支持 / not supported."
        )


AUTH_PROTO = SnmpProtocolType(
    "auth-protocol",
    snmp_params.NETSNMP_AUTH,
    snmp_params.AUTH_SPELLINGS,
    snmp_params.REFUSED_AUTH,
    snmp_params.auth_protocol,
)
PRIV_PROTO = SnmpProtocolType(
    "priv-protocol",
    snmp_params.NETSNMP_PRIV,
    snmp_params.PRIV_SPELLINGS,
    snmp_params.REFUSED_PRIV,
    snmp_params.priv_protocol,
)


@probe.command("snmp")
@local(
    "one probe from this host, as ping, snmpget or a SIP OPTIONS client would, and no store data: the OS account's own network rights decide (ICMP: root or ping_group_range)"
)
@click.argument("host")
@click.option(
    "--community",
    envvar="NOC_SNMP_COMMUNITY",
    metavar="C",
    help="v2c团体名 / v2c community (or $NOC_SNMP_COMMUNITY).",
)
@click.option("--user", metavar="U", help="v3用户 / SNMPv3 user (authPriv).")
@click.option(
    "--auth-proto",
    type=AUTH_PROTO,
    default="sha256",
    show_default=True,
    help=AUTH_PROTO.help("v3认证协议", "auth protocol"),
)
@click.option(
    "--auth-key",
    envvar="NOC_SNMP_AUTH_KEY",
    metavar="K",
    help="v3认证密钥 / auth key, ≥ 8 chars (or $NOC_SNMP_AUTH_KEY).",
)
@click.option(
    "--priv-proto",
    type=PRIV_PROTO,
    default="aes128",
    show_default=True,
    help=PRIV_PROTO.help("v3加密协议", "privacy protocol"),
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
@exit_on_error
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
    finish(result.ok, shown("snmp", result, json_out), secrets)


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
    from probes.probeset import ProbeSet

    contracted = {name: bandwidth for name in params.interfaces} if bandwidth else {}
    async with ProbeSet() as probes:
        poller = probes.client("snmp")
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


# --- SIP ------------------------------------------------------------------------------------


@probe.command("sip")
@local(
    "one probe from this host, as ping, snmpget or a SIP OPTIONS client would, and no store data: the OS account's own network rights decide (ICMP: root or ping_group_range)"
)
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
@exit_on_error
def sip(uri: str, transport: str, timeout: float, json_out: bool) -> None:
    """SIP OPTIONS / is the gateway or phone alive at the SIP layer? (a bare HOST[:PORT] is
    taken as sip:HOST[:PORT])"""
    from probes.base import Target
    from probes.probeset import ProbeSet
    from probes.sip import DEFAULT_PORT, SipParams
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
        async with ProbeSet() as probes:
            return await probes["sip"](target, params)

    result = asyncio.run(go())
    finish(result.ok, shown("sip", result, json_out))


def _validation_text(exc: Any) -> str:
    """A pydantic error as 'field: message' lines, without echoing input values (secrets)."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "options"
        parts.append(f"{where}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "; ".join(parts)
