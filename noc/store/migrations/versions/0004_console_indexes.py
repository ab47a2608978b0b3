"""console indexes: an incident's alert deliveries, incidents by root asset

The console's incident page lists the incident's alert messages (``notifications`` by
``incident_id``) and its list filters by asset (``incidents.root_asset``); without these
both are scans of a table that grows every day.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:30:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notifications_incident_id", "notifications", ["incident_id"])
    op.create_index("ix_incidents_root_asset", "incidents", ["root_asset"])


def downgrade() -> None:
    op.drop_index("ix_incidents_root_asset", table_name="incidents")
    op.drop_index("ix_notifications_incident_id", table_name="notifications")
