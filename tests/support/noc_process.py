"""``noc run`` as a child process, driven through its HTTP API: the service as an operator runs
it, for end-to-end (lab) and dashboard tests.

Every route but ``/healthz``, the login and ``/metrics`` needs credentials: by default the
store gets an account (``role``, a lead) and an API token before the service starts, and
``get``/``text``/``post`` send it. ``role=None`` starts on the store as it is (a fresh one: the
service creates ``admin`` and prints its password, see ``bootstrap_password``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from support.auth import account_token
from support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_child(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 10.0) -> int:
    """Signal a child started with ``start_new_session`` and wait; SIGKILL its group after ``grace``."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def site_config(
    name: str, title_zh: str, title_en: str, *, interval: str = "5s", tls: tuple | None = None
) -> str:
    """The smallest inventory ``noc run`` starts on: one router at 127.0.0.1 pinged every
    ``interval``, every alert receiver on a closed local port; ``tls`` (cert, key paths) adds
    ``server.tls``."""
    server = f"server: {{tls: {{cert: {tls[0]}, key: {tls[1]}}}}}\n" if tls else ""
    return (
        f"site: {{name: {name}, title: {{zh: {title_zh}, en: {title_en}}}}}\n"
        + server
        + f"""\
assets:
  - name: loop
    kind: router
    address: 127.0.0.1
    checks: [{{type: icmp, interval: {interval}, params: {{count: 1, timeout: 500ms}}}}]
alerting:
  receivers:
    - {{name: noc-oncall, urls: ["json://127.0.0.1:9/noc"]}}
    - {{name: noc-lead, urls: ["json://127.0.0.1:9/noc"]}}
    - {{name: carrier-liaison, urls: ["json://127.0.0.1:9/noc"]}}
    - {{name: purchaser-contact, urls: ["json://127.0.0.1:9/noc"]}}
"""
    )


class NocProcess:
    """``noc run --config CONFIG --db DB`` on a free local port, its log (JSON lines) in ``log``.
    ``db`` is a database URL, or a path for an SQLite file."""

    def __init__(
        self,
        config: Path,
        db: str | Path,
        log: Path,
        env: dict[str, str] | None = None,
        role: str | None = "lead",
        args: tuple[str, ...] = (),
        scheme: str = "http",
    ):
        self.config, self.db, self.log_path = config, db, log
        self.db_url = db if isinstance(db, str) else f"sqlite:///{db}"
        self.env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.role = role
        self.args = args
        self.scheme = scheme
        self.headers: dict[str, str] = {}
        self.context = None  # an ssl.SSLContext for https (set by the caller)

    def start(self) -> NocProcess:
        if self.role is not None:
            self.headers = account_token(self.db_url, f"test-{self.role}", self.role)
        self.log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "noc",
                "run",
                "--config",
                str(self.config),
                "--db",
                self.db_url,
                "--listen",
                f"127.0.0.1:{self.port}",
                "--log-format",
                "json",
                *self.args,
            ],
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
            cwd=REPO,
            env={**os.environ, **self.env},
        )
        try:
            wait_until(self._healthy, 30, "service health")
        except BaseException:
            self.stop(signal.SIGKILL)
            raise
        return self

    def _healthy(self) -> bool:
        assert self.proc.poll() is None, f"service died: {self.log_path.read_text()[-3000:]}"
        try:
            return self.get("/healthz")["status"] == "ok"
        except OSError:
            return False

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def request(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> urllib.request.Request:
        data = None if body is None else json.dumps(body).encode()
        sent = {**self.headers, **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        return urllib.request.Request(f"{self.base}{path}", data=data, headers=sent)

    def text(self, path: str, headers: dict[str, str] | None = None) -> str:
        req = self.request(path, headers=headers)
        with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:
            return resp.read().decode("utf-8")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return json.loads(self.text(path, headers))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        req = self.request(path, {} if body is None else body, headers)
        with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def bootstrap_password(self) -> str | None:
        """The password ``noc run`` printed for ``admin`` on a store without accounts."""
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("password:"):
                return line.split(":", 1)[1].strip()
        return None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal it and wait (SIGKILL to its group after 10 s); returns its exit code."""
        code = stop_child(self.proc, sig)
        self.log.close()
        return code

    def log_events(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def incidents(self) -> list[dict[str, Any]]:
        return self.get("/api/v1/incidents?limit=1000")["incidents"]
