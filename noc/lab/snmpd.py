"""Run a real net-snmp ``snmpd`` as a lab peer (tests, lab namespaces, benchmarks).

Everything it writes stays in ``workdir``: the rendered ``snmpd.conf``, the log, the pid
file and the persistent state (USM keys, engineBoots), because the agent is started with
``-C`` (no system config files), ``--persistentDir`` and ``SNMP_PERSISTENT_DIR``. It runs
in the foreground (``-f``) in its own process group, optionally inside a network
namespace (``ip netns exec NS``), and ``start()`` returns only once it answers a GET.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from probes.snmp.params import NETSNMP_AUTH, NETSNMP_PRIV  # our names -> net-snmp's spelling

CONF_DIR = Path(__file__).parent / "conf"
SYS_UPTIME_OID = ".1.3.6.1.2.1.1.3.0"


@dataclass(frozen=True)
class V3User:
    """An authPriv USM user; protocols use the probe's names (sha256, aes128, aes256c …)."""

    user: str
    auth_key: str
    priv_key: str
    auth_protocol: str = "sha256"
    priv_protocol: str = "aes128"


@dataclass(frozen=True)
class TrapSink:
    """Where the agent sends notifications: v2c with ``community`` or v3 with ``user``."""

    host: str
    port: int
    community: str | None = "public"
    user: V3User | None = None


class SnmpdError(RuntimeError):
    pass


class SnmpdPeer:
    """One snmpd process.

    ``overrides`` maps interface name -> Mbit/s for ifHighSpeed (and ifSpeed);
    ``extra_communities`` adds read-only communities (a benchmark's "100 agents");
    ``interface_prefixes`` limits the IF-MIB to interfaces whose names start so.
    """

    def __init__(
        self,
        address: str,
        port: int,
        workdir: str | os.PathLike[str],
        community: str | None = "public",
        v3_users: Sequence[V3User] = (),
        overrides: Mapping[str, int] | None = None,
        trap_sink: TrapSink | None = None,
        netns: str | None = None,
        engine_id: str | None = None,
        sys_name: str = "noc-lab-agent",
        monitor_seconds: int = 1,
        extra_communities: Sequence[str] = (),
        interface_prefixes: Sequence[str] = (),
    ) -> None:
        if not community and not v3_users:
            raise ValueError("snmpd needs a community or at least one v3 user to be reachable")
        self.address = address
        self.port = port
        self.workdir = Path(workdir)
        self.community = community
        self.v3_users = list(v3_users)
        self.overrides = dict(overrides or {})
        self.trap_sink = trap_sink
        self.netns = netns
        self.engine_id = engine_id
        self.sys_name = sys_name
        self.monitor_seconds = monitor_seconds
        self.extra_communities = list(extra_communities)
        self.interface_prefixes = list(interface_prefixes)  # empty: every interface
        self._proc: subprocess.Popen[bytes] | None = None
        self._internal_key = secrets.token_hex(8)

    # --- paths -------------------------------------------------------------------------
    @property
    def conf_path(self) -> Path:
        return self.workdir / "snmpd.conf"

    @property
    def log_path(self) -> Path:
        return self.workdir / "snmpd.log"

    @property
    def persistent_dir(self) -> Path:
        return self.workdir / "persist"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # --- lifecycle ---------------------------------------------------------------------
    def render(self) -> str:
        """The snmpd.conf text for this peer."""
        env = Environment(
            loader=FileSystemLoader(CONF_DIR),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
        )
        sink = None
        if self.trap_sink is not None:
            sink = {"host": self.trap_sink.host, "port": self.trap_sink.port}
            if self.trap_sink.user is not None:
                sink.update(version="3", **_netsnmp_user(self.trap_sink.user))
            else:
                sink.update(version="2c", community=self.trap_sink.community)
        return env.get_template("snmpd.conf.j2").render(
            address=self.address,
            port=self.port,
            engine_id=self.engine_id,
            sys_name=self.sys_name,
            communities=[c for c in [self.community, *self.extra_communities] if c],
            interface_prefixes=self.interface_prefixes,
            v3_users=[_netsnmp_user(u) for u in self.v3_users],
            overrides=self._resolve_overrides(),
            trap_sink=sink,
            internal_user="nocinternal",
            internal_key=self._internal_key,
            monitor_seconds=self.monitor_seconds,
        )

    def start(self, timeout: float = 10.0) -> None:
        """Render the config, start snmpd and wait until it answers a GET."""
        if self.is_running():
            return
        binary = shutil.which("snmpd")
        if binary is None:
            raise SnmpdError("snmpd not found: apt-get install snmpd")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.persistent_dir.mkdir(exist_ok=True)
        self.conf_path.write_text(self.render())
        cmd = [
            *self._prefix(),
            binary,
            "-f",
            "-C",
            "-c",
            str(self.conf_path),
            "-Lf",
            str(self.log_path),
            "-p",
            str(self.workdir / "snmpd.pid"),
            f"--persistentDir={self.persistent_dir}",
        ]
        self._proc = subprocess.Popen(
            cmd,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SnmpdError(f"snmpd exited with {self._proc.returncode}: {self._log_tail()}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise SnmpdError(f"snmpd did not answer within {timeout}s: {self._log_tail()}")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def restart(self) -> None:
        self.stop()
        self.start()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> SnmpdPeer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- helpers -----------------------------------------------------------------------
    def _prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(SNMP_PERSISTENT_DIR=str(self.persistent_dir), MIBS="", MIBDIRS="/nonexistent")
        return env

    def _answers(self) -> bool:
        auth: list[str]
        if self.community:
            auth = ["-v2c", "-c", self.community]
        else:
            u = _netsnmp_user(self.v3_users[0])
            auth = [
                "-v3",
                "-l",
                "authPriv",
                "-u",
                u["user"],
                "-a",
                u["auth"],
                "-A",
                u["auth_key"],
                "-x",
                u["priv"],
                "-X",
                u["priv_key"],
            ]
        cmd = [
            *self._prefix(),
            "snmpget",
            *auth,
            "-r0",
            "-t0.3",
            "-Oqv",
            f"{self.address}:{self.port}",
            SYS_UPTIME_OID,
        ]
        try:
            done = subprocess.run(cmd, env=self._env(), capture_output=True, timeout=3)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def _resolve_overrides(self) -> list[dict[str, int]]:
        if not self.overrides:
            return []
        cmd = ["ip", *(["-n", self.netns] if self.netns else []), "-j", "link", "show"]
        links = json.loads(subprocess.run(cmd, capture_output=True, check=True, text=True).stdout)
        index = {link["ifname"]: link["ifindex"] for link in links}
        out = []
        for name, mbps in self.overrides.items():
            if name not in index:
                raise SnmpdError(f"override for unknown interface {name!r}; have {sorted(index)}")
            out.append({"if_index": index[name], "mbps": int(mbps), "bps": int(mbps) * 1_000_000})
        return out

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _netsnmp_user(u: V3User) -> dict[str, str]:
    return {
        "user": u.user,
        "auth": NETSNMP_AUTH[u.auth_protocol],
        "auth_key": u.auth_key,
        "priv": NETSNMP_PRIV[u.priv_protocol],
        "priv_key": u.priv_key,
    }
