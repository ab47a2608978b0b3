"""Who may do what, and the record of it: pure rules, no database and no web.

``roles`` (roles, the permission table, separation of duties), ``actor`` (who is acting and
through which channel), ``passwords`` (policy, generation, argon2id hashing), ``lockout``,
``sessions``, ``tokens`` and ``audit`` (the tamper-evident chain). The store keeps the rows
(``noc.store.users`` …); the CLI and the web edge build an :class:`Actor` and ask these
modules before acting. GB/T 22239-2019 mapping: ``docs/security.md``.
"""

from noc.identity.actor import CHANNELS, Actor, require
from noc.identity.policy import SecurityPolicy
from noc.identity.reasons import Reason
from noc.identity.roles import (
    DUTY_ROLES,
    OPERATING_ROLES,
    ROLES,
    PermissionTable,
    permission_table,
)

__all__ = [
    "CHANNELS",
    "DUTY_ROLES",
    "OPERATING_ROLES",
    "ROLES",
    "Actor",
    "PermissionTable",
    "Reason",
    "SecurityPolicy",
    "permission_table",
    "require",
]
