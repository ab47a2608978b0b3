"""SNMP interface probe (v2c and v3 USM authPriv) on one shared pysnmp engine.

What one poll does: GETBULK of only the interface columns we need (plus sysUpTime,
sysName, sysDescr and ifNumber as non-repeaters of the first request), walked until every
column left its subtree or holds ifNumber rows; then the pure rate math in
``probes.snmp.rates`` compares with the previous sample of the same agent, kept in memory
by the poller. Decoding answers (pyasn1) is most of the CPU, so the poller asks each agent
for exactly as many repetitions as it had rows last time (the first contact reads the
scalars alone to learn ifNumber), carries ifDescr forward while every ifName is unchanged,
and keeps at most ``max_in_flight`` agents in flight so answers are not dropped at the
shared socket while it decodes.

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
  ``missing_interfaces``, ``interval_seconds``.
- ``findings``: ``agent_restarted``, ``counter_wrap``, ``counter_reset``,
  ``if_index_changed``, ``interface_missing`` (a configured interface is not in the
  table), ``interface_down`` (an admin-up interface that is oper-down).

An interface being down is a measured value, not a probe failure: ``ok`` is True whenever
the agent answered with its table. Library outcomes become result codes in
``classify_error`` and nowhere else; the probe never raises.

Known limits: ICMP port-unreachable is not observable on pysnmp's shared unconnected UDP
socket, so a stopped agent shows as ``timeout``. A v3 user name is keyed by name in the
shared engine, so all agents polled with the same user name must share its keys.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from noc.core.units import Duration
from probes.base import ProbeResult, ResultCode, Stopwatch, Target, register
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

# --- configuration models -------------------------------------------------------------

AuthProtocolName = Literal["sha", "sha224", "sha256", "sha384", "sha512"]
# aes192/aes256: draft-blumenthal key extension = net-snmp "AES-192"/"AES-256".
# aes192c/aes256c: Reeder ("Cisco") key extension = net-snmp "AES-192-C"/"AES-256-C".
PrivProtocolName = Literal["aes128", "aes192", "aes256", "aes192c", "aes256c"]


class SnmpCredentials(BaseModel):
    """How to talk to one agent: v2c community, or a v3 USM user at authPriv."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal["2c", "3"] = "2c"
    community: SecretStr | None = None
    user: str | None = None
    auth_protocol: AuthProtocolName = "sha256"
    auth_key: SecretStr | None = None
    priv_protocol: PrivProtocolName = "aes128"
    priv_key: SecretStr | None = None
    port: int = Field(default=161, ge=1, le=65535)

    @model_validator(mode="after")
    def _check_version_fields(self) -> SnmpCredentials:
        if self.version == "2c":
            if not self.community or not self.community.get_secret_value():
                raise ValueError("SNMP v2c needs a community")
        else:
            if not self.user:
                raise ValueError("SNMP v3 needs a user")
            for name in ("auth_key", "priv_key"):
                key = getattr(self, name)
                if key is None or len(key.get_secret_value()) < 8:
                    raise ValueError(f"SNMP v3 {name} must be at least 8 characters (RFC 3414)")
        return self


class SnmpParams(BaseModel):
    """Per-check knobs of the SNMP probe."""

    model_config = ConfigDict(extra="forbid")

    timeout: Duration = 2.0
    retries: int = Field(default=1, ge=0, le=5)
    interfaces: list[str] = Field(default_factory=list)  # ifName or ifDescr; empty = all
    max_repetitions: int = Field(default=25, ge=1, le=200)


# --- OIDs ------------------------------------------------------------------------------

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1)
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3)
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5)
_IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
_IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
COLUMNS: dict[str, tuple[int, ...]] = {
    "descr": _IF_ENTRY + (2,),
    "admin_status": _IF_ENTRY + (7,),
    "oper_status": _IF_ENTRY + (8,),
    "in_discards": _IF_ENTRY + (13,),
    "in_errors": _IF_ENTRY + (14,),
    "out_discards": _IF_ENTRY + (19,),
    "out_errors": _IF_ENTRY + (20,),
    "name": _IFX_ENTRY + (1,),
    "in_octets": _IFX_ENTRY + (6,),
    "out_octets": _IFX_ENTRY + (10,),
    "high_speed_mbps": _IFX_ENTRY + (15,),
}
_TEXT_COLUMNS = {"descr", "name"}
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1)
# Non-repeaters of the first GETBULK. ifNumber lets a walk stop as soon as every column
# holds that many rows, so the next poll asks for exactly as many repetitions as rows.
_SCALAR_KEYS = (
    (SYS_UPTIME, "uptime"),
    (SYS_NAME, "name"),
    (SYS_DESCR, "descr"),
    (IF_NUMBER, "if_number"),
)
MAX_WALK_REQUESTS = 200  # guards against an agent that never ends a column
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024


