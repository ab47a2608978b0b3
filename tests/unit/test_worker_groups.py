"""`make test` runs the suite on pytest-xdist workers; tests/conftest.py keeps every module with
a root test (the lab's namespaces, the host's routes) on one worker and each other module on one
worker. If grouping silently stopped (pytest 9.2 did that: pytest-xdist#1386), two workers would
build the lab at once and fail with "File exists"; this test runs a small suite the same way and
looks where each test ran."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent

MODULE = """
import os, pytest
{mark}
@pytest.mark.parametrize("i", range(4))
def test_where(i):
    with open(os.environ["WHERE_LOG"], "a") as f:
        f.write(f"{{__name__}} {{os.environ['PYTEST_XDIST_WORKER']}}\\n")
"""


def test_root_modules_share_one_worker_and_a_module_stays_on_one(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(TESTS / "conftest.py", suite / "conftest.py")
    (suite / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n  root: r\n  postgres: p\n  xdist_group: g\n", encoding="utf-8"
    )
    for name, mark in (
        ("test_lab_a", "pytestmark = pytest.mark.root"),
        ("test_lab_b", "pytestmark = pytest.mark.root"),
        ("test_plain_c", ""),
        ("test_plain_d", ""),
    ):
        (suite / f"{name}.py").write_text(MODULE.format(mark=mark), encoding="utf-8")
    log = tmp_path / "where.log"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "3"]
        + ["--dist", "loadgroup", str(suite)],
        cwd=suite,
        env={"WHERE_LOG": str(log), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(TESTS)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    runs = [line.split() for line in log.read_text().splitlines()]
    assert len(runs) == 16
    workers = {module: {w for m, w in runs if m == module} for module, _ in runs}
    assert all(len(w) == 1 for w in workers.values()), workers
    assert workers["test_lab_a"] == workers["test_lab_b"], workers
