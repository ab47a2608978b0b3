"""The newcomer's path: README and docs stay inside the checkout, `constraints.txt` pins what
pyproject.toml asks for, `make run` installs only what running needs, and the PostgreSQL the
tests use trusts one non-superuser role from the loopback addresses only.

These read the files and run the scripts in their listing or dry-run modes; nothing is installed.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "constraints.txt"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LAB_PACKAGES = {"iproute2", "nftables", "snmpd", "snmp", "kamailio"}
# the monthly report: charts and PDF in a Chinese font, the PDF printed through Pango
REPORT_PACKAGES = {
    "fonts-wqy-microhei",
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz-subset0",
}
TEST_ONLY_PACKAGES = {
    "postgresql",
    "postgresql-client",
    "prometheus",
    "sipsak",
    "fping",
    "iputils-ping",
    "chromium",  # the console's browser tests (Chinese drawn by the report's font)
    "poppler-utils",  # pdftotext reads the monthly report's PDF back
}
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
PARENT_PATH = re.compile(r"(?<![\w.~/])\.\./[\w./-]+")


def _escapes(doc: Path, target: str) -> str | None:
    """Why `target` (a path written in `doc`) is not a file or folder of this checkout, or None."""
    path = (doc.parent / target.split("#", 1)[0]).resolve()
    if not path.is_relative_to(REPO):
        return "leaves the repository"
    if not path.exists():
        return "does not exist"
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_doc_links_stay_in_the_repository(doc: Path) -> None:
    """A relative link or a `../` path must name something in this checkout (web links are
    fine: they are not part of the checkout a newcomer has)."""
    text = doc.read_text(encoding="utf-8")
    bad = []
    for target in MD_LINK.findall(text):
        if re.match(r"^([a-z][a-z0-9+.-]*:|#)", target):  # https:, mailto:, an anchor
            continue
        if why := _escapes(doc, target):
            bad.append(f"link {target}: {why}")
    for target in PARENT_PATH.findall(text):
        if why := _escapes(doc, target):
            bad.append(f"path {target}: {why}")
    assert not bad, f"{doc.name}: {bad}"


def test_link_check_catches_a_path_outside() -> None:
    readme = REPO / "README.md"
    assert _escapes(readme, "../shared/DESIGN.md") == "leaves the repository"
    assert _escapes(REPO / "docs" / "grafana.md", "../shared/DESIGN.md") == "does not exist"
    assert _escapes(readme, "docs/operations.md") is None


def test_readme_names_the_prerequisites_and_the_path() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "apt-get install make python3-venv" in text
    assert 'export PATH="$PWD/.venv/bin:$PATH"' in text
    assert "make run" in text and "make test" in text


# -- constraints.txt -----------------------------------------------------------------------------


def _pins() -> dict[str, Version]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and re.fullmatch(r"[A-Za-z0-9._-]+", name), f"not a name==version pin: {line}"
        pins[canonicalize_name(name)] = Version(version)
    return pins


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _wanted(requirement: Requirement, extras: set[str]) -> bool:
    marker: Marker | None = requirement.marker
    if marker is None:
        return True
    return any(marker.evaluate({"extra": extra}) for extra in extras or {""})


def test_constraints_pin_every_declared_dependency_within_its_range() -> None:
    pins = _pins()
    project = _project()
    assert canonicalize_name(project["name"]) not in pins, "the lock must not pin the project"
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for rs in project["optional-dependencies"].values() for r in rs]
    for req in declared:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in constraints.txt (run `make lock`)"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}"
        )


def test_constraints_pin_the_whole_installed_dependency_tree() -> None:
    """Follow the installed distributions' own requirements (extras included) from pyproject's:
    every package `make test` would install has a pin, so a later install picks no new version."""
    pins = _pins()
    project = _project()
    todo = [
        Requirement(r)
        for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]
    ]
    seen: set[str] = set()
    missing = []
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        if name not in pins:
            missing.append(req.name)
        try:
            requires = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: its own requirements cannot be read
        for text in requires:
            sub = Requirement(text)
            if _wanted(sub, set(req.extras)):
                todo.append(sub)
    assert not missing, f"not pinned in constraints.txt (run `make lock`): {sorted(set(missing))}"


def test_makefile_installs_with_the_constraints_and_run_needs_no_test_packages(
    tmp_path: Path,
) -> None:
    make = shutil.which("make")
    assert make, "make is not installed (apt-get install make)"

    def dry(target: str) -> str:
        proc = subprocess.run(
            [make, "-n", "-C", str(REPO), f"VENV={tmp_path / 'venv'}", target],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    run, test = dry("run"), dry("test")
    assert "pip install -c constraints.txt -e .\n" in run
    assert "./.ci/system-deps run\n" in run and "system-deps test" not in run
    assert "ensure-postgres" not in run and "[test]" not in run
    assert f"{tmp_path / 'venv'}/bin/noc" in run  # `make run` says where the noc command is
    assert "pip install -c constraints.txt -e '.[test]'" in test
    assert "./.ci/system-deps test\n" in test and "./.ci/ensure-postgres\n" in test
    for out in (run, test):
        for line in out.splitlines():
            if "pip install" in line:
                assert "-c constraints.txt" in line, line


# -- .ci/system-deps -----------------------------------------------------------------------------


def _system_deps(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / ".ci" / "system-deps"), *args], capture_output=True, text=True, timeout=30
    )


def test_system_deps_run_lists_the_lab_and_no_test_only_package() -> None:
    proc = _system_deps("run", "--list")
    assert proc.returncode == 0, proc.stderr
    assert set(proc.stdout.split()) == LAB_PACKAGES | REPORT_PACKAGES


def test_system_deps_test_lists_the_tests_peers_too() -> None:
    proc = _system_deps("test", "--list")
    assert proc.returncode == 0, proc.stderr
    assert set(proc.stdout.split()) == LAB_PACKAGES | REPORT_PACKAGES | TEST_ONLY_PACKAGES


@pytest.mark.parametrize("args", [(), ("all",), ("run", "--install-everything")])
def test_system_deps_refuses_an_unknown_set(args: tuple[str, ...]) -> None:
    proc = _system_deps(*args)
    assert proc.returncode == 2 and "usage:" in proc.stderr


# -- .ci/ensure-postgres: pg_hba.conf ------------------------------------------------------------

DEBIAN_HBA = """\
# PostgreSQL Client Authentication Configuration File
local   all             postgres                                peer
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
"""
OLD_NOC_LINES = """\
host all all 127.0.0.1/32 trust # noc-tests
host all all ::1/128 trust # noc-tests
local all all trust # noc-tests
"""
OURS = [
    "host all noc_test 127.0.0.1/32 trust # noc-tests",
    "host all noc_test ::1/128 trust # noc-tests",
]


def _rewrite(hba: Path) -> None:
    proc = subprocess.run(
        [str(REPO / ".ci" / "ensure-postgres"), "hba", str(hba)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("before", [DEBIAN_HBA, OLD_NOC_LINES + DEBIAN_HBA], ids=["fresh", "old"])
def test_hba_trusts_only_the_test_role_from_loopback(tmp_path: Path, before: str) -> None:
    hba = tmp_path / "pg_hba.conf"
    hba.write_text(before)
    _rewrite(hba)
    after = hba.read_text()
    assert after.splitlines()[:2] == OURS
    assert after == "\n".join(OURS) + "\n" + DEBIAN_HBA  # the old lines gone, the rest untouched
    trusting = [line.split() for line in after.splitlines() if " trust" in line]
    assert all(f[0] == "host" and f[2] == "noc_test" for f in trusting), trusting
    assert {f[3] for f in trusting} == {"127.0.0.1/32", "::1/128"}
    _rewrite(hba)
    assert hba.read_text() == after  # idempotent


def test_conftest_connects_as_the_role_the_script_creates() -> None:
    script = (REPO / ".ci" / "ensure-postgres").read_text()
    conftest = (REPO / "tests" / "conftest.py").read_text()
    assert re.search(r"^ROLE=noc_test$", script, re.M)
    assert '"postgresql://noc_test@127.0.0.1:5432/test"' in conftest
