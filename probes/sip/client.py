"""SIP OPTIONS probe: is the voice gateway / trunk / desk phone alive at the SIP layer?

Two transports:

* UDP — one shared socket per address family for every probe (``probes.sip.udp``, which
  also explains how ICMP errors and garbage are attributed). Requests are retransmitted per
  RFC 3261 Timer E (T1 = 500 ms, doubling, capped at T2 = 4 s; at T2 once a 1xx arrived)
  until the probe's timeout. A 1xx never ends the transaction.
* TCP — one connection per probe; a refused connect is ``refused``.

Result codes follow Telegraf's SIP input: ok, timeout, refused, error_response (status_code
set), auth_required (401/407 when not configured alive), malformed; plus unreachable/error
from the common contract.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from probes.base import ProbeResult, ResultCode, Stopwatch, Target
from probes.sip.message import (
    OptionsRequest,
    SipParseError,
    SipResponse,
    build_options,
    frame_stream_message,
    parse_response,
    parse_uri,
)
from probes.sip.params import DEFAULT_PORT, SipParams, as_params
from probes.sip.udp import UNREACHABLE_ERRNOS, Transaction, UdpEndpoint, open_endpoint, usable

T1 = 0.5  # RFC 3261 §17.1.1.1 RTT estimate
T2 = 4.0  # RFC 3261 §17.1.2.2 cap on non-INVITE retransmission interval


def result_for_response(resp: SipResponse, params: SipParams) -> ProbeResult:
    """Map a final response to a result code (alive, auth challenge, or error)."""
    text = f"{resp.status_code} {resp.reason}".strip()
    info = {"reason_phrase": resp.reason, "server": resp.server, "user_agent": resp.user_agent}
    if params.is_alive(resp.status_code):
        return ProbeResult.success(text, status_code=resp.status_code, info=info)
    code = ResultCode.AUTH_REQUIRED if resp.status_code in (401, 407) else ResultCode.ERROR_RESPONSE
    return ProbeResult.failure(code, text, status_code=resp.status_code, info=info)


class SipClient:
    """Sends OPTIONS probes; owns the shared UDP sockets. Close it with ``await close()``
    (``aclose``); it reopens them on the next probe."""

    def __init__(self, *, t1: float = T1, t2: float = T2) -> None:
        self.t1 = t1
        self.t2 = t2
        self._endpoints: dict[int, UdpEndpoint] = {}
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

    async def aclose(self) -> None:
        await self.close()

    async def probe(self, target: Target, params: SipParams | dict | None = None) -> ProbeResult:
        """One OPTIONS transaction to ``target`` (``extra["uri"]`` = ``sip:user@host:port``);
        never raises for a network outcome."""
        params = as_params(params)
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
            code = ResultCode.UNREACHABLE if exc.errno in UNREACHABLE_ERRNOS else ResultCode.ERROR
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
    async def _endpoint(self, family: int) -> UdpEndpoint:
        loop = asyncio.get_running_loop()
        ep = self._endpoints.get(family)
        if usable(ep, loop):
            return ep
        if self._lock is None or self._lock_loop is not loop:  # a Lock is bound to one loop
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            ep = self._endpoints.get(family)
            if usable(ep, loop):  # another task opened it while we waited for the lock
                return ep
            if ep is not None:  # left over from a closed event loop (tests), or closed
                ep.close()
            ep = await open_endpoint(family, loop)
            self._endpoints[family] = ep
            return ep

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
        tx = Transaction(req, (ip, port), loop.create_future())
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
                resp.mismatch(req)
                if resp.branch == req.branch
                else "response Via branch does not match"
            )
            if mismatch:
                return ProbeResult.failure(ResultCode.MALFORMED, mismatch)
            if not resp.is_provisional:
                return resp
