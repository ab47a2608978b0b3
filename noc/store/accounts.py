"""The account acts: each checks the rules, writes, and is audited in one transaction.

Shared by the CLI (``noc user``/``noc token``/``noc audit purge``) and the web edge, so both
refuse the same things for the same reasons and leave the same audit rows: ``user.add``,
``user.role``, ``user.disable``/``user.enable``, ``user.bind``, ``user.password`` (one's own)
and ``user.password_reset`` (someone else's), ``lockout.release``, ``session.revoke``,
``token.create``, ``token.revoke``, ``audit.purge`` and ``user.bootstrap``. A refusal is recorded too (see
:meth:`noc.store.audit_log.AuditLog.acting`).

Argon2 hashing is slow on purpose; it runs in a worker thread so the service keeps answering.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from noc.core.errors import ConflictError, ForbiddenError, InputError
from noc.identity.actor import Actor, require
from noc.identity.audit import AuditEntry
from noc.identity.lockout import history_since, locked_until
from noc.identity.passwords import (
    check_password,
    generate_password,
    hash_password,
    verify_password,
)
from noc.identity.policy import SecurityPolicy
from noc.identity.roles import OPERATING_ROLES, PERMISSIONS
from noc.identity.rules import (
    check_account_change,
    check_grant,
    check_os_login,
    check_token_holder,
    check_user_name,
)
from noc.identity.tokens import IssuedToken
from noc.store.api_tokens import TokenRepo, token_json
from noc.store.audit_log import AuditLog, PurgeResult
from noc.store.auth_sessions import SessionRepo
from noc.store.login_failures import LoginFailureRepo
from noc.store.repo import Store
from noc.store.types import utcnow
from noc.store.users import UserRepo, user_json

BOOTSTRAP_USER = "admin"
MAX_TOKEN_LIFETIME = dt.timedelta(days=366)


@dataclass(frozen=True)
class Bootstrap:
    """The first account of a fresh store; ``password`` is shown once and never stored."""

    name: str
    password: str


def system_actor(source: str = "noc") -> Actor:
    return Actor(user="system", role=None, channel="cli", source=source)


class Accounts:
    def __init__(self, store: Store, policy: SecurityPolicy | None = None):
        self.store = store
        self.policy = policy or SecurityPolicy()
        self.table = self.policy.permissions
        self.users = UserRepo(store)
        self.tokens = TokenRepo(store)
        self.sessions = SessionRepo(store)
        self.failures = LoginFailureRepo(store)
        self.audit = AuditLog(store)

    def _password(self, password: str, user_name: str) -> str:
        reasons = check_password(password, user_name, self.policy.password)
        if reasons:
            raise InputError(
                "口令不符合要求 / password refused: " + "; ".join(str(r) for r in reasons)
            )
        return password

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(hash_password, password)

    # -- accounts ------------------------------------------------------------------------

    async def add_user(
        self,
        actor: Actor,
        name: str,
        role: str,
        password: str | None = None,
        os_user: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """Create an account; without ``password`` one is generated and returned (shown once).

        Either way it must be changed at first login: someone else chose it.
        """
        now = utcnow()
        async with self.audit.acting(actor, "user.add", name) as act:
            check_grant(actor, name, role, self.table)
            check_user_name(name)
            if os_user is not None:
                check_os_login(os_user)
            generated = None
            if password is None:
                password = generated = generate_password(policy=self.policy.password)
            self._password(password, name)
            row = await self.users.add(
                act.tx,
                name=name,
                role=role,
                password_hash=await self._hash(password),
                must_change=True,
                os_user=os_user,
                now=now,
            )
            act.after = user_json(row)
        return user_json(row), generated

    async def set_role(self, actor: Actor, name: str, role: str) -> dict[str, Any]:
        now = utcnow()
        async with self.audit.acting(actor, "user.role", name) as act:
            check_grant(actor, name, role, self.table)
            row = await self.users.require(act.tx, name)
            if row.role == role:
                raise ConflictError(f"{name} 已是 {role} / {name} already has role {role}")
            act.before = {"role": row.role}
            row.role = role
            await self.sessions.revoke_user(act.tx, row.id, now)  # the new role from a new login
            if role not in OPERATING_ROLES:
                await self.tokens.revoke_user(act.tx, row.id, now)
            act.after = {"role": role}
        return user_json(row)

    async def set_disabled(self, actor: Actor, name: str, disabled: bool) -> dict[str, Any]:
        now = utcnow()
        action = "user.disable" if disabled else "user.enable"
        async with self.audit.acting(actor, action, name) as act:
            check_account_change(actor, name, self.table)
            row = await self.users.require(act.tx, name)
            if row.disabled == disabled:
                state = "已停用 disabled" if disabled else "已启用 enabled"
                raise ConflictError(f"{name} {state} already")
            act.before = {"disabled": row.disabled}
            row.disabled = disabled
            if disabled:
                await self.sessions.revoke_user(act.tx, row.id, now)
            act.after = {"disabled": disabled}
        return user_json(row)

    async def bind_os_user(self, actor: Actor, name: str, login: str | None) -> dict[str, Any]:
        """Bind (or with None, unbind) the OS account whose CLI acts as ``name``."""
        async with self.audit.acting(actor, "user.bind", name) as act:
            check_account_change(actor, name, self.table)
            if login is not None:
                check_os_login(login)
            row = await self.users.require(act.tx, name)
            if login is not None:
                await self.users.check_os_user_free(act.tx, login, for_user=name)
            act.before = {"os_user": row.os_user}
            row.os_user = login
            act.after = {"os_user": login}
        return user_json(row)

    async def change_password(
        self,
        actor: Actor,
        name: str,
        password: str | None = None,
        current_password: str | None = None,
        reset: bool = False,
    ) -> str | None:
        """One's own password (``user.password``) or a reset by the security officer
        (``user.password_reset``: must be changed at next login, sessions end). Without
        ``password`` one is generated and returned. ``current_password``, when given (the
        console asks for it), must match. ``reset`` (the admin page and the users API) means
        only a reset: of one's own account it is refused like any account management."""
        now = utcnow()
        own = not reset and actor.known and actor.user == name
        async with self.audit.acting(
            actor, "user.password" if own else "user.password_reset", name
        ) as act:
            if not own:  # one's own password: any role, any time
                check_account_change(actor, name, self.table)
            row = await self.users.require(act.tx, name)
            if current_password is not None and not verify_password(
                row.password_hash, current_password
            ):
                raise ForbiddenError("当前口令错误 / the current password is wrong")
            generated = None
            if password is None:
                password = generated = generate_password(policy=self.policy.password)
            self._password(password, name)
            if own and verify_password(row.password_hash, password):
                raise InputError("新口令不能与当前口令相同 / the new password must differ")
            row.password_hash = await self._hash(password)
            row.password_changed_at = now
            row.must_change = not own
            if not own:
                await self.sessions.revoke_user(act.tx, row.id, now)
            act.after = {"must_change": row.must_change, "password_changed_at": now.isoformat()}
        return generated

    async def release_lockout(
        self, actor: Actor, user_name: str | None = None, source: str | None = None
    ) -> int:
        target = " ".join(x for x in (user_name, source) if x)
        async with self.audit.acting(actor, "lockout.release", target) as act:
            require(actor, "lockout.release", self.table)
            if user_name is None and source is None:
                raise InputError("需指定用户或来源地址 / name a user or a source address")
            cleared = await self.failures.clear(act.tx, user_name=user_name, source=source)
            act.after = {"failures_cleared": cleared}
        return cleared

    async def revoke_sessions(self, actor: Actor, name: str) -> int:
        """End every live console session of ``name`` (``session.revoke``); not one's own
        (logging out does that). Returns how many ended."""
        now = utcnow()
        async with self.audit.acting(actor, "session.revoke", name) as act:
            require(actor, "session.revoke", self.table)
            if actor.user == name:
                raise ForbiddenError(
                    "不能结束自己的会话，请退出登录 / nobody revokes their own sessions; log out"
                )
            row = await self.users.require(act.tx, name)
            ended = await self.sessions.revoke_user(act.tx, row.id, now)
            act.after = {"sessions_ended": ended}
        return ended

    async def overview(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """What the security officer sees: every account with its last login, live sessions,
        lock and password age; and the source addresses locked out now. No secrets."""
        now = now or utcnow()
        lockout = self.policy.lockout
        activity = await self.sessions.activity(now, self.policy.session)
        failures = await self.failures.since(history_since(now, lockout))
        users = []
        for row in await self.users.list():
            out = user_json(row, now, self.policy.password)
            last_login, live = activity.get(row.id, (None, 0))
            key = row.name.casefold()
            locked = locked_until((f.at for f in failures if f.user == key), now, lockout)
            out.update(
                password_expires_at=(
                    row.password_changed_at + self.policy.password.expiry
                ).isoformat(),
                last_login_at=last_login.isoformat() if last_login else None,
                live_sessions=live,
                locked_until=locked.isoformat() if locked else None,
            )
            users.append(out)
        sources = []
        for source in sorted({f.source for f in failures}):
            locked = locked_until((f.at for f in failures if f.source == source), now, lockout)
            if locked is not None:
                sources.append({"source": source, "locked_until": locked.isoformat()})
        return {"users": users, "locked_sources": sources}

    # -- tokens --------------------------------------------------------------------------

    async def issue_token(
        self,
        actor: Actor,
        holder: str,
        label: str = "",
        lifetime: dt.timedelta = dt.timedelta(days=90),
        scopes: list[str] | None = None,
    ) -> tuple[IssuedToken, dict[str, Any]]:
        now = utcnow()
        async with self.audit.acting(actor, "token.create", holder) as act:
            require(actor, "token.manage", self.table)
            if not dt.timedelta(0) < lifetime <= MAX_TOKEN_LIFETIME:
                raise InputError("令牌有效期须在 0 到 366 天之间 / a token lives 1 s to 366 days")
            unknown = sorted(set(scopes or ()) - set(PERMISSIONS))
            if unknown:
                raise InputError(f"未知权限 / unknown permission(s): {', '.join(unknown)}")
            user = await self.users.require(act.tx, holder, lock=False)
            check_token_holder(actor, user.role, user.disabled, self.table)
            issued, row = await self.tokens.create(
                act.tx,
                holder=user,
                label=label,
                expires_at=now + lifetime,
                scopes=scopes,
                created_by=actor.user or "",
                now=now,
            )
            act.target = f"{holder} {row.prefix}"
            act.after = token_json(row, holder, now)
        return issued, token_json(row, holder, now)

    async def revoke_token(self, actor: Actor, ref: str) -> dict[str, Any]:
        now = utcnow()
        async with self.audit.acting(actor, "token.revoke", ref) as act:
            require(actor, "token.revoke", self.table)
            row, holder = await self.tokens.find(act.tx, ref)
            act.target = f"{holder} {row.prefix}"
            await self.tokens.revoke(act.tx, row, now)
            act.after = {"revoked_at": now.isoformat()}
        return token_json(row, holder, now)

    # -- audit retention -----------------------------------------------------------------

    async def purge_audit(self, actor: Actor, now: dt.datetime | None = None) -> PurgeResult:
        """Delete audit rows older than the retention (never younger than 180 days)."""
        cutoff = (now or utcnow()) - self.policy.audit_retention
        async with self.audit.acting(actor, "audit.purge", "audit_log") as act:
            require(actor, "audit.purge", self.table)
            result = await self.audit.delete_older(act.tx, cutoff)
            act.after = {
                "deleted": result.deleted,
                "through_id": result.through_id,
                "through_hash": result.through_hash,
                "cutoff": cutoff.isoformat(),
            }
        return result

    # -- bootstrap -----------------------------------------------------------------------

    async def ensure_bootstrap_admin(self, actor: Actor | None = None) -> Bootstrap | None:
        """On a store without accounts, create ``admin`` with a random password (returned, to
        be shown once; must be changed at first login). None when accounts exist."""
        if await self.users.count() > 0:
            return None
        actor = actor or system_actor()
        password = generate_password(policy=self.policy.password)
        password_hash = await self._hash(password)
        now = utcnow()
        try:
            async with self.store.transaction() as tx:
                if await self.users.count(tx) > 0:
                    return None
                row = await self.users.add(
                    tx,
                    name=BOOTSTRAP_USER,
                    role="admin",
                    password_hash=password_hash,
                    must_change=True,
                    os_user=None,
                    now=now,
                )
                await self.audit.append(
                    tx, AuditEntry.by(actor, "user.bootstrap", BOOTSTRAP_USER, after=user_json(row))
                )
        except (IntegrityError, ConflictError):  # another process bootstrapped first
            return None
        return Bootstrap(BOOTSTRAP_USER, password)


async def ensure_bootstrap_admin(
    store: Store, actor: Actor | None = None, policy: SecurityPolicy | None = None
) -> Bootstrap | None:
    """``noc run`` and ``noc user bootstrap``: the first account of a fresh store."""
    return await Accounts(store, policy).ensure_bootstrap_admin(actor)


__all__ = ["Accounts", "Bootstrap", "ensure_bootstrap_admin", "system_actor"]
