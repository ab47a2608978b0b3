"""Tables of accounts, logins, sessions, API tokens and the audit log (migration 0002).

Secrets never reach these tables: passwords as argon2id hashes, session ids and tokens as
SHA-256 hashes. ``audit_log`` is append-only (triggers refuse UPDATE, and DELETE of any row
younger than 180 days, on both backends); ``audit_head`` holds the newest row's id and hash,
only ever moves forward, and is the row every appender locks so the chain stays a line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from noc.store.tables import Base, BigId

# audit ids are assigned by the appender (last + 1), not by a sequence
AuditId = BigInteger().with_variant(Integer(), "sqlite")


class UserRow(Base):
    """A NOC account: one person (or one automation), one role."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change: Mapped[bool] = mapped_column(Boolean, default=True)
    password_changed_at: Mapped[dt.datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    os_user: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime]


class LoginFailure(Base):
    """A failed login, by the name as typed (the account may not exist) and the source."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(255))
    at: Mapped[dt.datetime]
    __table_args__ = (
        Index("ix_login_failures_user_at", "user_name", "at"),
        Index("ix_login_failures_source_at", "source", "at"),
    )


class SessionRow(Base):
    """A console session; the cookie holds the id, the table its SHA-256."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(255), default="")
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    __table_args__ = (Index("ix_sessions_user_id", "user_id"),)


class ApiTokenRow(Base):
    """An automation token; ``prefix`` (``noc_`` + 8 characters) tells tokens apart in lists."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    label: Mapped[str] = mapped_column(String(100), default="")
    scopes: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)


class AuditRow(Base):
    """One audited act (or refusal); ``hash`` chains it to the row before (noc.identity.audit)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(AuditId, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor_user: Mapped[str | None] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    credential: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255), default="")
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    after: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_user", "actor_user"),
    )


class AuditHead(Base):
    """The newest audit row (one row, id 1): the appenders' lock and the chain's end."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


IDENTITY_TABLES = ("users", "login_failures", "sessions", "api_tokens", "audit_log", "audit_head")