# --- error mapping: the one place library outcomes become result codes ----------------


def classify_error(indication: Any, *, version: str) -> tuple[ResultCode, str]:
    """Map a pysnmp error indication (or exception) to a result code and a reason."""
    from pysnmp.proto import errind

    text = str(indication) or type(indication).__name__
    if isinstance(indication, errind.RequestTimedOut):
        hint = "wrong community?" if version == "2c" else "wrong privacy key or agent down?"
        return ResultCode.TIMEOUT, f"no answer ({hint})"
    if isinstance(
        indication,
        errind.UnknownUserName
        | errind.WrongDigest
        | errind.DecryptionError
        | errind.AuthenticationFailure
        | errind.AuthenticationError
        | errind.UnknownCommunityName
        | errind.UnsupportedSecurityLevel
        | errind.UnknownSecurityName,
    ):
        return ResultCode.AUTH_FAILED, f"agent rejected credentials: {text}"
    if isinstance(indication, errind.NotInTimeWindow | errind.UnknownEngineID):
        return ResultCode.AUTH_FAILED, f"SNMPv3 engine discovery failed: {text}"
    if isinstance(indication, errind.ReportPduReceived):
        return ResultCode.ERROR_RESPONSE, f"agent sent a report PDU: {text}"
    if isinstance(
        indication,
        errind.DeserializationError
        | errind.InvalidMsg
        | errind.DataMismatch
        | errind.EngineIDMismatch
        | errind.OidNotIncreasing
        | errind.EmptyResponse,
    ):
        return ResultCode.MALFORMED, f"bad reply: {text}"
    if isinstance(indication, ConnectionRefusedError):
        return ResultCode.REFUSED, "port unreachable"
    if isinstance(indication, OSError):
        return ResultCode.UNREACHABLE, f"network error: {text}"
    if isinstance(indication, errind.EncryptionError | errind.NoEncryption):
        return ResultCode.ERROR, f"local crypto unavailable: {text}"
    return ResultCode.ERROR, f"{type(indication).__name__}: {text}"


def _error_status_reason(status: Any, index: Any, varbinds: Any) -> str:
    name = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
    at = ""
    try:
        if int(index) and varbinds:
            at = f" at {varbinds[int(index) - 1][0]}"
    except (IndexError, TypeError, ValueError):
        pass
    return f"agent answered with error-status {name}{at}"


# --- the poller -------------------------------------------------------------------------


