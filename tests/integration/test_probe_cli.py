"""`noc probe …` / `noc diag …` as an operator runs them: the real command in a subprocess,
against real peers started here (not the project's lab): ICMP to loopback and into a
namespace with a blackhole route, a net-snmp snmpd with our own minimal config (v2c and a
v3 authPriv user), a Kamailio from noc.lab.kamailio, and a closed TCP port.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from noc.lab.kamailio import KamailioPeer

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]
SNMPD_PORT = 16201
SIP_PORT = 15101
CLOSED_TCP_PORT = 15102
SIP_SERVER = "probe-cli-test-kamailio"
NS = f"nocprobecli-{os.getpid()}"
BLACKHOLED = "10.213.0.7"
NOC_CMD = ["-m", "noc"]  # the `noc` command as installed


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        lines = self.out.strip().splitlines()
        assert len(lines) == 1, f"expected exactly one JSON line on stdout, got: {self.out!r}"
        return json.loads(lines[0])


def noc(*args: str, netns: str | None = None, env: dict[str, str] | None = None) -> Run:
    cmd = [sys.executable, *NOC_CMD, *args]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO, timeout=60, env={**os.environ, **(env or {})}
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def _require(binary: str) -> str:
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin")
    assert path, f"{binary} is not installed (CI installs it; apt-get install it)"
    return path


# --- ICMP -----------------------------------------------------------------------------------


@pytest.fixture
def fresh_ns() -> Iterator[str]:
    """An empty namespace (lo up, no routes): no lab, no 198.18.0.0/15 blackhole."""
    ip = _require("ip")
    subprocess.run([ip, "netns", "del", NS], capture_output=True)
    subprocess.run([ip, "netns", "add", NS], check=True)
    try:
        subprocess.run([ip, "-n", NS, "link", "set", "lo", "up"], check=True)
        yield NS
    finally:
        subprocess.run([ip, "netns", "del", NS], capture_output=True)


@pytest.fixture
def blackhole_ns(fresh_ns: str) -> str:
    """A namespace where BLACKHOLED has a blackhole route (the kernel refuses to send)."""
    subprocess.run(
        ["ip", "-n", fresh_ns, "route", "add", "blackhole", f"{BLACKHOLED}/32"], check=True
    )
    return fresh_ns


def test_icmp_loopback_is_ok_with_rtt_and_loss():
    run = noc("probe", "icmp", "127.0.0.1", "--count", "2", "--interval", "50ms")
    assert run.code == 0, run.err
    assert "结果 result: ok" in run.out
    assert "丢包 loss: 0.0 %" in run.out
    assert " ms" in run.out


def test_icmp_json_is_one_probe_result():
    data = noc("probe", "icmp", "127.0.0.1", "--count", "1", "--json").json()
    assert data["ok"] is True and data["result"] == "ok" and data["kind"] == "icmp"
    assert data["values"]["received"] == 1.0 and data["values"]["loss_ratio"] == 0.0


def test_icmp_blackholed_address_is_unreachable_exit_1(blackhole_ns):
    run = noc(
        "probe",
        "icmp",
        BLACKHOLED,
        "--count",
        "1",
        "--timeout",
        "300ms",
        "--json",
        netns=blackhole_ns,
    )
    assert run.code == 1, run.err
    data = run.json()
    assert data["ok"] is False and data["result"] in ("unreachable", "timeout")
    assert data["values"]["loss_ratio"] == 1.0


def test_test_range_probe_without_blackhole_is_refused_for_non_root(fresh_ns):
    setpriv = _require("setpriv")
    cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, *NOC_CMD]
    proc = subprocess.run(
        ["ip", "netns", "exec", fresh_ns, *cmd, "probe", "icmp", "198.18.10.5", "--count", "1"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "198.18.0.0/15" in proc.stderr and proc.stdout == ""


def test_test_range_probe_as_root_installs_blackhole_first(fresh_ns):
    run = noc("probe", "icmp", "198.18.10.5", "--count", "1", "--timeout", "300ms", "--json",
              netns=fresh_ns)  # fmt: skip
    assert run.code == 1, run.err
    assert run.json()["result"] == "unreachable"  # blackholed, never sent towards a default route
    routes = subprocess.run(["ip", "-n", fresh_ns, "route", "show", "type", "blackhole"],
                            capture_output=True, text=True).stdout  # fmt: skip
    assert "198.18.0.0/15" in routes


def test_icmp_bad_option_is_usage_error():
    run = noc("probe", "icmp", "127.0.0.1", "--interval", "soon")
    assert run.code == 2
    assert "duration" in run.err


# --- SNMP -----------------------------------------------------------------------------------


@dataclass
class Agent:
    port: int
    community: str
    user: str  # SHA-256 / AES
    auth_key: str
    priv_key: str
    sha_user: str = "clisha"  # SHA (SHA-1) / AES, the same keys: net-snmp's defaults

    @property
    def secrets(self) -> list[str]:
        return [self.community, self.auth_key, self.priv_key]


def _snmpd_answers(snmpget: str, agent: Agent) -> bool:
    proc = subprocess.run(
        [snmpget, "-v2c", "-c", agent.community, "-t", "0.3", "-r", "0", "-On",
         f"127.0.0.1:{agent.port}", ".1.3.6.1.2.1.1.3.0"],
        capture_output=True, text=True, env={**os.environ, "MIBS": ""},
    )  # fmt: skip
    return proc.returncode == 0


@pytest.fixture(scope="module")
def snmp_agent(tmp_path_factory) -> Iterator[Agent]:
    snmpd, snmpget = _require("snmpd"), _require("snmpget")
    work = tmp_path_factory.mktemp("snmpd")
    agent = Agent(
        SNMPD_PORT,
        f"cli-{secrets.token_hex(6)}",
        "clitest",
        f"auth-{secrets.token_hex(8)}",
        f"priv-{secrets.token_hex(8)}",
    )
    (work / "persist").mkdir()
    (work / "snmpd.conf").write_text(
        f"agentaddress udp:127.0.0.1:{agent.port}\n"
        f"rocommunity {agent.community} 127.0.0.1\n"
        f'createUser {agent.user} SHA-256 "{agent.auth_key}" AES "{agent.priv_key}"\n'
        f"rouser {agent.user} priv\n"
        f'createUser {agent.sha_user} SHA "{agent.auth_key}" AES "{agent.priv_key}"\n'
        f"rouser {agent.sha_user} priv\n"
    )
    proc = subprocess.Popen(
        [snmpd, "-f", "-C", "-c", str(work / "snmpd.conf"), "-Lf", str(work / "snmpd.log"),
         f"--persistentDir={work / 'persist'}", "-p", str(work / "snmpd.pid")],
        env={**os.environ, "SNMP_PERSISTENT_DIR": str(work / "persist"), "MIBS": ""},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not _snmpd_answers(snmpget, agent):
            assert proc.poll() is None, f"snmpd exited: {(work / 'snmpd.log').read_text()}"
            assert time.monotonic() < deadline, "snmpd did not answer within 10 s"
            time.sleep(0.05)
        yield agent
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _no_secrets(run: Run, agent: Agent) -> None:
    for secret in agent.secrets:
        assert secret not in run.out and secret not in run.err, "a secret was printed"


def _interfaces(data: dict) -> dict[str, dict]:
    return {row["label"]: row for row in data["info"]["interfaces"]}


def test_snmp_v2c_json_lists_lo(snmp_agent):
    run = noc(
        "probe",
        "snmp",
        "127.0.0.1",
        "--port",
        str(snmp_agent.port),
        "--community",
        snmp_agent.community,
        "--timeout",
        "1s",
        "--json",
    )
    assert run.code == 0, run.err
    data = run.json()
    assert data["ok"] is True and data["result"] == "ok" and data["kind"] == "snmp"
    assert _interfaces(data)["lo"]["oper_status"] == 1
    _no_secrets(run, snmp_agent)


def test_snmp_v3_two_polls_give_rates_against_contract(snmp_agent):
    a = snmp_agent
    run = noc("probe", "snmp", "127.0.0.1", "--port", str(a.port), "--user", a.user,
              "--auth-proto", "sha256", "--auth-key", a.auth_key, "--priv-proto", "aes128",
              "--priv-key", a.priv_key, "--if", "lo", "--rate-interval", "300ms",
              "--bandwidth", "10M", "--json")  # fmt: skip
    assert run.code == 0, run.err
    data = run.json()
    lo = _interfaces(data)["lo"]
    assert lo["bandwidth_bps"] == 10_000_000 and lo["bandwidth_source"] == "contract"
    assert lo["in_bps"] is not None and lo["in_bps"] >= 0
    assert lo["in_utilisation_ratio"] == pytest.approx(lo["in_bps"] / 10_000_000)
    assert data["info"]["interval_seconds"] > 0
    _no_secrets(run, a)


def test_snmp_v3_takes_net_snmp_protocol_spellings(snmp_agent):
    """``--auth-proto SHA --priv-proto AES`` as an engineer types them for snmpwalk -a/-x, and
    ``SHA-256``/``aes-128`` for the other user: any case, mapped to the same protocols."""
    a = snmp_agent
    for user, auth, priv in ((a.sha_user, "SHA", "AES"), (a.user, "sha-256", "AES-128")):
        run = noc("probe", "snmp", "127.0.0.1", "--port", str(a.port), "--user", user,
                  "--auth-proto", auth, "--auth-key", a.auth_key, "--priv-proto", priv,
                  "--priv-key", a.priv_key, "--if", "lo", "--timeout", "1s", "--json")  # fmt: skip
        assert run.code == 0, (user, auth, priv, run.err)
        data = run.json()
        assert data["result"] == "ok" and data["info"]["version"] == "3"
        assert _interfaces(data)["lo"]["oper_status"] == 1
        _no_secrets(run, a)
    # the protocol matters: SHA-256 for the SHA user is refused by the agent
    run = noc("probe", "snmp", "127.0.0.1", "--port", str(a.port), "--user", a.sha_user,
              "--auth-proto", "SHA-256", "--auth-key", a.auth_key, "--priv-proto", "AES",
              "--priv-key", a.priv_key, "--timeout", "1s", "--retries", "0", "--json")  # fmt: skip
    assert run.code == 1 and run.json()["result"] != "ok", run.out


def test_snmp_md5_and_des_are_refused_with_the_reason():
    for option, name, reason in (
        ("--auth-proto", "MD5", "MD5 is not supported"),
        ("--priv-proto", "des", "DES is not supported"),
        ("--priv-proto", "AES-512", "unknown priv protocol 'AES-512'"),
    ):
        run = noc("probe", "snmp", "127.0.0.1", "--user", "u", "--auth-key", "long-enough-key",
                  "--priv-key", "long-enough-key", option, name)  # fmt: skip
        assert run.code == 2, run.err
        assert option in run.err and reason in run.err
        assert "Traceback" not in run.err and "long-enough-key" not in run.err


def test_snmp_help_shows_both_spellings():
    run = noc("probe", "snmp", "--help")
    assert run.code == 0
    text = " ".join(run.out.split())
    for shown in (
        "SHA-256 (sha256)",
        "SHA/SHA-1 (sha)",
        "AES/AES-128 (aes128)",
        "AES-256-C (aes256c)",
    ):
        assert shown in text, shown


def test_snmp_v3_readable_table_with_keys_from_env_prints_no_secret(snmp_agent):
    a = snmp_agent
    run = noc(
        "probe",
        "snmp",
        "127.0.0.1",
        "--port",
        str(a.port),
        "--user",
        a.user,
        "--priv-proto",
        "aes128",
        "--if",
        "lo",
        "--if",
        "nosuch0",
        env={"NOC_SNMP_AUTH_KEY": a.auth_key, "NOC_SNMP_PRIV_KEY": a.priv_key},
    )
    assert run.code == 0, run.err
    assert "结果 result: ok" in run.out
    lo_line = next(line for line in run.out.splitlines() if line.strip().startswith("lo "))
    assert " up " in lo_line
    assert "缺失 missing: nosuch0" in run.out
    assert "interface_missing" in run.out
    _no_secrets(run, a)


def test_snmp_wrong_community_times_out_exit_1(snmp_agent):
    wrong = f"wrong-{secrets.token_hex(6)}"
    run = noc(
        "probe",
        "snmp",
        "127.0.0.1",
        "--port",
        str(snmp_agent.port),
        "--community",
        wrong,
        "--timeout",
        "300ms",
        "--retries",
        "0",
        "--json",
    )
    assert run.code == 1, run.err
    assert run.json()["result"] == "timeout"
    assert wrong not in run.out and wrong not in run.err


def test_snmp_community_and_user_together_is_usage_error(snmp_agent):
    a = snmp_agent
    run = noc(
        "probe",
        "snmp",
        "127.0.0.1",
        "--community",
        a.community,
        "--user",
        a.user,
        "--auth-key",
        a.auth_key,
        "--priv-key",
        a.priv_key,
    )
    assert run.code == 2
    assert "--community" in run.err and "--user" in run.err
    _no_secrets(run, a)


def test_snmp_short_v3_key_is_usage_error_without_echoing_it():
    run = noc(
        "probe",
        "snmp",
        "127.0.0.1",
        "--user",
        "u",
        "--auth-key",
        "tiny7",
        "--priv-key",
        "long-enough-key",
    )
    assert run.code == 2
    assert "auth_key" in run.err and "8 characters" in run.err
    assert "tiny7" not in run.err and "long-enough-key" not in run.err


# --- SIP ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory) -> Iterator[KamailioPeer]:
    _require("kamailio")
    peer = KamailioPeer(
        ["127.0.0.1"], SIP_PORT, tmp_path_factory.mktemp("kamailio"), server=SIP_SERVER
    )
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sip_options_to_kamailio_is_ok_with_server(kamailio, transport):
    uri = f"sip:gateway@127.0.0.1:{SIP_PORT}"
    run = noc("probe", "sip", uri, "--transport", transport)
    assert run.code == 0, run.err
    assert "结果 result: ok" in run.out and "200" in run.out
    assert f"服务器 server: {SIP_SERVER}" in run.out
    data = noc("probe", "sip", uri, "--transport", transport, "--json").json()
    assert data["status_code"] == 200 and data["info"]["server"] == SIP_SERVER
    assert data["info"]["transport"] == transport


def test_sip_closed_tcp_port_is_refused_exit_1():
    with socket.socket() as probe_sock:  # the port must really be closed
        assert probe_sock.connect_ex(("127.0.0.1", CLOSED_TCP_PORT)) != 0
    run = noc(
        "probe", "sip", f"sip:phone@127.0.0.1:{CLOSED_TCP_PORT}", "--transport", "tcp", "--json"
    )
    assert run.code == 1, run.err
    assert run.json()["result"] == "refused"


def test_sip_bad_uri_is_usage_error():
    run = noc("probe", "sip", "sip:@@nowhere:99999")
    assert run.code == 2
    assert "URI" in run.err


# --- diag -----------------------------------------------------------------------------------


def test_diag_traceroute_loopback_reaches_in_one_hop():
    run = noc("diag", "traceroute", "127.0.0.1", "--max-hops", "3", "--timeout", "1s", "--json")
    assert run.code == 0, run.err
    data = run.json()
    assert data["reached"] is True and data["hops"][0]["kind"] == "reached"


def test_diag_arp_bad_cidr_is_usage_error():
    run = noc("diag", "arp", "10.0.0.0/33")
    assert run.code == 2
    assert "IPv4" in run.err
