"""SIP OPTIONS probe: is the voice gateway / trunk / desk phone alive at the SIP layer?

Two transports:

* UDP — ONE shared, unconnected socket per address family serves every concurrent probe
  (1,000 phones do not need 1,000 sockets). Responses are matched to requests by the Via
  branch (unique per request) and checked against Call-ID and CSeq. Requests are
  retransmitted per RFC 3261 Timer E (T1 = 500 ms, doubling, capped at T2 = 4 s; at T2 once a
  1xx arrived) until the probe's timeout. A 1xx never ends the transaction.
* TCP — one connection per probe; a refused connect is ``refused``.

ICMP port unreachable on the shared UDP socket: an unconnected socket normally never hears
about it (the kernel only reports it to *connected* UDP sockets). We set ``IP_RECVERR`` /
``IPV6_RECVERR``: the kernel then queues each ICMP error with the original destination
address, we read that queue (``MSG_ERRQUEUE``) and fail the pending probes to exactly that
address:port with ``refused`` (port unreachable) or ``unreachable`` (host/net unreachable).
Caveat: the kernel rate-limits ICMP errors from remote hosts, so under a storm some refusals
can still show up as ``timeout``; they are never misattributed.

Garbage: an undecodable datagram carries no branch, so it is attributed by source address —
the pending probes to that address:port end ``malformed`` (what a per-probe socket would see).

Result codes follow Telegraf's SIP input: ok, timeout, refused, error_response (status_code
set), auth_required (401/407 when not configured alive), malformed; plus unreachable/error
from the common contract.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from noc.core.units import Duration
from probes.base import ProbeResult, ResultCode, Stopwatch, Target, register
from probes.sip.message import (
    OptionsRequest,
    SipParseError,
    SipResponse,
    build_options,
    frame_stream_message,
    parse_response,
    parse_uri,
)

T1 = 0.5  # RFC 3261 §17.1.1.1 RTT estimate
T2 = 4.0  # RFC 3261 §17.1.2.2 cap on non-INVITE retransmission interval
DEFAULT_PORT = 5060
DEFAULT_ALIVE_CODES: list[int | str] = ["2xx", 401, 403, 404, 405, 407, 480, 486]
RECV_BUFFER_BYTES = 4 * 1024 * 1024  # 1,000 answers arriving at once must not overflow

_IP_RECVERR = getattr(socket, "IP_RECVERR", 11)  # Linux values; Python 3.11 lacks the names
_IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)
_SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
_SO_EE_ORIGIN_ICMP, _SO_EE_ORIGIN_ICMP6 = 2, 3
# EINVAL: what sendto() says for a blackhole route (the guard route of 198.18.0.0/15)
_UNREACHABLE_ERRNOS = {
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EHOSTDOWN,
    errno.ENETDOWN,
    errno.EINVAL,
}


class SipParams(BaseModel):
    """Per-check settings of the ``sip`` probe (strict: unknown keys are config errors)."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["udp", "tcp"] = "udp"
    timeout: Duration = 2.0
    alive_codes: list[int | str] = Field(default_factory=lambda: list(DEFAULT_ALIVE_CODES))

    @field_validator("alive_codes")
    @classmethod
    def _check_codes(cls, codes: list[int | str]) -> list[int | str]:
        out: list[int | str] = []
        for code in codes:
            if isinstance(code, str) and code.isdigit():
                code = int(code)
            if isinstance(code, int) and not isinstance(code, bool) and 200 <= code <= 699:
                out.append(code)
            elif (
                isinstance(code, str)
                and len(code) == 3
                and code[0] in "23456"
                and code[1:].lower() == "xx"
            ):
                out.append(code.lower())
            else:
                raise ValueError(
                    f"{code!r} is not a final SIP status (200-699) or a class like '2xx'"
                )
        return out

    def is_alive(self, status: int) -> bool:
        return status in self.alive_codes or f"{status // 100}xx" in self.alive_codes


