"""Shared fixtures: databases (SQLite and the real PostgreSQL server), the shipped config.

PostgreSQL is not optional: CI starts it, and a test that needs it fails (never skips) when it
is not answering, so a green run always means both backends were exercised.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = [
    "support.sinks"
]  # http_sink, make_http_sink, smtp_sink: real local delivery endpoints
# a role that may CREATE DATABASE and nothing more; .ci/ensure-postgres creates it and lets it in
# from the loopback addresses only
PG_ADMIN_URL = os.environ.get("NOC_TEST_PG", "postgresql://noc_test@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_admin() -> str:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"cannot connect to PostgreSQL at {PG_ADMIN_URL}: {exc}; `make test` sets it up "
            "(as root, .ci/ensure-postgres), or point NOC_TEST_PG at a database whose user "
            "may CREATE DATABASE"
        )
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"noc_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = psycopg.conninfo.conninfo_to_dict(pg_admin)
    url = f"postgresql://{base.get('user', 'postgres')}@{base.get('host', '127.0.0.1')}:{base.get('port', 5432)}/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'noc.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Every store test runs against both backends."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def lingshui_config():
    from noc.config import DEFAULT_CONFIG, load_config

    return load_config(DEFAULT_CONFIG)


@pytest.hookimpl(wrapper=True)  # around xdist's own hook, which reads the groups into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):  # noqa: ANN201
    """Which tests may run side by side under ``pytest -n N --dist loadgroup`` (pytest-xdist,
    as ``make test`` runs them): a module's tests stay together on one worker (its module-scoped
    daemons and its own fixed ports, e.g. test_sip_probe's 15060–15068, are started once), and
    every module with a test that needs root (network namespaces, the lab, the host's routes)
    runs on one worker, one after another."""
    module = {item: item.nodeid.split("::", 1)[0] for item in items}
    rooted = {module[item] for item in items if item.get_closest_marker("root")}
    for item in items:
        group = "root" if module[item] in rooted else module[item]
        item.add_marker(pytest.mark.xdist_group(group))
    return (yield)
