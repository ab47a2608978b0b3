"""Failed logins, counted per name as typed and per source for the lockout (noc.identity.lockout).

Only what the lockout needs is kept: the name typed, the source address and the time. Rows
are deleted when a lock is released early, on a successful login (the name's own rows) and
when they are too old to matter; the audit log keeps the lasting record of every attempt.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc.identity.lockout import Failure, Lock, LockoutPolicy, history_since, lock_state
from noc.store.identity_tables import LoginFailure
from noc.store.repo import Store
from noc.store.txn import reading

_TABLE = LoginFailure.__table__


def _name(user_name: str) -> str:
    return user_name.casefold()[:100]


class LoginFailureRepo:
    def __init__(self, store: Store):
        self.store = store

    async def record(self, tx: AsyncSession, user_name: str, source: str, at: dt.datetime) -> None:
        tx.add(LoginFailure(user_name=_name(user_name), source=source[:255], at=at))
        await tx.flush()

    async def history(
        self,
        user_name: str,
        source: str,
        since: dt.datetime,
        tx: AsyncSession | None = None,
    ) -> list[Failure]:
        query = select(LoginFailure).where(
            LoginFailure.at >= since,
            or_(LoginFailure.user_name == _name(user_name), LoginFailure.source == source),
        )
        async with reading(self.store, tx) as session:
            rows = (await session.scalars(query.order_by(LoginFailure.at))).all()
        return [Failure(r.user_name, r.source, r.at) for r in rows]

    async def since(self, since: dt.datetime) -> list[Failure]:
        """Every failure from ``since`` on (the admin page's "locked until" of all accounts)."""
        query = select(LoginFailure).where(LoginFailure.at >= since).order_by(LoginFailure.at)
        async with self.store.sessions() as session:
            rows = (await session.scalars(query)).all()
        return [Failure(r.user_name, r.source, r.at) for r in rows]

    async def lock_state(
        self,
        user_name: str,
        source: str,
        now: dt.datetime,
        policy: LockoutPolicy | None = None,
        tx: AsyncSession | None = None,
    ) -> Lock:
        policy = policy or LockoutPolicy()
        failures = await self.history(user_name, source, history_since(now, policy), tx)
        return lock_state(failures, user_name, source, now, policy)

    async def clear(
        self, tx: AsyncSession, *, user_name: str | None = None, source: str | None = None
    ) -> int:
        """Forget the failures of a name and/or a source (release, or a successful login)."""
        if user_name is None and source is None:
            raise ValueError("clear needs a user name or a source")
        conditions = []
        if user_name is not None:
            conditions.append(_TABLE.c.user_name == _name(user_name))
        if source is not None:
            conditions.append(_TABLE.c.source == source)
        result = await tx.execute(delete(_TABLE).where(or_(*conditions)))
        return result.rowcount or 0

    async def forget_before(self, before: dt.datetime) -> int:
        async with self.store.sessions.begin() as session:
            result = await session.execute(delete(_TABLE).where(_TABLE.c.at < before))
        return result.rowcount or 0
