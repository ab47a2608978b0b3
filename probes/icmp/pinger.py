"""The shared ICMP machinery: one socket per kind, a pending-request table, paced sends.

Why not icmplib's ``async_multiping``: it opens one socket per host, so a sweep of 1,000
targets costs 1,000 file descriptors and 1,000 kernel copies of every reply (each raw
socket sees all ICMP). Here one socket serves every target: each echo request gets a
sequence number, ``pending[seq]`` remembers who it was for, and one reader callback
matches replies and quoted errors back to it. Timeouts are per-packet timers
(``loop.call_later``), so a lost packet never holds up the packets sent after it; sends go
through a pinger-wide pacer (like fping's ``-i``) so a sweep never floods a link.

RTTs use kernel receive timestamps (SO_TIMESTAMPNS), so a busy event loop delays when
we *see* a reply, not the RTT we report.
"""

from __future__ import annotations

import asyncio
import errno
import heapq
import ipaddress
import os
import random
import socket
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from probes.base import ProbeResult, ResultCode
from probes.icmp.codec import (
    EchoReply,
    IcmpError,
    build_echo_request,
    describe_error,
    make_payload,
    parse_icmp,
    parse_quoted_request,
)
from probes.icmp.rawsocket import IP_RECVERR, SO_TIMESTAMPNS, SOL_IP, open_icmp_socket
from probes.icmp.stats import icmp_stats

if TYPE_CHECKING:
    from probes.icmp import IcmpParams

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


class _Channel:
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


