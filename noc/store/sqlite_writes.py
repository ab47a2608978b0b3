"""SQLite: one write transaction at a time in this process, and "database is locked" as a 503.

SQLite has one writer. Left to itself, every connection of the pool that wants to write spins
in SQLite's busy handler (sleeps of 1, 2, 5 … 100 ms) until the writer before it commits; under
a few concurrent writers most of the time goes into those sleeps, and a writer starved past the
busy timeout fails with ``sqlite3.OperationalError: database is locked`` — which reached API
clients as HTTP 500 (bench/RESULTS.md, issue 14).

:class:`WriteGate` queues the writers of this process instead: the first write statement of a
transaction (INSERT, UPDATE, DELETE, REPLACE, or DDL) waits for an asyncio lock, in arrival
order, and the transaction keeps it until its commit or rollback has finished. Python's
``sqlite3`` begins a transaction only at the first write statement, so the lock is taken just
before SQLite's own write lock, and reads (WAL) never wait for it. Writers of *other*
processes (a ``noc tickets import`` while the service runs) still meet SQLite's busy timeout.

Either way a writer that cannot get in — the gate not free within ``timeout`` seconds, or
SQLite still locked after its busy timeout — raises :class:`StoreBusyError`
(:class:`~noc.core.errors.UnavailableError`: HTTP 503 with ``Retry-After``, exit 1), never a
driver error.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from noc.core.errors import UnavailableError

GATE_TIMEOUT = 15.0  # seconds a writer of this process waits for the one before it
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_LOCKED = ("database is locked", "database table is locked", "database schema is locked")


class StoreBusyError(UnavailableError):
    """The store is busy with other writers; the request may be sent again shortly (503)."""

    code = "store_busy"

    def __init__(
        self, message: str = "", *, reason: str | None = None, retry_after: int | None = 1
    ) -> None:  # Retry-After: 1 (s) unless told otherwise
        super().__init__(message, reason=reason, retry_after=retry_after)


def is_write(statement: str) -> bool:
    return _WRITES.match(statement) is not None


def _raw(connection: Any) -> Any:
    """The DBAPI connection behind a pool proxy (what every hook below is given in some form)."""
    return getattr(connection, "dbapi_connection", connection)


class WriteGate:
    """Serialises the write transactions of one engine (see the module)."""

    def __init__(self, timeout: float = GATE_TIMEOUT):
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._holder: Any = None

    @property
    def busy(self) -> bool:
        return self._holder is not None

    async def _acquire(self, connection: Any) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise StoreBusyError(
                f"事件库忙 / the store is busy: another write did not finish within "
                f"{self.timeout:.0f} s; send again shortly"
            ) from None
        self._holder = connection

    def _release(self, connection: Any) -> None:
        if self._holder is not None and self._holder is _raw(connection):
            self._holder = None
            self._lock.release()

    def install(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        dialect = sync.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        @event.listens_for(sync, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
            raw = _raw(conn.connection)
            if self._holder is not raw and is_write(statement):
                await_only(self._acquire(raw))  # we are inside SQLAlchemy's greenlet

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self._release(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self._release(dbapi_connection)

        dialect.do_commit = do_commit  # this engine's dialect only
        dialect.do_rollback = do_rollback
        for name in ("checkin", "close", "invalidate", "soft_invalidate"):  # never left held
            event.listen(sync.pool, name, self._released_by_pool)

    def _released_by_pool(self, dbapi_connection: Any, *_: Any) -> None:
        self._release(dbapi_connection)


def busy_as_unavailable(context: ExceptionContext) -> None:
    """``handle_error`` hook: SQLite's "database is locked" becomes :class:`StoreBusyError`."""
    error = context.original_exception
    if isinstance(error, sqlite3.OperationalError) and str(error).startswith(_LOCKED):
        raise StoreBusyError(
            "事件库忙 / the store is busy (SQLite is locked by another writer, perhaps an "
            "import); send again shortly"
        ) from error


def install(engine: AsyncEngine) -> WriteGate:
    gate = WriteGate()
    gate.install(engine)
    event.listen(engine.sync_engine, "handle_error", busy_as_unavailable)
    return gate
