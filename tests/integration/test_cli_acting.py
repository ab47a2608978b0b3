"""The CLI's remaining writes act as the bound NOC account and are audited, on both backends:
``noc calls|tickets|kb import`` (``ingest``), ``noc demo generate`` (``demo.generate``) and
``noc alert test`` (``alert.test``).

The commands run in-process with the OS account replaced (``identity_common.os_account``, as in
``test_identity_cli.py``), so one test acts as root, as bound accounts and as a stranger.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import Result
from support.calls import HASH_KEY, QUEUE_LOGS
from support.identity import fast_hashing, noc_as_os_account  # noqa: F401
from support.stores import audit_rows, create_store, on_store

from noc.config import DEFAULT_CONFIG
from noc.store.calls import CallRepo
from noc.store.identity_tables import AuditRow
from noc.store.kb import KbRepo
from noc.store.tickets import TicketRepo

HOST = socket.gethostname()
TICKETS = (
    "ticket_no,created_at,type,town,content,caller\n"
    "LS-A1,2026-11-03 08:15,complaint,椰林镇,文化路路灯不亮,13800138000\n"
    "LS-A2,2026-11-03 09:00,enquiry,光坡镇,咨询社保卡补办,13900139000\n"
    "LS-A3,明天,help,英州镇,自来水停水,\n"
)
DEMO = ["demo", "generate", "--months", "1", "--end", "2026-10-31", "--tickets-per-year", "1200"]


def counts(url: str) -> tuple[int, int, int]:
    """Tickets, calls, knowledge-base entries."""

    async def go(store):
        return (
            await TicketRepo(store, None).count(),
            await CallRepo(store).count(),
            await KbRepo(store).count(),
        )

    return on_store(url, go)


@pytest.fixture
def cli(db_url, monkeypatch, fast_hashing):  # noqa: F811
    """``cli(*args, login="root")``: ``noc`` as that OS account on a store with the accounts
    ``op`` (operator), ``vic`` (viewer) and ``lee`` (lead), each bound to the same OS login."""
    create_store(db_url)
    monkeypatch.setenv("NOC_CALLER_HASH_KEY", HASH_KEY)
    monkeypatch.delenv("NOC_CONFIG", raising=False)

    run = noc_as_os_account(monkeypatch, db_url)
    for name, role in (("op", "operator"), ("vic", "viewer"), ("lee", "lead")):
        made = run("user", "add", name, "--role", role, "--os-user", name)
        assert made.exit_code == 0, made.output
    return run


def new_rows(cli, before: int) -> list[AuditRow]:
    return audit_rows(cli.url)[before:]


def refused_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("拒绝 refused: "), result.stderr
    return lines[0]


def test_an_unbound_or_too_small_account_imports_nothing_and_is_recorded(cli, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS, encoding="utf-8")
    before = len(audit_rows(cli.url))
    line = refused_line(cli("tickets", "import", str(path), login="mallory"))
    assert "OS user 'mallory' is not bound to a NOC user" in line
    line = refused_line(cli("tickets", "import", str(path), login="vic"))
    assert "'ingest' needs role operator, lead, admin; vic is viewer" in line
    kb = tmp_path / "kb.csv"
    kb.write_text("entry_id,title,answer\nKB-1,社保卡补办,到县社保局办理\n", encoding="utf-8")
    refused_line(cli("kb", "import", str(kb), login="mallory"))
    rows = new_rows(cli, before)
    assert [(r.action, r.target, r.outcome, r.actor_user, r.source) for r in rows] == [
        ("tickets.import", "file:tickets.csv", "refused", None, f"mallory@{HOST}"),
        ("tickets.import", "file:tickets.csv", "refused", "vic", f"vic@{HOST}"),
        ("kb.import", "file:kb.csv", "refused", None, f"mallory@{HOST}"),
    ]
    assert all(r.channel == "cli" and r.after is None for r in rows)  # refused before reading
    assert counts(cli.url) == (0, 0, 0)


def test_a_bound_operator_imports_with_one_row_per_file(cli, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS, encoding="utf-8")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    before = len(audit_rows(cli.url))
    first = cli("tickets", "import", str(path), login="op")
    assert first.exit_code == 1, first.output  # one bad row, named; the others imported
    assert "row 4, column created_at" in first.stderr
    second = cli("tickets", "import", str(path), login="op")
    assert second.exit_code == 1
    rows = new_rows(cli, before)
    assert len(rows) == 2  # one per file imported, none per batch or per record
    for row in rows:
        assert (row.action, row.target, row.outcome, row.channel) == (
            "tickets.import",
            "file:tickets.csv",
            "ok",
            "cli",
        )
        assert (row.actor_user, row.actor_role, row.source) == ("op", "operator", f"op@{HOST}")
        assert row.after["file"] == "tickets.csv" and row.after["sha256"] == digest
        assert (row.after["kind"], row.after["rows"], row.after["problems"]) == ("tickets", 3, 1)
    assert (rows[0].after["created"], rows[0].after["duplicates"]) == (2, 0)
    assert (rows[1].after["created"], rows[1].after["duplicates"]) == (0, 2)
    assert counts(cli.url)[0] == 2

    strict = tmp_path / "strict.csv"
    strict.write_text(TICKETS.replace("LS-A", "LS-B"), encoding="utf-8")
    refused = cli("tickets", "import", str(strict), "--strict", login="op")
    assert refused.exit_code == 2 and "nothing imported" in refused.stderr
    row = audit_rows(cli.url)[-1]
    assert (row.action, row.outcome, row.actor_user) == ("tickets.import", "refused", "op")
    assert "--strict" in row.reason and row.after["imported"] is False
    assert counts(cli.url)[0] == 2  # nothing of it stored


def test_calls_and_the_knowledge_base_are_audited_alike(cli, tmp_path):
    log = tmp_path / "queue_log"
    shutil.copy(QUEUE_LOGS / "queue_log", log)
    done = cli("calls", "import", str(log), "--format", "asterisk-queue-log", login="lee")
    assert done.exit_code == 0, done.output
    row = audit_rows(cli.url)[-1]
    assert (row.action, row.target, row.outcome, row.actor_user, row.actor_role) == (
        "calls.import",
        "file:queue_log",
        "ok",
        "lee",
        "lead",
    )
    assert row.after["format"] == "asterisk-queue-log"
    assert (row.after["lines"], row.after["new_lines"], row.after["calls_created"]) == (2, 2, 1)
    kb = tmp_path / "kb.csv"
    kb.write_text("entry_id,title,answer\nKB-1,社保卡补办,到县社保局办理\n", encoding="utf-8")
    assert cli("kb", "import", str(kb)).exit_code == 0  # root acts as admin
    row = audit_rows(cli.url)[-1]
    assert (row.action, row.outcome, row.actor_user, row.actor_role, row.source) == (
        "kb.import",
        "ok",
        "root",
        "admin",
        f"root@{HOST}",
    )
    assert (row.after["rows"], row.after["created"]) == (1, 1)
    assert counts(cli.url)[1:] == (1, 1)

    missing = tmp_path / "gone.csv"  # a file that cannot be read: refused, recorded
    missing.write_bytes(b"\xff\xfe\x00garbage")
    bad = cli("kb", "import", str(missing), login="op")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    row = audit_rows(cli.url)[-1]
    assert (row.action, row.target, row.outcome, row.actor_user) == (
        "kb.import",
        "file:gone.csv",
        "refused",
        "op",
    )
    assert row.reason


def test_demo_generate_is_the_admins_and_never_over_real_tickets(cli, tmp_path):
    before = len(audit_rows(cli.url))
    line = refused_line(cli(*DEMO, login="lee"))
    assert "'demo.generate' needs role admin; lee is lead" in line
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS, encoding="utf-8")
    assert cli("tickets", "import", str(path), login="op").exit_code == 1  # real tickets now
    line = refused_line(cli(*DEMO))  # root: admin, but the store looks real
    assert "no demo history" in line
    skipped = cli(*DEMO, "--if-empty")
    assert skipped.exit_code == 0 and "nothing generated" in skipped.stdout
    rows = [r for r in new_rows(cli, before) if r.action == "demo.generate"]
    assert [(r.outcome, r.actor_user) for r in rows] == [
        ("refused", "lee"),
        ("refused", "root"),
        ("ok", "root"),
    ]
    assert rows[0].target == rows[1].target == "demo:2026-10-01..2026-10-31:seed14"
    assert rows[2].after["generated"] is False and rows[2].after["seed"] == 14
    assert counts(cli.url)[0] == 2  # not one synthetic ticket among the real ones


@pytest.fixture
def alert_config(tmp_path, smtp_sink) -> Path:
    path = tmp_path / "noc.yaml"
    path.write_text(
        DEFAULT_CONFIG.read_text(encoding="utf-8")
        + f"""
