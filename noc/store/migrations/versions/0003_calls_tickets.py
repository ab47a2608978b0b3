"""calls, tickets and their events, spot checks, complaints, commendations, knowledge base; search

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-30 09:00:00

Search: SQLite gets FTS5 tables with the trigram tokenizer (SQLite ≥ 3.34) kept in step with
``tickets`` and ``kb_entries`` by triggers; PostgreSQL gets ``pg_trgm`` GIN indexes. A later
migration that rebuilds ``tickets`` or ``kb_entries`` with SQLite batch mode drops those
triggers and must create them again (``_sqlite_fts``).
"""

import sqlalchemy as sa
from alembic import op

from noc.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ticket_events", "kb_versions", "queue_log_lines")
FTS = {"tickets": ("ticket_no", "town", "content"), "kb_entries": ("title", "question", "answer")}
FTS_TABLE = {"tickets": "tickets_fts", "kb_entries": "kb_fts"}


def _id() -> sa.Column:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _ref(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _str(name: str, length: int, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _caller() -> list[sa.Column]:
    return [
        _str("caller_hash", 64),
        _str("caller_masked", 32),
        sa.Column("caller_enc", sa.Text(), nullable=True),
    ]


def _fk(column: str, table: str, owner: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{owner}_{column}_{table}")
    )


def _kb_content() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        _str("title", 200, nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        _str("category", 100),
        sa.Column("tags", sa.JSON(), nullable=False),
        _str("department", 100),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        _at("updated_at"),
        _at("recorded_at"),
    ]


def _tables() -> None:
    op.create_table(
        "calls",
        _id(),
        _str("source", 63, nullable=False),
        _str("call_id", 100, nullable=False),
        _str("queue", 63),
        *_caller(),
        _at("started_at"),
        _at("entered_at", True),
        _at("answered_at", True),
        _str("agent", 63),
        _at("ended_at"),
        _str("outcome", 16, nullable=False),
        sa.Column("wait_seconds", sa.Double(), nullable=True),
        sa.Column("talk_seconds", sa.Double(), nullable=True),
        _str("end_reason", 32),
        sa.Column("details", sa.JSON(), nullable=False),
        _at("recorded_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("source", "call_id", name="uq_calls_source_call_id"),
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_agent_started_at", "calls", ["agent", "started_at"])
    op.create_index("ix_calls_queue_started_at", "calls", ["queue", "started_at"])
    op.create_index("ix_calls_caller_hash", "calls", ["caller_hash"])

    op.create_table(
        "queue_log_lines",
        _id(),
        _str("source", 63, nullable=False),
        _str("line_key", 64, nullable=False),
        _at("time"),
        _str("callid", 100, nullable=False),
        _str("queue", 63, nullable=False),
        _str("agent", 100, nullable=False),
        _str("event", 32, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        *_caller(),
        _at("recorded_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_log_lines")),
        sa.UniqueConstraint("line_key", name=op.f("uq_queue_log_lines_line_key")),
    )
    op.create_index("ix_queue_log_lines_source_callid", "queue_log_lines", ["source", "callid"])

    op.create_table(
        "tickets",
        _id(),
        _str("ticket_no", 64, nullable=False),
        _at("created_at"),
        _str("channel", 16),
        _str("type", 16, nullable=False),
        _str("category", 100),
        _str("town", 32),
        sa.Column("content", sa.Text(), nullable=False),
        *_caller(),
        _str("call_id", 100),
        _str("agent", 63),
        sa.Column("instant_answer", sa.Boolean(), nullable=False),
        _str("kb_entry", 64),
        _str("source", 16, nullable=False),
        _str("province_ref", 64),
        _str("status", 16, nullable=False),
        _str("dispatched_to", 100),
        _at("dispatched_at", True),
        _at("deadline", True),
        _at("closed_at", True),
        _at("callback_at", True),
        _str("callback_method", 16),
        _str("satisfaction", 24),
        _at("recorded_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("ticket_no", name=op.f("uq_tickets_ticket_no")),
    )
    for name, columns in (
        ("ix_tickets_created_at", ["created_at"]),
        ("ix_tickets_type_created_at", ["type", "created_at"]),
        ("ix_tickets_town_created_at", ["town", "created_at"]),
        ("ix_tickets_agent_created_at", ["agent", "created_at"]),
        ("ix_tickets_status", ["status"]),
        ("ix_tickets_caller_hash", ["caller_hash"]),
        ("ix_tickets_province_ref", ["province_ref"]),
    ):
        op.create_index(name, "tickets", columns)

    op.create_table(
        "ticket_events",
        _id(),
        _str("event_id", 160, nullable=False),
        _ref("ticket_id", nullable=True),
        _str("kind", 16, nullable=False),
        _at("at"),
        sa.Column("data", sa.JSON(), nullable=False),
        _at("recorded_at"),
        _fk("ticket_id", "tickets", "ticket_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_ticket_events_event_id")),
    )
    op.create_index("ix_ticket_events_ticket_at", "ticket_events", ["ticket_id", "at"])
    op.create_index("ix_ticket_events_kind_at", "ticket_events", ["kind", "at"])

    op.create_table(
        "spot_checks",
        _id(),
        _ref("event_id"),
        _ref("ticket_id"),
        _at("checked_at"),
        _str("result", 8, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _fk("event_id", "ticket_events", "spot_checks"),
        _fk("ticket_id", "tickets", "spot_checks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_checks")),
        sa.UniqueConstraint("event_id", name=op.f("uq_spot_checks_event_id")),
    )
    op.create_index("ix_spot_checks_checked_at", "spot_checks", ["checked_at"])

    op.create_table(
        "agent_complaints",
        _id(),
        _ref("event_id"),
        _ref("ticket_id"),
        _str("agent", 63, nullable=False),
        _at("ruled_at"),
        sa.Column("justified", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _fk("event_id", "ticket_events", "agent_complaints"),
        _fk("ticket_id", "tickets", "agent_complaints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_complaints")),
        sa.UniqueConstraint("event_id", name=op.f("uq_agent_complaints_event_id")),
    )
    op.create_index("ix_agent_complaints_ruled_at", "agent_complaints", ["ruled_at"])

    op.create_table(
        "commendations",
        _id(),
        _ref("event_id"),
        _ref("ticket_id", nullable=True),
        _str("agent", 63, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        _str("kind", 8, nullable=False),
        _fk("event_id", "ticket_events", "commendations"),
        _fk("ticket_id", "tickets", "commendations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commendations")),
        sa.UniqueConstraint("event_id", name=op.f("uq_commendations_event_id")),
    )
    op.create_index("ix_commendations_date", "commendations", ["date"])

    op.create_table(
        "kb_entries",
        _id(),
        _str("entry_id", 64, nullable=False),
        *_kb_content(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entries")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_kb_entries_entry_id")),
    )
    op.create_index("ix_kb_entries_category", "kb_entries", ["category"])
    op.create_table(
        "kb_versions",
        _id(),
        _ref("entry_id"),
        *_kb_content(),
        _fk("entry_id", "kb_entries", "kb_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_versions")),
        sa.UniqueConstraint("entry_id", "version", name="uq_kb_versions_entry_version"),
    )


def _sqlite_fts() -> None:
    version = op.get_bind().exec_driver_sql("SELECT sqlite_version()").scalar()
    if tuple(int(x) for x in str(version).split(".")[:2]) < (3, 34):
        raise RuntimeError(
            f"SQLite {version} has no trigram tokenizer for search; 3.34 or newer is needed"
        )
    for table, columns in FTS.items():
        fts = FTS_TABLE[table]
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
            "content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )


def _postgres_trgm() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in FTS.items():
        for column in columns:
            op.execute(
                f"CREATE INDEX ix_{table}_{column}_trgm ON {table} "
                f"USING gin ({column} gin_trgm_ops)"
            )


def _append_only() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION noc_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        elif dialect == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION noc_append_only()"
            )


def upgrade() -> None:
    _tables()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_fts()
    elif dialect == "postgresql":
        _postgres_trgm()
    _append_only()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    if dialect == "sqlite":
        for table in FTS:
            fts = FTS_TABLE[table]
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    for table in (
        "kb_versions",
        "kb_entries",
        "commendations",
        "agent_complaints",
        "spot_checks",
        "ticket_events",
        "tickets",
        "queue_log_lines",
        "calls",
    ):
        op.drop_table(table)  # their indexes go with them
