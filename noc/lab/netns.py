"""Thin wrappers over iproute2, sysctl and nft, optionally inside a network namespace.

Every lab action is a shell-level network command; running them through one function
gives one error type (`LabError`) carrying the exact command and its stderr, which is
what an operator needs when `noc lab up` fails half-way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


class LabError(RuntimeError):
    """A lab command failed; the message names the command and what it printed."""


def run(
    cmd: Sequence[str], netns: str | None = None, check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `cmd` (inside `netns` when given) and raise LabError on failure if `check`."""
    full = ["ip", "netns", "exec", netns, *cmd] if netns else list(cmd)
    try:
        proc = subprocess.run(full, capture_output=True, text=True, input=input, timeout=30)
    except FileNotFoundError as exc:
        raise LabError(f"缺少命令 / missing command: {full[0]} ({exc})") from exc
    if check and proc.returncode != 0:
        raise LabError(
            f"命令失败 / command failed ({proc.returncode}): {' '.join(full)}: "
            f"{(proc.stderr or proc.stdout).strip()}"
        )
    return proc


def ip(
    *args: str, netns: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`ip [-n NETNS] ARGS…` (uses -n rather than netns exec: no fork of a shell)."""
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    return run(cmd, check=check)


def ip_json(*args: str, netns: str | None = None) -> list[dict]:
    out = ip("-j", *args, netns=netns).stdout.strip()
    return json.loads(out) if out else []


def list_netns() -> set[str]:
    proc = run(["ip", "-j", "netns", "list"], check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return set()
    return {entry["name"] for entry in json.loads(proc.stdout)}


def netns_exists(name: str) -> bool:
    return name in list_netns()


def add_netns(name: str) -> None:
    ip("netns", "add", name)
    ip("link", "set", "lo", "up", netns=name)


def netns_pids(name: str) -> list[int]:
    proc = run(["ip", "netns", "pids", name], check=False)
    return [int(tok) for tok in proc.stdout.split() if tok.isdigit()]


def kill_netns_processes(name: str, grace: float = 2.0) -> list[int]:
    """Stop every process still running inside namespace `name` (which the lab created).

    Deleting a namespace does not kill what runs in it, so a daemon left over by a crashed
    run would keep its sockets; we end exactly those pids, TERM first, then KILL.
    """
    pids = netns_pids(name)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(process_alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        if process_alive(pid):
            _signal(pid, signal.SIGKILL)
    return pids


def delete_netns(name: str) -> None:
    if netns_exists(name):
        kill_netns_processes(name)
        ip("netns", "delete", name, check=False)


def link_exists(ifname: str, netns: str | None = None) -> bool:
    return ip("link", "show", "dev", ifname, netns=netns, check=False).returncode == 0


def link_oper_state(ifname: str, netns: str | None = None) -> str:
    """'UP', 'DOWN', 'LOWERLAYERDOWN', … or 'ABSENT' when the interface does not exist."""
    proc = ip("-j", "link", "show", "dev", ifname, netns=netns, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return "ABSENT"
    entry = json.loads(proc.stdout)[0]
    state = entry.get("operstate", "UNKNOWN")
    if state == "UNKNOWN" and "UP" in entry.get("flags", []):
        return "UP"
    return state


def sysctl(key: str, value: str | int, netns: str | None = None) -> None:
    run(["sysctl", "-q", "-w", f"{key}={value}"], netns=netns)


def read_sysctl(key: str, netns: str | None = None) -> str:
    return run(["sysctl", "-n", key], netns=netns).stdout.strip()


def nft(
    script: str, netns: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Feed an nft script on stdin (atomic: the whole script applies or nothing does)."""
    return run(["nft", "-f", "-"], netns=netns, input=script, check=check)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def process_alive(pid: int) -> bool:
    """Is `pid` running (not gone, not a zombie)? Reaps it if it is our own dead child."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
