"""Every ``noc`` command declares who may use it (the CLI's counterpart of the router walk)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from noc.cli import main
from noc.cli.access import Access, access_of, declare, markdown_table, undeclared, walk
from noc.identity.roles import PERMISSIONS
from noc.store import register_acts
from noc.store.operator_acts import ACTIONS as OPERATOR_ACTIONS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"
COMMANDS = list(walk(main))


def test_the_walk_reaches_every_group():
    paths = {path for path, _ in COMMANDS}
    assert {"noc run", "noc calls import", "noc lab up", "noc user bootstrap"} <= paths
    assert len(paths) == len(COMMANDS) > 60


def test_every_command_declares_who_may_use_it():
    assert undeclared(main) == []


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_declared_permissions_exist_in_the_one_table(path, command):
    access = access_of(command)
    assert access is not None, path
    if access.kind == "local":
        assert access.permission is None and access.note, path
    else:
        assert access.permission in PERMISSIONS, (path, access.permission)
    if access.kind == "write":
        assert access.action, path


def test_writes_declare_what_their_acts_check():
    """A command that goes through a shared act declares the permission that act checks."""
    checked = 0
    for path, command in COMMANDS:
        access = access_of(command)
        if access.kind != "write":
            continue
        if access.action in OPERATOR_ACTIONS:
            assert access.permission == OPERATOR_ACTIONS[access.action], path
            checked += 1
        if access.action in {a for pair in register_acts.ACTIONS.values() for a in pair}:
            assert access.permission == register_acts.PERMISSION, path
            checked += 1
    assert checked >= 12


def test_the_writes_the_issue_names():
    declared = {path: access_of(c) for path, c in COMMANDS}
    expected = {
        "noc calls import": ("ingest", "calls.import"),
        "noc tickets import": ("ingest", "tickets.import"),
        "noc kb import": ("ingest", "kb.import"),
        "noc demo generate": ("demo.generate", "demo.generate"),
        "noc alert test": ("alert.test", "alert.test"),
        "noc audit purge": ("audit.purge", "audit.purge"),
    }
    for path, (permission, action) in expected.items():
        access = declared[path]
        assert (access.kind, access.permission, access.action) == ("write", permission, action)
    assert declared["noc audit list"].permission == "audit.read"
    assert declared["noc sla report"].kind == "read"
    assert declared["noc db upgrade"].kind == "local"


def test_a_command_without_a_declaration_is_found():
    group = click.Group("g")

    @group.command("said")
    @declare(Access("read", "read"))
    def said() -> None: ...

    @group.command("forgot")
    def forgot() -> None: ...

    assert undeclared(group) == ["noc forgot"]


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Access("write", "nonsense", "x.y"),
        lambda: Access("write", "ingest"),  # no audit action
        lambda: Access("read", None),
        lambda: Access("local", "read", note="x"),
        lambda: Access("local"),  # no note: who may run it?
        lambda: Access("other", "read"),  # type: ignore[arg-type]
    ],
)
def test_a_wrong_declaration_is_refused_at_import(bad):
    with pytest.raises(ValueError):
        bad()


def test_help_ends_with_the_declaration():
    from click.testing import CliRunner

    out = CliRunner().invoke(main, ["calls", "import", "--help"]).output
    assert "权限 access: ingest (operator, lead, admin)" in out and "calls.import" in out


def test_docs_list_every_command_as_declared():
    """docs/security.md carries the table generated from the declarations."""
    assert markdown_table(main) in DOCS.read_text(encoding="utf-8"), (
        "regenerate the CLI table in docs/security.md: "
        "python -c 'from noc.cli import main; from noc.cli.access import markdown_table; "
        "print(markdown_table(main))'"
    )
