"""Opening the ICMP socket: raw or unprivileged datagram, optionally inside a network namespace.

A socket keeps the network namespace it was created in, so a pinger for a lab namespace
only needs its socket created there: we do that in a short-lived thread that calls
setns(2) (the thread's namespace changes, the process's does not), then use the socket
from the event loop as usual.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import threading

SOL_IP = 0
IP_RECVERR = 11  # not exported by Python's socket module
SO_TIMESTAMPNS = 35  # ditto; kernel receive timestamps (struct timespec, CLOCK_REALTIME)
CLONE_NEWNET = 0x40000000
RECV_BUFFER_BYTES = 4 * 1024 * 1024


class IcmpSocketError(OSError):
    """The socket could not be opened (permission, sysctl, missing namespace)."""


def _configure(sock: socket.socket, raw: bool) -> None:
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER_BYTES)
    except OSError:
        pass
    if not raw:
        # ICMP errors for datagram ICMP sockets arrive only on the error queue.
        sock.setsockopt(SOL_IP, IP_RECVERR, 1)
        sock.bind(("0.0.0.0", 0))  # the kernel picks the echo identifier (our "port") now


def _open_here(raw: bool) -> socket.socket:
    kind = socket.SOCK_RAW if raw else socket.SOCK_DGRAM
    try:
        sock = socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP)
    except PermissionError as exc:
        if raw:
            raise IcmpSocketError(exc.errno, "raw ICMP socket needs root or CAP_NET_RAW") from exc
        raise IcmpSocketError(
            exc.errno,
            "unprivileged ICMP socket not allowed: the group is outside net.ipv4.ping_group_range",
        ) from exc
    try:
        _configure(sock, raw)
    except OSError:
        sock.close()
        raise
    return sock


def _setns(name: str) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise IcmpSocketError(err, f"setns({name}): {os.strerror(err)}")
    finally:
        os.close(fd)


def open_icmp_socket(raw: bool, netns: str | None = None) -> socket.socket:
    """A non-blocking ICMPv4 socket; in network namespace ``netns`` when given."""
    if netns is None:
        return _open_here(raw)
    box: dict[str, object] = {}

    def run() -> None:
        try:
            _setns(netns)
            box["sock"] = _open_here(raw)
        except BaseException as exc:  # handed back to the caller's thread
            box["exc"] = exc

    thread = threading.Thread(target=run, name=f"icmp-netns-{netns}")
    thread.start()
    thread.join()
    if "exc" in box:
        exc = box["exc"]
        if isinstance(exc, FileNotFoundError):
            raise IcmpSocketError(exc.errno, f"no network namespace {netns!r}") from exc
        raise exc  # type: ignore[misc]
    return box["sock"]  # type: ignore[return-value]
