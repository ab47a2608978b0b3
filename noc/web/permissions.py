"""Who may use which route: every route names one permission of the identity layer's table.

The table itself (roles, what each holds, the separation of duties) lives in
:mod:`noc.identity.roles`; this module only adds the two route-level words ``public`` (no
login: /healthz, /metrics, the login page, static files) and ``read`` (any logged-in role),
and ``system.view`` for the admin page (who manages accounts or tokens). :func:`allows` is the
one answer to "may this role use it", for the API, the console and the OpenAPI document.
"""

from __future__ import annotations

from noc.core.errors import AuthError
from noc.identity.actor import Actor, require
from noc.identity.roles import DEFAULT_TABLE, ROLES, PermissionTable

PUBLIC = "public"
READ = "read"
SIGNED_IN = "signed-in"  # any signed-in account, even one that must change its password
SCRAPE = "metrics"  # /metrics: open unless server.metrics_auth: bearer (then a token that reads)
SYSTEM_VIEW = "system.view"
_SYSTEM_VIEW_ANY_OF = ("user.read", "token.manage")

PERMISSIONS: dict[str, tuple[str, ...]] = {
    p: DEFAULT_TABLE.roles_for(p) for p in DEFAULT_TABLE.roles_by_permission
} | {
    SYSTEM_VIEW: tuple(
        r for r in ROLES if any(DEFAULT_TABLE.allows(r, p) for p in _SYSTEM_VIEW_ANY_OF)
    )
}
"""permission → the roles that hold it (the default table; ``security.maintenance_approvers``
changes who holds ``maintenance.approve``)."""


def known(permission: str) -> bool:
    return permission in (PUBLIC, READ, SIGNED_IN, SCRAPE) or permission in PERMISSIONS


def require_route(actor: Actor, permission: str, table: PermissionTable = DEFAULT_TABLE) -> None:
    """Refuse ``actor`` a route declaring ``permission`` (401 nobody, 403 too little role or a
    token not scoped for it): the middleware's one check, the same answer as :func:`allows`."""
    if permission == PUBLIC:
        return
    if not actor.known:
        raise AuthError(actor.anonymous_reason)
    if permission == SIGNED_IN:
        return
    if permission in (READ, SCRAPE):
        if actor.role in ROLES and (actor.scopes is None or READ in actor.scopes):
            return
        require(actor, READ, table)  # the reason: not scoped for it
        return
    if permission == SYSTEM_VIEW:
        if any(actor.can(p, table) for p in _SYSTEM_VIEW_ANY_OF):
            return
        require(actor, _SYSTEM_VIEW_ANY_OF[0], table)
        return
    require(actor, permission, table)


def allows(role: str | None, permission: str, table: PermissionTable = DEFAULT_TABLE) -> bool:
    """May a user with ``role`` (None: nobody logged in) use a route declaring ``permission``?"""
    if permission == PUBLIC:
        return True
    if role not in ROLES:
        return False
    if permission in (READ, SIGNED_IN, SCRAPE):
        return True
    if permission == SYSTEM_VIEW:
        return any(table.allows(role, p) for p in _SYSTEM_VIEW_ANY_OF)
    return table.allows(role, permission)


__all__ = [
    "PERMISSIONS",
    "PUBLIC",
    "READ",
    "ROLES",
    "SCRAPE",
    "SIGNED_IN",
    "SYSTEM_VIEW",
    "allows",
    "known",
    "require_route",
]
