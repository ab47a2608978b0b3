"""Helpers for the identity and audit tests: quick argon2id, tampering with the audit log.

``fast_hashing`` keeps argon2id but with the smallest cost, so tests that create many accounts
do not spend seconds per password (the real profile is exercised by the unit round-trip test
and the subprocess CLI test). ``drop_audit_guards`` removes the append-only triggers the way an
attacker with the database owner's rights would, so a test can change a row by hand.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result

from noc.cli import identity_common, main
from noc.store import Store

SQLITE_GUARDS = ("audit_log_no_update", "audit_log_no_delete", "audit_head_forward")


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from noc.identity import passwords

    monkeypatch.setattr(
        passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    passwords._dummy_hash.cache_clear()


def noc_as_os_account(monkeypatch: pytest.MonkeyPatch, db_url: str):  # noqa: ANN201
    """``run(*args, login="root", input=None)``: ``noc`` in-process on ``db_url`` as that OS
    account (``root`` is the superuser); ``run.url`` is ``db_url``."""

    def run(*args: str, login: str = "root", input: str | None = None) -> Result:  # noqa: A002
        monkeypatch.setattr(identity_common, "os_account", lambda: (login, login == "root"))
        return CliRunner().invoke(main, [*args, "--db", db_url], input=input)

    run.url = db_url  # type: ignore[attr-defined]
    return run


async def drop_audit_guards(store: Store) -> None:
    async with store.engine.begin() as conn:
        if store.backend == "sqlite":
            for name in SQLITE_GUARDS:
                await conn.exec_driver_sql(f"DROP TRIGGER {name}")
        else:
            await conn.exec_driver_sql("DROP TRIGGER audit_log_guard ON audit_log")
            await conn.exec_driver_sql("DROP TRIGGER audit_head_guard ON audit_head")
