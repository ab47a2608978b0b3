"""kpi register keys: one row per staff spell, report submission and emergency

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:00:00

A unique index on each register's natural key (``noc.ingest.registers.KEYS``): staff (person,
post, start_date), report submissions (kind, period, submitted_at), emergencies (kind,
started_at). Registering a key again now changes the stored row (the import of the same file
twice changes nothing). Rows entered twice before this revision are merged first: the latest
registration of a key (the highest id) stays, as a later registration of it would now have
updated the row. The old (kind, period) index of submissions is a prefix of the new key.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KEYS = {
    "kpi_staff": ("ux_kpi_staff_key", ("person", "post", "start_date")),
    "kpi_report_submissions": ("ux_kpi_report_submissions_key", ("kind", "period", "submitted_at")),
    "kpi_emergencies": ("ux_kpi_emergencies_key", ("kind", "started_at")),
}


def upgrade() -> None:
    for table, (_, columns) in KEYS.items():
        cols = ", ".join(columns)
        op.execute(
            f"DELETE FROM {table} WHERE id NOT IN "  # noqa: S608 - names from the table above
            f"(SELECT keep FROM (SELECT MAX(id) AS keep FROM {table} GROUP BY {cols}) AS latest)"
        )
    op.drop_index("ix_kpi_report_submissions_kind_period", table_name="kpi_report_submissions")
    for table, (index, columns) in KEYS.items():
        op.create_index(index, table, list(columns), unique=True)


def downgrade() -> None:
    for table, (index, _) in KEYS.items():
        op.drop_index(index, table_name=table)
    op.create_index(
        "ix_kpi_report_submissions_kind_period", "kpi_report_submissions", ["kind", "period"]
    )
