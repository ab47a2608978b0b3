"""Who may do what: the roles of issue 12 and the permission every route declares.

Operating roles are each a superset of the one before (viewer < operator < lead < admin); the
separated duties (三员分立) ``security`` and ``auditor`` act on nothing operational. A route
names one permission (``noc.web.routes.Route.permission``); :func:`allows` is the one answer to
"may this role use it". The identity layer (login, sessions, tokens) checks the same table.
"""

from __future__ import annotations

ROLES = ("viewer", "operator", "lead", "admin", "security", "auditor")
OPERATING = ("viewer", "operator", "lead", "admin")

PUBLIC = "public"  # no login needed: /healthz, /metrics, the login page, static files
READ = "read"  # boards, incidents, assets, SLA, API reference: every role

# permission -> the least operating role that has it, the one separated role that has it, or a
# tuple of exactly the roles that have it
PERMISSIONS: dict[str, str | tuple[str, ...]] = {
    "incidents.ack": "operator",
    "incidents.step": "operator",
    "incidents.run": "operator",
    "incidents.resolve": "operator",
    "incidents.close": "lead",
    "incidents.regrade": "lead",
    "incidents.override_intervention": "lead",
    "maintenance.create": "lead",
    "maintenance.end": "lead",
    "maintenance.approve": "lead",
    "alerting.test": "lead",
    "config.reload": "admin",
    "tokens.manage": "admin",
    "users.manage": "security",
    "system.view": ("admin", "security"),
    "audit.read": "auditor",
}


def known(permission: str) -> bool:
    return permission in (PUBLIC, READ) or permission in PERMISSIONS


def allows(role: str | None, permission: str) -> bool:
    """May a user with ``role`` (None: nobody logged in) use a route declaring ``permission``?"""
    if permission == PUBLIC:
        return True
    if role not in ROLES:
        return False
    if permission == READ:
        return True
    needed = PERMISSIONS[permission]
    if isinstance(needed, tuple):
        return role in needed
    if needed in OPERATING:
        return role in OPERATING and OPERATING.index(role) >= OPERATING.index(needed)
    return role == needed