class _Pacer:
    """Global send spacing. Slots are reserved on an ideal schedule; a sender that woke
    late may use up to ``max_lag`` of missed slots at once, so the *average* rate holds
    even though the event loop sleeps with millisecond granularity."""

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self.max_lag = max(spacing * 8, 0.004)
        self._next = 0.0
        self._since_yield = 0

    async def wait_slot(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        slot = max(self._next, now - self.max_lag)
        self._next = slot + self.spacing
        if slot > now:
            self._since_yield = 0
            await asyncio.sleep(slot - now)
        else:
            self._since_yield += 1
            if self._since_yield >= 32:  # let replies and timers in during a burst
                self._since_yield = 0
                await asyncio.sleep(0)


@dataclass(slots=True)
class _TargetRun:
    address: str
    ip: str
    started_at: float = 0.0
    started_mono: float = 0.0
    futures: list[asyncio.Future[PacketOutcome]] = field(default_factory=list)


def _error_result(address: str, reason: str, result: ResultCode = ResultCode.ERROR) -> ProbeResult:
    return ProbeResult.failure(result, reason, kind="icmp", target=address, started_at=time.time())


def _target_result(
    run: _TargetRun, outcomes: list[PacketOutcome], params: IcmpParams, socket_kind: str
) -> ProbeResult:
    stats = icmp_stats([o.rtt for o in outcomes])
    last = max((o.at for o in outcomes), default=run.started_mono)
    common = {
        "kind": "icmp",
        "target": run.address,
        "started_at": run.started_at,
        "duration_seconds": max(0.0, last - run.started_mono),
        "values": stats.as_values(),
        "info": {"address": run.ip, "socket": socket_kind},
    }
    if stats.received:
        reason = f"{stats.received}/{stats.sent} replies, avg {stats.rtt_avg_seconds * 1000:.3f} ms"
        return ProbeResult.success(reason, timings={"rtt": stats.rtt_avg_seconds}, **common)
    errors = [o.error for o in outcomes if o.error]
    if errors:
        return ProbeResult.failure(ResultCode.UNREACHABLE, errors[0], **common)
    local = [o.local_error for o in outcomes if o.local_error]
    if local and len(local) == len(outcomes):
        return ProbeResult.failure(ResultCode.ERROR, local[0], **common)
    reason = f"no reply to {stats.sent} echo request(s) within {params.timeout:g}s each"
    return ProbeResult.failure(ResultCode.TIMEOUT, reason, **common)


class IcmpPinger:
    """Long-lived ICMP sender/receiver shared by every ICMP probe of the process.

    Holds at most two sockets (raw, and unprivileged datagram), opened lazily, in network
    namespace ``netns`` when given. ``send_spacing`` is the minimum time between any two
    echo requests this pinger sends (fping ``-i``). Bound to one event loop at a time;
    close it with ``close()``/``aclose()``.
    """

    def __init__(self, *, send_spacing: float = 0.001, netns: str | None = None) -> None:
        if send_spacing < 0:
            raise ValueError("send_spacing must not be negative")
        self.send_spacing = send_spacing
        self.netns = netns
        self._channels: dict[bool, _Channel] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._pacer = _Pacer(send_spacing)
        self._raw_denied = False

    @property
    def socket_count(self) -> int:
        """Open sockets (0, 1 or 2): the design's "one socket for all targets" made checkable."""
        return len(self._channels)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    async def aclose(self) -> None:
        self.close()

    async def _bind_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._lock is None:
            self.close()  # sockets registered on a previous (test) loop cannot be reused
            self._loop, self._lock, self._pacer = loop, asyncio.Lock(), _Pacer(self.send_spacing)
        return self._lock

    async def _open(self, raw: bool) -> _Channel:
        if self.netns is None:
            sock = open_icmp_socket(raw)
        else:
            sock = await asyncio.to_thread(open_icmp_socket, raw, self.netns)
        return _Channel(sock, raw, asyncio.get_running_loop())

    async def channel(self, privileged: bool | None) -> _Channel:
        """The socket for ``privileged`` (None: raw if allowed, else datagram)."""
        lock = await self._bind_loop()
        async with lock:
            raw = privileged if privileged is not None else not self._raw_denied
            if raw in self._channels:
                return self._channels[raw]
            try:
                self._channels[raw] = await self._open(raw)
            except OSError as exc:
                denied = exc.errno in (errno.EPERM, errno.EACCES)
                if not denied or privileged is not None or not raw:
                    raise
                self._raw_denied = True
                if False not in self._channels:
                    self._channels[False] = await self._open(False)
                return self._channels[False]
            return self._channels[raw]

    async def ping(self, address: str, params: IcmpParams) -> ProbeResult:
        return (await self.sweep([address], params))[address]

    async def sweep(self, addresses: Iterable[str], params: IcmpParams) -> dict[str, ProbeResult]:
        """Probe every address with ``params.count`` echo requests over the shared socket."""
        results: dict[str, ProbeResult] = {}
        runs: list[_TargetRun] = []
        for address, ip_or_error in (await _resolve_all(list(dict.fromkeys(addresses)))).items():
            if isinstance(ip_or_error, ProbeResult):
                results[address] = ip_or_error
            else:
                runs.append(_TargetRun(address, ip_or_error))
        if not runs:
            return results
        try:
            channel = await self.channel(params.privileged)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return results | {run.address: _error_result(run.address, reason) for run in runs}
        await self._send_all(channel, runs, params)
        socket_kind = "raw" if channel.raw else "dgram"
        for run in runs:
            results[run.address] = _target_result(run, await _outcomes(run), params, socket_kind)
        return results

    async def _send_all(
        self, channel: _Channel, runs: list[_TargetRun], params: IcmpParams
    ) -> None:
        """Round-robin over targets (packet k of every target before packet k+1), each
        target's packets ``params.interval`` apart, all sends through the pacer."""
        loop = asyncio.get_running_loop()
        payload = make_payload(params.payload_size)
        heap = [(0.0, index, 0) for index in range(len(runs))]
        while heap:
            due, index, k = heapq.heappop(heap)
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            await self._pacer.wait_slot(loop)
            run = runs[index]
            if k == 0:
                run.started_at, run.started_mono = time.time(), time.perf_counter()
            run.futures.append(channel.send(run.ip, payload, params.timeout))
            if k + 1 < params.count:
                heapq.heappush(heap, (loop.time() + params.interval, index, k + 1))


async def _outcomes(run: _TargetRun) -> list[PacketOutcome]:
    """Every packet's outcome, except that once the network has said "unreachable" and nothing
    has answered, packets still in flight are not waited for (they count as lost).

    Routers rate-limit their ICMP errors (Linux: one per second per source after a small
    burst), so after a dead link's first errors the rest of a burst simply times out; waiting
    for those timeouts made a confirmation re-probe of a dead circuit take its full timeout.
    """
    pending = set(run.futures)
    while pending:
        _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        settled = [f.result() for f in run.futures if f.done()]
        if (
            pending
            and any(o.error for o in settled)
            and not any(o.rtt is not None for o in settled)
        ):
            break
    return [f.result() if f.done() else PacketOutcome() for f in run.futures]


async def _resolve_all(addresses: list[str]) -> dict[str, str | ProbeResult]:
    """IPv4 address per target; an ``error`` result for names that do not resolve."""
    loop = asyncio.get_running_loop()
    resolved: dict[str, str | ProbeResult] = {}
    names: list[str] = []
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            names.append(address)
            continue
        if ip.version == 4:
            resolved[address] = str(ip)
        else:
            resolved[address] = _error_result(address, "IPv6 targets are not supported yet")

    async def resolve(name: str) -> str | ProbeResult:
        try:
            infos = await loop.getaddrinfo(name, None, family=socket.AF_INET)
        except (socket.gaierror, UnicodeError) as exc:
            return _error_result(name, f"cannot resolve {name!r}: {exc}")
        return infos[0][4][0]

    for name, ip_or_error in zip(names, await asyncio.gather(*map(resolve, names)), strict=True):
        resolved[name] = ip_or_error
    return {address: resolved[address] for address in addresses}
