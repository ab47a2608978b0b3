"""monitoring coverage: the service's runs and each check's stretches of fresh results

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from noc.store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitor_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("site", sa.String(length=63), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_runs")),
    )
    with op.batch_alter_table("monitor_runs", schema=None) as batch_op:
        batch_op.create_index("ix_monitor_runs_started_at", ["started_at"], unique=False)

    op.create_table(
        "check_coverage",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("site", sa.String(length=63), nullable=False),
        sa.Column("asset", sa.String(length=63), nullable=False),
        sa.Column("check", sa.String(length=63), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("first_ok_at", UTCDateTime(), nullable=True),
        sa.Column("last_ok_at", UTCDateTime(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["monitor_runs.id"], name=op.f("fk_check_coverage_run_id_monitor_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_coverage")),
    )
    with op.batch_alter_table("check_coverage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_check_coverage_asset_check_until", ["asset", "check", "until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("check_coverage", schema=None) as batch_op:
        batch_op.drop_index("ix_check_coverage_asset_check_until")
    op.drop_table("check_coverage")
    with op.batch_alter_table("monitor_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_monitor_runs_started_at")
    op.drop_table("monitor_runs")
