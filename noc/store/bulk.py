"""What the ingest repositories share: insert-or-ignore on either backend, chunking, results.

Every record that comes in by external id is inserted with ``ON CONFLICT DO NOTHING RETURNING``
(SQLite ≥ 3.35 and PostgreSQL both have it): the rows returned are the new ones; the others
were there already (or arrived a moment earlier from a concurrent request) and are compared
with what is stored. The unique index, not a read-then-write, decides who was first, so two
identical requests at once still make one row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table, text
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
