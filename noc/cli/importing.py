"""What ``noc calls``, ``noc tickets`` and ``noc kb`` share: running with the store open, the
progress bar, the import report and its exit code.

Exit codes: 0 every row imported (or already there); 1 some rows had problems (the others were
imported; each problem printed with row, column, value and reason); 2 the file or an option is
wrong, or ``--strict`` refused the file (nothing imported).
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click

from noc.calls_intake import ImportReport
from noc.cli.common import load_config_or_exit, open_store, store_options  # noqa: F401
from noc.config import NocConfig
from noc.core.errors import NocError
from noc.ingest.tabular import MappingError
from noc.store import Store

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
    except NocError as exc:
        click.echo(f"错误 error: {exc}", err=True)
        sys.exit(exc.exit_code)


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
