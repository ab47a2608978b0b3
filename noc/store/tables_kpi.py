"""The KPI registers: what calls and tickets do not carry (docs/kpi.md, indicators 7–9).

Staff spells (a person on a post from a first to a last working day), report submissions (when
a due report went in, and whether it was corrected) and emergencies (typhoon, power cut, call
surge …, and when the support arrangements were adjusted).

Each has a unique natural key (``noc.ingest.registers.KEYS``, migration 0008): registering the
same person, post and first day, the same report handed in at the same instant, or the same
emergency again changes the stored row instead of adding one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from noc.store.tables import Base, BigId


class StaffRow(Base):
    __tablename__ = "kpi_staff"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person: Mapped[str] = mapped_column(String(63))
    post: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime]
    __table_args__ = (
        Index("ix_kpi_staff_person", "person"),
        Index("ux_kpi_staff_key", "person", "post", "start_date", unique=True),
    )


class ReportSubmissionRow(Base):
    __tablename__ = "kpi_report_submissions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime | None]
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime]
    __table_args__ = (
        Index("ux_kpi_report_submissions_key", "kind", "period", "submitted_at", unique=True),
    )


class EmergencyRow(Base):
    __tablename__ = "kpi_emergencies"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[dt.datetime]
    responded_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    force_majeure: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime]
    __table_args__ = (
        Index("ix_kpi_emergencies_started_at", "started_at"),
        Index("ux_kpi_emergencies_key", "kind", "started_at", unique=True),
    )
