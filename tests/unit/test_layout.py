"""``make lint`` in CI: the tree stays ruff-clean and formatted, keeps the import contracts of
pyproject.toml (noc.core is the floor, probes import only noc.core, pure modules do no I/O,
nothing but the CLI imports the lab, SQLAlchemy only in noc.store, no cycles between sibling
packages) and has no import cycle among its modules. Each failure prints the tool's report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.import_cycles import _strongly_connected, cycles

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv's scripts (ruff, lint-imports)


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the checkout's packages, not an install
    return subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _ok(result: subprocess.CompletedProcess[str]) -> bool:
    print(result.stdout[-8000:], result.stderr[-4000:], sep="\n")
    return result.returncode == 0


def test_ruff_check():
    assert _ok(_run(sys.executable, "-m", "ruff", "check", ".")), "ruff check . failed"


def test_ruff_format():
    assert _ok(_run(sys.executable, "-m", "ruff", "format", "--check", ".")), (
        "not formatted: run ruff format ."
    )


def test_import_contracts():
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert _ok(result), "an import contract of pyproject.toml is broken (report above)"
    assert "BROKEN" not in result.stdout and " KEPT" in result.stdout


def test_no_import_cycle_among_modules():
    assert cycles() == []


def test_cycle_finder_finds_rings():
    """The checker itself: rings of any length, self-imports ignored, acyclic chains pass."""
    edges = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["d"], "e": ["f"], "f": ["e"], "g": []}
    assert _strongly_connected(edges) == [["a", "b", "c"], ["e", "f"]]
    assert _strongly_connected({"a": ["b"], "b": ["c"], "c": []}) == []
