"""Console sessions in the store: issue at login, authenticate each request, revoke.

The cookie's id is looked up by its SHA-256; a session is refused when it is idle, past its
absolute end, revoked, or its account is disabled (noc.identity.sessions).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from noc.core.errors import AuthError
from noc.identity.sessions import (
    ENDED,
    NewSession,
    SessionPolicy,
    new_session,
    secret_hash,
    session_state,
)
from noc.store.identity_tables import SessionRow, UserRow
from noc.store.repo import Store

_TABLE = SessionRow.__table__


@dataclass(frozen=True)
class AuthenticatedSession:
    session: SessionRow
    user: UserRow

    @property
    def credential(self) -> str:
        return f"session:{self.session.id}"


class SessionRepo:
    def __init__(self, store: Store):
        self.store = store

    async def create(
        self,
        tx: AsyncSession,
        user: UserRow,
        source: str,
        now: dt.datetime,
        policy: SessionPolicy | None = None,
    ) -> tuple[NewSession, SessionRow]:
        """A new session (a new id at every login); the secret is returned, never stored."""
        issued = new_session(now, policy or SessionPolicy())
        row = SessionRow(
            id_hash=issued.id_hash,
            user_id=user.id,
            source=source[:255],
            csrf_token=issued.csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=issued.expires_at,
            revoked_at=None,
        )
        tx.add(row)
        await tx.flush()
        return issued, row

    async def authenticate(
        self, secret: str, now: dt.datetime, policy: SessionPolicy | None = None
    ) -> AuthenticatedSession:
        """The live session and its account, touched (``last_seen_at``); AuthError otherwise."""
        async with self.store.sessions.begin() as session:
            found = (
                await session.execute(
                    select(SessionRow, UserRow)
                    .join(UserRow, UserRow.id == SessionRow.user_id)
                    .where(SessionRow.id_hash == secret_hash(secret))
                )
            ).first()
            if found is None:
                raise AuthError(str(ENDED["unknown"]), reason=ENDED["unknown"].code)
            row, user = found
            state = session_state(
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
                revoked_at=row.revoked_at,
                now=now,
                policy=policy or SessionPolicy(),
            )
            if state == "active" and user.disabled:
                state = "revoked"
            if state != "active":
                raise AuthError(str(ENDED[state]), reason=ENDED[state].code)
            row.last_seen_at = now
        return AuthenticatedSession(row, user)

    async def activity(
        self, now: dt.datetime, policy: SessionPolicy | None = None
    ) -> dict[int, tuple[dt.datetime, int]]:
        """user id → (last login, live sessions now) for every account that ever logged in.

        A session is created at each login, so the newest ``created_at`` is the last login;
        live means not revoked, not past its absolute end and not idle."""
        idle = (policy or SessionPolicy()).idle
        last = select(_TABLE.c.user_id, func.max(_TABLE.c.created_at)).group_by(_TABLE.c.user_id)
        live = (
            select(_TABLE.c.user_id, func.count())
            .where(
                _TABLE.c.revoked_at.is_(None),
                _TABLE.c.expires_at > now,
                _TABLE.c.last_seen_at > now - idle,
            )
            .group_by(_TABLE.c.user_id)
        )
        async with self.store.sessions() as session:
            logins = dict((await session.execute(last)).all())
            counts = dict((await session.execute(live)).all())
        return {uid: (at, int(counts.get(uid, 0))) for uid, at in logins.items()}

    async def revoke(self, tx: AsyncSession, session_id: int, now: dt.datetime) -> bool:
        result = await tx.execute(
            update(_TABLE)
            .where(_TABLE.c.id == session_id, _TABLE.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)

    async def revoke_user(self, tx: AsyncSession, user_id: int, now: dt.datetime) -> int:
        """End every live session of an account (disabled, password reset, role change)."""
        result = await tx.execute(
            update(_TABLE)
            .where(
                _TABLE.c.user_id == user_id,
                _TABLE.c.revoked_at.is_(None),
                _TABLE.c.expires_at > now,
            )
            .values(revoked_at=now)
        )
        return result.rowcount or 0
