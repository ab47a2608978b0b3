"""The ``noc`` command as an operator runs it: a real process, real exit codes, real signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from noc.config import DEFAULT_CONFIG

SECRET = "Zq9-very-secret-auth-key"


def noc(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "noc", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_the_commands():
    out = noc("--help").stdout
    for command in ("run", "config", "db", "lab"):
        assert f"  {command} " in out


def test_config_check_on_the_shipped_inventory():
    result = noc("config", "check", str(DEFAULT_CONFIG))
    assert result.returncode == 0, result.stderr
    assert "资产 assets: 24" in result.stdout
    assert "phone 19" in result.stdout and "mstp_circuit 2" in result.stdout
    assert sum(1 for line in result.stdout.splitlines() if line.startswith("  phone-")) == 19


def test_config_check_dangling_dependency_exits_2_naming_the_line(tmp_path: Path):
    bad = tmp_path / "noc.yaml"
    text = DEFAULT_CONFIG.read_text(encoding="utf-8").replace(
        "depends_on: [voice-gw],", "depends_on: [voice-gw9],", 1
    )
    bad.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "voice-gw9" in row)
    result = noc("config", "check", str(bad))
    assert result.returncode == 2
    assert (
        f"{bad}:{line} assets[5].depends_on[0]: unknown asset 'voice-gw9' (did you mean 'voice-gw'?)"
        in result.stderr
    )
    assert result.stdout == ""


@pytest.mark.parametrize("spelling", ["positional", "option"])
def test_config_check_and_show_take_the_file_either_way(tmp_path: Path, spelling):
    copy = tmp_path / "noc.yaml"
    copy.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    given = [str(copy)] if spelling == "positional" else ["--config", str(copy)]
    check = noc("config", "check", *given)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith(f"{copy}: OK")
    show = noc("config", "show", *given)
    assert show.returncode == 0 and "name: lingshui" in show.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {name: x}\nassets: []\n", encoding="utf-8")
    for command in ("check", "show"):
        args = [str(bad)] if spelling == "positional" else ["--config", str(bad)]
        result = noc("config", command, *args)
        assert result.returncode == 2 and result.stdout == ""
        assert f"{bad}:1 site.title: required key is missing" in result.stderr


def test_config_check_refuses_two_different_files(tmp_path: Path):
    result = noc("config", "check", str(DEFAULT_CONFIG), "--config", str(tmp_path / "other.yaml"))
    assert result.returncode == 2 and "give one" in result.stderr


def test_a_store_that_cannot_be_opened_is_refused_in_two_lines_without_traceback():
    url = "postgresql://nobody:pw@127.0.0.1:1/none"
    for args in (["incident", "list"], ["maintenance", "list"], ["db", "current"]):
        result = noc(*args, "--db", url)
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr and "pw" not in result.stderr
        assert len(result.stderr.splitlines()) <= 2 and "127.0.0.1:1" in result.stderr
    unsupported = noc("incident", "list", "--db", "mysql://x/y")
    assert unsupported.returncode == 2 and "unsupported database 'mysql'" in unsupported.stderr


def test_config_show_masks_secrets():
    result = noc("config", "show", env={"NOC_SNMP_AUTH_KEY": SECRET})
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout
    assert "auth_key: '**********'" in result.stdout
    assert "bandwidth: 10M" in result.stdout and "interval: 30s" in result.stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_db_upgrade(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    from noc.store.db import head_revision

    head = head_revision()  # the newest migration this version ships (0004 coverage and later)
    assert head >= "0004"
    result = noc("db", "upgrade", "--db", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"at revision {head}")
    current = noc("db", "current", "--db", url)
    assert f"current {head}, head {head}" in current.stdout


def test_db_upgrade_reports_an_unreachable_database():
    result = noc("db", "upgrade", "--db", "postgresql://nobody:pw@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "migration failed" in result.stderr and "pw" not in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read().decode()


def wait_for(url: str, proc: subprocess.Popen, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"service exited early: {proc.stderr.read()}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_serves_and_stops_cleanly_on_signal(tmp_path: Path, sig):
    """``noc run`` creates its store, folder included (the other commands never do)."""
    port = free_port()
    db_file = tmp_path / "state" / "noc" / "noc.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "noc",
            "run",
            "--db",
            f"sqlite:///{db_file}",
            "--listen",
            f"127.0.0.1:{port}",
            "--log-format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NOC_SNMP_AUTH_KEY": SECRET},
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        assert db_file.is_file()
        status, body = get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, metrics = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and "noc_build_info" in metrics
        proc.send_signal(sig)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    logs = proc.stderr.read()
    events = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert "service_started" in names and names[-1] == "service_stopped"
    started = next(e for e in events if e["event"] == "service_started")
    assert started["metrics"] == f"http://127.0.0.1:{port}/metrics"
    assert SECRET not in logs


def test_run_with_a_bad_config_exits_2(tmp_path: Path):
    bad = tmp_path / "noc.yaml"
    bad.write_text("site: {name: x}\nassets: []\n", encoding="utf-8")
    result = noc("run", "--config", str(bad), "--db", f"sqlite:///{tmp_path / 'noc.db'}")
    assert result.returncode == 2
    assert f"{bad}:1 site.title: required key is missing" in result.stderr


def test_config_check_validates_the_runbooks(tmp_path: Path):
    from incident_runbooks.loader import RUNBOOK_DIR

    for source in RUNBOOK_DIR.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    broken = tmp_path / "circuit_down.yaml"
    lines = broken.read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("applies_to:"))
    lines[n] = "applies_to: [circuit_dwn]"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = noc("config", "check", "--runbooks", str(tmp_path))
    assert result.returncode == 2
    assert f"{broken}:{n + 1} applies_to[0]: unknown fault type 'circuit_dwn'" in result.stderr
    assert "no runbook covers fault type 'circuit_down'" in result.stderr
    ok = noc("config", "check")
    assert ok.returncode == 0 and "runbooks: 9 covering 13 fault types" in ok.stdout
