"""kpi registers: staff, report submissions, emergencies (docs/kpi.md, indicators 7–9)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from noc.store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    op.create_table(
        "kpi_staff",
        _id(),
        sa.Column("person", sa.String(63), nullable=False),
        sa.Column("post", sa.String(32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_kpi_staff_person", "kpi_staff", ["person"])
    op.create_table(
        "kpi_report_submissions",
        _id(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("corrected", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_kpi_report_submissions_kind_period", "kpi_report_submissions", ["kind", "period"]
    )
    op.create_table(
        "kpi_emergencies",
        _id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("responded_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("force_majeure", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_kpi_emergencies_started_at", "kpi_emergencies", ["started_at"])


def downgrade() -> None:
    op.drop_table("kpi_emergencies")
    op.drop_table("kpi_report_submissions")
    op.drop_table("kpi_staff")
