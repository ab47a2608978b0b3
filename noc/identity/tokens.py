"""API tokens for automation: ``noc_`` + 32 random bytes (URL-safe), shown once, stored hashed.

The store keeps the SHA-256 of the whole token, and its first characters (``prefix``) so a
list can tell tokens apart without revealing them. ``Authorization: Bearer <token>`` carries
it. A token acts as its holder (an operating account), optionally limited to some permissions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Literal

from noc.identity.reasons import Reason
from noc.identity.sessions import secret_hash

TOKEN_PREFIX = "noc_"
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
DEFAULT_LIFETIME = dt.timedelta(days=90)

TokenState = Literal["active", "expired", "revoked"]

REFUSED: dict[str, Reason] = {
    "unknown": Reason("token_unknown", "令牌无效", "invalid token"),
    "expired": Reason("token_expired", "令牌已过期", "token expired"),
    "revoked": Reason("token_revoked", "令牌已吊销", "token revoked"),
    "disabled": Reason(
        "token_holder_disabled", "令牌所属账号已停用", "the token's account is disabled"
    ),
    "holder_role": Reason(
        "token_holder_role",
        "令牌所属账号的角色不可使用令牌",
        "the token's account may not use tokens",
    ),
}


@dataclass(frozen=True)
class IssuedToken:
    secret: str
    token_hash: str
    prefix: str


def new_token() -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return IssuedToken(secret=secret, token_hash=secret_hash(secret), prefix=secret[:PREFIX_LENGTH])


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
        return None
    return value


def token_state(
    *, expires_at: dt.datetime, revoked_at: dt.datetime | None, now: dt.datetime
) -> TokenState:
    if revoked_at is not None and revoked_at <= now:
        return "revoked"
    if now >= expires_at:
        return "expired"
    return "active"
