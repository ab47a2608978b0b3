"""The lab's state directory: what `up` built, so `down`/`status`/`fault` work from another process.

One JSON file (`state.json`) holds the root routes added, the daemons started (workdir,
pid), the active faults and the generated SNMPv3 secrets; it is rewritten atomically under
an exclusive lock so two `noc lab` commands cannot interleave their edits.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path(os.environ.get("NOC_LAB_STATE_DIR", "/run/noc-lab"))
STATE_FILE = "state.json"
LOCK_FILE = ".lock"


def empty_state() -> dict[str, Any]:
    return {"routes": [], "daemons": {}, "faults": [], "secrets": {}}


class LabState:
    """Load/save the lab's JSON state in `directory` (created 0700: it holds SNMPv3 keys)."""

    def __init__(self, directory: Path | str = DEFAULT_STATE_DIR) -> None:
        self.directory = Path(directory)

    @property
    def path(self) -> Path:
        return self.directory / STATE_FILE

    def workdir(self, name: str, fresh: bool = False) -> Path:
        """A daemon's directory; `fresh` empties it (a new run must not inherit old USM keys)."""
        path = self.directory / name
        if fresh and path.is_dir():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return empty_state()
        state = empty_state()
        state.update(data)
        return state

    def save(self, state: dict[str, Any]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(state, fh, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """Hold the lock, yield the state for editing, save it on normal exit."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self.load()
                yield state
                self.save(state)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
