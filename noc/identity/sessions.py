"""Server-side sessions: random ids, only their hash stored, idle and absolute timeouts.

The browser holds the id in an HttpOnly, SameSite=Strict cookie; the store keeps its SHA-256,
so a copy of the database opens no session. A new id is issued at every login (no fixation).
A session ends after 30 minutes without a request, 12 hours after login whatever happens, at
logout or when revoked (GB/T 22239 8.1.4.1 b: 登录连接超时自动退出).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from noc.identity.reasons import Reason

SessionState = Literal["active", "idle", "expired", "revoked"]

ENDED: dict[str, Reason] = {
    "idle": Reason(
        "session_idle", "长时间未操作，请重新登录", "session idle too long; log in again"
    ),
    "expired": Reason("session_expired", "会话已到期，请重新登录", "session expired; log in again"),
    "revoked": Reason("session_revoked", "会话已结束，请重新登录", "session ended; log in again"),
    "unknown": Reason("session_unknown", "未登录或会话无效", "not logged in or unknown session"),
}


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta = dt.timedelta(minutes=30)
    absolute: dt.timedelta = dt.timedelta(hours=12)

    def __post_init__(self) -> None:
        if self.idle <= dt.timedelta(0) or self.absolute < self.idle:
            raise ValueError("session timeouts need 0 < idle ≤ absolute")


@dataclass(frozen=True)
class NewSession:
    """A session as issued: ``secret`` goes to the cookie once, ``id_hash`` to the store."""

    secret: str
    id_hash: str
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime


def secret_hash(secret: str) -> str:
    """SHA-256 (hex) of a session id or token: what the store keeps and looks up by."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_session(now: dt.datetime, policy: SessionPolicy = SessionPolicy()) -> NewSession:
    secret = secrets.token_urlsafe(32)
    return NewSession(
        secret=secret,
        id_hash=secret_hash(secret),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + policy.absolute,
    )


def session_state(
    *,
    last_seen_at: dt.datetime,
    expires_at: dt.datetime,
    revoked_at: dt.datetime | None,
    now: dt.datetime,
    policy: SessionPolicy = SessionPolicy(),
) -> SessionState:
    if revoked_at is not None and revoked_at <= now:
        return "revoked"
    if now >= expires_at:
        return "expired"
    if now - last_seen_at >= policy.idle:
        return "idle"
    return "active"


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(expected, given)
