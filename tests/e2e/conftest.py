"""The network lab for end-to-end tests: built once per test module, torn down even on failure."""

from __future__ import annotations

import os

import pytest

from noc.lab.control import Lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    assert os.geteuid() == 0, "the lab needs root (CI runs as root)"
    state = tmp_path_factory.mktemp("lab-state")
    lab = Lab(state)
    lab.up(inventory_out=state / "inventory.yaml")
    try:
        yield lab
    finally:
        lab.down()
