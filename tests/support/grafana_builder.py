"""``grafana/build.py`` of this checkout, loaded from its file (an installed ``grafana`` package
may be another copy): the dashboards it writes are the ones committed beside it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

GRAFANA = Path(__file__).resolve().parents[2] / "grafana"


def _load():
    spec = importlib.util.spec_from_file_location("grafana_build", GRAFANA / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it is being run
    spec.loader.exec_module(module)
    return module


build = _load()
