"""Read inside the caller's transaction when there is one, else in a short session of our own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from noc.store.repo import Store


@asynccontextmanager
async def reading(store: Store, tx: AsyncSession | None) -> AsyncIterator[AsyncSession]:
    if tx is not None:
        yield tx
        return
    async with store.sessions() as session:
        yield session
