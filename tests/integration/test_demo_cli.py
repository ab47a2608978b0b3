"""``noc demo generate`` into a real store, on both backends: stored once, again changes nothing;
each run acts as root (admin, as under ``make run``) and leaves one ``demo.generate`` row.

Who else may run it, and the refusal over real tickets: ``test_cli_acting.py``."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner
from support.stores import create_store

from noc.cli import identity_common, main
from noc.store import Store
from noc.store.audit_log import AuditLog
from noc.store.calls import CallRepo
from noc.store.tickets import TicketRepo

ARGS = ["demo", "generate", "--months", "1", "--end", "2026-10-31", "--tickets-per-year", "12000"]


def counts(db_url: str) -> tuple[int, int, str]:
    """Tickets, calls, and the first ticket's content."""

    async def go():
        store = await Store.open(db_url)
        try:
            first = await TicketRepo(store, None).get("LS2026100100001")
            return (
                await TicketRepo(store, None).count(),
                await CallRepo(store).count(),
                first.ticket.content,
            )
        finally:
            await store.close()

    return asyncio.run(go())


def demo_rows(db_url: str) -> list:
    async def go():
        store = await Store.open(db_url)
        try:
            return [r for r in await AuditLog(store).rows() if r.action == "demo.generate"]
        finally:
            await store.close()

    return asyncio.run(go())


def test_generate_stores_a_month_once(db_url, monkeypatch):
    monkeypatch.delenv("NOC_CALLER_HASH_KEY", raising=False)
    monkeypatch.setattr(identity_common, "os_account", lambda: ("root", True))  # as make run
    create_store(db_url)  # as `make run` does with `noc db upgrade` first
    runner = CliRunner()
    first = runner.invoke(main, [*ARGS, "--db", db_url])
    assert first.exit_code == 0, first.output
    assert "public demo key" in first.stderr
    before = tickets, calls, _ = counts(db_url)
    assert 800 <= tickets <= 1300 and calls > 0.6 * tickets
    again = runner.invoke(main, [*ARGS, "--db", db_url])
    assert again.exit_code == 0, again.output
    assert "created" not in again.stdout and "duplicate" in again.stdout
    assert counts(db_url) == before
    skipped = runner.invoke(main, [*ARGS, "--if-empty", "--db", db_url])
    assert skipped.exit_code == 0 and "nothing generated" in skipped.stdout
    clash = runner.invoke(main, [*ARGS, "--seed", "15", "--db", db_url])
    assert clash.exit_code == 1 and "clash" in clash.stderr and "conflict" in clash.stdout
    assert counts(db_url)[2] == before[2]  # a clashing ticket is not overwritten
    rows = demo_rows(db_url)
    assert [(r.outcome, r.actor_user, r.actor_role, r.after["generated"]) for r in rows] == [
        ("ok", "root", "admin", True),
        ("ok", "root", "admin", True),
        ("ok", "root", "admin", False),
        ("ok", "root", "admin", True),
    ]
    assert rows[0].after["records"]["tickets"] == tickets and rows[0].after["public_demo_key"]
    assert rows[0].after["statuses"]["created"] > 0 and rows[3].after["statuses"]["conflict"]


def test_generate_refuses_a_bad_date_without_a_traceback(sqlite_url):
    result = CliRunner().invoke(main, [*ARGS[:-2], "--end", "31.10.2026", "--db", sqlite_url])
    assert result.exit_code == 2
    assert "--end '31.10.2026' is not a date" in result.stderr
    assert "Traceback" not in result.output
