"""``noc incident list|show|ack|step|resolve|close``: work incidents from a terminal.

The commands read and write the event store directly (``--db``), so they work with or without
the service running; the running engine notices operator actions on its next decision. A
refused action (unknown incident, wrong status) exits 1 with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from noc.cli.common import exit_on_error, json_option, lang_option, run_with_store, store_options
from noc.config import NocConfig
from noc.core.errors import NotFoundError
from noc.store.incidents import IncidentRepo

T = TypeVar("T")


def _run(
    config_path: str | None,
    db_url: str | None,
    action: Callable[[IncidentRepo, NocConfig], Awaitable[T]],
) -> T:
    return run_with_store(
        config_path,
        db_url,
        lambda store, config: action(IncidentRepo(store, config.site.name), config),
    )


def _runbook(fault_type: str):
    from incident_runbooks.loader import load_runbooks

    try:
        return load_runbooks().for_fault(fault_type)
    except KeyError:
        return None


@click.group()
def incident() -> None:
    """故障处置 / work incidents: list, show, acknowledge, record runbook steps, resolve, close."""


@incident.command("list")
@click.option(
    "--status", type=click.Choice(["active", "open", "acknowledged", "recovered", "closed"])
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@json_option()
@store_options
@exit_on_error
def list_cmd(
    status: str | None, limit: int, as_json: bool, config_path: str | None, db_url: str | None
) -> None:
    """List incidents, newest first."""
    from noc.incident_view import STATUS_ZH, incident_summary, level_label

    async def action(repo: IncidentRepo, config: NocConfig) -> list[dict[str, Any]]:
        tz = ZoneInfo(config.site.timezone)
        return [incident_summary(r, tz) for r in await repo.list(status, limit)]

    rows = _run(config_path, db_url, action)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("没有故障 / no incidents")
    for r in rows:
        click.echo(
            f"#{r['id']:<5} {level_label(r['severity']):<10} {STATUS_ZH[r['status']]:<4} "
            f"{r['detected_at_local']}  {r['type']}  {r['root_asset']}"
        )


@incident.command("show")
@click.argument("incident_id", type=int)
@json_option()
@lang_option()
@store_options
@exit_on_error
def show_cmd(
    incident_id: int, as_json: bool, lang: str | None, config_path: str | None, db_url: str | None
) -> None:
    """An incident with its timeline and runbook progress."""
    from noc.incident_view import incident_detail, render_text

    async def action(repo: IncidentRepo, config: NocConfig) -> tuple[dict[str, Any], str]:
        row = await repo.get(incident_id)
        locale = lang or config.site.locale
        detail = incident_detail(
            row,
            await repo.events(row.id),
            _runbook(row.fault_type),
            ZoneInfo(config.site.timezone),
            locale,
        )
        return detail, locale

    detail, locale = _run(config_path, db_url, action)
    click.echo(
        json.dumps(detail, ensure_ascii=False, indent=1) if as_json else render_text(detail, locale)
    )


@incident.command("ack")
@click.argument("incident_id", type=int)
@click.option("--by", required=True, help="who acknowledges (name)")
@click.option("--note", default="")
@store_options
@exit_on_error
def ack_cmd(
    incident_id: int, by: str, note: str, config_path: str | None, db_url: str | None
) -> None:
    """Acknowledge: someone is on it (stops escalation)."""
    _run(config_path, db_url, lambda repo, _c: repo.acknowledge(incident_id, by, note))
    click.echo(f"#{incident_id} 已确认 acknowledged by {by}")


@incident.command("step")
@click.argument("incident_id", type=int)
@click.argument("step_id")
@click.option("--by", required=True)
@click.option("--output", default="", help="what was found or done")
@click.option(
    "--intervention/--no-intervention",
    default=None,
    help="did this change the network? (default: as the runbook step says)",
)
@store_options
@exit_on_error
def step_cmd(
    incident_id: int,
    step_id: str,
    by: str,
    output: str,
    intervention: bool | None,
    config_path: str | None,
    db_url: str | None,
) -> None:
    """Record a runbook step as done."""

    async def action(repo: IncidentRepo, _config: NocConfig) -> bool:
        row = await repo.get(incident_id)
        runbook = _runbook(row.fault_type)
        step = next((s for s in runbook.steps if s.id == step_id), None) if runbook else None
        if runbook is not None and step is None:
            raise NotFoundError(
                f"runbook {runbook.id!r} has no step {step_id!r}; "
                f"steps: {', '.join(s.id for s in runbook.steps)}"
            )
        is_intervention = (
            intervention if intervention is not None else bool(step and step.intervention)
        )
        await repo.step_done(incident_id, step_id, by, output, is_intervention)
        return is_intervention

    was_intervention = _run(config_path, db_url, action)
    click.echo(
        f"#{incident_id} 步骤 step {step_id} done by {by}"
        + (" (intervention)" if was_intervention else "")
    )


@incident.command("resolve")
@click.argument("incident_id", type=int)
@click.option("--by", required=True)
@click.option("--note", required=True)
@store_options
@exit_on_error
def resolve_cmd(
    incident_id: int, by: str, note: str, config_path: str | None, db_url: str | None
) -> None:
    """Declare the fault fixed by hand (recovery kind: manual)."""
    _run(config_path, db_url, lambda repo, _c: repo.resolve(incident_id, by, note))
    click.echo(f"#{incident_id} 已人工恢复 resolved (manual) by {by}")


@incident.command("close")
@click.argument("incident_id", type=int)
@click.option("--by", required=True)
@click.option("--note", required=True, help="the cause (故障原因)")
@store_options
@exit_on_error
def close_cmd(
    incident_id: int, by: str, note: str, config_path: str | None, db_url: str | None
) -> None:
    """Close a recovered incident with its cause."""
    _run(config_path, db_url, lambda repo, _c: repo.close(incident_id, by, note))
    click.echo(f"#{incident_id} 已关闭 closed by {by}")
