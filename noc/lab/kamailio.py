"""Run a real Kamailio as the lab's SIP peer (voice gateway, trunk, desk phones).

One Kamailio process listens on several addresses (UDP and TCP, one port) and answers
OPTIONS with 200. Fault modes are per listen address and change at runtime, without a
restart, so the lab can make one phone silent while the others keep answering:

    ok      200 OK (Server header names the lab peer)
    503     503 Service Unavailable
    silent  OPTIONS dropped

The mode lives in Kamailio's htable ``modes`` keyed by the receiving address; we change it
with ``kamcmd`` over the ctl module's unix socket in the workdir. Everything Kamailio writes
(pid file, ctl socket, log, rendered config) stays in the workdir; root is needed only for
``ip netns exec``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from probes.sip.message import SipParseError, build_options, parse_response

TEMPLATE = Path(__file__).with_name("conf") / "kamailio.cfg"
MODES = ("ok", "503", "silent")
DEFAULT_SERVER = "hotline-lab-kamailio"
MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules")


class KamailioError(RuntimeError):
    """Kamailio could not be started, controlled or stopped; the message says why."""


def _binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if not path:
        raise KamailioError(f"{name} not found: install the Debian package 'kamailio'")
    return path


def _module_dir() -> str:
    for d in MODULE_DIRS:
        if Path(d, "sl.so").exists():
            return d
    raise KamailioError(f"Kamailio modules not found in {MODULE_DIRS}")


def render_config(
    listen: Sequence[str],
    port: int,
    workdir: Path,
    *,
    transports: Sequence[str] = ("udp", "tcp"),
    children: int = 1,
    server: str = DEFAULT_SERVER,
) -> str:
    """The kamailio.cfg text for ``listen`` addresses on ``port`` over ``transports``."""
    if not listen:
        raise ValueError("at least one listen address is needed")
    bad = set(transports) - {"udp", "tcp"}
    if bad:
        raise ValueError(f"unsupported transports {sorted(bad)}")
    lines = []
    for address in listen:
        host = f"[{address}]" if ":" in address else address
        lines += [f"listen={proto}:{host}:{port}" for proto in transports]
    tcp = "tcp" in transports
    values = {
        "LISTEN": "\n".join(lines),
        "CHILDREN": str(children),
        "TCP_CHILDREN": str(max(1, children) if tcp else 1),
        "TCP_SWITCH": "disable_tcp=no" if tcp else "disable_tcp=yes",
        "SERVER": server,
        "WORKDIR": str(workdir),
        "MPATH": _module_dir(),
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    return text


class KamailioPeer:
    """A Kamailio process answering SIP OPTIONS on ``listen`` addresses at ``port``."""

    def __init__(
        self,
        listen: list[str],
        port: int,
        workdir: Path,
        netns: str | None = None,
        *,
        transports: Sequence[str] = ("udp", "tcp"),
        children: int = 1,
        server: str = DEFAULT_SERVER,
        shm_mb: int = 32,
        pkg_mb: int = 4,
    ) -> None:
        self.listen = list(listen)
        self.port = port
        self.workdir = Path(workdir)
        self.netns = netns
        self.transports = tuple(transports)
        self.children = children
        self.server = server
        self.shm_mb = shm_mb
        self.pkg_mb = pkg_mb
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = None

    # paths -----------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.workdir / "kamailio.cfg"

    @property
    def pid_path(self) -> Path:
        return self.workdir / "kamailio.pid"

    @property
    def log_path(self) -> Path:
        return self.workdir / "kamailio.log"

    @property
    def ctl_socket(self) -> Path:
        return self.workdir / "kamailio_ctl"

    # lifecycle -------------------------------------------------------------
    def command(self) -> list[str]:
        cmd = [
            _binary("kamailio"), "-DD", "-E", "-f", str(self.config_path),
            "-P", str(self.pid_path), "-m", str(self.shm_mb), "-M", str(self.pkg_mb),
            "-Y", str(self.workdir),
        ]  # fmt: skip
        return ["ip", "netns", "exec", self.netns, *cmd] if self.netns else cmd

    def start(self, timeout: float = 15.0) -> None:
        """Render the config, start Kamailio in its own process group, wait until it answers."""
        if self.is_running():
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            render_config(
                self.listen, self.port, self.workdir,
                transports=self.transports, children=self.children, server=self.server,
            )
        )  # fmt: skip
        check = subprocess.run(
            [_binary("kamailio"), "-c", "-f", str(self.config_path)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise KamailioError(f"kamailio rejected {self.config_path}: {check.stderr[-2000:]}")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.workdir,
        )  # fmt: skip
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise KamailioError(f"kamailio exited during start-up: {self._log_tail()}")
            if self._rpc_ok("core.uptime") and (self.netns or self._sip_answers()):
                return
            time.sleep(0.05)
        raise KamailioError(f"kamailio not answering after {timeout}s: {self._log_tail()}")

    def _sip_answers(self) -> bool:
        """Send one OPTIONS over UDP (or TCP) to the first listen address; any response counts."""
        address = self.listen[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        udp = "udp" in self.transports
        with socket.socket(family, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as sock:
            sock.settimeout(0.3)
            try:
                sock.connect((address, self.port))
                host, lport = sock.getsockname()[:2]
                req = build_options(
                    f"sip:ready@{'[' + address + ']' if family == socket.AF_INET6 else address}:{self.port}",
                    local_host=host, local_port=lport, transport="UDP" if udp else "TCP",
                )  # fmt: skip
                sock.send(req.data)
                return parse_response(sock.recv(65535)).call_id == req.call_id
            except (OSError, SipParseError):
                return False

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc is not None:
            try:  # workers may outlive the main process for a moment
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int | None:
        """Pid of the main Kamailio process (= its process group; ``ip netns exec`` execs it)."""
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # runtime control ---------------------------------------------------------
    def rpc(self, *args: str) -> str:
        """Run one kamcmd RPC on the ctl socket; KamailioError if it fails."""
        proc = subprocess.run(
            [_binary("kamcmd"), "-s", f"unix:{self.ctl_socket}", *args],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        if proc.returncode != 0 or proc.stdout.startswith("error"):
            raise KamailioError(
                f"kamcmd {' '.join(args)} failed: {(proc.stderr or proc.stdout).strip()}"
            )
        return proc.stdout

    def _rpc_ok(self, *args: str) -> bool:
        if not self.ctl_socket.exists():
            return False
        try:
            self.rpc(*args)
            return True
        except (KamailioError, subprocess.TimeoutExpired):
            return False

    def set_mode(self, address: str, mode: str) -> None:
        """Make the peer on ``address`` answer 200 (``ok``), ``503`` or nothing (``silent``)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if address not in self.listen:
            raise ValueError(f"{address} is not a listen address of this peer ({self.listen})")
        # no is_running() check: a peer rebuilt from a saved record (no process handle) can
        # still steer a running Kamailio through its ctl socket; a dead one fails in rpc().
        self.rpc("htable.sets", "modes", address, mode)  # "ok" is stored too: idempotent

    def modes(self) -> dict[str, str]:
        """Current mode of every listen address (read back from Kamailio)."""
        result = {}
        for address in self.listen:
            out = self._rpc_text("htable.get", "modes", address) or ""
            match = re.search(r"^\s*value:\s*(\S+)\s*$", out, re.MULTILINE)
            result[address] = match.group(1) if match else "ok"
        return result

    def _rpc_text(self, *args: str) -> str | None:
        try:
            return self.rpc(*args)
        except KamailioError:  # htable.get of a never-set key answers "404 Key not found"
            return None

    def _log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> KamailioPeer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
