"""SIP OPTIONS probe against a real Kamailio on loopback (and tiny test responders for
the outcomes Kamailio will not produce: garbage, 1xx-then-200, mismatched answers).

Ports (this module's share): 15060 Kamailio, 15061 nothing, 15062 a Kamailio we stop,
15063-15067 test responders, 15068 IPv6 Kamailio.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from noc.lab.kamailio import KamailioError, KamailioPeer
from probes.base import ResultCode, Target
from probes.probeset import ProbeSet
from probes.sip import SipClient, SipParams

PORT = 15060
NOTHING_PORT = 15061
STOPPED_PORT = 15062
GARBAGE_UDP, GARBAGE_TCP, TRYING_PORT = 15063, 15064, 15065
TRICKY_PORT, MISMATCH_PORT, IPV6_PORT = 15066, 15067, 15068
GW, BUSY, QUIET = "127.0.0.1", "127.0.0.2", "127.0.0.3"


def target(address: str = GW, port: int = PORT, user: str = "gw") -> Target:
    return Target(
        address, port, asset="test", check="sip", extra={"uri": f"sip:{user}@{address}:{port}"}
    )


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory: pytest.TempPathFactory):
    assert shutil.which("kamailio") or Path("/usr/sbin/kamailio").exists(), (
        "kamailio binary missing: apt-get install kamailio"
    )
    peer = KamailioPeer([GW, BUSY, QUIET], PORT, tmp_path_factory.mktemp("kamailio"), children=2)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def peer(kamailio: KamailioPeer):
    yield kamailio
    for address in kamailio.listen:  # every test starts from all-ok
        kamailio.set_mode(address, "ok")


@pytest.fixture
async def probes():
    """A ProbeSet for the test; its SIP sockets belong to this test's event loop."""
    async with ProbeSet() as probes:
        yield probes


@pytest.fixture
def probe_sip(probes):
    """The set's ``sip`` probe: the SIP client's ``probe`` through the common contract."""
    return probes["sip"]


# --------------------------------------------------------------------------- test responders


def echo_response(
    request: bytes, status: int, reason: str, call_id: str | None = None, branch: str | None = None
) -> bytes:
    """A response echoing Via/From/To/Call-ID/CSeq of ``request`` (optionally tampered)."""
    head = request.split(b"\r\n\r\n", 1)[0].decode()
    out = [f"SIP/2.0 {status} {reason}"]
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        low = name.lower()
        if low == "via" and branch:
            value = value.split(";branch=")[0] + f";branch={branch}"
        if low == "call-id" and call_id:
            value = " " + call_id
        if low in ("via", "from", "to", "call-id", "cseq"):
            out.append(f"{name}:{value}")
    out += ["Server: test-responder", "Content-Length: 0"]
    return ("\r\n".join(out) + "\r\n\r\n").encode()


class Responder(asyncio.DatagramProtocol):
    """UDP responder whose answers are decided by ``behave(request, count) -> [datagrams]``."""

    def __init__(self, behave: Callable[[bytes, int], list[bytes]]) -> None:
        self.behave = behave
        self.received: list[bytes] = []

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.received.append(data)
        for reply in self.behave(data, len(self.received)):
            self.transport.sendto(reply, addr)


async def udp_responder(port: int, behave: Callable[[bytes, int], list[bytes]]):
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: Responder(behave), local_addr=(GW, port)
    )
    return transport, proto


# --------------------------------------------------------------------------- outcomes


