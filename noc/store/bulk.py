"""What the ingest repositories share: insert-or-ignore on either backend, chunking, results.

Every record that comes in by external id is inserted with ``ON CONFLICT DO NOTHING RETURNING``
(SQLite ≥ 3.35 and PostgreSQL both have it): the rows returned are the new ones; the others
were there already (or arrived a moment earlier from a concurrent request) and are compared
with what is stored. The unique index, not a read-then-write, decides who was first, so two
identical requests at once still make one row.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import JSON, Float, String, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from noc.ingest.records import FieldError

T = TypeVar("T")
CHUNK = 500  # rows per statement: well under SQLite's 32,766 bound parameters

STATUS_CODES = {"created": 201, "updated": 200, "duplicate": 200, "conflict": 409, "invalid": 400}


@dataclass
class ItemResult:
    """What became of one record: ``created``, ``updated`` (it added history), ``duplicate``
    (already stored, acknowledged), ``conflict`` (stored differently) or ``invalid``."""

    index: int
    id: str | None
    status: str
    errors: list[FieldError] = field(default_factory=list)

    @property
    def code(self) -> int:
        return STATUS_CODES[self.status]

    @property
    def ok(self) -> bool:
        return self.status in ("created", "updated", "duplicate")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "id": self.id,
            "status": self.status,
            "code": self.code,
        }
        if self.errors:
            out["errors"] = [e.as_json() for e in self.errors]
        return out


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignore(session: AsyncSession, table: Table, keys: list[str]):
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` for the session's backend."""
    module = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=keys)


async def insert_new(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """``INSERT … ON CONFLICT (keys) DO NOTHING RETURNING returning`` of ``rows`` (dicts with the
    same columns), the cheapest way each backend has; the returned tuples are the new rows'.

    What :func:`insert_ignore` does through SQLAlchemy's executemany, written out, because the
    ingest paths store thousands of rows a second: PostgreSQL gets one statement whose
    parameters are one array per column (``INSERT … SELECT * FROM unnest(…)``: a short text
    the driver prepares once, whatever the number of rows); SQLite one multi-row ``VALUES`` per
    chunk. The values pass through each column type's own bind processing, so they are stored
    exactly as the ORM stores them.
    """
    if not rows:
        return []
    dialect = session.bind.dialect
    columns = [table.c[name] for name in rows[0]]
    into = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    conflict = ", ".join(dialect.identifier_preparer.quote(k) for k in keys)
    back = (
        " RETURNING " + ", ".join(dialect.identifier_preparer.quote(r) for r in returning)
        if returning
        else ""
    )
    head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({into}) "
    tail = f" ON CONFLICT ({conflict}) DO NOTHING{back}"
    out: list[tuple[Any, ...]] = []
    if dialect.name == "postgresql":
        arrays = {}
        casts = []
        for n, column in enumerate(columns):
            values = [row[column.name] for row in rows]
            if isinstance(column.type, JSON):
                dump = dialect._json_serializer or json.dumps
                values = [None if v is None else dump(v) for v in values]
            else:
                process = column.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    values = [process(v) for v in values]
                if isinstance(column.type, Float):  # one element type per array
                    values = [None if v is None else float(v) for v in values]
            arrays[f"a{n}"] = values
            # text arrays for strings: the INSERT's own cast then refuses a value too long
            sql_type = (
                "TEXT" if isinstance(column.type, String) else column.type.compile(dialect=dialect)
            )
            casts.append(f"CAST(%(a{n})b AS {sql_type}[])")  # binary: 5× cheaper to dump
        statement = f"{head}SELECT * FROM unnest({', '.join(casts)}){tail}"
        result = await session.connection()
        out.extend(tuple(r) for r in await _driver(result, statement, arrays))
        return out
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    width = len(columns)
    one = "(" + ", ".join("?" * width) + ")"
    for chunk in chunks(rows, max(1, min(CHUNK, 32_000 // width))):
        params: list[Any] = []
        for row in chunk:
            for column, process in zip(columns, processors, strict=True):
                value = row[column.name]
                params.append(process(value) if process is not None else value)
        statement = f"{head}VALUES {', '.join([one] * len(chunk))}{tail}"
        result = await session.connection()
        out.extend(tuple(r) for r in await _driver(result, statement, tuple(params)))
    return out


async def _driver(connection, statement: str, params) -> list[Any]:  # noqa: ANN001
    result = await connection.exec_driver_sql(statement, params)
    return list(result.all()) if result.returns_rows else []


def is_postgres(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"


async def serialize(session: AsyncSession, name: str) -> None:
    """Hold a transaction-scoped lock named ``name`` (PostgreSQL); SQLite's one writer already
    serialises write transactions."""
    if is_postgres(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})


@asynccontextmanager
async def transaction(store, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
    """The caller's transaction when given (``--strict`` imports run in one), else a new one
    committed on exit: what is acknowledged has been committed."""
    if session is not None:
        yield session
        return
    async with store.sessions.begin() as own:
        yield own
