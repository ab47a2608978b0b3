"""Database URLs, engines and migrations, and the rule on who may create a store.

Operators write ``sqlite:////var/lib/noc/noc.db`` or ``postgresql://user@host/db``; the service
runs on SQLAlchemy's asyncio engine, so the URL is mapped onto an async driver here (aiosqlite,
psycopg 3) and nowhere else. SQLite gets WAL, foreign keys and a busy timeout on every
connection, and one write transaction at a time per process (:mod:`noc.store.sqlite_writes`).
Migrations are Alembic's, run through the same engine.

A store is never created by accident: only ``noc db upgrade`` and ``noc run`` create one
(:func:`prepare` makes the SQLite file and its folder, :func:`upgrade` the schema). Every other
command checks first (:func:`require_head`) and refuses a store that does not exist, is empty
or is behind this version's migrations, naming ``noc db upgrade`` as the way out. SQLite
creates the file on connect, so its check looks before it connects and then reads the revision
through a read-only connection; a missing PostgreSQL database is a connection error already.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from noc.core.errors import InputError, UnavailableError
from noc.core.paths import default_db_url
from noc.store import sqlite_writes

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


class DatabaseURLError(InputError):
    """The database URL names a backend this service does not support, or cannot be read."""


class StoreNotReadyError(UnavailableError):
    """The store does not exist, is empty or is not at this version's migration (exit 1)."""

    label = "事件库未就绪 / store not ready"


def resolve_db_url(cli_value: str | None, config_value: str | None) -> str:
    """``--db``, then the config's ``server.db``, then ``$NOC_DB``, then the absolute default
    (:func:`noc.core.paths.default_db_url`: ``/var/lib/noc/noc.db`` as root, else the user's
    data directory)."""
    return cli_value or config_value or os.environ.get("NOC_DB") or default_db_url()


def async_url(url: str) -> URL:
    """Map an operator's URL onto the async driver of its backend."""
    try:
        parsed = make_url(
            url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
        )
    except exc.ArgumentError:
        raise DatabaseURLError(
            f"cannot read database URL {mask_url(url)!r}: "
            "write sqlite:////path/to/noc.db or postgresql://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise DatabaseURLError(
            f"unsupported database {backend!r} in {mask_url(url)}: use sqlite:/// or postgresql://"
        )
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def mask_url(url: str | URL) -> str:
    """The URL with its password hidden, for logs and pages."""
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: whatever sits between ':' and '@' is hidden
        return re.sub(r":[^:@/]*@", ":***@", str(url))


SQLITE_BUSY_MS = 5000  # how long a writer waits for another process's write lock


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_MS)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a file-backed SQLite URL (also ``sqlite:///file:PATH?uri=true``), else None."""
    parsed = make_url(str(url)) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database or ""
    if db.startswith("file:"):
        db = db[len("file:") :].split("?", 1)[0]
    return Path(db) if db and db != ":memory:" else None


def create_engine(url: str) -> AsyncEngine:
    """An engine for ``url``; it connects (and SQLite creates the file) only when used."""
    aurl = async_url(url)
    if aurl.get_backend_name() == "sqlite":
        engine = create_async_engine(aurl)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        sqlite_writes.install(engine)  # one writer at a time; "locked" is a 503, not a 500
        return engine
    return create_async_engine(aurl, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _upgrade(sync_connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_connection
    if sync_connection.dialect.name == "postgresql":
        # two service instances starting together must not migrate at the same time
        sync_connection.execute(text("SELECT pg_advisory_xact_lock(4242012345)"))
    command.upgrade(cfg, revision)


def _downgrade(sync_connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_connection
    command.downgrade(cfg, revision)


def _current(sync_connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(sync_connection).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


# -- who creates a store, and the check everybody else makes ---------------------------------


def prepare(url: str) -> None:
    """Create an SQLite store's folder and file (``noc db upgrade`` and ``noc run`` only).

    The file is opened here, synchronously, before the async driver sees it: a folder without
    write permission or a file that is no database fails here, in one exception, instead of
    inside aiosqlite's worker thread (which can answer a failed connect after ``asyncio.run``
    closed its loop, and print a traceback of its own)."""
    path = sqlite_file(async_url(url))
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def _sqlite_revision(path: Path) -> str | None:
    """The revision in an existing SQLite file, read through a read-only connection (so
    nothing is written: no WAL switch, no new file); None when it has no schema."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not has_table:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


async def stored_revision(engine: AsyncEngine, url: str) -> str | None:
    """The store's migration revision (None: empty), creating nothing.

    A missing SQLite file is a :class:`StoreNotReadyError`; it is looked for before any
    connection, since connecting would create it."""
    path = sqlite_file(engine.url)
    if path is None:
        return await current_revision(engine)
    if not path.exists():
        raise StoreNotReadyError(
            f"no store at {mask_url(url)}: the file {path} does not exist "
            f"(nothing was created); create it with `noc db upgrade --db {mask_url(url)}`"
        )
    return _sqlite_revision(path)


async def require_head(engine: AsyncEngine, url: str) -> str:
    """The revision, when it is this version's newest; else a one-line StoreNotReadyError
    saying what the store is and that ``noc db upgrade`` creates or migrates it."""
    current = await stored_revision(engine, url)
    head = head_revision()
    if current == head:
        return current
    shown = mask_url(url)
    upgrade_cmd = f"`noc db upgrade --db {shown}`"
    if current is None:
        raise StoreNotReadyError(
            f"the store at {shown} is empty (not migrated): create it with {upgrade_cmd}"
        )
    if current in known_revisions():
        raise StoreNotReadyError(
            f"the store at {shown} is at revision {current}, this version "
            f"needs {head}: migrate it with {upgrade_cmd}"
        )
    raise StoreNotReadyError(
        f"the store at {shown} is at revision {current}, which this version "
        f"does not know (written by a newer noc?): run that version, or restore a backup"
    )


# -- failures in the operator's words ----------------------------------------------------


def driver_reason(error: BaseException) -> str:
    """A database failure in the driver's words (SQLAlchemy wraps them in a longer text)."""
    return str(getattr(error, "orig", None) or error)


def _sqlite_access_problem(path: Path) -> str | None:
    """Why an SQLite file cannot be used, when it is the file system's permissions."""

    def writable(folder: Path) -> bool:
        return os.access(folder, os.W_OK | os.X_OK)

    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return f"permission denied on the file {path}"
        if not writable(path.parent):
            return (
                f"permission denied on the folder {path.parent} "
                "(SQLite writes its journal next to the file)"
            )
        return None
    if path.parent.exists():
        if not writable(path.parent):
            return f"permission denied on the folder {path.parent}: cannot create {path.name} there"
        return None
    ancestor = next((p for p in path.parents if p.exists()), None)
    if ancestor is not None and not writable(ancestor):
        return f"permission denied on the folder {ancestor}: cannot create {path.parent}"
    return None


def failure_text(url: str, error: BaseException, doing: str = "cannot open the store") -> str:
    """``doing at URL (masked): reason`` for a store that failed; the reason is the driver's,
    or for SQLite the permission that is missing."""
    reason = driver_reason(error)
    try:
        path = sqlite_file(async_url(url))
    except InputError:
        path = None
    if path is not None and isinstance(error, exc.DBAPIError | sqlite3.Error | OSError):
        reason = _sqlite_access_problem(path) or reason
    return f"{doing} at {mask_url(url)}: {reason}"


def is_database_failure(error: BaseException) -> bool:
    """The database failed (went away, refused, locked, read-only), not the program."""
    return isinstance(error, exc.OperationalError | exc.InterfaceError)
