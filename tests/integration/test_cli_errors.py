"""What an operator sees when something is wrong: one or two lines, no traceback, nothing created.

Issue 11, items 2 and 3. Every case runs ``noc`` as a real process and asserts the exit code,
that standard error is at most two lines without "Traceback", and the reason in it.

Permission cases (a read-only folder for the SQLite file, an unreadable config, port 1) need a
process the kernel holds to file modes and to the privileged-port rule. Tests run as root here,
and the interpreter lives under /root, where the OS user ``nobody`` cannot read it; so the
command runs as root *without capabilities* (``setpriv --inh-caps=-all --bounding-set=-all``):
uid 0 still owns its files and reads the interpreter, but with no CAP_DAC_OVERRIDE a mode of
0555 or 0000 binds it like any user, and with no CAP_NET_BIND_SERVICE port 1 is refused with
EACCES — the kernel's own refusals, not an emulation. A non-root run needs no wrapper.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from support.stores import create_store

from noc.config import DEFAULT_CONFIG
from noc.store.db import head_revision

UNREACHABLE = "postgresql://nobody:pw-Zq9@127.0.0.1:1/none"


def noc(*args: str, unprivileged: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
    prefix: list[str] = []
    if unprivileged and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) drops root's capabilities for the permission tests"
        prefix = [setpriv, "--inh-caps=-all", "--bounding-set=-all", "--"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "noc", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )


def refused(result: subprocess.CompletedProcess, code: int, *reasons: str) -> str:
    """The command failed with ``code`` in at most two lines, no traceback, naming ``reasons``."""
    err = result.stderr
    assert result.returncode == code, (result.returncode, err)
    assert "Traceback" not in err, err
    assert 1 <= len(err.strip().splitlines()) <= 2, err
    for reason in reasons:
        assert reason in err, (reason, err)
    return err


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- item 2: a store is never created by accident ---------------------------------------------

READING_AND_WRITING = [
    ["sla", "report", "--period", "2026-11"],
    ["incident", "list"],
    ["incident", "ack", "1", "--by", "张三"],
    ["maintenance", "list"],
    ["maintenance", "add", "--assets", "internet", "--duration", "1h"]
    + ["--reason", "x", "--by", "y"],
    ["audit", "list"],
    ["user", "add", "eve", "--role", "viewer"],
    ["db", "current"],
    ["demo", "generate", "--months", "1"],
    ["alert", "test", "noc-oncall"],
]


@pytest.mark.parametrize("args", READING_AND_WRITING, ids=lambda a: " ".join(a[:2]))
def test_a_missing_sqlite_store_is_refused_and_nothing_is_created(tmp_path: Path, args):
    url = f"sqlite:///{tmp_path / 'does' / 'not' / 'exist.db'}"
    err = refused(noc(*args, "--db", url), 1, "no store at", f"noc db upgrade --db {url}")
    assert len(err.strip().splitlines()) == 1
    assert files_under(tmp_path) == []  # no folder, no file, no journal


def test_the_issue_s_own_command_exits_non_zero_and_creates_nothing():
    """The "Checked by" line of issue 11, with its very path."""
    folder = Path("/tmp/does")
    assert not folder.exists(), (
        f"{folder} exists already: this check needs it absent (never skipped)"
    )
    result = noc("sla", "report", "--db", "sqlite:////tmp/does/not/exist.db", "--period", "2026-11")
    refused(result, 1, "no store at sqlite:////tmp/does/not/exist.db", "noc db upgrade")
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    assert not folder.exists()


def test_an_existing_but_empty_sqlite_file_is_refused_and_left_untouched(tmp_path: Path):
    empty = tmp_path / "noc.db"
    empty.touch()
    url = f"sqlite:///{empty}"
    for args in (["sla", "report", "--period", "2026-11"], ["incident", "list"], ["db", "current"]):
        refused(noc(*args, "--db", url), 1, "is empty (not migrated)", f"noc db upgrade --db {url}")
    assert files_under(tmp_path) == ["noc.db"] and empty.stat().st_size == 0  # no WAL, no schema


def test_a_store_behind_or_ahead_of_this_version_is_refused(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'noc.db'}"
    assert noc("db", "upgrade", "--db", url, "--revision", "0001").returncode == 0
    head = head_revision()
    refused(
        noc("incident", "list", "--db", url),
        1,
        f"is at revision 0001, this version needs {head}",
        "noc db upgrade",
    )
    assert noc("db", "upgrade", "--db", url).returncode == 0
    assert noc("incident", "list", "--db", url).returncode == 0
    with sqlite3.connect(tmp_path / "noc.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    refused(
        noc("incident", "list", "--db", url),
        1,
        "revision ffff_from_the_future, which this version does not know",
    )


def _pg_databases(admin: str) -> set[str]:
    with psycopg.connect(admin, autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_a_postgresql_database_that_does_not_exist_is_refused_not_created(pg_admin):
    name = f"noc_absent_{uuid.uuid4().hex[:10]}"
    base = psycopg.conninfo.conninfo_to_dict(pg_admin)
    url = f"postgresql://{base.get('user')}@{base.get('host')}:{base.get('port', 5432)}/{name}"
    for args in (["sla", "report", "--period", "2026-11"], ["user", "list"], ["db", "current"]):
        refused(noc(*args, "--db", url), 1, url, f'database "{name}" does not exist')
    assert name not in _pg_databases(pg_admin)


def test_an_empty_postgresql_database_is_refused_and_stays_empty(pg_url):
    for args in (["sla", "report", "--period", "2026-11"], ["incident", "ack", "1", "--by", "x"]):
        refused(noc(*args, "--db", pg_url), 1, "is empty (not migrated)", "noc db upgrade")
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    assert tables == 0


def test_db_upgrade_creates_the_folder_and_the_store_then_commands_read_it(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'new' / 'folder' / 'noc.db'}"
    assert noc("db", "upgrade", "--db", url).returncode == 0
    assert (tmp_path / "new" / "folder" / "noc.db").is_file()
    report = noc("sla", "report", "--period", "2026-11", "--db", url)
    assert report.returncode == 0, report.stderr
    assert noc("db", "current", "--db", url).stdout.strip().endswith(f"head {head_revision()}")


def test_help_states_the_absolute_default_store():
    out = " ".join(noc("--help").stdout.split())  # click wraps the epilog
    assert "/var/lib/noc/noc.db" in out and "~/.local/share/noc/noc.db" in out
    assert "noc db upgrade" in out


# -- item 3: every error is one or two lines --------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["incident", "list"], ["sla", "report", "--period", "2026-11"], ["user", "list"]]
    + [["db", "current"], ["db", "upgrade"]],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_unreachable_database_is_one_or_two_lines(args):
    err = refused(noc(*args, "--db", UNREACHABLE), 1, "127.0.0.1:1/none", "Connection refused")
    assert "pw-Zq9" not in err and "***" in err


def test_a_refusing_database_names_the_url_and_what_failed(pg_admin):
    base = psycopg.conninfo.conninfo_to_dict(pg_admin)
    role = f"ghost_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://{role}:pw-Zq9@{base.get('host')}:{base.get('port', 5432)}/test"
    err = refused(noc("incident", "list", "--db", url), 1, f"postgresql://{role}:***@")
    assert role in err.splitlines()[-1] and "pw-Zq9" not in err  # the server's reason: no role


def test_run_with_an_unreachable_database_is_one_or_two_lines(tmp_path: Path):
    result = noc("run", "--db", UNREACHABLE, "--listen", "127.0.0.1:0", "--log-level", "warning")
    err = refused(result, 1, "cannot open the store at postgresql://nobody:***@127.0.0.1:1/none")
    assert "Connection refused" in err and "pw-Zq9" not in err


@pytest.mark.parametrize(
    "args",
    [["incident", "list"], ["user", "list"], ["db", "upgrade"]]
    + [["run", "--listen", "127.0.0.1:0", "--log-level", "warning"]],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_unsupported_url_scheme_is_one_line_exit_2(args):
    err = refused(noc(*args, "--db", "mysql://u:pw-Zq9@x/y"), 2, "unsupported database 'mysql'")
    assert len(err.strip().splitlines()) == 1 and "pw-Zq9" not in err


def test_an_unreadable_database_url_is_one_line_exit_2():
    refused(noc("incident", "list", "--db", "not a url"), 2, "cannot read database URL")


@pytest.mark.parametrize("args", [["config", "check"], ["incident", "list"], ["run"]])
@pytest.mark.parametrize("case", ["missing", "directory", "no permission"])
def test_an_unreadable_config_file_is_two_lines_exit_2(tmp_path: Path, args, case):
    path = tmp_path / "noc.yaml"
    reason = {
        "missing": "No such file or directory",
        "directory": "Is a directory",
        "no permission": "Permission denied",
    }[case]
    if case == "directory":
        path.mkdir()
    elif case == "no permission":
        path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
        path.chmod(0o000)
    given = [*args, str(path)] if args == ["config", "check"] else [*args, "--config", str(path)]
    result = noc(*given, unprivileged=case == "no permission")
    refused(result, 2, f"{path}: cannot read: {reason}", "config invalid")
    assert files_under(tmp_path) == ([] if case == "missing" else ["noc.yaml"])


def _listening_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def test_run_on_a_port_in_use_is_one_line_and_opens_no_store(tmp_path: Path):
    sock, port = _listening_port()
    with sock:
        url = f"sqlite:///{tmp_path / 'store' / 'noc.db'}"
        result = noc("run", "--db", url, "--listen", f"127.0.0.1:{port}", "--log-level", "warning")
    refused(result, 1, f"cannot listen on 127.0.0.1:{port}: address already in use")
    assert files_under(tmp_path) == []  # refused before the store was created


def test_run_on_a_privileged_port_without_the_right_is_one_line(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'noc.db'}"
    result = noc("run", "--db", url, "--listen", "127.0.0.1:1", unprivileged=True)
    refused(
        result,
        1,
        "cannot listen on 127.0.0.1:1: permission denied",
        "needs root or CAP_NET_BIND_SERVICE",
    )


@pytest.mark.parametrize("command", ["run", "db upgrade"])
@pytest.mark.parametrize("where", ["folder", "subfolder"])
def test_a_read_only_folder_for_the_sqlite_file_is_one_line(tmp_path: Path, command, where):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    db = folder / "noc.db" if where == "folder" else folder / "sub" / "noc.db"
    url = f"sqlite:///{db}"
    extra = ["--listen", "127.0.0.1:0", "--log-level", "warning"] if command == "run" else []
    result = noc(*command.split(), "--db", url, *extra, unprivileged=True)
    refused(result, 1, url, f"permission denied on the folder {folder}")
    assert files_under(folder) == []


def test_a_store_file_without_permission_is_one_line(tmp_path: Path):
    url = create_store(f"sqlite:///{tmp_path / 'noc.db'}")
    (tmp_path / "noc.db").chmod(0o000)
    result = noc("incident", "list", "--db", url, unprivileged=True)
    refused(result, 1, url, f"permission denied on the file {tmp_path / 'noc.db'}")


def test_any_other_start_up_failure_of_run_is_one_line(monkeypatch, tmp_path: Path):
    """A part of the service failing to start (here a cleanup context raising) is one line
    naming the error, not aiohttp's traceback; ``--log-level debug`` adds the traceback."""
    import logging

    import structlog
    from aiohttp import web
    from click.testing import CliRunner

    import noc.app
    from noc.cli import main

    async def broken(_app):
        raise RuntimeError("the scheduler could not start\nsecond line of detail")
        yield  # pragma: no cover

    def create_app(config, db_url=None):
        app = web.Application()
        app.cleanup_ctx.append(broken)
        return app

    monkeypatch.setattr(noc.app, "create_app", create_app)
    # `noc run` configures logging for the process: give it back afterwards
    structlog_config = structlog.get_config()
    monkeypatch.setattr(logging.root, "handlers", list(logging.root.handlers))
    monkeypatch.setattr(logging.root, "level", logging.root.level)
    args = ["run", "--db", f"sqlite:///{tmp_path / 'noc.db'}", "--listen", "127.0.0.1:0"]
    try:
        for level, traceback_shown in (("warning", False), ("debug", True)):
            result = CliRunner().invoke(main, [*args, "--log-level", level])
            assert result.exit_code == 1, result.output
            last = result.stderr.strip().splitlines()[-1]
            assert last.endswith("start-up failed: RuntimeError: the scheduler could not start")
            assert ("Traceback" in result.stderr) is traceback_shown
            if not traceback_shown:
                assert len(result.stderr.strip().splitlines()) == 1
    finally:
        structlog.configure(**structlog_config)
