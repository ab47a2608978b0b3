"""``Store.open``: only ``migrate=True`` (``noc run``, ``noc db upgrade``) creates a store; the
rest refuse one that is missing, empty or behind, and a failure is one NocError with the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from noc.core.errors import UnavailableError
from noc.store import Store, StoreNotReadyError
from noc.store import db as dbmod


async def test_a_missing_sqlite_store_is_refused_and_not_created(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'a' / 'noc.db'}"
    with pytest.raises(StoreNotReadyError, match="no store at .*noc db upgrade --db"):
        await Store.open(url, migrate=False)
    assert list(tmp_path.iterdir()) == []


async def test_an_empty_store_is_refused_on_both_backends(db_url):
    if db_url.startswith("sqlite"):
        Path(dbmod.sqlite_file(db_url)).touch()
    with pytest.raises(StoreNotReadyError, match="is empty"):
        await Store.open(db_url, migrate=False)
    engine = dbmod.create_engine(db_url)
    try:
        assert await dbmod.current_revision(engine) is None  # still empty: nothing was written
    finally:
        await engine.dispose()


async def test_a_store_behind_is_refused_then_opens_once_migrated(db_url):
    engine = dbmod.create_engine(db_url)
    try:
        dbmod.prepare(db_url)
        await dbmod.upgrade(engine, "0001")
    finally:
        await engine.dispose()
    with pytest.raises(StoreNotReadyError, match="at revision 0001, this version needs"):
        await Store.open(db_url, migrate=False)
    await (await Store.open(db_url)).close()  # migrate=True: to head
    store = await Store.open(db_url, migrate=False)
    try:
        assert await store.ping()
    finally:
        await store.close()


async def test_migrate_creates_the_folder(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'x' / 'y' / 'noc.db'}"
    store = await Store.open(url)
    await store.close()
    assert (tmp_path / "x" / "y" / "noc.db").is_file()


async def test_an_unreachable_store_is_one_unavailable_error_with_the_url_masked():
    with pytest.raises(UnavailableError) as exc_info:
        await Store.open("postgresql://nobody:pw-Zq9@127.0.0.1:1/none", migrate=False)
    text = str(exc_info.value)
    assert "postgresql://nobody:***@127.0.0.1:1/none" in text and "pw-Zq9" not in text
    assert not isinstance(exc_info.value, StoreNotReadyError)
