"""The event store: SQLAlchemy tables, Alembic migrations and the repositories the service uses.

The only package that imports SQLAlchemy: every query of the service is written here.
"""

from noc.store.db import (
    DatabaseURLError,
    StoreNotReadyError,
    create_engine,
    mask_url,
    resolve_db_url,
)
from noc.store.repo import AssetSync, Store

__all__ = [
    "AssetSync",
    "DatabaseURLError",
    "Store",
    "StoreNotReadyError",
    "create_engine",
    "mask_url",
    "resolve_db_url",
]
