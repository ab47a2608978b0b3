"""The shared UDP endpoint of the SIP probe: one socket per address family for every probe.

ONE shared, unconnected socket per address family serves every concurrent probe (1,000
phones do not need 1,000 sockets). Responses are matched to requests by the Via branch
(unique per request) and checked against Call-ID and CSeq; the client retransmits per
RFC 3261 Timer E. A 1xx never ends the transaction.

ICMP port unreachable on the shared UDP socket: an unconnected socket normally never hears
about it (the kernel only reports it to *connected* UDP sockets). We set ``IP_RECVERR`` /
``IPV6_RECVERR``: the kernel then queues each ICMP error with the original destination
address, we read that queue (``MSG_ERRQUEUE``) and fail the pending probes to exactly that
address:port with ``refused`` (port unreachable) or ``unreachable`` (host/net unreachable).
Caveat: the kernel rate-limits ICMP errors from remote hosts, so under a storm some refusals
can still show up as ``timeout``; they are never misattributed.

Garbage: an undecodable datagram carries no branch, so it is attributed by source address —
the pending probes to that address:port end ``malformed`` (what a per-probe socket would see).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from probes.base import ResultCode
from probes.sip.message import OptionsRequest, SipParseError, SipResponse, parse_response

RECV_BUFFER_BYTES = 4 * 1024 * 1024  # 1,000 answers arriving at once must not overflow

_IP_RECVERR = getattr(socket, "IP_RECVERR", 11)  # Linux values; Python 3.11 lacks the names
_IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)
_SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
_SO_EE_ORIGIN_ICMP, _SO_EE_ORIGIN_ICMP6 = 2, 3
# EINVAL: what sendto() says for a blackhole route (the guard route of 198.18.0.0/15)
UNREACHABLE_ERRNOS = {
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EHOSTDOWN,
    errno.ENETDOWN,
    errno.EINVAL,
}


@dataclass(eq=False)
class Transaction:
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
class UdpEndpoint(asyncio.DatagramProtocol):
    """One shared socket and the table of transactions waiting on it."""

    sock: socket.socket
    loop: asyncio.AbstractEventLoop
    transport: asyncio.DatagramTransport | None = None
    pending: dict[str, Transaction] = field(default_factory=dict)
    by_dest: dict[tuple[str, int], set[str]] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def register(self, tx: Transaction) -> None:
        self.pending[tx.request.branch] = tx
        self.by_dest.setdefault(tx.dest, set()).add(tx.request.branch)

    def unregister(self, tx: Transaction) -> None:
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
                if exc.errno not in UNREACHABLE_ERRNOS | {errno.ECONNREFUSED}:
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
        mismatch = resp.mismatch(tx.request)
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
                elif ee_errno in UNREACHABLE_ERRNOS:
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


def usable(ep: UdpEndpoint | None, loop: asyncio.AbstractEventLoop) -> bool:
    """An open shared endpoint on this event loop."""
    return (
        ep is not None
        and ep.loop is loop
        and ep.transport is not None
        and not ep.transport.is_closing()
    )


async def open_endpoint(family: int, loop: asyncio.AbstractEventLoop) -> UdpEndpoint:
    """A shared UDP socket for ``family`` that hears ICMP errors (IP_RECVERR) and can queue
    a burst of answers."""
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
        ep = UdpEndpoint(sock=sock, loop=loop)
        await loop.create_datagram_endpoint(lambda: ep, sock=sock)
        return ep
    except BaseException:
        sock.close()
        raise
