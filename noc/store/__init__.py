"""The event store: SQLAlchemy tables, Alembic migrations and the repositories the service uses.

The only package that imports SQLAlchemy: every query of the service is written here.
"""

from noc.store.db import DEFAULT_DB_URL, create_engine, mask_url, resolve_db_url
from noc.store.repo import AssetSync, Store

__all__ = ["DEFAULT_DB_URL", "AssetSync", "Store", "create_engine", "mask_url", "resolve_db_url"]
