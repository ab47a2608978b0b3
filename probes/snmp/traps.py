"""SNMP trap receiver: v2c communities and v3 USM users, decoded into ``TrapObservation``.

Traps tell us about a link going down seconds after it happens, where polling would
notice only on the next cycle. The receiver has its own pysnmp engine (a notification
receiver is an authoritative-side role, separate from the poller's engine), listens on a
socket it binds itself (so a busy port fails at ``start()``, not later in the loop), and
hands each notification to a callback and/or an asyncio queue. Unknown communities and
users are dropped by pysnmp without a callback.

v3 traps are sent with the *agent's* engine ID as the authoritative one, so each v3 user
is configured with the engine ID of the agent that sends as that user.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from probes.snmp.params import AUTH_PROTOCOLS, PRIV_PROTOCOLS, AuthProtocol, PrivProtocol

SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SYS_UPTIME_0 = (1, 3, 6, 1, 2, 1, 1, 3, 0)
TRAP_KINDS = {
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 1): "cold_start",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 2): "warm_start",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 3): "link_down",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 4): "link_up",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 5): "authentication_failure",
}
IF_INDEX = (1, 3, 6, 1, 2, 1, 2, 2, 1, 1)
IF_ADMIN_STATUS = (1, 3, 6, 1, 2, 1, 2, 2, 1, 7)
IF_OPER_STATUS = (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)
IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
IF_DESCR = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)


class TrapUser(BaseModel):
    """A v3 user the receiver accepts, bound to the sending agent's engine ID (hex)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str
    engine_id: str = Field(pattern=r"^(0x)?[0-9a-fA-F]{10,64}$")
    auth_protocol: AuthProtocol = "sha256"
    auth_key: SecretStr
    priv_protocol: PrivProtocol = "aes128"
    priv_key: SecretStr


@dataclass(slots=True)
class TrapObservation:
    """One received notification, decoded enough for the engine to act on it."""

    received_at: float  # epoch seconds, UTC
    source: str  # sender IP address
    source_port: int
    version: str  # "2c" or "3"
    security_name: str  # community index ("c0" …) for v2c, user name for v3
    kind: str  # link_down, link_up, cold_start, warm_start, authentication_failure, other
    trap_oid: str
    uptime_ticks: int | None = None
    if_index: int | None = None
    if_name: str | None = None
    if_admin_status: int | None = None
    if_oper_status: int | None = None
    varbinds: dict[str, str] = field(default_factory=dict)


def decode_notification(
    varbinds: Sequence[tuple[Any, Any]],
    *,
    source: tuple[str, int],
    version: str,
    security_name: str,
    received_at: float | None = None,
) -> TrapObservation:
    """Turn SNMPv2-Trap varbinds into a ``TrapObservation`` (pure)."""
    trap_oid: tuple[int, ...] = ()
    obs = TrapObservation(
        received_at=time.time() if received_at is None else received_at,
        source=source[0],
        source_port=int(source[1]),
        version=version,
        security_name=security_name,
        kind="other",
        trap_oid="",
    )
    for oid, value in varbinds:
        oid = tuple(oid)
        obs.varbinds[".".join(map(str, oid))] = (
            value.prettyPrint() if hasattr(value, "prettyPrint") else str(value)
        )
        if oid == SNMP_TRAP_OID:
            trap_oid = tuple(value)
        elif oid == SYS_UPTIME_0:
            obs.uptime_ticks = int(value)
        elif oid[:-1] == IF_INDEX:
            obs.if_index = int(value)
        elif oid[:-1] == IF_ADMIN_STATUS:
            obs.if_admin_status = int(value)
            obs.if_index = obs.if_index or oid[-1]
        elif oid[:-1] == IF_OPER_STATUS:
            obs.if_oper_status = int(value)
            obs.if_index = obs.if_index or oid[-1]
        elif oid[:-1] == IF_NAME:
            obs.if_name = bytes(value.asOctets()).decode("utf-8", "replace")
        elif oid[:-1] == IF_DESCR and obs.if_name is None:
            obs.if_name = bytes(value.asOctets()).decode("utf-8", "replace")
    obs.trap_oid = ".".join(map(str, trap_oid))
    obs.kind = TRAP_KINDS.get(trap_oid, "other")
    return obs


