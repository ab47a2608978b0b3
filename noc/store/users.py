"""Accounts in the store: look-ups, and the writes the account acts (``accounts``) make.

Writes take the caller's transaction (``tx``) so the audit row commits with them. The password
hash never leaves this module's rows: :func:`user_json` is what lists, APIs and audit rows show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc.core.errors import ConflictError, NotFoundError
from noc.identity.passwords import PasswordPolicy, password_expired
from noc.store.identity_tables import UserRow
from noc.store.repo import Store
from noc.store.txn import reading


def user_json(
    row: UserRow, now: dt.datetime | None = None, policy: PasswordPolicy | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": row.name,
        "role": row.role,
        "disabled": row.disabled,
        "must_change": row.must_change,
        "os_user": row.os_user,
        "password_changed_at": row.password_changed_at.isoformat(),
        "created_at": row.created_at.isoformat(),
    }
    if now is not None:
        out["password_expired"] = password_expired(
            row.password_changed_at, now, policy or PasswordPolicy()
        )
    return out


class UserRepo:
    def __init__(self, store: Store):
        self.store = store

    async def get(self, name: str, tx: AsyncSession | None = None) -> UserRow | None:
        async with reading(self.store, tx) as session:
            return await session.scalar(select(UserRow).where(UserRow.name == name))

    async def require(self, tx: AsyncSession, name: str, lock: bool = True) -> UserRow:
        """The account, locked for update inside ``tx``; NotFoundError when there is none."""
        query = select(UserRow).where(UserRow.name == name)
        row = await tx.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFoundError(f"没有该用户 / no user {name!r}")
        return row

    async def by_os_user(self, login: str, tx: AsyncSession | None = None) -> UserRow | None:
        async with reading(self.store, tx) as session:
            return await session.scalar(select(UserRow).where(UserRow.os_user == login))

    async def list(self) -> list[UserRow]:
        async with self.store.sessions() as session:
            return list((await session.scalars(select(UserRow).order_by(UserRow.name))).all())

    async def count(self, tx: AsyncSession | None = None) -> int:
        async with reading(self.store, tx) as session:
            return int(await session.scalar(select(func.count()).select_from(UserRow)) or 0)

    async def security_officer_exists(self, tx: AsyncSession | None = None) -> bool:
        async with reading(self.store, tx) as session:
            found = await session.scalar(
                select(UserRow.id)
                .where(UserRow.role == "security", UserRow.disabled.is_(False))
                .limit(1)
            )
        return found is not None

    async def add(
        self,
        tx: AsyncSession,
        *,
        name: str,
        role: str,
        password_hash: str,
        must_change: bool,
        os_user: str | None,
        now: dt.datetime,
    ) -> UserRow:
        if await self.get(name, tx) is not None:
            raise ConflictError(f"用户已存在 / user {name!r} already exists")
        if os_user is not None:
            await self.check_os_user_free(tx, os_user)
        row = UserRow(
            name=name,
            role=role,
            password_hash=password_hash,
            must_change=must_change,
            password_changed_at=now,
            disabled=False,
            os_user=os_user,
            created_at=now,
        )
        tx.add(row)
        await tx.flush()
        return row

    async def check_os_user_free(
        self, tx: AsyncSession, login: str, for_user: str | None = None
    ) -> None:
        holder = await self.by_os_user(login, tx)
        if holder is not None and holder.name != for_user:
            raise ConflictError(
                f"操作系统账号 {login!r} 已绑定 {holder.name} / OS user {login!r} is already "
                f"bound to {holder.name}"
            )
