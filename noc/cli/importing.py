"""What ``noc calls``, ``noc tickets`` and ``noc kb`` share: running with the store open, the
audited import, the progress bar, the import report and its exit code.

An import (:func:`run_import`) acts as the NOC account bound to the OS account running it
(root acts as admin), needs the permission its command declares (``ingest``,
:mod:`noc.cli.access`) and is audited under the declared action with one row per file — its
name, SHA-256 and counts — written right after its last batch
(:mod:`noc.store.import_acts` says why not inside it). The account is checked before the file
is read: an unbound OS account or too little role prints one line (``拒绝 refused: …``), exits
1, writes a ``refused`` row and imports nothing.

Exit codes: 0 every row imported (or already there); 1 some rows had problems (the others were
imported; each problem printed with row, column, value and reason), or refused; 2 the file or an
option is wrong, or ``--strict`` refused the file (nothing imported).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from noc.calls_intake import ImportReport
from noc.cli.access import current
from noc.cli.common import load_config_or_exit, open_store, store_options  # noqa: F401
from noc.cli.identity_common import cli_actor
from noc.config import NocConfig
from noc.core.errors import AuthError, ForbiddenError, NocError
from noc.ingest.tabular import FileError, MappingError
from noc.store import Store
from noc.store.accounts import Accounts
from noc.store.import_acts import batched_acting

T = TypeVar("T")
SHOWN_PROBLEMS = 200


def run(
    config_path: str | None, db_url: str | None, action: Callable[[Store, NocConfig], Awaitable[T]]
) -> T:
    """Load the config, open the store, run ``action``; a ``NocError`` is a message and its exit
    code, never a traceback."""
    config = load_config_or_exit(config_path)

    async def go() -> T:
        async with open_store(config, db_url) as store:
            return await action(store, config)

    try:
        return asyncio.run(go())
    except MappingError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        click.echo(f"映射文件有误 / mapping invalid: {len(exc.issues)} error(s)", err=True)
        sys.exit(exc.exit_code)
    except (AuthError, ForbiddenError) as exc:  # as the bound commands say it: one line
        click.echo(f"拒绝 refused: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except NocError as exc:
        click.echo(f"错误 error: {exc}", err=True)
        sys.exit(exc.exit_code)


def file_sha256(path: Path) -> str:
    """The file's SHA-256, for the audit row (ties the row to the exact file imported)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}") from None


def report_counts(report: ImportReport) -> dict[str, Any]:
    """What the audit row keeps of an import: counts, never the records."""
    problems = len({p.row for p in report.problems})
    if report.queue_log:
        return {
            "lines": report.rows,
            "new_lines": report.new_lines,
            "skipped_lines": report.skipped_lines,
            "calls_created": report.calls_created,
            "calls_updated": report.calls_updated,
            "pending": report.pending,
            "problems": problems,
            "imported": report.imported,
        }
    return {
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "duplicates": report.duplicates,
        "problems": problems,
        "imported": report.imported,
        "ignored_columns": list(report.ignored_columns),
    }


def run_import(
    config_path: str | None,
    db_url: str | None,
    file: Path,
    work: Callable[[Store, NocConfig], Awaitable[ImportReport]],
    details: dict[str, Any] | None = None,
) -> ImportReport:
    """Import ``file`` with ``work`` as the bound account, audited (see the module): the
    permission and audit action are the command's declaration (:func:`noc.cli.access.current`);
    ``details`` (format, kind, mapping, strict …) go into the row with the counts."""
    access = current()
    assert access.permission is not None and access.action is not None

    async def action(store: Store, config: NocConfig) -> ImportReport:
        policy = config.security.policy()
        actor = await cli_actor(Accounts(store, policy))
        async with batched_acting(
            store,
            actor,
            access.action,
            access.permission,
            f"file:{file.name}",
            policy.permissions,
        ) as act:
            act.after.update({"file": file.name, **(details or {})})
            act.after["sha256"] = file_sha256(file)
            report = await work(store, config)
            act.after.update(report_counts(report))
            if not report.imported:
                act.refuse(
                    f"--strict: {len(report.problems)} problem(s); nothing imported / "
                    "未导入任何记录"
                )
        return report

    return run(config_path, db_url, action)


class _Bar:
    """A progress bar on stderr when it is a terminal (started once the row count is known)."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def start(self, total: int) -> None:
        if sys.stderr.isatty() and total > 0:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()

    def update(self, done: int) -> None:
        if self.bar is not None and done:
            self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextmanager
def progress(label: str = "导入 importing") -> Iterator[_Bar]:
    bar = _Bar(label)
    try:
        yield bar
    finally:
        bar.close()


def finish(report: ImportReport, path: Path, errors_out: str | None) -> None:
    """Print what the import did; problems on stderr; exit 1 or 2 when there were any."""
    if errors_out:
        with open(errors_out, "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow(["row", "column", "value", "reason"])
            for p in report.problems:
                writer.writerow(
                    [p.row, p.column or "", "" if p.value is None else p.value, p.reason]
                )
    for p in report.problems[:SHOWN_PROBLEMS]:
        click.echo(str(p), err=True)
    if len(report.problems) > SHOWN_PROBLEMS:
        more = len(report.problems) - SHOWN_PROBLEMS
        hint = f" (all in {errors_out})" if errors_out else " (--errors-out FILE lists them all)"
        click.echo(f"… and {more} more problem(s){hint}", err=True)
    if report.ignored_columns:
        click.echo(
            f"未导入的列 / columns not imported: {', '.join(report.ignored_columns)}", err=True
        )
    if not report.imported:
        click.echo(
            f"--strict: 未导入任何记录 / nothing imported: {len(report.problems)} problem(s) in "
            f"{path.name}",
            err=True,
        )
        sys.exit(2)
    if report.queue_log:
        click.echo(
            f"{path.name}: {report.rows} line(s), {report.new_lines} new, "
            f"{report.skipped_lines} not call events; calls: {report.calls_created} new, "
            f"{report.calls_updated} completed or corrected; {report.pending} waiting for their "
            "end (in a later file)"
        )
    else:
        click.echo(
            f"{path.name}: {report.rows} row(s): {report.created} new, {report.updated} updated, "
            f"{report.duplicates} already stored, "
            f"{len({p.row for p in report.problems})} with problems"
        )
    if report.problems:
        sys.exit(1)


def import_options(func):
    """The options every file import takes."""
    for option in reversed(
        [
            click.option(
                "--mapping",
                help="YAML mapping of the file's headers (and values) onto the canonical "
                "fields, or the name of a shipped one (province-12345-tickets)",
            ),
            click.option(
                "--strict", is_flag=True, help="import nothing unless every row is good (exit 2)"
            ),
            click.option("--encoding", help="CSV encoding (default: UTF-8, else GB18030)"),
            click.option("--sheet", help="XLSX sheet (default: the first)"),
            click.option(
                "--errors-out",
                type=click.Path(dir_okay=False, writable=True),
                help="write every problem to this CSV (row, column, value, reason)",
            ),
        ]
    ):
        func = option(func)
    return func
