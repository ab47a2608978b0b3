"""Roles and permissions: nesting, the separated duties, and the rules no role gets around."""

from __future__ import annotations

import pytest

from noc.core.errors import AuthError, ConflictError, ForbiddenError, InputError
from noc.identity import Actor
from noc.identity.roles import (
    DEFAULT_TABLE,
    DUTY_ROLES,
    OPERATING_ROLES,
    OPERATIONAL_WRITES,
    PERMISSIONS,
    PermissionTable,
    permission_table,
    separation_problems,
)
from noc.identity.rules import (
    bootstrap_grants,
    check_account_change,
    check_grant,
    check_second_person,
    check_token_holder,
    check_user_name,
    refuse_audit_change,
)


def actor(user: str | None, role: str | None, **kw) -> Actor:
    return Actor(user, role, "api", "192.0.2.7", **kw)


def test_operating_roles_nest_strictly():
    for lower, higher in zip(OPERATING_ROLES, OPERATING_ROLES[1:], strict=False):
        assert DEFAULT_TABLE.permissions_of(lower) < DEFAULT_TABLE.permissions_of(higher)


# hand-written: who holds what (the role list, read as a table)
EXPECTED = {
    "read": ("viewer", "operator", "lead", "admin", "auditor"),
    "ack": ("operator", "lead", "admin"),
    "step": ("operator", "lead", "admin"),
    "diagnose": ("operator", "lead", "admin"),
    "resolve": ("operator", "lead", "admin"),
    "ingest": ("operator", "lead", "admin"),
    "caller.read": ("operator", "lead", "admin"),
    "close": ("lead", "admin"),
    "regrade": ("lead", "admin"),
    "alert.test": ("lead", "admin"),
    "maintenance.write": ("lead", "admin"),
    "maintenance.approve": ("lead", "admin"),
    "step.override": ("lead", "admin"),
    "register.write": ("lead", "admin"),
    "config.write": ("admin",),
    "demo.generate": ("admin",),
    "token.manage": ("admin",),
    "token.revoke": ("admin", "security"),
    "user.read": ("security",),
    "user.manage": ("security",),
    "lockout.release": ("security",),
    "session.revoke": ("security",),
    "audit.read": ("auditor",),
    "audit.purge": ("auditor",),
}


def test_every_permission_is_in_the_expected_table():
    assert set(PERMISSIONS) == set(EXPECTED)


@pytest.mark.parametrize("permission", sorted(EXPECTED))
def test_permission_table(permission):
    assert DEFAULT_TABLE.roles_for(permission) == EXPECTED[permission]


def test_separated_duties_act_on_nothing_operational():
    for role in DUTY_ROLES:
        assert not DEFAULT_TABLE.permissions_of(role) & OPERATIONAL_WRITES, role
    assert not DEFAULT_TABLE.allows("admin", "user.manage")
    assert not DEFAULT_TABLE.allows("admin", "audit.read")
    assert not DEFAULT_TABLE.allows("security", "audit.read")
    assert not DEFAULT_TABLE.allows("auditor", "user.manage")
    assert not DEFAULT_TABLE.allows("security", "read")


@pytest.mark.parametrize("approvers", [("lead",), ("lead", "auditor"), ("auditor",)])
def test_the_tables_are_sound_for_every_approval_setting(approvers):
    assert separation_problems(permission_table(approvers)) == []


def test_maintenance_approval_is_configurable():
    assert permission_table(["lead", "auditor"]).roles_for("maintenance.approve") == (
        "lead",
        "admin",
        "auditor",
    )
    assert permission_table(["auditor"]).roles_for("maintenance.approve") == ("auditor",)
    with pytest.raises(ValueError):
        permission_table(["operator"])


def test_separation_problems_catches_a_bad_table():
    grants = dict(DEFAULT_TABLE.roles_by_permission)
    grants["close"] = grants["close"] | {"auditor"}
    grants["user.manage"] = grants["user.manage"] | {"admin"}
    problems = separation_problems(PermissionTable(grants))
    assert "auditor holds operational writes ['close']" in problems
    assert "auditor can both act and administer the audit log" in problems
    assert "admin can both manage accounts and act on operations" in problems


def test_nobody_may_change_audit_rows():
    for role in OPERATING_ROLES + DUTY_ROLES:
        assert not DEFAULT_TABLE.allows(role, "audit.update")
        assert not DEFAULT_TABLE.allows(role, "audit.delete")
    sneaky = actor("x", "admin", extra=frozenset({"audit.delete", "user.manage"}))
    assert not sneaky.can("audit.delete") and sneaky.can("user.manage")
    with pytest.raises(ForbiddenError):
        refuse_audit_change()


def test_require_says_who_may():
    from noc.identity import require

    require(actor("ann", "lead"), "close")
    with pytest.raises(ForbiddenError, match="'close' needs role lead, admin; bob is operator"):
        require(actor("bob", "operator"), "close")
    with pytest.raises(AuthError):
        require(actor(None, None), "read")


def test_a_scoped_token_does_only_its_scope():
    bot = actor("bot", "operator", scopes=frozenset({"ingest"}))
    assert bot.can("ingest") and not bot.can("ack") and not bot.can("read")


def test_nobody_grants_a_role_to_themselves():
    sec = actor("sue", "security")
    check_grant(sec, "bob", "lead")
    with pytest.raises(ForbiddenError, match="own account"):
        check_grant(sec, "sue", "admin")
    with pytest.raises(ForbiddenError):
        check_grant(actor("al", "admin"), "bob", "lead")
    with pytest.raises(InputError):
        check_grant(sec, "bob", "superuser")
    with pytest.raises(ForbiddenError):
        check_account_change(sec, "sue")


def test_bootstrap_lets_admin_create_the_first_security_officer():
    assert bootstrap_grants("admin", security_officer_exists=False) == {"user.read", "user.manage"}
    assert bootstrap_grants("admin", security_officer_exists=True) == frozenset()
    assert bootstrap_grants("lead", security_officer_exists=False) == frozenset()
    admin = actor("al", "admin", extra=bootstrap_grants("admin", False))
    check_grant(admin, "sue", "security")
    with pytest.raises(ForbiddenError):
        check_grant(admin, "al", "security")


def test_tokens_only_for_operating_accounts():
    admin = actor("al", "admin")
    check_token_holder(admin, "operator", holder_disabled=False)
    for role in DUTY_ROLES:
        with pytest.raises(ForbiddenError):
            check_token_holder(admin, role, holder_disabled=False)
    with pytest.raises(ConflictError):
        check_token_holder(admin, "viewer", holder_disabled=True)
    with pytest.raises(ForbiddenError):
        check_token_holder(actor("ann", "lead"), "viewer", holder_disabled=False)


def test_a_second_person_approves():
    check_second_person(actor("ann", "lead"), "bob")
    with pytest.raises(ForbiddenError):
        check_second_person(actor("ann", "lead"), "ann")


@pytest.mark.parametrize("name", ["root", "system", "A", "x", "Bob", "1abc", "a b", "a" * 64])
def test_bad_or_reserved_user_names(name):
    with pytest.raises(InputError):
        check_user_name(name)


def test_good_user_names():
    for name in ("li.ming", "op-2", "zhang_san", "ab"):
        assert check_user_name(name) == name
