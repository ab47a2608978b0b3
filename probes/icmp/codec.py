"""ICMPv4 echo codec: build echo requests, recognise replies and errors (pure, no sockets).

We write our own ~100 lines instead of icmplib's ICMPRequest/ICMPReply because the shared
socket needs to match *any* incoming packet against a table of pending requests by
(identifier, sequence), including the echo header quoted inside destination-unreachable
and time-exceeded errors, which icmplib's reply object does not expose.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ECHO_REPLY = 0
DEST_UNREACHABLE = 3
ECHO_REQUEST = 8
TIME_EXCEEDED = 11

_ECHO_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence

_UNREACHABLE_CODES = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    5: "source route failed",
    6: "destination network unknown",
    7: "destination host unknown",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    11: "network unreachable for TOS",
    12: "host unreachable for TOS",
    13: "communication administratively prohibited",
}


@dataclass(frozen=True, slots=True)
class EchoReply:
    """An echo reply; ``ident``/``seq`` as seen on the wire."""

    ident: int
    seq: int


@dataclass(frozen=True, slots=True)
class IcmpError:
    """A destination-unreachable or time-exceeded error quoting one of our echo requests.

    ``original_dst`` is the destination of the quoted request ("" when not quoted, as on
    datagram sockets where the kernel gives the address separately).
    """

    type: int
    code: int
    ident: int
    seq: int
    original_dst: str = ""

    @property
    def description(self) -> str:
        return describe_error(self.type, self.code)


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_echo_request(ident: int, seq: int, payload: bytes) -> bytes:
    """An ICMP echo request with a valid checksum."""
    header = _ECHO_HEADER.pack(ECHO_REQUEST, 0, 0, ident & 0xFFFF, seq & 0xFFFF)
    csum = checksum(header + payload)
    return _ECHO_HEADER.pack(ECHO_REQUEST, 0, csum, ident & 0xFFFF, seq & 0xFFFF) + payload


def make_payload(size: int) -> bytes:
    """A recognisable payload of ``size`` bytes (like ping's incrementing pattern)."""
    return bytes(i & 0xFF for i in range(size))


def describe_error(icmp_type: int, code: int) -> str:
    if icmp_type == DEST_UNREACHABLE:
        return _UNREACHABLE_CODES.get(code, f"destination unreachable (code {code})")
    if icmp_type == TIME_EXCEEDED:
        return "time to live exceeded" if code == 0 else "fragment reassembly time exceeded"
    return f"ICMP type {icmp_type} code {code}"


def _skip_ip_header(packet: bytes) -> bytes | None:
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    ihl = (packet[0] & 0x0F) * 4
    return packet[ihl:] if len(packet) >= ihl else None


def _ipv4_str(raw: bytes) -> str:
    return ".".join(str(b) for b in raw)


def parse_icmp(packet: bytes, *, has_ip_header: bool) -> EchoReply | IcmpError | None:
    """Classify one received packet; ``None`` for anything that is not ours to match.

    Raw sockets deliver the IP header (``has_ip_header=True``); datagram ICMP sockets
    deliver the ICMP message alone.
    """
    icmp = _skip_ip_header(packet) if has_ip_header else packet
    if icmp is None or len(icmp) < 8:
        return None
    icmp_type, code, _csum, ident, seq = _ECHO_HEADER.unpack_from(icmp)
    if icmp_type == ECHO_REPLY:
        return EchoReply(ident, seq)
    if icmp_type not in (DEST_UNREACHABLE, TIME_EXCEEDED):
        return None
    quoted_ip = icmp[8:]
    quoted_icmp = _skip_ip_header(quoted_ip)
    if quoted_icmp is None or len(quoted_icmp) < 8 or quoted_ip[9] != 1:  # protocol 1 = ICMP
        return None
    q_type, _q_code, _q_csum, q_ident, q_seq = _ECHO_HEADER.unpack_from(quoted_icmp)
    if q_type != ECHO_REQUEST:
        return None
    return IcmpError(icmp_type, code, q_ident, q_seq, _ipv4_str(quoted_ip[16:20]))


def parse_quoted_request(data: bytes) -> tuple[int, int] | None:
    """(ident, seq) of our echo request as returned by a datagram socket's error queue."""
    if len(data) < 8:
        return None
    q_type, _code, _csum, ident, seq = _ECHO_HEADER.unpack_from(data)
    return (ident, seq) if q_type == ECHO_REQUEST else None
