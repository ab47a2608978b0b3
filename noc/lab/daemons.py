"""The lab's real daemons: snmpd on the CE, Kamailio on the gateway, trunk peer and phones.

Daemons outlive the `noc lab up` process, so every one is recorded in the lab state
(kind, namespace, workdir, listen addresses, pid). A later process (`down`, `fault`,
`status`) controls them through that record: Kamailio modes over its ctl socket, stops
by pid — after checking that the pid still runs our daemon with our workdir.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from noc.lab.inventory import SIP_PORT, SNMP_COMMUNITY, SNMP_PORT, SNMP_V3_USER, TRAP_PORT
from noc.lab.netns import LabError, process_alive
from noc.lab.state import LabState
from noc.lab.topology import (
    CE,
    CE_LAN_ADDRESS,
    GATEWAY_ADDRESS,
    PHONE_ADDRESSES,
    PLAN,
    ROOT_ADDRESS,
)

SNMPD = "snmpd"
# name -> (namespace, listen addresses); one Kamailio per namespace.
SIP_PEERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sip-gateway": ("noclab-gw", (GATEWAY_ADDRESS,)),
    "sip-trunk": ("noclab-pv", (PLAN.wan_link("mstp-voice").far_address,)),
    "sip-phones": ("noclab-ph", PHONE_ADDRESSES),
}
# ifHighSpeed (Mbit/s) as the carrier contracts them: veths report 10000.
IF_HIGH_SPEED = {link.name: link.rate_mbit for link in PLAN.wan}


class LabDaemons:
    """Start, find, fault and stop the lab daemons recorded in `records` (part of the state)."""

    def __init__(
        self, state: LabState, records: dict[str, dict[str, Any]], secrets: dict[str, str]
    ) -> None:
        self.state = state
        self.records = records
        self.secrets = secrets
        self._live: dict[str, Any] = {}  # peers started by this process

    # --- start / stop -----------------------------------------------------------------
    def start_all(self) -> None:
        """Start every daemon in a fresh workdir (called by `up` on a clean lab)."""
        self.start_snmpd(fresh=True)
        for name in SIP_PEERS:
            self.start_sip(name, fresh=True)

    def start_sip(self, name: str, fresh: bool = False) -> None:
        from noc.lab.kamailio import KamailioPeer

        ns, listen = SIP_PEERS[name]
        workdir = self.state.workdir(name, fresh=fresh)
        peer = KamailioPeer(list(listen), SIP_PORT, workdir, netns=ns)
        peer.start()
        self._live[name] = peer
        self.records[name] = {
            "kind": "kamailio",
            "netns": ns,
            "workdir": str(workdir),
            "listen": list(listen),
            "pid": _pid_of(peer),
        }

    def start_snmpd(self, fresh: bool = False) -> None:
        if self.is_running(SNMPD):
            return
        peer = self._snmpd_peer(self.state.workdir(SNMPD, fresh=fresh))
        peer.start()
        self._live[SNMPD] = peer
        self.records[SNMPD] = {
            "kind": "snmpd",
            "netns": CE,
            "workdir": str(peer.workdir),
            "listen": [CE_LAN_ADDRESS],
            "pid": _pid_of(peer),
        }

    def stop_snmpd(self) -> None:
        self.stop(SNMPD)

    def stop_all(self) -> None:
        for name in list(self.records):
            self.stop(name)

    def stop(self, name: str) -> None:
        peer = self._live.pop(name, None)
        if peer is not None:
            peer.stop()
        record = self.records.get(name)
        if record and record.get("pid") and _is_ours(record["pid"], record["workdir"]):
            _terminate_group(record["pid"])
        if record is not None:
            record["pid"] = None

    # --- queries ----------------------------------------------------------------------
    def is_running(self, name: str) -> bool:
        peer = self._live.get(name)
        if peer is not None:
            return bool(peer.is_running())
        record = self.records.get(name)
        return bool(record and record.get("pid") and _is_ours(record["pid"], record["workdir"]))

    def running(self) -> dict[str, bool]:
        return {name: self.is_running(name) for name in self.records}

    # --- faults -----------------------------------------------------------------------
    def set_sip_mode(self, address: str, mode: str) -> None:
        """Make the Kamailio listening on `address` answer ok / 503 / nothing."""
        from noc.lab.kamailio import MODES, KamailioPeer

        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        found = [(n, ns, lst) for n, (ns, lst) in SIP_PEERS.items() if address in lst]
        if not found:
            raise LabError(f"{address} 不是实验网 SIP 对端 / is not a lab SIP peer")
        name, ns, listen = found[0]
        if not self.is_running(name):
            raise LabError(f"{name} 未运行 / is not running; run `noc lab up` first")
        peer = self._live.get(name) or KamailioPeer(
            list(listen), SIP_PORT, Path(self.records[name]["workdir"]), netns=ns
        )
        peer.set_mode(address, mode)  # works on a peer rebuilt from the record (ctl socket)

    def _snmpd_peer(self, workdir: Path) -> Any:
        from noc.lab.snmpd import SnmpdPeer, TrapSink, V3User

        community = self.secrets.get("snmp_community", SNMP_COMMUNITY)
        return SnmpdPeer(
            address=CE_LAN_ADDRESS,
            port=SNMP_PORT,
            workdir=workdir,
            community=community,
            v3_users=[
                V3User(
                    user=self.secrets.get("snmp_v3_user", SNMP_V3_USER),
                    auth_key=self.secrets["snmp_v3_auth_key"],
                    priv_key=self.secrets["snmp_v3_priv_key"],
                    auth_protocol="sha256",
                    priv_protocol="aes128",
                )
            ],
            overrides=IF_HIGH_SPEED,
            trap_sink=TrapSink(host=ROOT_ADDRESS, port=TRAP_PORT, community=community),
            netns=CE,
        )


def _pid_of(peer: Any) -> int | None:
    if isinstance(getattr(peer, "pid", None), int):
        return peer.pid
    pid_path = getattr(peer, "pid_path", None)
    if pid_path is not None:
        for _ in range(40):
            try:
                return int(Path(pid_path).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.05)
    proc = getattr(peer, "_proc", None)
    return proc.pid if proc is not None else None


def _is_ours(pid: int, workdir: str) -> bool:
    """Does `pid` still run a daemon started with our workdir? (guards against pid reuse)"""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return workdir in cmdline and process_alive(pid)


def _terminate_group(pid: int, grace: float = 3.0) -> None:
    """TERM the daemon's process group (it runs in its own session), KILL after `grace`."""
    try:
        leads_group = os.getpgid(pid) == pid
    except ProcessLookupError:
        return
    kill = os.killpg if leads_group else os.kill  # workers share the leader's group
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not process_alive(pid):
                return
            time.sleep(0.05)
