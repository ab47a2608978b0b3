"""Credentials for tests that call the service: an account and an API token put straight into
the store (no audit row, so tests that count rows count only what they do), and the header
that carries the token.

``await authorize(client, "lead")`` gives an aiohttp test client a lead's token on every request
it sends; ``await grant(store, "ann", "auditor")`` returns a token's headers for one-off calls;
``account_token(url, ...)`` does the same synchronously before a ``noc run`` child starts
(:class:`support.noc_process.NocProcess`). Passwords get a cheap argon2id hash: a valid hash the
login verifies, without the real profile's 64 MiB per account.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher

from noc.identity.roles import OPERATING_ROLES
from noc.store import Store
from noc.store.api_tokens import TokenRepo
from noc.store.types import utcnow
from noc.store.users import UserRepo

PASSWORD = "Correct-Horse-42"  # meets the policy: ≥ 10, three classes, not a user name
_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add_account(
    store: Store,
    name: str,
    role: str,
    password: str = PASSWORD,
    must_change: bool = False,
):
    """The account ``name`` (created with ``role`` unless it exists)."""
    users = UserRepo(store)
    async with store.transaction() as tx:
        row = await users.get(name, tx)
        if row is None:
            row = await users.add(
                tx,
                name=name,
                role=role,
                password_hash=_CHEAP.hash(password),
                must_change=must_change,
                os_user=None,
                now=utcnow(),
            )
    return row


async def grant(
    store: Store,
    name: str,
    role: str = "lead",
    lifetime: dt.timedelta = dt.timedelta(days=1),
    scopes: list[str] | None = None,
) -> dict[str, str]:
    """Headers carrying a new token of ``name`` (an operating role; created if needed)."""
    if role not in OPERATING_ROLES:
        raise ValueError(f"{role} accounts get no API tokens; log them in (login())")
    user = await add_account(store, name, role)
    now = utcnow()
    async with store.transaction() as tx:
        issued, _ = await TokenRepo(store).create(
            tx,
            holder=user,
            label="test",
            expires_at=now + lifetime,
            scopes=scopes,
            created_by="test",
            now=now,
        )
    return bearer(issued.secret)


async def authorize(client, role: str = "lead", name: str | None = None) -> str:  # noqa: ANN001
    """Make every request of the aiohttp test ``client`` carry a token of a ``role`` account
    (named after the role unless ``name``); returns the account name."""
    from noc.appkeys import STORE

    name = name or f"{role}1"
    headers = await grant(client.app[STORE], name, role)
    client.session.headers.update(headers)
    return name


async def login(client, name: str, password: str = PASSWORD) -> dict:  # noqa: ANN001
    """Log ``client`` in through ``POST /api/v1/login`` (its cookie jar keeps the session);
    returns the answer, with ``csrf_token``."""
    resp = await client.post("/api/v1/login", json={"user": name, "password": password})
    assert resp.status == 200, await resp.text()
    return await resp.json()


def account_token(db_url: str, name: str = "ops", role: str = "lead") -> dict[str, str]:
    """Synchronously: the store at ``db_url`` migrated, ``name`` in it, headers with its token."""

    async def go() -> dict[str, str]:
        store = await Store.open(db_url)
        try:
            return await grant(store, name, role, lifetime=dt.timedelta(days=2))
        finally:
            await store.close()

    return run_sync(go())


def run_sync(coro):  # noqa: ANN001, ANN201 - a coroutine and its result
    """``asyncio.run(coro)``, also from a thread whose event loop is running (Playwright's sync
    API keeps one): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
