"""Database URLs, engines and migrations.

Operators write ``sqlite:///noc.db`` or ``postgresql://user@host/db``; the service runs on
SQLAlchemy's asyncio engine, so the URL is mapped onto an async driver here (aiosqlite,
psycopg 3) and nowhere else. SQLite gets WAL, foreign keys and a busy timeout on every
connection. Migrations are Alembic's, run through the same engine.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from noc.core.errors import InputError

DEFAULT_DB_URL = "sqlite:///noc.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


class DatabaseURLError(InputError):
    """The database URL names a backend this service does not support."""


def resolve_db_url(cli_value: str | None, config_value: str | None) -> str:
    """``--db``, then the config's ``server.db``, then ``$NOC_DB``, then ``sqlite:///noc.db``."""
    return cli_value or config_value or os.environ.get("NOC_DB") or DEFAULT_DB_URL


def async_url(url: str) -> URL:
    """Map an operator's URL onto the async driver of its backend."""
    parsed = make_url(
        url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    )
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
    except Exception:  # an unparsable URL is shown without anything after the scheme
        return str(url).split(":", 1)[0] + "://…"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    aurl = async_url(url)
    if aurl.get_backend_name() == "sqlite":
        db = aurl.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(aurl)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
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
