"""Who may use which ``noc`` command: one declaration next to each command.

The CLI's counterpart of the HTTP route declarations (:mod:`noc.web.routes`). Every command
carries exactly one :class:`Access`, given by a decorator right under ``@group.command(…)``;
``tests/unit/test_cli_access.py`` walks the click tree of ``noc`` and fails on a command
without one, and on a permission :mod:`noc.identity.roles` does not know. ``noc COMMAND
--help`` ends with the declaration (:func:`annotate`). Three kinds:

- :func:`writes` ``(permission, action)``: the command writes the store or sends something
  (an import, a test message). It acts as the NOC account bound to the OS account running it
  (root acts as ``admin``, audited as ``root``; see :mod:`noc.cli.identity_common`), needs
  ``permission`` from the one permission table, and leaves one audit row under ``action``:
  ``ok`` with what it did, or ``refused`` with the reason (an unbound OS account, too little
  role, a file that cannot be read). The commands added to the table later read their
  permission and action from here (:func:`current`), so what is declared is what is checked.
- :func:`reads` ``(permission)``: the command only reads store data. Declared, not checked on
  the CLI: whoever can open the store (the SQLite file, the PostgreSQL credentials) can read it
  without ``noc``, so the control is the database's own access, not a role (docs/security.md).
- :func:`local` ``(note)``: no store data, or the store's schema, the service process, the
  lab: no NOC role applies; who may run it is decided by the operating system (root for raw
  sockets and network namespaces, the database owner's credentials for a migration, read
  access to the config file). ``note`` says which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import click

from noc.identity.roles import DEFAULT_TABLE, PERMISSIONS

Kind = Literal["write", "read", "local"]
KINDS: tuple[str, ...] = ("write", "read", "local")
ATTRIBUTE = "__noc_access__"

F = TypeVar("F")


@dataclass(frozen=True)
class Access:
    kind: Kind
    permission: str | None = None  # a permission of noc.identity.roles (write, read)
    action: str | None = None  # the audit action of a write
    note: str = ""  # local: what controls it instead; otherwise any further condition

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown access kind {self.kind!r}")
        if self.kind in ("write", "read") and self.permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {self.permission!r} (noc.identity.roles)")
        if self.kind == "write" and not self.action:
            raise ValueError("a write names its audit action")
        if self.kind == "local" and (self.permission or not self.note):
            raise ValueError("a local command names no permission and says who may run it")

    @property
    def checked(self) -> bool:
        """Does the command check the bound account (and audit)? Writes do; reads and local
        commands do not (``noc user bootstrap`` audits as root or ``system``)."""
        return self.kind == "write"

    def text(self) -> str:
        """The line ``--help`` ends with."""
        if self.kind == "local":
            return f"权限 access: 本机 local — {self.note}"
        holders = ", ".join(DEFAULT_TABLE.roles_for(self.permission or "")) or "nobody"
        if self.kind == "read":
            out = (
                f"权限 access: {self.permission} ({holders}); read only, not checked on the "
                "CLI: the store's own access controls reading (docs/security.md)"
            )
        else:
            out = (
                f"权限 access: {self.permission} ({holders}); acts as the NOC user bound to this "
                f"OS account (root: admin), audited as {self.action}"
            )
        return f"{out}; {self.note}" if self.note else out


def declare(access: Access) -> Callable[[F], F]:
    """Attach ``access`` to a command's function (or to a ``click.Command``)."""

    def mark(target: F) -> F:
        holder: Any = target.callback if isinstance(target, click.Command) else target
        if getattr(holder, ATTRIBUTE, None) is not None:
            raise ValueError(f"{getattr(holder, '__name__', holder)}: declared twice")
        setattr(holder, ATTRIBUTE, access)
        return target

    return mark


def writes(permission: str, action: str, note: str = "") -> Callable[[F], F]:
    return declare(Access("write", permission, action, note))


def reads(permission: str = "read", note: str = "") -> Callable[[F], F]:
    return declare(Access("read", permission, None, note))


def local(note: str, action: str | None = None) -> Callable[[F], F]:
    return declare(Access("local", None, action, note))


def declare_each(group: click.Group, table: Mapping[str, Access]) -> None:
    """Declarations for a group whose module may not import this one (``noc lab``: the lab
    package may not import the CLI); a name the group lacks is a mistake."""
    for name, access in table.items():
        command = group.commands.get(name)
        if command is None:
            raise ValueError(f"{group.name} has no command {name!r}")
        declare(access)(command)


def access_of(command: click.Command) -> Access | None:
    """The declaration of ``command`` (None: undeclared)."""
    return getattr(command.callback, ATTRIBUTE, None) if command.callback else None


def walk(group: click.Group, prefix: str = "noc") -> Iterator[tuple[str, click.Command]]:
    """(``noc group command``, command) for every command that runs something (not groups)."""
    for name in sorted(group.commands):
        command = group.commands[name]
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from walk(command, path)
        else:
            yield path, command


def undeclared(group: click.Group) -> list[str]:
    """Every command of ``group`` without a declaration (should be none)."""
    return [path for path, command in walk(group) if access_of(command) is None]


def annotate(group: click.Group) -> None:
    """End each command's ``--help`` with its declaration."""
    for _, command in walk(group):
        access = access_of(command)
        if access is not None:
            command.epilog = "\n\n".join(filter(None, [command.epilog, access.text()]))


def markdown_table(group: click.Group) -> str:
    """The declarations as the table of docs/security.md (a test keeps the two equal)."""
    lines = [
        "| command | kind | permission (roles) | checked and audited | note |",
        "|---|---|---|---|---|",
    ]
    for path, command in walk(group):
        access = access_of(command)
        if access is None:
            continue
        if access.kind == "local":
            permission = "—"
        else:
            holders = ", ".join(DEFAULT_TABLE.roles_for(access.permission or ""))
            permission = f"`{access.permission}` ({holders})"
        if access.kind == "write":
            audited = f"yes: `{access.action}`"
        elif access.action:
            audited = f"audited: `{access.action}`"
        else:
            audited = "no"
        note = access.note.replace("|", "\\|")
        lines.append(f"| `{path}` | {access.kind} | {permission} | {audited} | {note} |")
    return "\n".join(lines)


def current() -> Access:
    """The declaration of the command being run (what a write checks and audits under)."""
    command = click.get_current_context().command
    access = access_of(command)
    if access is None or access.kind != "write":
        raise RuntimeError(f"{command.name}: not declared as a write")
    return access


__all__ = [
    "Access",
    "access_of",
    "annotate",
    "current",
    "declare",
    "declare_each",
    "local",
    "markdown_table",
    "reads",
    "undeclared",
    "walk",
    "writes",
]
