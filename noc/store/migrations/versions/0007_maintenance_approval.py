"""maintenance approval: a window counts for the SLA only once a second person approves it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00

``approved_by`` (the approver's account name) and ``approved_at``; both empty until approved.
Windows entered before this revision stay unapproved: they keep muting alerts, and a lead or
the auditor approves the ones that should count (``noc maintenance approve ID``).
"""

import sqlalchemy as sa
from alembic import op

from noc.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance_windows") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("maintenance_windows") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