alerting:
  receivers:
    - {{name: noc-oncall, urls: ["{smtp_sink.mailto_url()}"]}}
    - {{name: noc-lead, urls: ["{smtp_sink.mailto_url("lead@hotline.example")}"]}}
    - {{name: carrier-liaison, urls: ["{smtp_sink.mailto_url("carrier@hotline.example")}"]}}
    - {{name: purchaser-contact, urls: ["{smtp_sink.mailto_url("buyer@hotline.example")}"]}}
  route: {{receiver: noc-oncall}}
""",
        encoding="utf-8",
    )
    return path


def test_alert_test_is_ordered_by_a_lead_and_audited_before_it_leaves(cli, alert_config, smtp_sink):
    before = len(audit_rows(cli.url))
    args = ("alert", "test", "noc-oncall", "--config", str(alert_config))
    refused_line(cli(*args, login="mallory"))
    line = refused_line(cli(*args, login="op"))
    assert "'alert.test' needs role lead, admin; op is operator" in line
    assert smtp_sink.messages == []  # nothing sent for a refusal
    sent = cli(*args, login="lee")
    assert sent.exit_code == 0, sent.output
    assert len(smtp_sink.messages) == 1
    rows = new_rows(cli, before)
    assert [(r.action, r.target, r.outcome, r.actor_user) for r in rows] == [
        ("alert.test", "receiver:noc-oncall", "refused", None),
        ("alert.test", "receiver:noc-oncall", "refused", "op"),
        ("alert.test", "receiver:noc-oncall", "ok", "lee"),
    ]
    assert json.loads(json.dumps(rows[-1].after)) == {"receiver": "noc-oncall"}
