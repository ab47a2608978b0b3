"""``noc user|token|audit`` on both backends: who acts, what is refused, one audit row per write.

Most tests run the click commands in-process with the OS account replaced (``os_account``), so
one test process can act as root, as a bound security officer and as a stranger; the last test
runs ``noc`` in real child processes as root and as the OS user ``nobody``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pwd
import socket
import sys
import tempfile
import traceback

import pytest
from click.testing import CliRunner, Result
from support.identity import drop_audit_guards, fast_hashing, noc_as_os_account  # noqa: F401
from support.stores import audit_rows, create_store, on_store

from noc.cli import identity_common, main
from noc.identity.passwords import check_password
from noc.store.api_tokens import TokenRepo
from noc.store.identity_tables import AuditRow
from noc.store.types import utcnow

HOST = socket.gethostname()


@pytest.fixture
def cli(db_url, monkeypatch, fast_hashing):  # noqa: F811
    """``cli(*args, login="root", input=None)``: run ``noc`` as that OS account on ``db_url``."""

    create_store(db_url)  # as `noc db upgrade` would: these commands never create one
    return noc_as_os_account(monkeypatch, db_url)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("拒绝 refused: "), result.stderr
    return lines[0]


def one_new_row(cli, before: int, **expected) -> AuditRow:
    rows = audit_rows(cli.url)
    assert len(rows) == before + 1, [(r.action, r.outcome) for r in rows]
    row = rows[-1]
    for key, value in expected.items():
        assert getattr(row, key) == value, (key, getattr(row, key), value)
    assert row.channel == "cli"
    return row


def setup_security_officer(cli) -> None:
    ok(cli("user", "bootstrap"))
    ok(cli("user", "add", "sue", "--role", "security", "--os-user", "sue"))


def test_root_bootstraps_then_the_security_officer_manages_accounts(cli):
    boot = ok(cli("user", "bootstrap"))
    password = boot.stdout.strip().splitlines()[-1]
    assert check_password(password, "admin") == []
    one_new_row(cli, 0, action="user.bootstrap", actor_user="root", source=f"root@{HOST}")
    assert "nothing done" in ok(cli("user", "bootstrap")).stdout
    assert len(audit_rows(cli.url)) == 1

    added = ok(cli("user", "add", "sue", "--role", "security", "--os-user", "sue"))
    assert "sue" in added.stdout and check_password(added.stdout.splitlines()[-1], "sue") == []
    one_new_row(cli, 1, action="user.add", target="sue", actor_user="root", actor_role="admin")

    as_sue = {"login": "sue"}
    steps = [
        (
            ("user", "add", "bob", "--role", "operator", "--os-user", "bob", "--password-stdin"),
            "user.add",
        ),
        (("user", "role", "bob", "lead"), "user.role"),
        (("user", "disable", "bob"), "user.disable"),
        (("user", "enable", "bob"), "user.enable"),
        (("user", "passwd", "bob"), "user.password_reset"),
        (("user", "bind", "bob", "--os-user", "bob2"), "user.bind"),
        (("user", "unlock", "bob"), "lockout.release"),
    ]
    for args, action in steps:
        n = len(audit_rows(cli.url))
        ok(cli(*args, input="Operator-2026\n", **as_sue))
        one_new_row(
            cli,
            n,
            action=action,
            target="bob",
            outcome="ok",
            actor_user="sue",
            actor_role="security",
            source=f"sue@{HOST}",
        )
    listed = {u["name"]: u for u in json.loads(ok(cli("user", "list", "--json")).stdout)}
    assert listed["bob"]["role"] == "lead" and listed["bob"]["os_user"] == "bob2"
    assert listed["bob"]["must_change"] and not listed["bob"]["disabled"]
    assert "password_hash" not in listed["bob"]
    assert "lead" in ok(cli("user", "list")).stdout

    n = len(audit_rows(cli.url))
    line = refused(cli("user", "role", "sue", "admin", **as_sue))
    assert "own account" in line
    one_new_row(cli, n, action="user.role", target="sue", outcome="refused", actor_user="sue")

    n = len(audit_rows(cli.url))  # once a security officer exists, root no longer manages accounts
    assert "needs role security" in refused(cli("user", "add", "eve", "--role", "admin"))
    one_new_row(cli, n, action="user.add", outcome="refused", actor_user="root")


def test_an_os_user_without_a_binding_is_refused_and_audited(cli):
    setup_security_officer(cli)
    n = len(audit_rows(cli.url))
    line = refused(cli("user", "add", "eve", "--role", "admin", login="mallory"))
    assert "'mallory' is not bound" in line
    row = one_new_row(
        cli, n, action="user.add", target="eve", outcome="refused", source=f"mallory@{HOST}"
    )
    assert row.actor_user is None and row.actor_role is None
    assert "eve" not in ok(cli("user", "list")).stdout

    ok(cli("user", "add", "bob", "--role", "operator", "--os-user", "bob", login="sue"))
    ok(cli("user", "disable", "bob", login="sue"))
    n = len(audit_rows(cli.url))
    assert "disabled" in refused(cli("token", "revoke", "1", login="bob"))
    one_new_row(cli, n, action="token.revoke", outcome="refused", actor_user=None)


def test_a_weak_password_is_refused_with_every_reason(cli):
    setup_security_officer(cli)
    n = len(audit_rows(cli.url))
    result = cli(
        "user", "add", "vic", "--role", "viewer", "--password-stdin", login="sue", input="vic\n"
    )
    line = refused(result, code=2)
    assert "at least 10 characters" in line and "at least 3 of" in line
    assert "must not be the user name" in line
    one_new_row(cli, n, action="user.add", outcome="refused", actor_user="sue")
    bad_role = cli("user", "add", "vic", "--role", "superuser", login="sue")
    assert bad_role.exit_code == 2 and len(audit_rows(cli.url)) == n + 1


def test_tokens_are_printed_once_listed_by_prefix_and_revoked(cli):
    setup_security_officer(cli)
    ok(cli("user", "add", "al", "--role", "admin", "--os-user", "al", login="sue"))
    ok(cli("user", "add", "bot", "--role", "operator", login="sue"))

    n = len(audit_rows(cli.url))
    made = ok(
        cli(
            "token",
            "create",
            "--user",
            "bot",
            "--label",
            "calls ingest",
            "--expires",
            "30d",
            "--scope",
            "ingest",
            login="al",
        )
    )
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("noc_") and len(secret) == 47
    row = one_new_row(cli, n, action="token.create", actor_user="al", actor_role="admin")
    assert row.target == f"bot {secret[:12]}" and secret not in json.dumps(row.after)

    async def authenticate(store):
        return await TokenRepo(store).authenticate(secret, utcnow())

    found = on_store(cli.url, authenticate)
    assert found.user.name == "bot" and found.scopes == {"ingest"}

    listed = ok(cli("token", "list")).stdout
    assert secret[:12] in listed and secret not in listed and "calls ingest" in listed
    (item,) = json.loads(ok(cli("token", "list", "--json")).stdout)
    assert item["state"] == "active" and item["scopes"] == ["ingest"]

    n = len(audit_rows(cli.url))
    assert "no API tokens" in refused(cli("token", "create", "--user", "sue", login="al"))
    assert "needs role admin" in refused(cli("token", "create", "--user", "bot", login="sue"))
    assert len(audit_rows(cli.url)) == n + 2
    bad = cli("token", "create", "--user", "bot", "--expires", "soon", login="al")
    assert bad.exit_code == 2 and "--expires" in bad.stderr

    n = len(audit_rows(cli.url))
    ok(cli("token", "revoke", secret[:12], login="sue"))  # security may revoke
    one_new_row(cli, n, action="token.revoke", actor_user="sue", outcome="ok")
    with pytest.raises(Exception, match="revoked"):
        on_store(cli.url, authenticate)
    assert json.loads(ok(cli("token", "list", "--active", "--json")).stdout) == []


def test_audit_list_export_and_verify(cli):
    setup_security_officer(cli)
    ok(cli("user", "add", "bob", "--role", "operator", login="sue"))
    refused(cli("user", "role", "sue", "admin", login="sue"))

    listed = ok(cli("audit", "list")).stdout.splitlines()
    assert len(listed) == 4 and listed[0].startswith("#4 ") and "refused" in listed[0]
    mine = json.loads(ok(cli("audit", "export", "--format", "json", "--actor", "sue")).stdout)
    assert [(r["action"], r["outcome"]) for r in mine] == [
        ("user.add", "ok"),
        ("user.role", "refused"),
    ]
    refusals = ok(cli("audit", "list", "--outcome", "refused")).stdout.splitlines()
    assert len(refusals) == 1 and "user.role" in refusals[0]
    [bob] = ok(cli("audit", "list", "--target", "bo")).stdout.splitlines()
    assert "user.add" in bob and " bob " in bob
    table = list(csv.DictReader(io.StringIO(ok(cli("audit", "export")).stdout)))
    assert [r["id"] for r in table] == ["1", "2", "3", "4"]
    assert (
        table[1]["prev_hash"] == table[0]["hash"] and json.loads(table[2]["after"])["name"] == "bob"
    )
    assert (
        ok(cli("audit", "export", "--from", "2000-01-01", "--to", "2000-12-31")).stdout.count("\n")
        == 1
    )
    assert "intact: 4 row(s), #1–#4" in ok(cli("audit", "verify")).stdout

    async def tamper(store):
        await drop_audit_guards(store)
        async with store.engine.begin() as conn:
            await conn.exec_driver_sql("UPDATE audit_log SET actor_user = 'root' WHERE id = 3")

    on_store(cli.url, tamper)
    broken = cli("audit", "verify")
    assert broken.exit_code == 1
    assert "broken at row #3: " in broken.stderr and "changed" in broken.stderr


def test_the_os_account_comes_from_the_uid_not_the_environment(monkeypatch):
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LOGNAME", "alice")
    login, is_root = identity_common.os_account()
    assert login == pwd.getpwuid(os.geteuid()).pw_name and is_root == (os.geteuid() == 0)


def run_forked(args: list[str], user: str | None = None, input: str = "") -> tuple[int, str, str]:
    """``noc ARGS`` in a forked child that drops to the OS ``user`` before running: a real
    process with a real uid, without exec (the interpreter lives where ``nobody`` cannot)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with tempfile.TemporaryFile() as inp:
            inp.write(input.encode())
            inp.flush()
            inp.seek(0)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                code = 70
                try:
                    sys.stdin = open(inp.fileno(), encoding="utf-8", closefd=False)
                    sys.stdout = open(out.fileno(), "w", encoding="utf-8", closefd=False)
                    sys.stderr = open(err.fileno(), "w", encoding="utf-8", closefd=False)
                    if user is not None:
                        entry = pwd.getpwnam(user)
                        os.setgroups([])
                        os.setgid(entry.pw_gid)
                        os.setuid(entry.pw_uid)
                    main.main(args, prog_name="noc", standalone_mode=True)
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                except BaseException:
                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode()


