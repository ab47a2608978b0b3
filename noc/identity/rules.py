"""The rules that hold whatever the role: names, self-service limits, second persons, bootstrap.

- Nobody grants a role to themselves, nor disables, enables or resets their own account
  through account management (changing one's own password is a separate, self-service act).
- API tokens act as their holder; only operating accounts hold them, so no token can act as
  the security officer or the auditor outside their own session.
- A maintenance window is approved by a second person, never by whoever created it.
- Bootstrap: while no enabled ``security`` account exists, ``admin`` (and root on the CLI, who
  acts as admin) may manage accounts, so that the first security officer can be created;
  creating that officer ends it.
- Nobody edits or deletes an audit row through the product.
"""

from __future__ import annotations

import re

from noc.core.errors import ConflictError, ForbiddenError, InputError
from noc.identity.actor import Actor, require
from noc.identity.roles import DEFAULT_TABLE, OPERATING_ROLES, ROLES, PermissionTable

_USER_NAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,62}$")
_OS_LOGIN_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?$")
RESERVED_NAMES = frozenset({"root", "system"})
"""Names the audit log uses for actors that are not NOC accounts."""

BOOTSTRAP_GRANTS = frozenset({"user.read", "user.manage"})


def check_user_name(name: str) -> str:
    if not _USER_NAME_RE.match(name):
        raise InputError(
            f"用户名无效 / invalid user name {name!r}: 2-63 lowercase letters, digits, '.', '-' "
            "or '_', starting with a letter"
        )
    if name in RESERVED_NAMES:
        raise InputError(f"用户名保留 / {name!r} is reserved for the audit log")
    return name


def check_os_login(login: str) -> str:
    if not _OS_LOGIN_RE.match(login):
        raise InputError(f"操作系统账号无效 / invalid OS login {login!r}")
    return login


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"未知角色 / unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def check_account_change(actor: Actor, target: str, table: PermissionTable = DEFAULT_TABLE) -> None:
    """Account management (role, disable, enable, password reset) of someone else's account."""
    require(actor, "user.manage", table)
    if actor.user == target:
        raise ForbiddenError(
            "不能管理自己的账号 / nobody grants a role to, disables or resets their own account"
        )


def check_grant(
    actor: Actor, target: str, new_role: str, table: PermissionTable = DEFAULT_TABLE
) -> None:
    check_role(new_role)
    check_account_change(actor, target, table)


def check_token_holder(
    actor: Actor,
    holder_role: str,
    holder_disabled: bool,
    table: PermissionTable = DEFAULT_TABLE,
) -> None:
    require(actor, "token.manage", table)
    if holder_role not in OPERATING_ROLES:
        raise ForbiddenError(
            f"{holder_role} 账号不发令牌 / accounts of role {holder_role} get no API tokens "
            "(separated duties act only in their own sessions)"
        )
    if holder_disabled:
        raise ConflictError("账号已停用 / the account is disabled")


def check_second_person(actor: Actor, created_by: str | None) -> None:
    if actor.user is not None and actor.user == created_by:
        raise ForbiddenError(
            "需另一人审批 / a window is approved by someone other than the person who created it"
        )


def bootstrap_grants(role: str | None, security_officer_exists: bool) -> frozenset[str]:
    """What ``admin`` holds beyond its role until the first security officer exists."""
    if role == "admin" and not security_officer_exists:
        return BOOTSTRAP_GRANTS
    return frozenset()


def refuse_audit_change() -> None:
    """There is no act that edits or deletes an audit row; this is its only answer."""
    raise ForbiddenError("审计记录不可修改或删除 / audit rows cannot be changed or deleted")
