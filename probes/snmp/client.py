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

The result's shape is described in ``probes.snmp.result``.

Known limits: ICMP port-unreachable is not observable on pysnmp's shared unconnected UDP
socket, so a stopped agent shows as ``timeout``. A v3 user name is keyed by name in the
shared engine, so all agents polled with the same user name must share its keys.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from probes.base import ProbeResult, ResultCode, Stopwatch, Target
from probes.snmp.codec import (
    carry_descr,
    classify_error,
    consume_rows,
    error_status_reason,
    int_or_none,
    is_exception,
    make_sample,
)
from probes.snmp.oids import COLUMNS, SCALAR_KEYS
from probes.snmp.params import (
    AUTH_PROTOCOLS,
    PRIV_PROTOCOLS,
    SnmpCredentials,
    SnmpParams,
    as_params,
    contracted_bandwidth,
    credentials_of,
)
from probes.snmp.rates import AgentSample
from probes.snmp.result import build_result

MAX_WALK_REQUESTS = 200  # guards against an agent that never ends a column
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024


@dataclass
class AgentMemory:
    """What a poller remembers of each agent between polls, keyed by (address, port).

    ``samples`` are the previous samples that rates are computed against; ``rows_hint`` the
    rows seen last time (asking for that many repetitions reads the table in one GETBULK
    without making the agent pad the answer: decoding is our main CPU cost); ``descr_cache``
    ifDescr carried forward while every ifName is unchanged.
    """

    samples: dict[tuple[str, int], AgentSample] = field(default_factory=dict)
    rows_hint: dict[tuple[str, int], int] = field(default_factory=dict)
    descr_cache: dict[tuple[str, int], dict[int, tuple[str, Any]] | None] = field(
        default_factory=dict
    )

    def forget(self, address: str, port: int) -> None:
        self.samples.pop((address, port), None)
        self.rows_hint.pop((address, port), None)
        self.descr_cache.pop((address, port), None)


class SnmpPoller:
    """One pysnmp engine for all polls, and the previous sample of every agent (``memory``).

    The engine is bound to the event loop it was made on; a poll on another loop (tests)
    closes it and makes a new one. A caller that must not disturb the rate history (a
    runbook's interface dump) polls with its own ``AgentMemory``, on the same engine.
    """

    def __init__(self, max_in_flight: int = 32) -> None:
        self.max_in_flight = max_in_flight
        self._engine: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: asyncio.Semaphore | None = None
        self._socket_tuned = False
        self._targets: dict[tuple[str, int, float, int], Any] = {}
        self.memory = AgentMemory()

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

    async def aclose(self) -> None:
        self.close()

    def forget(self, address: str, port: int) -> None:
        """Drop the previous sample of one agent (e.g. when it leaves the inventory)."""
        self.memory.forget(address, port)

    async def probe(
        self, target: Target, params: SnmpParams | Mapping[str, Any] | None = None
    ) -> ProbeResult:
        """The SNMP probe of the common contract: poll one agent's interfaces; credentials
        travel in ``target.extra["credentials"]`` (a ``SnmpCredentials`` or a mapping of its
        fields), contracted bandwidths in ``target.extra["bandwidth_bps"]`` ({interface name:
        bit/s})."""
        try:
            params = as_params(params)
            creds = credentials_of(target.extra)
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
        return await self.poll(target, creds, params)

    async def poll(
        self,
        target: Target,
        creds: SnmpCredentials,
        params: SnmpParams,
        memory: AgentMemory | None = None,
    ) -> ProbeResult:
        """One poll; rates against the previous sample in ``memory`` (the poller's own)."""
        memory = self.memory if memory is None else memory
        watch = Stopwatch()
        port = target.port or creds.port
        where = f"{target.address}:{port}"
        try:
            self._get_engine()
            assert self._in_flight is not None
            async with self._in_flight:
                outcome = await self._read_agent(target.address, port, creds, params, memory)
        except Exception as exc:  # noqa: BLE001 - errors are values at the probe edge
            code, reason = classify_error(exc, version=creds.version)
            outcome = (code, reason)
        watch.lap("poll")
        if isinstance(outcome[0], ResultCode):
            code, reason = outcome
            failure = ProbeResult.failure(
                code, reason, kind="snmp", target=where, info={"version": creds.version}
            )
            return watch.stamp(failure)
        sample, sys_info = outcome
        key = (target.address, port)
        previous = memory.samples.get(key)
        memory.samples[key] = sample
        contracted = contracted_bandwidth(target.extra.get("bandwidth_bps"))
        result = build_result(previous, sample, sys_info, params.interfaces, contracted)
        result.target = where
        result.info["version"] = creds.version
        return watch.stamp(result)

    async def _read_agent(
        self,
        address: str,
        port: int,
        creds: SnmpCredentials,
        params: SnmpParams,
        memory: AgentMemory,
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
        descr_cache = memory.descr_cache.get((address, port))
        names = [n for n in COLUMNS if not (descr_cache and n == "descr")]
        columns = [COLUMNS[n] for n in names]
        cursors: list[tuple[int, ...] | None] = list(columns)
        hint = memory.rows_hint.get((address, port))
        table: dict[int, dict[str, Any]] = {}
        counts = [0] * len(columns)
        sys_info: dict[str, Any] = {}
        scalars = [oid for oid, _ in SCALAR_KEYS]
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
                return ResultCode.ERROR_RESPONSE, error_status_reason(err_status, err_index, reply)
            if len(reply) < len(scalars):
                return ResultCode.MALFORMED, "reply carries fewer varbinds than requested"
            n_scalars = len(scalars)
            for (oid, value), (base, name) in zip(reply[:n_scalars], SCALAR_KEYS, strict=False):
                if tuple(oid)[: len(base)] == base and not is_exception(value):
                    sys_info[name] = value
            scalars = []
            if not hint and _request == 0:
                if_number = int_or_none(sys_info.get("if_number"))
                repetitions = min(params.max_repetitions, if_number or params.max_repetitions)
                cursors = columns_wanted
                continue
            rows = reply[n_scalars:]
            progressed = consume_rows(rows, active, names, columns, cursors, table, counts)
            if not rows or not progressed:
                break
            if_number = int_or_none(sys_info.get("if_number"))
            if if_number is not None and all(counts[i] >= if_number for i in active):
                break  # every column holds ifNumber rows: no need to ask past its end
        memory.rows_hint[(address, port)] = len(table)
        memory.descr_cache[(address, port)] = carry_descr(table, descr_cache)
        return make_sample(table, sys_info)


def _is_ip_literal(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


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
        authProtocol=getattr(hl, AUTH_PROTOCOLS[creds.auth_protocol]),
        privProtocol=getattr(hl, PRIV_PROTOCOLS[creds.priv_protocol]),
    )