class SnmpPoller:
    """One pysnmp engine for all polls, and the previous sample of every agent.

    The engine is bound to the event loop it was made on; a poll on another loop (tests)
    closes it and makes a new one.
    """

    def __init__(self, max_in_flight: int = 32) -> None:
        self.max_in_flight = max_in_flight
        self._engine: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: asyncio.Semaphore | None = None
        self._socket_tuned = False
        self._samples: dict[tuple[str, int], AgentSample] = {}
        self._targets: dict[tuple[str, int, float, int], Any] = {}
        self._descr_cache: dict[tuple[str, int], dict[int, tuple[str, Any]] | None] = {}
        # Rows seen last time per agent: asking for that many repetitions reads the table in
        # one GETBULK without making the agent pad the answer (decoding is our main CPU cost).
        self._rows_hint: dict[tuple[str, int], int] = {}

    def _get_engine(self) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

        loop = asyncio.get_running_loop()
        if self._engine is not None and self._loop is not loop:
            self.close()
        if self._engine is None:
            self._engine = SnmpEngine()
            self._loop = loop
            self._in_flight = asyncio.Semaphore(self.max_in_flight)
            self._socket_tuned = False
        return self._engine

    def _tune_socket(self) -> None:
        """Give the shared UDP socket a big receive buffer once it exists: a burst of
        answers must wait there while we decode, and a drop there looks like a timeout."""
        if self._socket_tuned or self._engine is None:
            return
        from pysnmp.carrier.asyncio.dgram import udp

        carrier = self._engine.transport_dispatcher.get_transport(udp.DOMAIN_NAME)
        sock = carrier.transport.get_extra_info("socket") if carrier and carrier.transport else None
        if sock is None:
            return
        self._socket_tuned = True
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            if option is None:
                continue
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER_BYTES)
                return
            except OSError:
                continue

    def close(self) -> None:
        """Close the engine's sockets; the poller can be used again afterwards."""
        if self._engine is not None:
            try:
                self._engine.close_dispatcher()
            except Exception:  # noqa: BLE001 - closing a loop-bound engine after its loop died
                pass
        self._engine = None
        self._loop = None
        self._in_flight = None
        self._targets.clear()

    def forget(self, address: str, port: int) -> None:
        """Drop the previous sample of one agent (e.g. when it leaves the inventory)."""
        self._samples.pop((address, port), None)
        self._rows_hint.pop((address, port), None)
        self._descr_cache.pop((address, port), None)

    async def poll(self, target: Target, creds: SnmpCredentials, params: SnmpParams) -> ProbeResult:
        watch = Stopwatch()
        port = target.port or creds.port
        where = f"{target.address}:{port}"
        try:
            self._get_engine()
            assert self._in_flight is not None
            async with self._in_flight:
                outcome = await self._read_agent(target.address, port, creds, params)
        except Exception as exc:  # noqa: BLE001 - errors are values at the probe edge
            code, reason = classify_error(exc, version=creds.version)
            outcome = (code, reason)
        watch.lap("poll")
        if isinstance(outcome[0], ResultCode):
            code, reason = outcome
            return watch.stamp(ProbeResult.failure(code, reason, kind="snmp", target=where))
        sample, sys_info = outcome
        key = (target.address, port)
        previous = self._samples.get(key)
        self._samples[key] = sample
        contracted = _contracted_bandwidth(target.extra.get("bandwidth_bps"))
        result = build_result(previous, sample, sys_info, params.interfaces, contracted)
        result.target = where
        return watch.stamp(result)

    async def _read_agent(
        self, address: str, port: int, creds: SnmpCredentials, params: SnmpParams
    ) -> tuple[ResultCode, str] | tuple[AgentSample, dict[str, str]]:
        from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget
        from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
        from pysnmp.proto import rfc1902

        engine = self._get_engine()
        target_key = (address, port, params.timeout, params.retries)
        transport = self._targets.get(target_key)
        if transport is None:
            try:
                transport = await UdpTransportTarget.create(
                    (address, port), timeout=params.timeout, retries=params.retries
                )
            except Exception as exc:  # noqa: BLE001
                return ResultCode.ERROR, f"bad address {address!r}: {exc}"
            if _is_ip_literal(address):  # names are resolved on every poll
                self._targets[target_key] = transport
        addr_name, _ = LCD.configure(engine, _auth_data(creds), transport, b"")
        self._tune_socket()

        # ifDescr is read while some interface has no ifName or the names changed; in
        # between it is carried forward (one column less to decode on every poll).
        descr_cache = self._descr_cache.get((address, port))
        names = [n for n in COLUMNS if not (descr_cache and n == "descr")]
        columns = [COLUMNS[n] for n in names]
        cursors: list[tuple[int, ...] | None] = list(columns)
        hint = self._rows_hint.get((address, port))
        table: dict[int, dict[str, Any]] = {}
        counts = [0] * len(columns)
        sys_info: dict[str, Any] = {}
        scalars = [oid for oid, _ in _SCALAR_KEYS]
        if not hint:
            # First contact: ask the scalars alone, so the table request can ask for
            # ifNumber repetitions instead of padding up to max_repetitions.
            columns_wanted, cursors = cursors, [None] * len(columns)
        repetitions = min(params.max_repetitions, hint) if hint else 0
        for _request in range(MAX_WALK_REQUESTS):
            active = [i for i, c in enumerate(cursors) if c is not None]
            if not active and not scalars:
                break
            oids = scalars + [cursors[i] for i in active]
            vbs = [(rfc1902.ObjectName(o), rfc1902.Null("")) for o in oids]
            err_ind, err_status, err_index, reply = await _bulk(
                engine, addr_name, len(scalars), repetitions, vbs
            )
            if err_ind:
                return classify_error(err_ind, version=creds.version)
            if err_status and int(err_status):
                return ResultCode.ERROR_RESPONSE, _error_status_reason(err_status, err_index, reply)
            if len(reply) < len(scalars):
                return ResultCode.MALFORMED, "reply carries fewer varbinds than requested"
            n_scalars = len(scalars)
            for (oid, value), (base, name) in zip(reply[:n_scalars], _SCALAR_KEYS, strict=False):
                if tuple(oid)[: len(base)] == base and not _is_exception(value):
                    sys_info[name] = value
            scalars = []
            if not hint and _request == 0:
                if_number = _int_or_none(sys_info.get("if_number"))
                repetitions = min(params.max_repetitions, if_number or params.max_repetitions)
                cursors = columns_wanted
                continue
            rows = reply[n_scalars:]
            progressed = _consume_rows(rows, active, names, columns, cursors, table, counts)
            if not rows or not progressed:
                break
            if_number = _int_or_none(sys_info.get("if_number"))
            if if_number is not None and all(counts[i] >= if_number for i in active):
                break  # every column holds ifNumber rows: no need to ask past its end
        self._rows_hint[(address, port)] = len(table)
        self._descr_cache[(address, port)] = _carry_descr(table, descr_cache)
        return _make_sample(table, sys_info)


