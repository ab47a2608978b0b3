"""The login and logout acts: lockout, password check, a new session, and their audit rows.

One answer for every failure (:data:`~noc.identity.lockout.BAD_CREDENTIALS`, or
:data:`~noc.identity.lockout.LOCKED` while locked), whether the name exists, is disabled or
typed the wrong password, and the same argon2 work in each case, so neither the message nor
the time tells an attacker which names exist. Rows written: ``login`` ok/refused, ``lockout``
when a failure starts a lock, ``logout``. Attempts refused by a lock are audited but not
counted as failures, so the lock ends on time.

The web edge (console ``POST /api/v1/login``) calls :meth:`Logins.login`, sets the cookie from
``session.secret`` and, when ``must_change`` or ``password_expired``, lets the session do
nothing but change the password.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from noc.core.errors import AuthError
from noc.identity.actor import Actor, Channel
from noc.identity.audit import AuditEntry
from noc.identity.lockout import BAD_CREDENTIALS, LOCKED
from noc.identity.passwords import hash_password, needs_rehash, password_expired, verify_password
from noc.identity.policy import SecurityPolicy
from noc.identity.sessions import NewSession
from noc.store.audit_log import AuditLog
from noc.store.auth_sessions import AuthenticatedSession, SessionRepo
from noc.store.login_failures import LoginFailureRepo
from noc.store.repo import Store
from noc.store.types import utcnow
from noc.store.users import UserRepo


@dataclass(frozen=True)
class LoginResult:
    session: NewSession
    session_id: int
    actor: Actor
    must_change: bool
    password_expired: bool


class Logins:
    def __init__(self, store: Store, policy: SecurityPolicy | None = None):
        self.store = store
        self.policy = policy or SecurityPolicy()
        self.users = UserRepo(store)
        self.sessions = SessionRepo(store)
        self.failures = LoginFailureRepo(store)
        self.audit = AuditLog(store)

    async def login(
        self,
        name: str,
        password: str,
        source: str,
        channel: Channel = "console",
        now: dt.datetime | None = None,
    ) -> LoginResult:
        now = now or utcnow()
        nobody = Actor(None, None, channel, source)
        lock = await self.failures.lock_state(name, source, now, self.policy.lockout)
        if lock.locked:
            await self._refused(nobody, name, f"{LOCKED} (until {lock.until:%H:%M:%S} UTC)")
            raise AuthError(str(LOCKED), reason=LOCKED.code)
        user = await self.users.get(name)
        usable = user is not None and not user.disabled
        stored = user.password_hash if usable and user is not None else None
        if not await asyncio.to_thread(verify_password, stored, password):
            await self._failed(nobody, name, source, now, user is None, usable)
            raise AuthError(str(BAD_CREDENTIALS), reason=BAD_CREDENTIALS.code)
        assert user is not None
        async with self.store.transaction() as tx:
            row = await self.users.require(tx, name)
            if needs_rehash(row.password_hash):  # parameters were raised since it was set
                row.password_hash = await asyncio.to_thread(hash_password, password)
            await self.failures.clear(tx, user_name=name)
            issued, session = await self.sessions.create(tx, row, source, now, self.policy.session)
            actor = Actor(row.name, row.role, channel, source, credential=f"session:{session.id}")
            await self.audit.append(tx, AuditEntry.by(actor, "login", row.name))
        return LoginResult(
            session=issued,
            session_id=session.id,
            actor=actor,
            must_change=row.must_change,
            password_expired=password_expired(row.password_changed_at, now, self.policy.password),
        )

    async def logout(self, auth: AuthenticatedSession, channel: Channel = "console") -> None:
        actor = Actor(auth.user.name, auth.user.role, channel, auth.session.source, auth.credential)
        async with self.store.transaction() as tx:
            await self.sessions.revoke(tx, auth.session.id, utcnow())
            await self.audit.append(tx, AuditEntry.by(actor, "logout", auth.user.name))

    async def _refused(self, actor: Actor, name: str, reason: str) -> None:
        async with self.store.transaction() as tx:
            await self.audit.append(
                tx, AuditEntry.by(actor, "login", name[:255], outcome="refused", reason=reason)
            )

    async def _failed(
        self, actor: Actor, name: str, source: str, now: dt.datetime, unknown: bool, usable: bool
    ) -> None:
        why = "unknown user" if unknown else ("disabled" if not usable else "wrong password")
        async with self.store.transaction() as tx:
            await self.failures.record(tx, name, source, now)
            await self.audit.append(
                tx,
                AuditEntry.by(
                    actor,
                    "login",
                    name[:255],
                    outcome="refused",
                    reason=f"{BAD_CREDENTIALS} ({why})",
                ),
            )
            lock = await self.failures.lock_state(name, source, now, self.policy.lockout, tx)
            if lock.locked:
                await self.audit.append(
                    tx,
                    AuditEntry.by(
                        actor,
                        "lockout",
                        f"{name[:200]} {source}",
                        outcome="ok",
                        reason=f"locked by {', '.join(lock.by)} until {lock.until.isoformat()}",
                    ),
                )
