"""The network lab against the real kernel and daemons: build it once, probe it, break it, heal it.

Runs as root (CI does). Talks only to the lab's namespaces (198.18.0.0/15). The lab is
built once per module and torn down at the end, even when a test fails.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from noc.lab import Lab, addresses_in_test_range, check_probe_safety
from noc.lab.cli import lab as lab_cli
from noc.lab.netns import list_netns
from noc.lab.topology import PLAN
from probes.safety import blackhole_present

pytestmark = pytest.mark.root

CE = "198.18.10.1"
VOICE_FAR, TICKET_FAR, ISP_FAR = "198.18.1.2", "198.18.2.2", "198.18.3.2"
GATEWAY, PHONE_FIRST, PHONE_LAST = "198.18.10.2", "198.18.10.101", "198.18.10.119"
COMMUNITY = "lingshui-ro"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
LINK_DOWN_OID = bytes([0x2B, 6, 1, 6, 3, 1, 1, 5, 3])  # 1.3.6.1.6.3.1.1.5.3 in BER
TOOLS = ("ip", "tc", "nft", "snmpget", "snmpd", "kamailio", "kamcmd")


# --- helpers ------------------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ping(address: str, timeout: float = 1.0) -> bool:
    """One ICMP echo from the root namespace over a raw socket; True if the reply came back.

    A send error (no route, blackhole) propagates as OSError so tests can assert on it.
    """
    ident, seq = os.getpid() & 0xFFFF, int(time.monotonic_ns() & 0xFFFF)
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    payload = b"noc-lab-test"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.sendto(packet, (address, 0))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, (src, _) = sock.recvfrom(2048)
            except TimeoutError:
                return False
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl : ihl + 8])
            if src == address and kind == 0 and rid == ident and rseq == seq:
                return True
    return False


def wait_until(predicate, attempts: int = 40, pause: float = 0.25) -> bool:
    """Poll `predicate` (ARP, snmpd's interface cache and route re-adds take a moment)."""
    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(pause)
    return False


def wait_for_trap(sock: socket.socket, oid_bytes: bytes, timeout: float = 6.0) -> bool:
    """Read SNMP notifications until one carries `oid_bytes` (BER) and our community."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except TimeoutError:
            return False
        if oid_bytes in data and COMMUNITY.encode() in data:
            return True
    return False


def ifindex(name: str) -> int:
    out = subprocess.run(
        ["ip", "-n", "noclab-ce", "-j", "link", "show", "dev", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)[0]["ifindex"]


def snmpget(oid: str, *, v3: dict | None = None, timeout: float = 1.0) -> str | None:
    """Value of `oid` from the CE's snmpd (net-snmp CLI), None when it does not answer."""
    if v3:
        auth = [
            "-v3",
            "-l",
            "authPriv",
            "-u",
            v3["user"],
            "-a",
            "SHA-256",
            "-A",
            v3["auth_key"],
            "-x",
            "AES",
            "-X",
            v3["priv_key"],
        ]
    else:
        auth = ["-v2c", "-c", COMMUNITY]
    proc = subprocess.run(
        ["snmpget", *auth, "-r", "0", "-t", str(timeout), "-Oqv", "-On", f"{CE}:161", oid],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def sip_status(address: str, timeout: float = 1.0) -> str:
    """Status line of the answer to one SIP OPTIONS over UDP ('' when nothing came back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect((address, 5060))
        host, port = sock.getsockname()
        call_id = f"{time.monotonic_ns()}@{host}"
        request = (
            f"OPTIONS sip:options@{address}:5060 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{time.monotonic_ns()};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:noc@{host}>;tag=lab\r\n"
            f"To: <sip:options@{address}>\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: 1 OPTIONS\r\n"
            f"Content-Length: 0\r\n\r\n"
        )
        sock.send(request.encode())
        try:
            while True:
                reply = sock.recv(65535).decode(errors="replace")
                if f"Call-ID: {call_id}" in reply or f"i: {call_id}" in reply:
                    return reply.split("\r\n", 1)[0]
        except (TimeoutError, ConnectionRefusedError):
            return ""


def run_cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`noc lab …` in a separate process, to prove the state dir carries control across."""
    code = "from noc.lab.cli import lab; lab()"
    return subprocess.run(
        [sys.executable, "-c", code, *args, "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- the lab ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    assert os.geteuid() == 0, "the lab tests need root (network namespaces)"
    missing = [
        tool
        for tool in TOOLS
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    ]
    assert not missing, f"missing binaries (install the Debian packages): {missing}"
    state_dir = tmp_path_factory.mktemp("noc-lab")
    the_lab = Lab(state_dir)
    try:
        the_lab.up(inventory_out=state_dir / "inventory.yaml")
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture
def healed(lab):
    """Heal every fault after the test, pass or fail."""
    yield lab
    lab.heal()


def test_guard_recognises_the_test_range():
    assert addresses_in_test_range(["10.0.0.1", "198.18.1.2"])
    assert addresses_in_test_range(["198.19.255.254"])
    assert not addresses_in_test_range(["198.20.0.1", "198.17.255.255", "gw.example", "::1"])
    assert not check_probe_safety(["127.0.0.1"])


def test_guard_reinstalls_a_missing_blackhole(lab):
    subprocess.run(["ip", "route", "del", "blackhole", "198.18.0.0/15"], check=True)
    try:
        assert not blackhole_present()
        assert check_probe_safety([VOICE_FAR]) is True
        assert blackhole_present()
    finally:
        subprocess.run(["ip", "route", "replace", "blackhole", "198.18.0.0/15"], check=True)


def test_every_role_answers_ping_from_the_noc_host(lab):
    for address in (CE, VOICE_FAR, TICKET_FAR, ISP_FAR, GATEWAY, PHONE_FIRST, PHONE_LAST):
        assert wait_until(lambda a=address: ping(a), attempts=8), f"{address} does not answer"
    assert check_probe_safety([VOICE_FAR]) is True
    assert blackhole_present()


def test_snmp_reports_contracted_speeds(lab):
    v3 = lab.state.load()["secrets"]
    creds = {
        "user": v3["snmp_v3_user"],
        "auth_key": v3["snmp_v3_auth_key"],
        "priv_key": v3["snmp_v3_priv_key"],
    }
    assert snmpget(f"{IF_HIGH_SPEED}.{ifindex('mstp-voice')}") == "10"
    assert snmpget(f"{IF_HIGH_SPEED}.{ifindex('mstp-ticket')}") == "10"
    assert snmpget(f"{IF_HIGH_SPEED}.{ifindex('internet')}", v3=creds) == "50"
    assert snmpget(f"{IF_OPER_STATUS}.{ifindex('mstp-voice')}") == "1"


def test_sip_peers_answer_and_a_503_fault_is_seen_from_another_process(lab, healed):
    assert sip_status(GATEWAY).startswith("SIP/2.0 200")
    assert sip_status(VOICE_FAR).startswith("SIP/2.0 200")
    assert sip_status(PHONE_LAST).startswith("SIP/2.0 200")

    done = run_cli(lab.state.directory, "fault", "sip-503", GATEWAY)
    assert done.returncode == 0, done.stderr
    assert sip_status(GATEWAY).startswith("SIP/2.0 503")
    assert sip_status(PHONE_LAST).startswith("SIP/2.0 200")

    lab.fault("sip-silence", [PHONE_FIRST])
    assert sip_status(PHONE_FIRST) == ""

    status = json.loads(
        CliRunner()
        .invoke(lab_cli, ["status", "--json", "--state-dir", str(lab.state.directory)])
        .output
    )
    assert status["up"] and all(status["daemons"].values())
    assert sorted(status["faults"]) == [f"sip-503 {GATEWAY}", f"sip-silence {PHONE_FIRST}"]

    healed_out = run_cli(lab.state.directory, "heal")
    assert healed_out.returncode == 0, healed_out.stderr
    assert sip_status(GATEWAY).startswith("SIP/2.0 200")
    assert sip_status(PHONE_FIRST).startswith("SIP/2.0 200")
    assert lab.status()["faults"] == []


def test_link_down_cuts_the_far_end_and_snmp_sees_it(lab, healed):
    oper = f"{IF_OPER_STATUS}.{ifindex('mstp-voice')}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as traps:
        traps.bind(("198.18.10.254", 1162))
        lab.fault("link-down", ["mstp-voice"])
        assert not ping(VOICE_FAR)
        assert wait_for_trap(traps, LINK_DOWN_OID), "no linkDown trap reached 198.18.10.254:1162"
    assert wait_until(lambda: snmpget(oper) == "2"), f"ifOperStatus stays {snmpget(oper)}"
    link = lab.status()["links"]["mstp-voice"]
    assert (link["ce"], link["far"]) == ("DOWN", "DOWN")
    assert ping(TICKET_FAR), "another circuit must be unaffected"

    lab.fault("link-up", ["mstp-voice"])
    assert wait_until(lambda: ping(VOICE_FAR, 0.5)), "far end does not come back after link-up"
    assert wait_until(lambda: snmpget(oper) == "1")
    assert lab.status()["faults"] == []


def test_full_loss_silences_the_link_until_healed(lab, healed):
    lab.fault("loss", ["mstp-ticket", "100"])
    assert not any(ping(TICKET_FAR, 0.3) for _ in range(3))
    assert ping(VOICE_FAR)
    lab.heal("loss mstp-ticket")
    assert wait_until(lambda: ping(TICKET_FAR, 0.5))


def test_icmp_silence_of_one_phone_and_of_a_namespace(lab, healed):
    lab.fault("icmp-silence", [PHONE_FIRST])
    lab.fault("icmp-silence", ["isp"])
    assert not ping(PHONE_FIRST)
    assert not ping(ISP_FAR)
    assert ping(PHONE_LAST), "the other phones keep answering"
    assert sip_status(PHONE_FIRST).startswith("SIP/2.0 200"), "SIP is not ICMP"
    lab.heal()
    assert ping(PHONE_FIRST) and ping(ISP_FAR)


def test_snmpd_stop_and_start(lab, healed):
    oid = f"{IF_HIGH_SPEED}.{ifindex('mstp-voice')}"
    lab.fault("snmpd-stop")
    assert snmpget(oid, timeout=0.5) is None
    assert lab.status()["daemons"]["snmpd"] is False
    lab.heal("snmpd-stop")
    assert wait_until(lambda: snmpget(oid) == "10")
    secrets = lab.state.load()["secrets"]
    creds = {
        "user": secrets["snmp_v3_user"],
        "auth_key": secrets["snmp_v3_auth_key"],
        "priv_key": secrets["snmp_v3_priv_key"],
    }
    assert snmpget(oid, v3=creds) == "10", "SNMPv3 must work after a restart too"


def test_tbf_holds_the_voice_circuit_to_10_mbit(lab):
    """Push TCP through mstp-voice for ~1 s; the receiver's measured rate stays under 12 Mbit/s."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", "noclab-pv", sys.executable, "-c", _SINK, VOICE_FAR, "5001"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready", server.stderr.read()
        chunk = b"\0" * 65536
        with socket.create_connection((VOICE_FAR, 5001), timeout=5) as conn:
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                conn.sendall(chunk)
        out, err = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    result = json.loads(out)
    rate = result["bytes"] * 8 / result["seconds"]
    assert result["bytes"] > 500_000, f"too little data went through: {result}"
    assert rate < 12e6, f"measured {rate / 1e6:.1f} Mbit/s through a 10 Mbit/s circuit"


_SINK = """
import json, socket, sys, time
srv = socket.create_server((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
conn, _ = srv.accept()
first = last = None
total = 0
while data := conn.recv(1 << 16):
    now = time.monotonic()
    first = first or now
    last = now
    total += len(data)
print(json.dumps({"bytes": total, "seconds": max(last - first, 1e-6)}))
"""


def test_status_reports_the_shaping(lab):
    links = lab.status()["links"]
    assert links["mstp-voice"]["shaping"] == links["mstp-ticket"]["shaping"] == "10Mbit"
    assert links["internet"]["shaping"] == "50Mbit"


def test_inventory_is_a_valid_config(lab):
    from noc.config import load_config

    config = load_config(lab.state.directory / "inventory.yaml")
    addresses = config.probe_addresses()
    assert {CE, VOICE_FAR, GATEWAY, PHONE_FIRST, PHONE_LAST} <= addresses
    assert addresses_in_test_range(addresses)
    secrets = lab.state.load()["secrets"]
    agents = [a for a in config.assets if a.snmp is not None]
    assert [a.address for a in agents] == [CE]
    creds = agents[0].snmp
    assert creds.auth_key.get_secret_value() == secrets["snmp_v3_auth_key"]
    assert creds.priv_key.get_secret_value() == secrets["snmp_v3_priv_key"]
    assert (creds.auth_protocol, creds.priv_protocol) == ("sha256", "aes128")


def test_up_again_starts_from_a_clean_slate(lab):
    """`up` over a running, faulted lab: leftovers gone, new SNMPv3 keys work."""
    lab.fault("loss", ["mstp-voice", "100"])
    old_key = lab.state.load()["secrets"]["snmp_v3_auth_key"]
    lab.up(inventory_out=lab.state.directory / "inventory.yaml")
    secrets = lab.state.load()["secrets"]
    assert secrets["snmp_v3_auth_key"] != old_key
    assert lab.status()["faults"] == []
    assert wait_until(lambda: ping(VOICE_FAR, 0.5), attempts=8)
    creds = {
        "user": secrets["snmp_v3_user"],
        "auth_key": secrets["snmp_v3_auth_key"],
        "priv_key": secrets["snmp_v3_priv_key"],
    }
    assert snmpget(f"{IF_HIGH_SPEED}.{ifindex('mstp-voice')}", v3=creds) == "10"


def test_down_removes_the_lab_but_keeps_the_blackhole(lab):
    lab.down()
    assert not set(PLAN.namespaces) & list_netns()
    routes = subprocess.run(
        ["ip", "-j", "route", "show", "table", "main"], capture_output=True, text=True, check=True
    ).stdout
    assert not [r for r in json.loads(routes) if r.get("dev") == "noclab0"]
    assert blackhole_present()
    with pytest.raises(OSError) as failure:
        ping(VOICE_FAR)
    assert failure.value.errno in (errno.EINVAL, errno.ENETUNREACH)
    assert lab.status()["up"] is False
