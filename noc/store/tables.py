"""The event store's tables.

Append-only by design: ``check_transitions`` and ``incident_events`` are the log every SLA and
report is computed from, and the migration adds triggers that refuse UPDATE and DELETE on them.
``incidents`` and ``assets`` are current-state projections kept for fast listing; they can be
rebuilt from the log. ``notifications`` is the alerting outbox (written before delivery).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from noc.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class AssetRow(Base):
    """An asset as last synced from the inventory; retired assets are kept for history."""

    __tablename__ = "assets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    site: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str | None] = mapped_column(String(255))
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class CheckTransition(Base):
    """A health state change of one (asset, check); ``at`` is the first observation that caused it."""

    __tablename__ = "check_transitions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(63))
    asset: Mapped[str] = mapped_column(String(63))
    check: Mapped[str] = mapped_column(String(63))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (Index("ix_check_transitions_asset_check_at", "asset", "check", "at"),)


class Incident(Base):
    """Current state of an incident (a projection of its events).

    ``fault_key`` identifies the fault (e.g. ``circuit_down:mstp-voice``); at most one incident per
    key is active (open or acknowledged) at a time, enforced by a partial unique index, so a
    restarted engine resumes the active incident instead of opening a twin. A recovered incident
    waiting to be closed does not block a new one: a recurrence is a new failure for the SLA.
    """

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(63))
    fault_key: Mapped[str] = mapped_column(String(200))
    fault_type: Mapped[str] = mapped_column(String(63))
    root_asset: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(4))
    peak_severity: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16), default="open")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    runbook: Mapped[str | None] = mapped_column(String(100))
    fault_started_at: Mapped[dt.datetime]
    detected_at: Mapped[dt.datetime]
    alarmed_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    recovered_at: Mapped[dt.datetime | None]
    recovery_kind: Mapped[str | None] = mapped_column(String(16))
    closed_at: Mapped[dt.datetime | None]
    close_note: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (
        Index(
            "uq_incidents_open_fault_key",
            "fault_key",
            unique=True,
            sqlite_where=text("status IN ('open', 'acknowledged')"),
            postgresql_where=text("status IN ('open', 'acknowledged')"),
        ),
        Index("ix_incidents_status", "status"),
        Index("ix_incidents_detected_at", "detected_at"),
        Index("ix_incidents_root_asset", "root_asset"),
    )


class IncidentEvent(Base):
    """One entry of an incident's append-only timeline (opened, graded, acknowledged, step_done …)."""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime]
    actor: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (
        UniqueConstraint("incident_id", "seq", name="uq_incident_events_incident_seq"),
    )


class Notification(Base):
    """The alerting outbox: written before delivery, delivered by a worker, never deleted."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    receiver: Mapped[str] = mapped_column(String(63))
    event_kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(4))
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
        Index("ix_notifications_incident_id", "incident_id"),
    )


class NotificationAttempt(Base):
    """One delivery attempt of a notification, kept for audit and metrics."""

    __tablename__ = "notification_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    at: Mapped[dt.datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    duration_seconds: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text)


class MaintenanceWindow(Base):
    """Planned work on assets: mutes their alerts from creation; excluded from SLA operating time
    only once a second person approved it (``approved_by``/``approved_at``, migration 0007)."""

    __tablename__ = "maintenance_windows"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(63))
    assets: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(100), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    __table_args__ = (Index("ix_maintenance_windows_span", "starts_at", "ends_at"),)


class MonitorRun(Base):
    """One run of the service, for the SLA's monitored time (docs/sla.md).

    ``heartbeat_at`` moves every heartbeat; a clean stop sets ``stopped_at``; a crash leaves the
    last heartbeat as the run's end. ``checks`` lists the checks configured in the run
    (``asset``, ``check``, ``interval``, ``stale_after`` seconds): a check not listed was not
    configured then, and that time is unmonitored for its scopes."""

    __tablename__ = "monitor_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(63))
    started_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime]
    stopped_at: Mapped[dt.datetime | None]
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    checks: Mapped[list[Any]] = mapped_column(default=list)
    __table_args__ = (Index("ix_monitor_runs_started_at", "started_at"),)


class CheckCoverage(Base):
    """A stretch of fresh results of one check in one run: ``[since, until)``, from its first to
    its last result, with no gap longer than the check's stale limit. A projection kept by the
    watch (:mod:`noc.runtime.watch`): ``until`` is extended at each heartbeat while results stay
    fresh; the stretch is closed when they go stale or the service stops. ``first_ok_at`` and
    ``last_ok_at`` date a fault found present when monitoring resumed (docs/sla.md)."""

    __tablename__ = "check_coverage"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id"))
    site: Mapped[str] = mapped_column(String(63))
    asset: Mapped[str] = mapped_column(String(63))
    check: Mapped[str] = mapped_column(String(63))
    since: Mapped[dt.datetime]
    until: Mapped[dt.datetime]
    first_ok_at: Mapped[dt.datetime | None]
    last_ok_at: Mapped[dt.datetime | None]
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_check_coverage_asset_check_until", "asset", "check", "until"),)


APPEND_ONLY_TABLES = ("check_transitions", "incident_events", "notification_attempts")