async def test_the_probe_set_probes_sip_through_its_one_client(probes, peer):
    client = probes.client("sip")
    assert isinstance(client, SipClient)
    assert probes["sip"] == client.probe
    assert (await probes["sip"](target(), None)).ok
    assert client.udp_socket_count == 1


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_ok_with_server_header(peer, transport, probe_sip):
    result = await probe_sip(target(), SipParams(transport=transport))
    assert result.result is ResultCode.OK and result.ok
    assert result.status_code == 200 and result.reason == "200 OK"
    assert result.info["server"] == "hotline-lab-kamailio"
    assert result.info["transport"] == transport and result.info["uri"] == f"sip:gw@{GW}:{PORT}"
    assert result.kind == "sip" and result.timings["rtt"] > 0


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_503_mode_is_error_response_on_that_address_only(peer, transport, probe_sip):
    peer.set_mode(BUSY, "503")
    params = SipParams(transport=transport)
    busy, gw = await asyncio.gather(probe_sip(target(BUSY), params), probe_sip(target(GW), params))
    assert busy.result is ResultCode.ERROR_RESPONSE and not busy.ok
    assert busy.status_code == 503 and busy.info["reason_phrase"] == "Service Unavailable"
    assert gw.result is ResultCode.OK
    peer.set_mode(BUSY, "ok")
    assert (await probe_sip(target(BUSY), params)).result is ResultCode.OK


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_silent_mode_times_out_and_retransmits(peer, transport, probe_sip):
    peer.set_mode(QUIET, "silent")
    result = await probe_sip(target(QUIET), SipParams(transport=transport, timeout="1.2s"))
    assert result.result is ResultCode.TIMEOUT and result.status_code is None
    if transport == "udp":  # Timer E: sent at 0 and T1=0.5 s before the 1.2 s deadline
        assert result.info["transmissions"] == 2
    assert peer.modes()[QUIET] == "silent" and peer.modes()[GW] == "ok"


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_nothing_listening_is_refused(transport, probe_sip):
    result = await probe_sip(
        target(port=NOTHING_PORT), SipParams(transport=transport, timeout="1s")
    )
    assert result.result is ResultCode.REFUSED, result.reason


async def test_stopped_kamailio_is_refused(tmp_path, probe_sip):
    peer = KamailioPeer([GW], STOPPED_PORT, tmp_path)
    peer.start()
    try:
        assert peer.is_running()
        for transport in ("udp", "tcp"):
            result = await probe_sip(target(port=STOPPED_PORT), SipParams(transport=transport))
            assert result.result is ResultCode.OK
    finally:
        peer.stop()
    assert not peer.is_running()
    for transport in ("udp", "tcp"):
        result = await probe_sip(
            target(port=STOPPED_PORT), SipParams(transport=transport, timeout="1s")
        )
        assert result.result is ResultCode.REFUSED, (transport, result.reason)


@pytest.mark.parametrize(("user", "status"), [("auth", 401), ("proxyauth", 407)])
async def test_auth_challenge(peer, user, status, probe_sip):
    strict = await probe_sip(target(user=user), SipParams(alive_codes=["2xx"]))
    assert strict.result is ResultCode.AUTH_REQUIRED and strict.status_code == status
    default = await probe_sip(target(user=user), None)  # 401/407 mean "alive" by default
    assert default.result is ResultCode.OK and default.status_code == status


async def test_404_alive_only_when_configured(peer, probe_sip):
    alive = await probe_sip(target(user="missing"), {"alive_codes": ["2xx", 404]})
    assert alive.result is ResultCode.OK and alive.status_code == 404
    dead = await probe_sip(target(user="missing"), {"alive_codes": ["2xx"]})
    assert dead.result is ResultCode.ERROR_RESPONSE and dead.status_code == 404


async def test_garbage_udp_answer_is_malformed(probe_sip):
    transport, proto = await udp_responder(
        GARBAGE_UDP, lambda req, n: [b"HTTP/1.1 400 Bad Request\r\n\r\n"]
    )
    try:
        result = await probe_sip(target(port=GARBAGE_UDP), SipParams(timeout="1s"))
    finally:
        transport.close()
    assert result.result is ResultCode.MALFORMED and "status line" in result.reason
    assert len(proto.received) == 1  # answered at once, no retransmission needed


async def test_garbage_tcp_answer_is_malformed(probe_sip):
    async def handle(reader, writer):
        await reader.read(4096)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, GW, GARBAGE_TCP)
    try:
        result = await probe_sip(target(port=GARBAGE_TCP), SipParams(transport="tcp", timeout="1s"))
    finally:
        server.close()
        await server.wait_closed()
    assert result.result is ResultCode.MALFORMED, result.reason


async def test_provisional_does_not_end_transaction():
    def behave(req: bytes, n: int) -> list[bytes]:  # 100 first, 200 only to the retransmission
        return [echo_response(req, 100, "Trying")] if n == 1 else [echo_response(req, 200, "OK")]

    transport, proto = await udp_responder(TRYING_PORT, behave)
    try:
        client = SipClient(t1=0.05, t2=0.2)
        result = await client.probe(target(port=TRYING_PORT), SipParams(timeout="3s"))
        await client.close()
    finally:
        transport.close()
    assert result.result is ResultCode.OK and result.status_code == 200
    assert result.info["transmissions"] == 2 and proto.received[0] == proto.received[1]


