"""``noc kb import|search|show``: the knowledge base (知识库) and its version history.

``import`` acts as the NOC account bound to the OS account running it, needs ``ingest`` and is
audited as ``kb.import`` (one row per file, :mod:`noc.cli.importing`); the others read."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from noc import calls_view as view
from noc.calls_intake import context, import_table
from noc.cli.access import reads, writes
from noc.cli.importing import finish, import_options, progress, run, run_import, store_options
from noc.cli.tickets import highlighted
from noc.ingest.search import parse_query, snippet
from noc.store.kb import KbRepo


@click.group()
def kb() -> None:
    """知识库 / knowledge base: import, search, show."""


@kb.command("import")
@writes("ingest", "kb.import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@import_options
@store_options
def import_cmd(file, mapping, strict, encoding, sheet, errors_out, config_path, db_url):
    """Import entries from a CSV or XLSX FILE; changed content becomes the entry's next version."""

    async def action(store, config):
        with progress() as step:
            return await import_table(
                store,
                "kb",
                file,
                context(config),
                mapping=mapping,
                strict=strict,
                encoding=encoding,
                sheet=sheet,
                progress=step,
            )

    details = {"mapping": mapping, "strict": strict}
    finish(run_import(config_path, db_url, file, action, details), file, errors_out)


@kb.command("search")
@reads()
@click.argument("text")
@click.option("--category")
@click.option("--include-expired", is_flag=True, help="also entries no longer valid today")
@click.option("--limit", default=10, show_default=True)
@click.option("--offset", default=0)
@click.option("--json", "as_json", is_flag=True)
@store_options
def search_cmd(text, category, include_expired, limit, offset, as_json, config_path, db_url):
    """Find entries whose title, question or answer holds TEXT; title matches first."""
    if not text.strip():
        click.echo("错误 error: search text is empty", err=True)
        sys.exit(2)
    query = parse_query(text)

    async def action(store, config):
        today = dt.datetime.now(ZoneInfo(config.site.timezone)).date()
        lim, off = view.paging({"limit": limit, "offset": offset})
        hits, total = await KbRepo(store).search(
            query,
            valid_on=None if include_expired else today,
            category=category,
            limit=lim,
            offset=off,
        )
        return total, [(view.kb_hit_json(r, t, query), r) for r, t in hits]

    total, hits = run(config_path, db_url, action)
    if as_json:
        click.echo(
            json.dumps(
                {"query": query.text, "total": total, "entries": [h for h, _ in hits]},
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    click.echo(f"共 {total} 条 / {total} entr{'y' if total == 1 else 'ies'} for {query.text!r}")
    for _hit, row in hits:
        title = highlighted(snippet(row.title, query)) or row.title
        click.echo(f"{row.entry_id}  v{row.version}  {title}  [{row.category or '-'}]")
        body = snippet(row.answer, query) or snippet(row.question, query)
        if body is not None:
            click.echo(f"    {highlighted(body)}")


@kb.command("show")
@reads()
@click.argument("entry_id")
@click.option("--versions", is_flag=True, help="every version, oldest first")
@click.option("--json", "as_json", is_flag=True)
@store_options
def show_cmd(entry_id, versions, as_json, config_path, db_url):
    """One entry (and its history)."""
    from noc.core.errors import NotFoundError

    async def action(store, _config):
        found = await KbRepo(store).get(entry_id)
        if found is None:
            raise NotFoundError(f"no knowledge-base entry {entry_id!r}")
        entry, history = found
        out = view.kb_json(entry)
        out["versions"] = [view.kb_json(v) for v in history]
        return out

    entry = run(config_path, db_url, action)
    if as_json:
        click.echo(json.dumps(entry, ensure_ascii=False, indent=1))
        return
    shown = entry["versions"] if versions else [entry]
    for e in shown:
        click.echo(f"{entry_id}  v{e['version']}  {e['title']}  ({e['updated_at'][:10]})")
        if e["question"]:
            click.echo(f"  问 Q: {e['question']}")
        click.echo(f"  答 A: {e['answer']}")
