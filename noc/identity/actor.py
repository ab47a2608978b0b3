"""Who is acting, through which channel, from where: the subject of every check and audit row.

The web edge builds an :class:`Actor` from a session or a token, the CLI from the OS account
bound to a NOC user (``user`` None when there is none: ``anonymous_reason`` says why).
``credential`` names the session or token (``session:12``, ``token:3``),
never its secret. A token may be limited to some permissions (``scopes``); ``extra`` carries
the bootstrap grant (user management while no security officer exists, see ``rules``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from noc.core.errors import AuthError, ForbiddenError
from noc.identity.roles import DEFAULT_TABLE, FORBIDDEN_TO_ALL, PermissionTable

Channel = Literal["api", "console", "cli"]
CHANNELS: tuple[str, ...] = ("api", "console", "cli")


@dataclass(frozen=True)
class Actor:
    user: str | None
    role: str | None
    channel: Channel
    source: str
    credential: str | None = None
    scopes: frozenset[str] | None = None
    extra: frozenset[str] = field(default_factory=frozenset)
    anonymous_reason: str = "未登录 / not authenticated"

    @property
    def known(self) -> bool:
        return self.user is not None

    def can(self, permission: str, table: PermissionTable = DEFAULT_TABLE) -> bool:
        if not self.known:
            return False
        if self.scopes is not None and permission not in self.scopes:
            return False
        if permission in self.extra:
            return permission not in FORBIDDEN_TO_ALL
        return table.allows(self.role, permission)


class PermissionDenied(ForbiddenError):
    """403 for want of a permission: which one, and the roles that hold it (so a page can name
    them in its own language, not only in the message)."""

    def __init__(self, message: str, *, permission: str, holders: tuple[str, ...]) -> None:
        super().__init__(message)
        self.permission = permission
        self.holders = holders


def require(actor: Actor, permission: str, table: PermissionTable = DEFAULT_TABLE) -> None:
    """Refuse (401 unknown actor, 403 too little role) with a reason naming who may."""
    if not actor.known:
        raise AuthError(actor.anonymous_reason)
    if actor.can(permission, table):
        return
    roles = tuple(table.roles_for(permission))
    holders = ", ".join(roles) or "nobody"
    if actor.scopes is not None and permission not in actor.scopes:
        raise PermissionDenied(
            f"令牌无此权限 / this token is not scoped for {permission!r} (scopes: "
            f"{', '.join(sorted(actor.scopes)) or 'none'})",
            permission=permission,
            holders=roles,
        )
    raise PermissionDenied(
        f"权限不足 / {permission!r} needs role {holders}; {actor.user} is {actor.role}",
        permission=permission,
        holders=roles,
    )