def _carry_descr(
    table: dict[int, dict[str, Any]], cache: dict[int, tuple[str, Any]] | None
) -> dict[int, tuple[str, Any]] | None:
    """Fill ifDescr from the cache when it was not read; return the cache for next time,
    or None (read ifDescr next poll) when a row has no ifName or its name changed."""
    fresh: dict[int, tuple[str, Any]] = {}
    for index, row in table.items():
        name = _text(row.get("name"))
        if "descr" not in row:
            if cache is None or index not in cache or cache[index][0] != name:
                return None
            row["descr"] = cache[index][1]
        if not name:
            return None
        fresh[index] = (name, row["descr"])
    return fresh


def _consume_rows(rows, active, names, columns, cursors, table, counts) -> bool:
    """Fold one GETBULK answer into ``table``; advance or finish each column's cursor."""
    width = len(active)
    advanced = False
    for pos, (oid, value) in enumerate(rows):
        col = active[pos % width]
        if cursors[col] is None:
            continue
        oid = tuple(oid)
        base = columns[col]
        if _is_exception(value) or oid[: len(base)] != base or len(oid) != len(base) + 1:
            cursors[col] = None  # left the column (or endOfMibView): this column is done
            continue
        if oid <= cursors[col]:
            cursors[col] = None  # not increasing: stop rather than loop forever
            continue
        cursors[col] = oid
        table.setdefault(oid[-1], {})[names[col]] = value
        counts[col] += 1
        advanced = True
    return advanced


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _is_ip_literal(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _is_exception(value: Any) -> bool:
    from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

    return isinstance(value, EndOfMibView | NoSuchObject | NoSuchInstance)


async def _bulk(engine, addr_name, non_repeaters, max_repetitions, varbinds):
    """One GETBULK on pysnmp's command generator, without MIB resolution (CPU matters)."""
    from pysnmp.entity.rfc3413 import cmdgen

    future = asyncio.get_running_loop().create_future()

    def on_reply(_engine, _handle, err_ind, err_status, err_index, reply, _ctx):
        if not future.done():
            future.set_result((err_ind, err_status, err_index, reply))

    cmdgen.BulkCommandGeneratorSingleRun().send_varbinds(
        engine, addr_name, None, b"", non_repeaters, max_repetitions, varbinds, on_reply
    )
    return await future


def _make_sample(table: dict[int, dict[str, Any]], sys_info: dict[str, Any]):
    interfaces: dict[int, InterfaceSample] = {}
    for index, row in table.items():
        fields: dict[str, Any] = {}
        for key, value in row.items():
            if key in _TEXT_COLUMNS:
                fields[key] = _text(value)
            else:
                fields[key] = _int_or_none(value)  # a wrongly typed value counts as absent
        interfaces[index] = InterfaceSample(if_index=index, **fields)
    sample = AgentSample(
        at=time.monotonic(),
        uptime_ticks=_int_or_none(sys_info.get("uptime")),
        interfaces=interfaces,
    )
    info = {
        "sys_name": _text(sys_info.get("name", "")),
        "sys_descr": _text(sys_info.get("descr", "")),
    }
    return sample, info


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    raw = value.asOctets() if hasattr(value, "asOctets") else bytes(str(value), "utf-8")
    return raw.decode("utf-8", errors="replace").rstrip("\x00").strip()


_AUTH_PROTOCOLS = {
    "sha": "USM_AUTH_HMAC96_SHA",
    "sha224": "USM_AUTH_HMAC128_SHA224",
    "sha256": "USM_AUTH_HMAC192_SHA256",
    "sha384": "USM_AUTH_HMAC256_SHA384",
    "sha512": "USM_AUTH_HMAC384_SHA512",
}
_PRIV_PROTOCOLS = {
    "aes128": "USM_PRIV_CFB128_AES",
    "aes192": "USM_PRIV_CFB192_AES_BLUMENTHAL",  # net-snmp AES-192
    "aes256": "USM_PRIV_CFB256_AES_BLUMENTHAL",  # net-snmp AES-256 (tested against snmpd 5.9)
    "aes192c": "USM_PRIV_CFB192_AES",  # Reeder key extension, net-snmp AES-192-C
    "aes256c": "USM_PRIV_CFB256_AES",  # Reeder key extension, net-snmp AES-256-C (tested)
}


def _auth_data(creds: SnmpCredentials) -> Any:
    from pysnmp.hlapi.v3arch import asyncio as hl

    if creds.version == "2c":
        assert creds.community is not None
        return hl.CommunityData(creds.community.get_secret_value(), mpModel=1)
    assert creds.user and creds.auth_key and creds.priv_key
    return hl.UsmUserData(
        creds.user,
        creds.auth_key.get_secret_value(),
        creds.priv_key.get_secret_value(),
        authProtocol=getattr(hl, _AUTH_PROTOCOLS[creds.auth_protocol]),
        privProtocol=getattr(hl, _PRIV_PROTOCOLS[creds.priv_protocol]),
    )


def _contracted_bandwidth(raw: Any) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, int] = {}
    for name, bps in raw.items():
        try:
            out[str(name)] = int(bps)
        except (TypeError, ValueError):
            continue
    return out


