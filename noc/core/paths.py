"""Where the service keeps its data when nobody says: one absolute path, never the working folder.

A relative default (``sqlite:///noc.db``) made the store depend on the folder a command was run
from, so a report run elsewhere silently read (and created) another, empty database. The default
is absolute instead: ``/var/lib/noc/noc.db`` for root (the service's system location), else the
user's XDG data directory (``$XDG_DATA_HOME/noc/noc.db``, by default
``~/.local/share/noc/noc.db``). ``--db``, the config's ``server.db`` and ``$NOC_DB`` override it.
"""

from __future__ import annotations

import os
from pathlib import Path

SYSTEM_DATA_DIR = Path("/var/lib/noc")
DB_FILE = "noc.db"


def data_dir() -> Path:
    """``/var/lib/noc`` as root, else ``$XDG_DATA_HOME/noc`` (``~/.local/share/noc``)."""
    if os.geteuid() == 0:
        return SYSTEM_DATA_DIR
    xdg = os.environ.get("XDG_DATA_HOME", "")
    # the XDG spec: a relative value is invalid and ignored
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "noc"


def default_db_path() -> Path:
    return data_dir() / DB_FILE


def default_db_url() -> str:
    """``sqlite:////var/lib/noc/noc.db`` (four slashes: an absolute path)."""
    return f"sqlite:///{default_db_path()}"