class SnmpTrapReceiver:
    """Listen on ``address:port`` (UDP) and deliver ``TrapObservation``s.

    ``on_trap`` is called for each observation (exceptions in it are swallowed and counted
    in ``callback_errors``); ``queue`` (an ``asyncio.Queue``) receives each one too.
    """

    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 162,
        communities: Sequence[str] = ("public",),
        v3_users: Sequence[TrapUser] = (),
        on_trap: Callable[[TrapObservation], Any] | None = None,
        queue: asyncio.Queue[TrapObservation] | None = None,
    ) -> None:
        self.address = address
        self.port = port
        self.communities = list(communities)
        self.v3_users = list(v3_users)
        self.on_trap = on_trap
        self.queue = queue
        self.callback_errors = 0
        self.received = 0
        self._engine: Any = None
        self._receiver: Any = None
        self._sock: socket.socket | None = None
        self._transport: Any = None

    @property
    def bound_port(self) -> int | None:
        return self._sock.getsockname()[1] if self._sock else None

    async def start(self) -> None:
        from pysnmp.carrier.asyncio.dgram import udp
        from pysnmp.entity import config
        from pysnmp.entity.engine import SnmpEngine
        from pysnmp.entity.rfc3413 import ntfrcv
        from pysnmp.hlapi.v3arch import asyncio as hl
        from pysnmp.proto import rfc1902

        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.address, self.port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._sock = sock
        engine = SnmpEngine()
        self._transport = udp.UdpAsyncioTransport().open_server_mode(sock=sock)
        config.add_transport(engine, udp.DOMAIN_NAME, self._transport)
        for i, community in enumerate(self.communities):
            config.add_v1_system(engine, f"c{i}", community)
        for u in self.v3_users:
            config.add_v3_user(
                engine,
                u.user,
                getattr(hl, AUTH_PROTOCOLS[u.auth_protocol]),
                u.auth_key.get_secret_value(),
                getattr(hl, PRIV_PROTOCOLS[u.priv_protocol]),
                u.priv_key.get_secret_value(),
                securityEngineId=rfc1902.OctetString(hexValue=u.engine_id.removeprefix("0x")),
            )
        self._receiver = ntfrcv.NotificationReceiver(engine, self._on_notification)
        self._engine = engine
        await asyncio.sleep(0)  # let the datagram endpoint attach to the loop

    def _on_notification(
        self, engine, state_reference, _ctx_engine_id, _ctx_name, varbinds, _cb_ctx
    ):
        try:
            ctx = engine.observer.get_execution_context("rfc3412.receiveMessage:request")
            source = ctx["transportAddress"]
            version = "3" if int(ctx["securityModel"]) == 3 else "2c"
            security_name = str(ctx["securityName"])
        except Exception:  # noqa: BLE001 - context is best effort
            source, version, security_name = ("?", 0), "?", "?"
        obs = decode_notification(
            varbinds,
            source=(str(source[0]), int(source[1])),
            version=version,
            security_name=security_name,
        )
        self.received += 1
        if self.queue is not None:
            self.queue.put_nowait(obs)
        if self.on_trap is not None:
            try:
                self.on_trap(obs)
            except Exception:  # noqa: BLE001 - a consumer bug must not kill the listener
                self.callback_errors += 1

    async def close(self) -> None:
        """Stop reading, let already-queued datagrams be handled, then release everything."""
        if self._transport is not None and self._transport.transport is not None:
            self._transport.transport.close()
        for _ in range(3):
            await asyncio.sleep(0)
        if self._receiver is not None and self._engine is not None:
            self._receiver.close(self._engine)
        if self._engine is not None:
            self._engine.close_dispatcher()
        if self._sock is not None:
            self._sock.close()
        self._engine = self._receiver = self._sock = self._transport = None

    async def __aenter__(self) -> SnmpTrapReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