# --------------------------------------------------------------------------- results


def result_for_response(resp: SipResponse, params: SipParams) -> ProbeResult:
    """Map a final response to a result code (alive, auth challenge, or error)."""
    text = f"{resp.status_code} {resp.reason}".strip()
    info = {"reason_phrase": resp.reason, "server": resp.server, "user_agent": resp.user_agent}
    if params.is_alive(resp.status_code):
        return ProbeResult.success(text, status_code=resp.status_code, info=info)
    code = ResultCode.AUTH_REQUIRED if resp.status_code in (401, 407) else ResultCode.ERROR_RESPONSE
    return ProbeResult.failure(code, text, status_code=resp.status_code, info=info)


def _matches(resp: SipResponse, req: OptionsRequest) -> str | None:
    """Why ``resp`` (same branch) is not an answer to ``req``, or None if it is."""
    if resp.call_id != req.call_id:
        return "response Call-ID does not match the request"
    if resp.cseq_method.upper() != "OPTIONS" or resp.cseq_number != req.cseq:
        return "response CSeq does not match the request"
    return None


# --------------------------------------------------------------------------- UDP


@dataclass(eq=False)
class _Transaction:
    request: OptionsRequest
    dest: tuple[str, int]
    done: asyncio.Future[SipResponse | tuple[ResultCode, str]]
    provisional: SipResponse | None = None
    received_at: float = 0.0

    def finish(self, outcome: SipResponse | tuple[ResultCode, str], at: float) -> None:
        if not self.done.done():
            self.received_at = at
            self.done.set_result(outcome)


@dataclass(eq=False)
class _UdpEndpoint(asyncio.DatagramProtocol):
    """One shared socket and the table of transactions waiting on it."""

    sock: socket.socket
    loop: asyncio.AbstractEventLoop
    transport: asyncio.DatagramTransport | None = None
    pending: dict[str, _Transaction] = field(default_factory=dict)
    by_dest: dict[tuple[str, int], set[str]] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def register(self, tx: _Transaction) -> None:
        self.pending[tx.request.branch] = tx
        self.by_dest.setdefault(tx.dest, set()).add(tx.request.branch)

    def unregister(self, tx: _Transaction) -> None:
        self.pending.pop(tx.request.branch, None)
        branches = self.by_dest.get(tx.dest)
        if branches is not None:
            branches.discard(tx.request.branch)
            if not branches:
                del self.by_dest[tx.dest]

    def _fail_dest(self, dest: tuple[str, int], code: ResultCode, reason: str) -> None:
        now = self.loop.time()
        for branch in list(self.by_dest.get(dest, ())):
            self.pending[branch].finish((code, reason), now)

    def send(self, data: bytes, dest: tuple[str, int]) -> None:
        """sendto on the raw socket; a stale ICMP error pending on it is drained, then retried."""
        for _ in range(3):
            try:
                self.sock.sendto(data, dest)
                return
            except (BlockingIOError, InterruptedError):
                assert self.transport is not None
                self.transport.sendto(data, dest)  # queued by asyncio, sent when writable
                return
            except OSError as exc:
                if exc.errno not in _UNREACHABLE_ERRNOS | {errno.ECONNREFUSED}:
                    raise
                self._drain_errors()  # the error may belong to another probe's ICMP
                last = exc
        raise last

    # asyncio.DatagramProtocol ------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        now = self.loop.time()
        source = (_norm_ip(addr[0]), addr[1])
        try:
            resp = parse_response(data)
            branch = resp.branch
        except SipParseError as exc:
            self._fail_dest(source, ResultCode.MALFORMED, f"malformed response: {exc.reason}")
            return
        tx = self.pending.get(branch or "")
        if tx is None:
            if branch is None:
                self._fail_dest(source, ResultCode.MALFORMED, "response without Via branch")
            return  # a late answer to a finished probe, or not ours
        mismatch = _matches(resp, tx.request)
        if mismatch:
            tx.finish((ResultCode.MALFORMED, mismatch), now)
        elif resp.is_provisional:
            tx.provisional = resp
        else:
            tx.finish(resp, now)

    def error_received(self, exc: Exception) -> None:
        self._drain_errors()

    def connection_lost(self, exc: Exception | None) -> None:
        now = self.loop.time()
        for tx in list(self.pending.values()):
            tx.finish((ResultCode.ERROR, "SIP client closed"), now)

    def _drain_errors(self) -> None:
        """Read queued ICMP errors (IP_RECVERR) and fail the probes to each offending dest."""
        while True:
            try:
                _, ancdata, _, addr = self.sock.recvmsg(1, 512, socket.MSG_ERRQUEUE)
            except OSError:  # BlockingIOError: queue empty; anything else: nothing to learn
                return
            for level, kind, cdata in ancdata:
                if (level, kind) not in (
                    (socket.IPPROTO_IP, _IP_RECVERR),
                    (socket.IPPROTO_IPV6, _IPV6_RECVERR),
                ):
                    continue
                ee_errno, ee_origin = struct.unpack_from("=IB", cdata)
                if ee_origin not in (_SO_EE_ORIGIN_ICMP, _SO_EE_ORIGIN_ICMP6) or not addr:
                    continue
                dest = (_norm_ip(addr[0]), addr[1])
                if ee_errno == errno.ECONNREFUSED:
                    self._fail_dest(dest, ResultCode.REFUSED, "ICMP port unreachable")
                elif ee_errno in _UNREACHABLE_ERRNOS:
                    self._fail_dest(
                        dest,
                        ResultCode.UNREACHABLE,
                        f"ICMP {errno.errorcode.get(ee_errno, ee_errno)}",
                    )

    def close(self) -> None:
        if self.transport is not None and not self.loop.is_closed():
            self.transport.close()
        else:
            self.sock.close()