# --- result shaping (pure) --------------------------------------------------------------

_RATE_FIELDS = (
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
        for name in _RATE_FIELDS:
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
    for name in _RATE_FIELDS:
        row[name] = getattr(rates, name)
    return row


# --- the registered probe ---------------------------------------------------------------

_default_poller = SnmpPoller()


def default_poller() -> SnmpPoller:
    return _default_poller


def close_default_poller() -> None:
    """Close the shared engine (service shutdown)."""
    _default_poller.close()


def credentials_of(target: Target) -> SnmpCredentials:
    raw = target.extra.get("credentials")
    if isinstance(raw, SnmpCredentials):
        return raw
    if isinstance(raw, Mapping):
        return SnmpCredentials.model_validate(dict(raw))
    raise ValueError("target.extra['credentials'] must hold SnmpCredentials")


@register("snmp")
async def probe_snmp(
    target: Target, params: SnmpParams | Mapping[str, Any] | None = None
) -> ProbeResult:
    """Poll one agent's interfaces; credentials travel in ``target.extra["credentials"]``
    (a ``SnmpCredentials`` or a mapping of its fields), contracted bandwidths in
    ``target.extra["bandwidth_bps"]`` ({interface name: bit/s})."""
    try:
        if params is None:
            params = SnmpParams()
        elif not isinstance(params, SnmpParams):
            params = SnmpParams.model_validate(dict(params))
        creds = credentials_of(target)
    except ValidationError as exc:  # name the fields, never echo the input (it holds keys)
        fields = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'credentials'}: {e['msg']}" for e in exc.errors()
        )
        return ProbeResult.failure(
            ResultCode.ERROR, f"bad SNMP target: {fields}", kind="snmp", target=target.address
        )
    except Exception as exc:  # noqa: BLE001 - a bad target is a local error, not a raise
        return ProbeResult.failure(
            ResultCode.ERROR, f"bad SNMP target: {exc}", kind="snmp", target=target.address
        )
    return await _default_poller.poll(target, creds, params)
