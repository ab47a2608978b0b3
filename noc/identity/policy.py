"""Every configurable security figure in one value, built from the config's ``security:``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from noc.identity.lockout import LockoutPolicy
from noc.identity.passwords import PasswordPolicy
from noc.identity.roles import PermissionTable, permission_table
from noc.identity.sessions import SessionPolicy

MIN_AUDIT_RETENTION = dt.timedelta(days=180)
"""The Cybersecurity Law (网络安全法 第二十一条) asks for six months of logs; never less."""


@dataclass(frozen=True)
class SecurityPolicy:
    password: PasswordPolicy = field(default_factory=PasswordPolicy)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    session: SessionPolicy = field(default_factory=SessionPolicy)
    audit_retention: dt.timedelta = MIN_AUDIT_RETENTION
    maintenance_approvers: tuple[str, ...] = ("lead",)

    def __post_init__(self) -> None:
        if self.audit_retention < MIN_AUDIT_RETENTION:
            raise ValueError("audit retention must be at least 180 days")

    @cached_property
    def permissions(self) -> PermissionTable:
        return permission_table(self.maintenance_approvers)
