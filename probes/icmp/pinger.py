"""The shared ICMP machinery: one socket per kind, paced sends, a result per target.

Why not icmplib's ``async_multiping``: it opens one socket per host, so a sweep of 1,000
targets costs 1,000 file descriptors and 1,000 kernel copies of every reply (each raw
socket sees all ICMP). Here one :class:`~probes.icmp.channel.Channel` serves every target,
and sends go through a pinger-wide pacer (like fping's ``-i``) so a sweep never floods a link.

Result codes: ``ok`` if any reply came back, ``unreachable`` if none did and the network
said so (ICMP destination unreachable / time exceeded, or no route locally), ``timeout``
if nothing came back at all, ``error`` for local problems (socket permission, bad name).
"""

from __future__ import annotations

import asyncio
import errno
import heapq
import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from probes.base import ProbeResult, ResultCode, Target
from probes.icmp.channel import Channel, PacketOutcome
from probes.icmp.codec import make_payload
from probes.icmp.params import IcmpParams, as_params
from probes.icmp.rawsocket import open_icmp_socket
from probes.icmp.stats import icmp_stats


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
    """Long-lived ICMP sender/receiver shared by every ICMP probe of a ``ProbeSet``.

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
        self._channels: dict[bool, Channel] = {}
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

    async def _open(self, raw: bool) -> Channel:
        if self.netns is None:
            sock = open_icmp_socket(raw)
        else:
            sock = await asyncio.to_thread(open_icmp_socket, raw, self.netns)
        return Channel(sock, raw, asyncio.get_running_loop())

    async def channel(self, privileged: bool | None) -> Channel:
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

    async def probe(self, target: Target, params: IcmpParams | Any = None) -> ProbeResult:
        """The ICMP probe of the common contract (``params`` may be a mapping or None)."""
        return await self.ping(target.address, as_params(params))

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

    async def _send_all(self, channel: Channel, runs: list[_TargetRun], params: IcmpParams) -> None:
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


async def sweep(
    addresses: Iterable[str], params: IcmpParams | Any = None, *, pinger: IcmpPinger
) -> dict[str, ProbeResult]:
    """Probe many addresses at once over ``pinger``'s socket; a result for every distinct one."""
    return await pinger.sweep(addresses, as_params(params))
