"""Debian's ``promtool check metrics`` (package ``prometheus``) on an exposition: the linter
Prometheus users run on an exporter, so the service's names follow its conventions."""

from __future__ import annotations

import shutil
import subprocess


def promtool_check(text: str) -> tuple[int, str]:
    """Exit code and everything promtool printed (empty when it has nothing to say)."""
    binary = shutil.which("promtool")
    assert binary, "promtool is not installed (Debian: apt install prometheus)"
    proc = subprocess.run(
        [binary, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    return proc.returncode, proc.stdout + proc.stderr
