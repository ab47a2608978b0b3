"""Pure ICMP code: statistics (table-driven), the echo codec, the parameter model."""

from __future__ import annotations

import struct

import pytest
from pydantic import ValidationError

from probes.icmp import IcmpParams
from probes.icmp.codec import (
    EchoReply,
    IcmpError,
    build_echo_request,
    checksum,
    parse_icmp,
    parse_quoted_request,
)
from probes.icmp.stats import icmp_stats, jitter

MS = 0.001

STATS_CASES = [
    # rtts (None = lost)            sent recv loss   min     avg     max     jitter
    ([], 0, 0, 1.0, None, None, None, None),
    ([None], 1, 0, 1.0, None, None, None, None),
    ([None, None, None], 3, 0, 1.0, None, None, None, None),
    ([1 * MS], 1, 1, 0.0, 1 * MS, 1 * MS, 1 * MS, None),
    ([1 * MS, 3 * MS], 2, 2, 0.0, 1 * MS, 2 * MS, 3 * MS, 2 * MS),
    ([10 * MS, 20 * MS, 10 * MS, 20 * MS], 4, 4, 0.0, 10 * MS, 15 * MS, 20 * MS, 10 * MS),
    ([5 * MS, 5 * MS, 5 * MS], 3, 3, 0.0, 5 * MS, 5 * MS, 5 * MS, 0.0),
    # lost packets are skipped: jitter over the received 1, 4, 2 -> (3 + 2) / 2
    ([1 * MS, None, 4 * MS, None, 2 * MS], 5, 3, 0.4, 1 * MS, 7 / 3 * MS, 4 * MS, 2.5 * MS),
    ([None, 2 * MS, None, None], 4, 1, 0.75, 2 * MS, 2 * MS, 2 * MS, None),
]


@pytest.mark.parametrize("rtts,sent,received,loss,rmin,ravg,rmax,jit", STATS_CASES)
def test_icmp_stats(rtts, sent, received, loss, rmin, ravg, rmax, jit):
    stats = icmp_stats(rtts)
    assert (stats.sent, stats.received) == (sent, received)
    assert stats.loss_ratio == pytest.approx(loss)
    for got, want in [
        (stats.rtt_min_seconds, rmin),
        (stats.rtt_avg_seconds, ravg),
        (stats.rtt_max_seconds, rmax),
        (stats.jitter_seconds, jit),
    ]:
        assert got == (None if want is None else pytest.approx(want))


def test_values_omit_undefined_quantities():
    assert icmp_stats([None, None]).as_values() == {"sent": 2.0, "received": 0.0, "loss_ratio": 1.0}
    values = icmp_stats([1 * MS]).as_values()
    assert "jitter_seconds" not in values and values["rtt_avg_seconds"] == pytest.approx(MS)
    assert set(icmp_stats([1 * MS, 2 * MS]).as_values()) == {
        "sent",
        "received",
        "loss_ratio",
        "rtt_min_seconds",
        "rtt_avg_seconds",
        "rtt_max_seconds",
        "jitter_seconds",
    }


def test_jitter_is_order_sensitive():
    assert jitter([1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert jitter([1.0, 3.0, 2.0]) == pytest.approx(1.5)


def test_checksum_known_vector():
    # RFC 1071 example bytes: 00 01 f2 03 f4 f5 f6 f7 -> sum ddf2, checksum 220d
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    packet = build_echo_request(0x1234, 7, b"abc")  # odd length payload
    assert checksum(packet) == 0  # a packet with its checksum sums to zero


def ip_header(src: str, dst: str, proto: int = 1) -> bytes:
    def raw(a: str) -> bytes:
        return bytes(int(x) for x in a.split("."))

    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, proto, 0, raw(src), raw(dst))


def echo_reply(ident: int, seq: int) -> bytes:
    return struct.pack("!BBHHH", 0, 0, 0, ident, seq) + b"payload"


def test_parse_echo_reply_with_and_without_ip_header():
    reply = echo_reply(0xBEEF, 42)
    assert parse_icmp(reply, has_ip_header=False) == EchoReply(0xBEEF, 42)
    assert parse_icmp(ip_header("10.0.0.2", "10.0.0.1") + reply, has_ip_header=True) == EchoReply(
        0xBEEF, 42
    )


def test_parse_unreachable_quoting_our_request():
    quoted = ip_header("10.0.0.1", "10.9.9.9") + build_echo_request(0x0102, 300, b"x" * 56)[:8]
    error = struct.pack("!BBHI", 3, 13, 0, 0) + quoted
    parsed = parse_icmp(ip_header("10.0.0.254", "10.0.0.1") + error, has_ip_header=True)
    assert parsed == IcmpError(3, 13, 0x0102, 300, "10.9.9.9")
    assert parsed.description == "communication administratively prohibited"


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"\x00\x00",
        struct.pack("!BBHHH", 8, 0, 0, 1, 1),  # an echo request (our own, on loopback)
        struct.pack("!BBHI", 3, 1, 0, 0) + ip_header("1.1.1.1", "2.2.2.2", proto=17) + b"\0" * 8,
        struct.pack("!BBHI", 3, 1, 0, 0) + b"\x45\x00",  # truncated quote
    ],
)
def test_parse_ignores_what_is_not_ours(packet):
    assert parse_icmp(packet, has_ip_header=False) is None


def test_parse_quoted_request_from_error_queue():
    assert parse_quoted_request(build_echo_request(77, 9, b"")) == (77, 9)
    assert parse_quoted_request(echo_reply(77, 9)) is None


def test_params_parse_durations_and_reject_unknown_keys():
    params = IcmpParams.model_validate({"count": 5, "interval": "50ms", "timeout": "2s"})
    assert (params.count, params.interval, params.timeout) == (5, 0.05, 2.0)
    assert IcmpParams().model_dump(mode="json") == {
        "count": 1,
        "interval": "200ms",
        "timeout": "1s",
        "privileged": None,
        "payload_size": 56,
    }
    with pytest.raises(ValidationError):
        IcmpParams.model_validate({"count": 0})
    with pytest.raises(ValidationError):
        IcmpParams.model_validate({"count": 101})
    with pytest.raises(ValidationError, match="extra"):
        IcmpParams.model_validate({"ttl": 3})
