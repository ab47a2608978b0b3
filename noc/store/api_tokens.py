"""API tokens in the store: issue (hash kept, secret returned once), authenticate, list, revoke.

A token is looked up by the SHA-256 of what the client sent; it is refused when unknown,
expired, revoked, or when its holder is disabled or no longer holds an operating role
(noc.identity.tokens).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from noc.core.errors import AuthError, ConflictError, NotFoundError
from noc.identity.roles import OPERATING_ROLES
from noc.identity.sessions import secret_hash
from noc.identity.tokens import REFUSED, IssuedToken, new_token, token_state
from noc.store.identity_tables import ApiTokenRow, UserRow
from noc.store.repo import Store

_TABLE = ApiTokenRow.__table__


@dataclass(frozen=True)
class AuthenticatedToken:
    token: ApiTokenRow
    user: UserRow

    @property
    def credential(self) -> str:
        return f"token:{self.token.id}"

    @property
    def scopes(self) -> frozenset[str] | None:
        return frozenset(self.token.scopes) if self.token.scopes is not None else None


def token_json(row: ApiTokenRow, holder: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "prefix": row.prefix,
        "user": holder,
        "label": row.label,
        "scopes": row.scopes,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "state": token_state(expires_at=row.expires_at, revoked_at=row.revoked_at, now=now),
    }


class TokenRepo:
    def __init__(self, store: Store):
        self.store = store

    async def create(
        self,
        tx: AsyncSession,
        *,
        holder: UserRow,
        label: str,
        expires_at: dt.datetime,
        scopes: list[str] | None,
        created_by: str,
        now: dt.datetime,
    ) -> tuple[IssuedToken, ApiTokenRow]:
        issued = new_token()
        row = ApiTokenRow(
            token_hash=issued.token_hash,
            prefix=issued.prefix,
            user_id=holder.id,
            label=label[:100],
            scopes=sorted(set(scopes)) if scopes is not None else None,
            created_by=created_by[:100],
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
            last_used_at=None,
        )
        tx.add(row)
        await tx.flush()
        return issued, row

    async def authenticate(self, secret: str, now: dt.datetime) -> AuthenticatedToken:
        """The live token and its holder; AuthError (401) with the reason otherwise."""
        async with self.store.sessions() as session:
            found = (
                await session.execute(
                    select(ApiTokenRow, UserRow)
                    .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                    .where(ApiTokenRow.token_hash == secret_hash(secret))
                )
            ).first()
        if found is None:
            raise AuthError(str(REFUSED["unknown"]), reason=REFUSED["unknown"].code)
        token, user = found
        state = token_state(expires_at=token.expires_at, revoked_at=token.revoked_at, now=now)
        if state != "active":
            raise AuthError(str(REFUSED[state]), reason=REFUSED[state].code)
        if user.disabled:
            raise AuthError(str(REFUSED["disabled"]), reason=REFUSED["disabled"].code)
        if user.role not in OPERATING_ROLES:  # its holder became a security officer or auditor
            raise AuthError(str(REFUSED["holder_role"]), reason=REFUSED["holder_role"].code)
        return AuthenticatedToken(token, user)

    async def mark_used(self, tx: AsyncSession, token_id: int, now: dt.datetime) -> None:
        await tx.execute(update(_TABLE).where(_TABLE.c.id == token_id).values(last_used_at=now))

    async def list(
        self, user: str | None = None, include_ended: bool = True, now: dt.datetime | None = None
    ) -> list[tuple[ApiTokenRow, str]]:
        query = (
            select(ApiTokenRow, UserRow.name)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .order_by(ApiTokenRow.id)
        )
        if user is not None:
            query = query.where(UserRow.name == user)
        if not include_ended:
            query = query.where(ApiTokenRow.revoked_at.is_(None))
            if now is not None:
                query = query.where(ApiTokenRow.expires_at > now)
        async with self.store.sessions() as session:
            return [(row, name) for row, name in (await session.execute(query)).all()]

    async def find(self, tx: AsyncSession, ref: str) -> tuple[ApiTokenRow, str]:
        """A token by its id (``12``) or its listed prefix (``noc_AbCd1234``), locked."""
        query = select(ApiTokenRow, UserRow.name).join(UserRow, UserRow.id == ApiTokenRow.user_id)
        if ref.isdigit():
            query = query.where(ApiTokenRow.id == int(ref))
        else:
            query = query.where(ApiTokenRow.prefix == ref)
        found = (await tx.execute(query.with_for_update(of=ApiTokenRow))).all()
        if not found:
            raise NotFoundError(f"没有该令牌 / no token {ref!r}")
        if len(found) > 1:
            raise ConflictError(f"前缀不唯一 / prefix {ref!r} matches several tokens; use the id")
        row, holder = found[0]
        return row, holder

    async def revoke(self, tx: AsyncSession, row: ApiTokenRow, now: dt.datetime) -> None:
        if row.revoked_at is not None:
            raise ConflictError(f"令牌 #{row.id} 已吊销 / token #{row.id} is already revoked")
        row.revoked_at = now
        await tx.flush()

    async def revoke_user(self, tx: AsyncSession, user_id: int, now: dt.datetime) -> int:
        result = await tx.execute(
            update(_TABLE)
            .where(_TABLE.c.user_id == user_id, _TABLE.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount or 0
