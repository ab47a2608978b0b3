"""One ICMP socket shared by every target: echo requests out, replies and errors matched back.

Each echo request gets a sequence number and ``pending[seq]`` remembers who it was for; one
reader callback matches replies (and, on a raw socket, the ICMP errors quoting our requests)
back to it. A datagram ICMP socket hears of errors through its error queue (IP_RECVERR)
instead. Timeouts are per-packet timers (``loop.call_later``), so a lost packet never holds
up the packets sent after it.

RTTs use kernel receive timestamps (SO_TIMESTAMPNS), so a busy event loop delays when we
*see* a reply, not the RTT we report.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import socket
import struct
import time
from dataclasses import dataclass, field

from probes.icmp.codec import (
    EchoReply,
    IcmpError,
    build_echo_request,
    describe_error,
    parse_icmp,
    parse_quoted_request,
)
from probes.icmp.rawsocket import IP_RECVERR, SO_TIMESTAMPNS, SOL_IP

SO_EE_ORIGIN_ICMP = 2
_EXTENDED_ERR = struct.Struct("=IBBBBII")  # struct sock_extended_err
_TIMESPEC = struct.Struct("=qq")
_ANC_BUFSIZE = 512
_MAX_READS_PER_WAKEUP = 512

# sendto() errors that are the network saying no (our own routing table or firewall).
_UNREACHABLE_ERRNOS = {
    errno.ENETUNREACH: "network unreachable (no route)",
    errno.EHOSTUNREACH: "host unreachable (no route)",
    errno.EINVAL: "no usable route (blackhole)",
    errno.EACCES: "administratively prohibited (prohibit route or firewall)",
    errno.EPERM: "administratively prohibited (local firewall)",
}


@dataclass(slots=True)
class PacketOutcome:
    """What became of one echo request: a reply (``rtt``), a network error, a local error, or
    nothing (all ``None``: lost or too late)."""

    rtt: float | None = None
    error: str | None = None
    local_error: str | None = None
    at: float = field(default_factory=time.perf_counter)


@dataclass(slots=True)
class _Pending:
    address: str
    sent_wall_ns: int
    sent_mono: float
    timeout: float
    future: asyncio.Future[PacketOutcome]
    timer: asyncio.TimerHandle | None = None


def _kernel_rtt(ancdata: list[tuple[int, int, bytes]], pending: _Pending) -> float:
    """RTT from the kernel's receive timestamp; the monotonic clock when there is none
    or the wall clock stepped in between."""
    fallback = time.perf_counter() - pending.sent_mono
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = _TIMESPEC.unpack_from(data)
            rtt = (sec * 1_000_000_000 + nsec - pending.sent_wall_ns) / 1e9
            if 0 <= rtt <= fallback + 0.001:
                return rtt
    return fallback


class Channel:
    """One ICMP socket, its echo identifier and the requests waiting for an answer."""

    def __init__(self, sock: socket.socket, raw: bool, loop: asyncio.AbstractEventLoop) -> None:
        self.sock = sock
        self.raw = raw
        self.loop = loop
        # Datagram ICMP sockets: the kernel replaces our identifier by the socket's port.
        self.ident = random.randrange(1, 0x10000) if raw else sock.getsockname()[1]
        self.pending: dict[int, _Pending] = {}
        self._seq = random.randrange(0x10000)
        loop.add_reader(sock.fileno(), self._on_readable)

    def _next_seq(self) -> int | None:
        for _ in range(0x10000):
            self._seq = (self._seq + 1) & 0xFFFF
            if self._seq not in self.pending:
                return self._seq
        return None

    def send(self, address: str, payload: bytes, timeout: float) -> asyncio.Future[PacketOutcome]:
        future: asyncio.Future[PacketOutcome] = self.loop.create_future()
        seq = self._next_seq()
        if seq is None:
            future.set_result(PacketOutcome(local_error="65,536 echo requests already in flight"))
            return future
        packet = build_echo_request(self.ident, seq, payload)
        pending = _Pending(address, time.time_ns(), time.perf_counter(), timeout, future)
        try:
            self._sendto(packet, address)
        except BlockingIOError:
            future.set_result(PacketOutcome(local_error="socket send buffer full"))
            return future
        except OSError as exc:
            if exc.errno in _UNREACHABLE_ERRNOS:
                future.set_result(PacketOutcome(error=_UNREACHABLE_ERRNOS[exc.errno]))
            else:
                future.set_result(PacketOutcome(local_error=f"send failed: {exc.strerror}"))
            return future
        pending.timer = self.loop.call_later(timeout, self._resolve, seq, None)
        self.pending[seq] = pending
        return future

    def _sendto(self, packet: bytes, address: str) -> None:
        try:
            self.sock.sendto(packet, (address, 0))
        except OSError as exc:
            # A datagram ICMP socket reports the last ICMP error (sk_err) on the *next*
            # send, which then fails without sending. Retry once: a stale error is gone
            # by now, a real "no route" fails again.
            if self.raw or exc.errno not in _UNREACHABLE_ERRNOS:
                raise
            self.sock.sendto(packet, (address, 0))

    def _resolve(self, seq: int, outcome: PacketOutcome | None) -> None:
        pending = self.pending.pop(seq, None)
        if pending is None:
            return
        if pending.timer is not None:
            pending.timer.cancel()
        if not pending.future.done():
            pending.future.set_result(outcome or PacketOutcome())

    def _on_readable(self) -> None:
        if not self.raw:
            self._drain_error_queue()
        for _ in range(_MAX_READS_PER_WAKEUP):
            try:
                data, ancdata, _flags, addr = self.sock.recvmsg(65535, _ANC_BUFSIZE)
            except BlockingIOError:
                return
            except OSError:
                continue  # a pending socket error, reported once; the error queue has details
            self._on_packet(data, ancdata, addr[0])

    def _on_packet(self, data: bytes, ancdata: list, source: str) -> None:
        message = parse_icmp(data, has_ip_header=self.raw)
        if isinstance(message, EchoReply):
            if self.raw and message.ident != self.ident:
                return  # someone else's ping: a raw socket sees all ICMP of the host
            pending = self.pending.get(message.seq)
            if pending is None or pending.address != source:
                return
            rtt = _kernel_rtt(ancdata, pending)
            self._resolve(message.seq, PacketOutcome(rtt=rtt) if rtt <= pending.timeout else None)
        elif isinstance(message, IcmpError) and self.raw and message.ident == self.ident:
            pending = self.pending.get(message.seq)
            if pending is not None and pending.address == message.original_dst:
                error = f"{source} reports {message.description}"
                self._resolve(message.seq, PacketOutcome(error=error))

    def _drain_error_queue(self) -> None:
        for _ in range(_MAX_READS_PER_WAKEUP):
            try:
                data, ancdata, _flags, addr = self.sock.recvmsg(
                    512, _ANC_BUFSIZE, socket.MSG_ERRQUEUE
                )
            except OSError:
                return
            quoted = parse_quoted_request(data)
            if quoted is None:
                continue
            pending = self.pending.get(quoted[1])
            if pending is None or (addr and addr[0] != pending.address):
                continue
            for level, kind, cdata in ancdata:
                if level == SOL_IP and kind == IP_RECVERR and len(cdata) >= 16:
                    ee_errno, origin, ee_type, ee_code, _pad, _info, _data = (
                        _EXTENDED_ERR.unpack_from(cdata)
                    )
                    if origin == SO_EE_ORIGIN_ICMP:
                        offender = socket.inet_ntoa(cdata[20:24]) if len(cdata) >= 24 else "?"
                        error = f"{offender} reports {describe_error(ee_type, ee_code)}"
                        self._resolve(quoted[1], PacketOutcome(error=error))
                    else:
                        reason = f"local error: {os.strerror(ee_errno)}"
                        self._resolve(quoted[1], PacketOutcome(local_error=reason))

    def close(self) -> None:
        if not self.loop.is_closed():
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        for seq in list(self.pending):
            pending = self.pending[seq]
            if not self.loop.is_closed():
                self._resolve(seq, PacketOutcome(local_error="pinger closed"))
            else:
                self.pending.pop(seq, None)
                if pending.timer is not None:
                    pending.timer.cancel()