@pytest.mark.root
def test_the_real_os_account_decides_who_acts(pg_url, monkeypatch):
    """Real processes: root bootstraps; ``nobody`` is refused until bound, then acts as sue."""
    assert os.geteuid() == 0, "this test drops to the OS user nobody"
    monkeypatch.setenv("USER", "root")  # the environment is not who runs the command
    db = ["--db", create_store(pg_url)]
    # the child cannot read the interpreter's standard library (it lives under /root): import
    # what the commands need here first, by running one of them in this process
    ok(CliRunner().invoke(main, ["audit", "verify", *db]))

    code, out, err = run_forked(["user", "bootstrap", *db])
    assert code == 0, err
    code, out, err = run_forked(["user", "add", "eve", "--role", "viewer", *db], user="nobody")
    assert code == 1, err
    assert err.strip().splitlines() == [
        "拒绝 refused: 操作系统账号 nobody 未绑定 NOC 用户 / OS user 'nobody' is not bound to a "
        "NOC user (noc user add NAME --role ROLE --os-user nobody)"
    ]
    code, out, err = run_forked(
        ["user", "add", "sue", "--role", "security", "--os-user", "nobody", *db]
    )
    assert code == 0, err
    code, out, err = run_forked(
        ["user", "add", "bob", "--role", "operator", "--password-stdin", *db],
        user="nobody",
        input="Operator-2026\n",
    )
    assert code == 0, err
    rows = [(r.action, r.actor_user, r.source, r.outcome) for r in audit_rows(pg_url)]
    assert rows == [
        ("user.bootstrap", "root", f"root@{HOST}", "ok"),
        ("user.add", None, f"nobody@{HOST}", "refused"),
        ("user.add", "root", f"root@{HOST}", "ok"),
        ("user.add", "sue", f"nobody@{HOST}", "ok"),
    ]
    assert run_forked(["audit", "verify", *db], user="nobody")[0] == 0
