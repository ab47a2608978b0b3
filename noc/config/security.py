"""The ``security:`` section: passwords, lockout, sessions, audit retention, maintenance approval.

Every key has a default (the figures GB/T 22239-2019 and the tender ask for), so a file without
the section loads unchanged. Limits only go one way where the law sets a floor: the audit log
is kept at least 180 days, and a password is at least 10 characters.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from noc.core.units import Duration
from noc.core.validation import StrictModel
from noc.identity.lockout import LockoutPolicy
from noc.identity.passwords import MIN_LENGTH, PasswordPolicy
from noc.identity.policy import MIN_AUDIT_RETENTION, SecurityPolicy
from noc.identity.sessions import SessionPolicy

_DAY = 86400.0


def _at_least_180_days(value: float) -> float:
    if value < MIN_AUDIT_RETENTION.total_seconds():
        raise ValueError(
            "must be at least 180d (网络安全法 第二十一条：日志留存不少于六个月 / the "
            "Cybersecurity Law keeps logs six months); it can only be raised"
        )
    return value


class PasswordSettings(StrictModel):
    min_length: Annotated[int, Field(ge=MIN_LENGTH, le=128)] = MIN_LENGTH
    expiry: Annotated[Duration, Field(gt=0)] = 90 * _DAY


class LockoutSettings(StrictModel):
    failures: Annotated[int, Field(ge=1, le=100)] = 5
    window: Annotated[Duration, Field(gt=0)] = 900.0
    duration: Annotated[Duration, Field(gt=0)] = 900.0


class SessionSettings(StrictModel):
    idle: Annotated[Duration, Field(gt=0)] = 1800.0
    absolute: Annotated[Duration, Field(gt=0)] = 12 * 3600.0

    @model_validator(mode="after")
    def _idle_within_absolute(self) -> SessionSettings:
        if self.absolute < self.idle:
            raise ValueError("absolute must not be shorter than idle")
        return self


class AuditSettings(StrictModel):
    retention: Annotated[Duration, AfterValidator(_at_least_180_days)] = 180 * _DAY


class SecuritySettings(StrictModel):
    password: PasswordSettings = PasswordSettings()
    lockout: LockoutSettings = LockoutSettings()
    session: SessionSettings = SessionSettings()
    audit: AuditSettings = AuditSettings()
    maintenance_approvers: list[Literal["lead", "auditor"]] = Field(
        default_factory=lambda: ["lead"], min_length=1
    )

    def policy(self) -> SecurityPolicy:
        seconds = dt.timedelta(seconds=1)
        return SecurityPolicy(
            password=PasswordPolicy(
                min_length=self.password.min_length, expiry=self.password.expiry * seconds
            ),
            lockout=LockoutPolicy(
                max_failures=self.lockout.failures,
                window=self.lockout.window * seconds,
                duration=self.lockout.duration * seconds,
            ),
            session=SessionPolicy(
                idle=self.session.idle * seconds, absolute=self.session.absolute * seconds
            ),
            audit_retention=self.audit.retention * seconds,
            maintenance_approvers=tuple(dict.fromkeys(self.maintenance_approvers)),
        )