def _norm_ip(address: str) -> str:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).compressed
    except ValueError:
        return address


# --------------------------------------------------------------------------- client


def _usable(ep: _UdpEndpoint | None, loop: asyncio.AbstractEventLoop) -> bool:
    """An open shared endpoint on this event loop."""
    return (
        ep is not None
        and ep.loop is loop
        and ep.transport is not None
        and not ep.transport.is_closing()
    )


class SipClient:
    """Sends OPTIONS probes; owns the shared UDP sockets. Close it with ``await close()``."""

    def __init__(self, *, t1: float = T1, t2: float = T2) -> None:
        self.t1 = t1
        self.t2 = t2
        self._endpoints: dict[int, _UdpEndpoint] = {}
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._local_ips: dict[tuple[int, str], str] = {}

    @property
    def udp_socket_count(self) -> int:
        return len(self._endpoints)

    async def close(self) -> None:
        endpoints, self._endpoints = self._endpoints, {}
        for ep in endpoints.values():
            ep.close()
        if endpoints:
            await asyncio.sleep(0)  # transport.close() releases the socket on the next loop turn
        self._lock = None

    async def probe(self, target: Target, params: SipParams | dict | None = None) -> ProbeResult:
        """One OPTIONS transaction to ``target``; never raises for a network outcome."""
        params = params if isinstance(params, SipParams) else SipParams.model_validate(params or {})
        sw = Stopwatch()
        try:
            uri, ip, port, family = await self._resolve(target)
        except (ValueError, OSError) as exc:
            return self._finish(
                sw, target, ProbeResult.failure(ResultCode.ERROR, str(exc)), params, ""
            )
        sw.lap("resolve")
        try:
            if params.transport == "udp":
                result = await self._probe_udp(uri, ip, port, family, params)
            else:
                result = await self._probe_tcp(uri, ip, port, params, sw)
        except OSError as exc:
            code = ResultCode.UNREACHABLE if exc.errno in _UNREACHABLE_ERRNOS else ResultCode.ERROR
            result = ProbeResult.failure(code, f"{exc.strerror or exc}")
        return self._finish(sw, target, result, params, uri)

    def _finish(
        self, sw: Stopwatch, target: Target, result: ProbeResult, params: SipParams, uri: str
    ) -> ProbeResult:
        result.kind = "sip"
        result.target = uri or f"{target.address}:{target.port or DEFAULT_PORT}"
        result.info.setdefault("transport", params.transport)
        result.info.setdefault("uri", uri)
        return sw.stamp(result)

    async def _resolve(self, target: Target) -> tuple[str, str, int, int]:
        uri = str(target.extra.get("uri") or "")
        parsed = parse_uri(uri) if uri else None
        port = target.port or (parsed.port if parsed else None) or DEFAULT_PORT
        if not uri:
            host = f"[{target.address}]" if ":" in target.address else target.address
            uri = f"sip:{host}:{port}"
            parse_uri(uri)
        try:
            ip = ipaddress.ip_address(target.address)
        except ValueError:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.address, port, type=socket.SOCK_DGRAM
            )
            if not infos:
                raise OSError(f"cannot resolve {target.address}") from None
            ip = ipaddress.ip_address(infos[0][4][0])
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        return uri, ip.compressed, port, family

    # UDP -----------------------------------------------------------------------
    async def _endpoint(self, family: int) -> _UdpEndpoint:
        loop = asyncio.get_running_loop()
        ep = self._endpoints.get(family)
        if _usable(ep, loop):
            return ep
        if self._lock is None or self._lock_loop is not loop:  # a Lock is bound to one loop
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            ep = self._endpoints.get(family)
            if _usable(ep, loop):  # another task opened it while we waited for the lock
                return ep
            if ep is not None:  # left over from a closed event loop (tests), or closed
                ep.close()
            ep = await self._open_endpoint(family, loop)
            self._endpoints[family] = ep
            return ep

    async def _open_endpoint(self, family: int, loop: asyncio.AbstractEventLoop) -> _UdpEndpoint:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
                sock.bind(("::", 0))
            else:
                sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
                sock.bind(("0.0.0.0", 0))
            for opt in (_SO_RCVBUFFORCE, socket.SO_RCVBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, RECV_BUFFER_BYTES)
                    break
                except OSError:
                    continue
            ep = _UdpEndpoint(sock=sock, loop=loop)
            await loop.create_datagram_endpoint(lambda: ep, sock=sock)
            return ep
        except BaseException:
            sock.close()
            raise

    def _local_ip(self, family: int, ip: str, port: int) -> str:
        """The source address the kernel would use towards ``ip`` (for Via/Contact)."""
        key = (family, ip)
        if key not in self._local_ips:
            with socket.socket(family, socket.SOCK_DGRAM) as probe_sock:
                probe_sock.connect((ip, port))  # no packet: only a route lookup
                self._local_ips[key] = probe_sock.getsockname()[0]
        return self._local_ips[key]

    async def _probe_udp(
        self, uri: str, ip: str, port: int, family: int, params: SipParams
    ) -> ProbeResult:
        loop = asyncio.get_running_loop()
        ep = await self._endpoint(family)
        local = self._local_ip(family, ip, port)
        req = build_options(uri, local_host=local, local_port=ep.port, transport="UDP")
        tx = _Transaction(req, (ip, port), loop.create_future())
        ep.register(tx)
        try:
            first_sent = loop.time()
            deadline = first_sent + params.timeout
            interval, sent = self.t1, 0
            while True:
                ep.send(req.data, tx.dest)
                sent += 1
                wait = min(interval, deadline - loop.time())
                if wait > 0:
                    await asyncio.wait({tx.done}, timeout=wait)
                if tx.done.done():
                    break
                if loop.time() >= deadline:
                    return self._timeout(params, sent, tx.provisional)
                interval = self.t2 if tx.provisional else min(interval * 2, self.t2)
        finally:
            ep.unregister(tx)
        outcome = tx.done.result()
        if isinstance(outcome, tuple):
            result = ProbeResult.failure(outcome[0], outcome[1])
        else:
            result = result_for_response(outcome, params)
            result.timings["rtt"] = tx.received_at - first_sent
        result.info["transmissions"] = sent
        return result

    @staticmethod
    def _timeout(params: SipParams, sent: int, provisional: SipResponse | None) -> ProbeResult:
        extra = f", last provisional {provisional.status_code}" if provisional else ""
        return ProbeResult.failure(
            ResultCode.TIMEOUT,
            f"no final response within {params.timeout:g}s ({sent} transmissions{extra})",
            info={"transmissions": sent},
        )

    # TCP -----------------------------------------------------------------------
    async def _probe_tcp(
        self, uri: str, ip: str, port: int, params: SipParams, sw: Stopwatch
    ) -> ProbeResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + params.timeout
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(ip, port), params.timeout
            )
        except TimeoutError:
            return ProbeResult.failure(
                ResultCode.TIMEOUT, f"TCP connect timed out after {params.timeout:g}s"
            )
        except ConnectionRefusedError:
            return ProbeResult.failure(ResultCode.REFUSED, "TCP connection refused")
        sw.lap("connect")
        try:
            local = writer.get_extra_info("sockname")
            req = build_options(uri, local_host=local[0], local_port=local[1], transport="TCP")
            sent_at = loop.time()
            writer.write(req.data)
            await writer.drain()
            resp = await self._read_final(reader, req, deadline)
            if isinstance(resp, ProbeResult):
                return resp
            result = result_for_response(resp, params)
            result.timings["rtt"] = loop.time() - sent_at
            return result
        except TimeoutError:
            return self._timeout(params, 1, None)
        except (ConnectionResetError, BrokenPipeError):
            return ProbeResult.failure(ResultCode.REFUSED, "TCP connection reset by the peer")
        except SipParseError as exc:
            return ProbeResult.failure(ResultCode.MALFORMED, f"malformed response: {exc.reason}")
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    @staticmethod
    async def _read_final(
        reader: asyncio.StreamReader, req: OptionsRequest, deadline: float
    ) -> SipResponse | ProbeResult:
        loop = asyncio.get_running_loop()
        buf = b""
        while True:
            framed = frame_stream_message(buf)
            if framed is None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                chunk = await asyncio.wait_for(reader.read(65536), remaining)
                if not chunk:
                    if buf.strip():
                        return ProbeResult.failure(
                            ResultCode.MALFORMED, "connection closed mid-message"
                        )
                    return ProbeResult.failure(
                        ResultCode.REFUSED, "connection closed without a response"
                    )
                buf += chunk
                continue
            message, buf = framed
            resp = parse_response(message)
            mismatch = (
                _matches(resp, req)
                if resp.branch == req.branch
                else "response Via branch does not match"
            )
            if mismatch:
                return ProbeResult.failure(ResultCode.MALFORMED, mismatch)
            if not resp.is_provisional:
                return resp


# --------------------------------------------------------------------------- registry

_default_client: SipClient | None = None


def default_client() -> SipClient:
    """The process-wide client the registered probe uses (one UDP socket per family)."""
    global _default_client
    if _default_client is None:
        _default_client = SipClient()
    return _default_client


async def close_default_client() -> None:
    """Close the shared sockets (service shutdown, test teardown); reopened on next use."""
    global _default_client
    client, _default_client = _default_client, None
    if client is not None:
        await client.close()


@register("sip")
async def probe_sip(target: Target, params: SipParams | dict | None = None) -> ProbeResult:
    """SIP OPTIONS to ``target`` (``extra["uri"]`` = ``sip:user@host:port``)."""
    return await default_client().probe(target, params)
