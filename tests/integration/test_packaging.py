"""The wheel, installed as an operator installs it (not editable, away from the checkout), works:
every file of the packages ships (web templates, runbooks, defaults, migrations, alert
templates, Grafana dashboards and provisioning), ``noc config check`` passes on the shipped
inventory, and ``noc run`` serves ``/healthz`` and the console on a fresh SQLite store.

No network: the wheel is built with the test environment's setuptools (``--no-build-isolation``)
and installed ``--no-deps --no-index`` into a new virtualenv, which finds the dependencies in
the test environment's site-packages through a ``.pth`` file of plain paths (no ``.pth`` of
that environment runs, so its editable install of the checkout stays out of sight).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from support.auth import account_token
from support.noc_process import free_port, site_config, stop_child
from support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("noc", "probes", "alerting", "sla", "incident_runbooks", "grafana")


def _package_files() -> set[str]:
    """Every file under the packages, as the wheel names it (``noc/web/templates/index.html``)."""
    files = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*"):
            rel = path.relative_to(REPO)
            if path.is_file() and not any(
                part.startswith(".") or part == "__pycache__" for part in rel.parts
            ):
                if path.suffix != ".pyc":
                    files.add(rel.as_posix())
    return files


def _clean_env() -> dict[str, str]:
    """No way back into the checkout: no PYTHONPATH, no config or database from the caller."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "NOC_CONFIG", "NOC_DB", "PYTHONHOME"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the wheel from a copy of the checkout, install it into a fresh virtualenv."""
    work = tmp_path_factory.mktemp("packaging")
    src = work / "src"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(
            ".*", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", "tests", "bench", "docs"
        ),
    )
    dist = work / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--quiet", "-w", str(dist)],
        cwd=work,
    )
    (wheel,) = dist.glob("hotline_noc-*.whl")

    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=work)
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
        + ["--no-index", "--quiet", str(wheel)],
        cwd=work,
    )
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=work
    ).stdout.strip()
    # after the install, so pip does not take the test environment's editable install for ours
    deps = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (Path(purelib) / "test-environment.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    outside = work / "elsewhere"
    outside.mkdir()
    return {"wheel": wheel, "venv": venv, "python": python, "cwd": outside}


def test_the_wheel_ships_every_file_of_the_packages(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    missing = sorted(_package_files() - names)
    assert not missing, f"not in the wheel: {missing}"
    for needed in (
        "noc/web/templates/console/base.html",
        "noc/web/static/console.js",
        "noc/defaults/lingshui.yaml",
        "noc/store/migrations/env.py",
        "incident_runbooks/circuit_down.yaml",
        "alerting/templates/body.zh-CN.j2",
        "grafana/dashboards/sla.json",
        "grafana/provisioning/dashboards/hotline-noc.yaml",
    ):
        assert needed in names


def test_the_installed_code_is_the_wheels(installed):
    out = _run(
        [
            str(installed["python"]),
            "-c",
            "import importlib.resources as r, noc, grafana; print(noc.__file__); "
            "print(r.files('grafana').joinpath('dashboards', 'sla.json').is_file())",
        ],
        cwd=installed["cwd"],
    ).stdout.split()
    assert Path(out[0]).is_relative_to(installed["venv"]), out
    assert out[1] == "True"


def test_config_check_passes_on_the_shipped_inventory(installed):
    result = _run([str(installed["venv"] / "bin" / "noc"), "config", "check"], installed["cwd"])
    assert "lingshui.yaml: OK" in result.stdout
    assert "runbooks:" in result.stdout
    assert str(installed["venv"]) in result.stdout  # the inventory read is the installed one


CONFIG = site_config("pkgtest", "安装测试", "package test")


def test_noc_run_serves_health_and_the_console(installed):
    cwd = installed["cwd"]
    config = cwd / "site.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    port = free_port()
    log = (cwd / "noc.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [str(installed["venv"] / "bin" / "noc"), "run", "--config", str(config)]
        + ["--db", f"sqlite:///{cwd / 'noc.db'}", "--listen", f"127.0.0.1:{port}"],
        cwd=cwd,
        env=_clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, str] | None:
        assert proc.poll() is None, (cwd / "noc.log").read_text()[-3000:]
        try:
            request = urllib.request.Request(base + path, headers=headers or {})
            with urllib.request.urlopen(request, timeout=5) as resp:
                return resp.status, resp.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")
        except OSError:
            return None

    try:
        status, body = wait_until(lambda: get("/healthz"), 60, "the installed service's /healthz")
        assert status == 200 and '"status": "ok"' in body.replace('":"', '": "')
        # a store without accounts: admin was created and its password printed once
        assert "  password: " in (cwd / "noc.log").read_text(encoding="utf-8")
        assert get("/api/v1/incidents")[0] == 401  # the API needs credentials
        status, page = get("/")  # the console sends the anonymous to its login page
        assert status == 200 and 'name="password"' in page and "总览" not in page
        token = account_token(f"sqlite:///{cwd / 'noc.db'}", "viewer1", "viewer")
        status, page = get("/", token)
        assert status == 200 and "<html" in page.lower()
        status, metrics = get("/metrics")
        assert status == 200 and "noc_store_up" in metrics
    finally:
        code = stop_child(proc)
        log.close()
    assert code == 0, (cwd / "noc.log").read_text()[-3000:]