async def test_stray_and_mismatched_answers(probe_sip):
    def stray_then_right(req: bytes, n: int) -> list[bytes]:
        return [
            echo_response(req, 503, "Stray", branch="z9hG4bKnotours"),
            echo_response(req, 200, "OK"),
        ]

    transport, _ = await udp_responder(TRICKY_PORT, stray_then_right)
    try:
        result = await probe_sip(target(port=TRICKY_PORT), SipParams(timeout="1s"))
    finally:
        transport.close()
    assert result.result is ResultCode.OK and result.status_code == 200  # unknown branch ignored

    transport, _ = await udp_responder(
        MISMATCH_PORT, lambda req, n: [echo_response(req, 200, "OK", call_id="x@y")]
    )
    try:
        result = await probe_sip(target(port=MISMATCH_PORT), SipParams(timeout="1s"))
    finally:
        transport.close()
    assert result.result is ResultCode.MALFORMED and "Call-ID" in result.reason


async def test_unresolvable_target_is_an_error_value(probe_sip):
    result = await probe_sip(Target("no-such-host.invalid", PORT), SipParams(timeout="1s"))
    assert result.result is ResultCode.ERROR and not result.ok


# --------------------------------------------------------------------------- scale / sharing


def _socket_fds() -> set[str]:
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                fds.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return fds


async def test_1000_concurrent_probes_share_one_socket_and_match(peer):
    peer.set_mode(BUSY, "503")
    users = {"gw": 200, "auth": 401, "missing": 404, "busy": 486}
    plan = []
    for i in range(1000):
        address = (GW, BUSY)[i % 2]
        user = list(users)[(i // 2) % len(users)]
        expected = 503 if address == BUSY else users[user]
        plan.append((target(address, user=user), expected))
    client = SipClient()
    before = _socket_fds()
    results = await asyncio.gather(*(client.probe(t, SipParams(timeout="5s")) for t, _ in plan))
    opened = _socket_fds() - before
    assert client.udp_socket_count == 1 and len(opened) == 1
    got = [r.status_code for r in results]
    assert got == [expected for _, expected in plan]
    assert all(r.info["server"] == "hotline-lab-kamailio" for r in results)
    await client.close()
    assert _socket_fds() - before == set()


async def test_client_survives_close_and_reopens(peer):
    client = SipClient()
    assert (await client.probe(target())).ok
    await client.close()
    assert client.udp_socket_count == 0
    assert (await client.probe(target())).ok and client.udp_socket_count == 1
    await client.close()


def test_kamailio_peer_rejects_unknown_mode_and_address(peer):
    with pytest.raises(ValueError):
        peer.set_mode(GW, "flaky")
    with pytest.raises(ValueError):
        peer.set_mode("127.0.0.99", "503")
    # a peer rebuilt from the same workdir (no process handle) steers the running Kamailio
    twin = KamailioPeer(peer.listen, peer.port, peer.workdir)
    twin.set_mode(QUIET, "503")
    assert peer.modes() == {GW: "ok", BUSY: "ok", QUIET: "503"}
    assert peer.pid is not None and twin.pid is None


def test_set_mode_on_stopped_peer_fails_clearly(tmp_path):
    stopped = KamailioPeer([GW], STOPPED_PORT, tmp_path)
    with pytest.raises(KamailioError, match="kamcmd"):
        stopped.set_mode(GW, "503")


async def test_ipv6_udp_tcp_and_refused(tmp_path, probe_sip):
    peer = KamailioPeer(["::1"], IPV6_PORT, tmp_path)
    peer.start()
    try:
        t = Target("::1", IPV6_PORT, extra={"uri": f"sip:gw@[::1]:{IPV6_PORT}"})
        for transport in ("udp", "tcp"):
            result = await probe_sip(t, SipParams(transport=transport))
            assert (
                result.result is ResultCode.OK and result.info["server"] == "hotline-lab-kamailio"
            )
        peer.set_mode("::1", "503")
        assert (await probe_sip(t, None)).status_code == 503
    finally:
        peer.stop()
    refused = await probe_sip(Target("::1", IPV6_PORT), SipParams(timeout="1s"))
    assert refused.result is ResultCode.REFUSED
