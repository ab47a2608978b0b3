"""A created store for tests of commands that refuse to create one.

Only ``noc db upgrade`` and ``noc run`` create a store; a test of any other command first
creates the one it runs on, the way an operator's ``noc db upgrade`` would.
"""

from __future__ import annotations

import asyncio

from noc.store import Store


def create_store(url: str) -> str:
    """Create and migrate the store at ``url`` (as ``noc db upgrade`` does); return ``url``."""

    async def go() -> None:
        store = await Store.open(url, migrate=True)
        await store.close()

    asyncio.run(go())
    return url
