"""A created store for tests of commands that refuse to create one.

Only ``noc db upgrade`` and ``noc run`` create a store; a test of any other command first
creates the one it runs on, the way an operator's ``noc db upgrade`` would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from noc.store import Store
from noc.store.audit_log import AuditLog


def create_store(url: str) -> str:
    """Create and migrate the store at ``url`` (as ``noc db upgrade`` does); return ``url``."""

    async def go() -> None:
        store = await Store.open(url, migrate=True)
        await store.close()

    asyncio.run(go())
    return url


def on_store(url: str, work: Callable[[Store], Awaitable[Any]]) -> Any:
    """Open the store at ``url``, return what ``work(store)`` gives, close it (from sync code)."""

    async def go() -> Any:
        store = await Store.open(url)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


def audit_rows(url: str) -> list:
    """Every row of the audit log of the store at ``url``, oldest first."""
    return on_store(url, lambda s: AuditLog(s).rows())
