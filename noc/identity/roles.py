"""Roles, the permission table and the rules no role can get around.

Operating roles nest: ``viewer`` ⊂ ``operator`` ⊂ ``lead`` ⊂ ``admin``; each is granted what it
adds and inherits the rest. The two separated duties MLPS level 3 expects (三员分立) stand
apart and act on nothing operational: ``security`` manages accounts, ``auditor`` reads the
audit log. No permission edits or deletes an audit row (there is none to grant), and nobody
changes their own role or account state.

Routes and commands name a permission, never a role, so the table below is the one place that
says who may do what. ``maintenance.approve`` is configurable (``security.maintenance_approvers``):
a second ``lead``, the purchaser's ``auditor``, or either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

OPERATING_ROLES: tuple[str, ...] = ("viewer", "operator", "lead", "admin")
DUTY_ROLES: tuple[str, ...] = ("security", "auditor")
ROLES: tuple[str, ...] = OPERATING_ROLES + DUTY_ROLES

ROLE_TITLES: Mapping[str, tuple[str, str]] = {
    "viewer": ("查看", "viewer"),
    "operator": ("值班员", "operator"),
    "lead": ("值班长", "shift lead"),
    "admin": ("系统管理员", "system administrator"),
    "security": ("安全管理员", "security administrator"),
    "auditor": ("审计管理员", "auditor"),
}

# What each operating role adds to the one before it.
_OPERATING_ADDS: Mapping[str, tuple[str, ...]] = {
    "viewer": ("read",),
    "operator": ("ack", "step", "diagnose", "resolve", "ingest", "caller.read"),
    "lead": (
        "close",
        "regrade",
        "maintenance.write",
        "maintenance.approve",
        "step.override",
        "alert.test",
        "register.write",
    ),
    "admin": ("config.write", "token.manage", "token.revoke", "demo.generate"),
}
_DUTY_GRANTS: Mapping[str, tuple[str, ...]] = {
    "security": (
        "user.read",
        "user.manage",
        "lockout.release",
        "session.revoke",
        "token.revoke",
    ),
    "auditor": ("read", "audit.read", "audit.purge"),
}

PERMISSION_TITLES: Mapping[str, str] = {
    "read": "read boards, incidents, SLA and reports (caller data masked, secrets never)",
    "ack": "acknowledge an incident",
    "step": "record a runbook step",
    "diagnose": "run automated diagnostics (traceroute, ARP scan, probes)",
    "resolve": "declare an incident fixed by hand",
    "ingest": "feed calls, tickets and the knowledge base",
    "caller.read": "see caller data unmasked",
    "close": "close an incident with its cause",
    "regrade": "change an incident's severity",
    "maintenance.write": "create or end a maintenance window",
    "maintenance.approve": "approve someone else's maintenance window (it then counts for the SLA)",
    "step.override": "override a step's intervention flag, with a reason",
    "alert.test": "send a test message through an alert channel",
    "register.write": "enter the KPI registers: staff, report submissions, emergencies",
    "config.write": "reload or change the configuration",
    "demo.generate": "load a synthetic demo history into a store (never a production one)",
    "token.manage": "issue API tokens for automation",
    "token.revoke": "revoke API tokens",
    "user.read": "list accounts",
    "user.manage": "create accounts, change roles, reset passwords, disable and enable",
    "lockout.release": "release a locked account or address",
    "session.revoke": "end someone's sessions",
    "audit.read": "read and export the audit log",
    "audit.purge": "purge audit rows older than the retention (never younger)",
}
PERMISSIONS: tuple[str, ...] = tuple(PERMISSION_TITLES)

OPERATIONAL_WRITES: frozenset[str] = frozenset(
    {
        "ack",
        "step",
        "diagnose",
        "resolve",
        "ingest",
        "close",
        "regrade",
        "maintenance.write",
        "step.override",
        "register.write",
        "config.write",
        "demo.generate",
    }
)
"""Acts on the network, incidents, the SLA or the service; the duty roles hold none of them."""

ACCOUNT_ADMIN: frozenset[str] = frozenset({"user.manage", "lockout.release", "session.revoke"})
AUDIT_ADMIN: frozenset[str] = frozenset({"audit.read", "audit.purge"})
APPROVER_ROLES: tuple[str, ...] = ("lead", "auditor")

FORBIDDEN_TO_ALL: frozenset[str] = frozenset({"audit.update", "audit.delete"})
"""Not in the table and never grantable: the audit log is append-only for everyone."""


def operating_permissions(role: str) -> frozenset[str]:
    """What an operating role may do: its own grants plus everything below it."""
    out: set[str] = set()
    for r in OPERATING_ROLES[: OPERATING_ROLES.index(role) + 1]:
        out.update(_OPERATING_ADDS[r])
    return frozenset(out)


@dataclass(frozen=True)
class PermissionTable:
    """permission name → the roles that hold it."""

    roles_by_permission: Mapping[str, frozenset[str]]

    def allows(self, role: str | None, permission: str) -> bool:
        if role is None or permission in FORBIDDEN_TO_ALL:
            return False
        return role in self.roles_by_permission.get(permission, frozenset())

    def roles_for(self, permission: str) -> tuple[str, ...]:
        held = self.roles_by_permission.get(permission, frozenset())
        return tuple(r for r in ROLES if r in held)

    def permissions_of(self, role: str) -> frozenset[str]:
        return frozenset(p for p, roles in self.roles_by_permission.items() if role in roles)


def permission_table(maintenance_approvers: Iterable[str] = ("lead",)) -> PermissionTable:
    """The table, with ``maintenance.approve`` held by ``lead`` (and admin), ``auditor``, or both."""
    approvers = set(maintenance_approvers)
    unknown = approvers - set(APPROVER_ROLES)
    if unknown or not approvers:
        raise ValueError(f"maintenance approvers must be among {APPROVER_ROLES}, got {approvers}")
    grants: dict[str, set[str]] = {p: set() for p in PERMISSIONS}
    for role in OPERATING_ROLES:
        for p in operating_permissions(role):
            grants[p].add(role)
    for role, perms in _DUTY_GRANTS.items():
        for p in perms:
            grants[p].add(role)
    approve = grants["maintenance.approve"]
    if "lead" not in approvers:
        approve.clear()
    if "auditor" in approvers:
        approve.add("auditor")
    return PermissionTable({p: frozenset(r) for p, r in grants.items()})


DEFAULT_TABLE = permission_table()


def separation_problems(table: PermissionTable) -> list[str]:
    """Every way ``table`` breaks the nesting or the separation of duties (empty when sound)."""
    problems = []
    for lower, higher in zip(OPERATING_ROLES, OPERATING_ROLES[1:], strict=False):
        missing = table.permissions_of(lower) - table.permissions_of(higher)
        if missing:
            problems.append(f"{higher} lacks {sorted(missing)} that {lower} has")
    for role in ROLES:
        perms = table.permissions_of(role)
        if role in DUTY_ROLES and perms & OPERATIONAL_WRITES:
            problems.append(f"{role} holds operational writes {sorted(perms & OPERATIONAL_WRITES)}")
        if perms & AUDIT_ADMIN and perms & (OPERATIONAL_WRITES | ACCOUNT_ADMIN):
            problems.append(f"{role} can both act and administer the audit log")
        if perms & ACCOUNT_ADMIN and perms & OPERATIONAL_WRITES:
            problems.append(f"{role} can both manage accounts and act on operations")
        if perms & FORBIDDEN_TO_ALL:
            problems.append(f"{role} may change audit rows")
    return problems
