"""Calls, tickets, their registers and the knowledge base (docs/calls-tickets.md, field by field).

The append-only logs: ``ticket_events`` (every change to a ticket; the ``tickets`` row is their
projection, ``noc.ingest.lifecycle``), ``kb_versions`` (every version of an entry; ``kb_entries``
is the latest) and ``queue_log_lines`` (Asterisk's lines, from which its calls are derived).
The migration adds triggers refusing UPDATE and DELETE on them.

External ids are unique: ``(source, call_id)``, ``ticket_no``, ``event_id``, ``entry_id`` and a
line's keyed hash. Every way in inserts with ``ON CONFLICT DO NOTHING`` and compares what was
already there, so a repeat is acknowledged, never duplicated, even when two arrive at once.

Caller numbers are never here in clear: ``caller_hash`` (HMAC-SHA256), ``caller_masked``
(138****8000) and, only with ``privacy.store_caller: encrypted``, ``caller_enc``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from noc.store.tables import Base, BigId


class CallRow(Base):
    """One call: one visit of a caller to an agent queue (or an IVR-only call)."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(63))
    call_id: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str | None] = mapped_column(String(63))
    caller_hash: Mapped[str | None] = mapped_column(String(64))
    caller_masked: Mapped[str | None] = mapped_column(String(32))
    caller_enc: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime]
    entered_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    agent: Mapped[str | None] = mapped_column(String(63))
    ended_at: Mapped[dt.datetime]
    outcome: Mapped[str] = mapped_column(String(16))
    wait_seconds: Mapped[float | None] = mapped_column(Double)
    talk_seconds: Mapped[float | None] = mapped_column(Double)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    __table_args__ = (
        UniqueConstraint("source", "call_id", name="uq_calls_source_call_id"),
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_agent_started_at", "agent", "started_at"),
        Index("ix_calls_queue_started_at", "queue", "started_at"),
        Index("ix_calls_caller_hash", "caller_hash"),
    )


class QueueLogLineRow(Base):
    """A line of an Asterisk ``queue_log`` (call events only), kept so a call whose lines span
    two files (a rotated log) is derived whole whichever file is imported first."""

    __tablename__ = "queue_log_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(63))
    line_key: Mapped[str] = mapped_column(String(64), unique=True)
    time: Mapped[dt.datetime]
    callid: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str] = mapped_column(String(63))
    agent: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(32))
    data: Mapped[list[Any]] = mapped_column(default=list)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    caller_hash: Mapped[str | None] = mapped_column(String(64))
    caller_masked: Mapped[str | None] = mapped_column(String(32))
    caller_enc: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime]
    __table_args__ = (Index("ix_queue_log_lines_source_callid", "source", "callid"),)


class TicketRow(Base):
    """A ticket (工单) as it stands now: the fields it was created with, and the projection of
    its events (status, dispatch, closing, callback, rating)."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_no: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    channel: Mapped[str | None] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(100))
    town: Mapped[str | None] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    caller_hash: Mapped[str | None] = mapped_column(String(64))
    caller_masked: Mapped[str | None] = mapped_column(String(32))
    caller_enc: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[str | None] = mapped_column(String(100))
    agent: Mapped[str | None] = mapped_column(String(63))
    instant_answer: Mapped[bool] = mapped_column(Boolean, default=False)
    kb_entry: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="local")
    province_ref: Mapped[str | None] = mapped_column(String(64))
    # the projection of ticket_events (noc.ingest.lifecycle.project)
    status: Mapped[str] = mapped_column(String(16), default="new")
    dispatched_to: Mapped[str | None] = mapped_column(String(100))
    dispatched_at: Mapped[dt.datetime | None]
    deadline: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    callback_at: Mapped[dt.datetime | None]
    callback_method: Mapped[str | None] = mapped_column(String(16))
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    recorded_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    __table_args__ = (
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_type_created_at", "type", "created_at"),
        Index("ix_tickets_town_created_at", "town", "created_at"),
        Index("ix_tickets_agent_created_at", "agent", "created_at"),
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_caller_hash", "caller_hash"),
        Index("ix_tickets_province_ref", "province_ref"),
    )


class TicketEventRow(Base):
    """One change to a ticket, append-only: ``at`` is when it happened, ``recorded_at`` when we
    learned it, so a figure can be recomputed as it stood, or as it was known, at any instant.
    A commendation may have no ticket."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(160), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[dt.datetime]
    __table_args__ = (
        Index("ix_ticket_events_ticket_at", "ticket_id", "at"),
        Index("ix_ticket_events_kind_at", "kind", "at"),
    )


class SpotCheckRow(Base):
    """抽检: the provincial platform checked a ticket (合格 pass / 不合格 fail)."""

    __tablename__ = "spot_checks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    checked_at: Mapped[dt.datetime]
    result: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_spot_checks_checked_at", "checked_at"),)


class AgentComplaintRow(Base):
    """有理由投诉: a complaint against an agent, as ruled (justified or not)."""

    __tablename__ = "agent_complaints"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    agent: Mapped[str] = mapped_column(String(63))
    ruled_at: Mapped[dt.datetime]
    justified: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_agent_complaints_ruled_at", "ruled_at"),)


class CommendationRow(Base):
    """表扬: an agent commended by a call (来电), a letter (来信) or a banner (锦旗)."""

    __tablename__ = "commendations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    agent: Mapped[str] = mapped_column(String(63))
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    __table_args__ = (Index("ix_commendations_date", "date"),)


class KbEntryRow(Base):
    """A knowledge-base entry (知识库) at its latest version."""

    __tablename__ = "kb_entries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    department: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime]
    __table_args__ = (Index("ix_kb_entries_category", "category"),)


class KbVersionRow(Base):
    """Every version of an entry, append-only (version history)."""

    __tablename__ = "kb_versions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("kb_entries.id"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    department: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime]
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_kb_versions_entry_version"),)


CALLS_APPEND_ONLY_TABLES = ("ticket_events", "kb_versions", "queue_log_lines")
