"""``noc incident list|show|ack|step|resolve|close``: work incidents from a terminal.

The commands read and write the event store directly (``--db``), so they work with or without
the service running; the running engine notices operator actions on its next decision. A
write acts as the NOC account bound to the OS account running it (``noc user add NAME --os-user
LOGIN``; root acts as admin), needs that account's permission and is audited like an API write;
the name on the timeline is that account's (``--by``, if given, must be it). A refused action
(unbound account, too little role, unknown incident, wrong status) exits 1 with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from noc.cli.access import reads, writes
from noc.cli.common import exit_on_error, json_option, lang_option, run_with_store, store_options
from noc.cli.identity_common import Ctx, run
from noc.config import NocConfig
from noc.core.errors import NocError, NotFoundError
from noc.identity.actor import Actor
from noc.store.incidents import IncidentRepo
from noc.store.operator_acts import OperatorActs

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
@reads()
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
@reads()
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


def _act(
    config_path: str | None,
    db_url: str | None,
    work: Callable[[OperatorActs, Actor], Awaitable[T]],
) -> tuple[T, str]:
    """An audited act as the NOC account bound to this OS account: (its result, the name)."""

    async def go(ctx: Ctx) -> tuple[T, str]:
        actor = await ctx.actor()
        acts = OperatorActs(ctx.store, ctx.config.site.name, ctx.accounts.policy)
        return await work(acts, actor), actor.user or ""

    return run(config_path, db_url, go)


BY_HELP = "(optional) must be the acting account: the name recorded is always that account's"


@incident.command("ack")
@writes("ack", "incident.ack")
@click.argument("incident_id", type=int)
@click.option("--by", help=BY_HELP)
@click.option("--note", default="")
@store_options
def ack_cmd(
    incident_id: int, by: str | None, note: str, config_path: str | None, db_url: str | None
) -> None:
    """Acknowledge: someone is on it (stops escalation)."""
    _, who = _act(
        config_path,
        db_url,
        lambda acts, actor: acts.acknowledge(actor, incident_id, note, by),
    )
    click.echo(f"#{incident_id} 已确认 acknowledged by {who}")


@incident.command("step")
@writes("step", "incident.step", "a flag other than the runbook's also needs step.override")
@click.argument("incident_id", type=int)
@click.argument("step_id")
@click.option("--by", help=BY_HELP)
@click.option("--output", default="", help="what was found or done")
@click.option(
    "--intervention/--no-intervention",
    default=None,
    help="did this change the network? (default: as the runbook step says; otherwise an "
    "override: lead only, with --reason)",
)
@click.option("--reason", default="", help="why the intervention flag differs from the runbook's")
@store_options
def step_cmd(
    incident_id: int,
    step_id: str,
    by: str | None,
    output: str,
    intervention: bool | None,
    reason: str,
    config_path: str | None,
    db_url: str | None,
) -> None:
    """Record a runbook step as done."""

    async def work(acts: OperatorActs, actor: Actor) -> bool:
        try:
            row = await acts.incidents.get(incident_id)
            runbook = _runbook(row.fault_type)
            step = next((s for s in runbook.steps if s.id == step_id), None) if runbook else None
            if runbook is not None and step is None:
                raise NotFoundError(
                    f"runbook {runbook.id!r} has no step {step_id!r}; "
                    f"steps: {', '.join(s.id for s in runbook.steps)}"
                )
        except NocError as exc:  # refused before the act: recorded all the same
            await acts.refused(actor, "incident.step", f"incident:{incident_id}", exc)
            raise
        _, flag = await acts.record_step(
            actor,
            incident_id,
            step_id,
            output,
            intervention,
            step.intervention if step is not None else None,
            reason,
            by,
        )
        return flag

    was_intervention, who = _act(config_path, db_url, work)
    click.echo(
        f"#{incident_id} 步骤 step {step_id} done by {who}"
        + (" (intervention)" if was_intervention else "")
    )


@incident.command("resolve")
@writes("resolve", "incident.resolve")
@click.argument("incident_id", type=int)
@click.option("--by", help=BY_HELP)
@click.option("--note", required=True)
@store_options
def resolve_cmd(
    incident_id: int, by: str | None, note: str, config_path: str | None, db_url: str | None
) -> None:
    """Declare the fault fixed by hand (recovery kind: manual)."""
    _, who = _act(
        config_path,
        db_url,
        lambda acts, actor: acts.resolve(actor, incident_id, note, by),
    )
    click.echo(f"#{incident_id} 已人工恢复 resolved (manual) by {who}")


@incident.command("close")
@writes("close", "incident.close")
@click.argument("incident_id", type=int)
@click.option("--by", help=BY_HELP)
@click.option("--note", required=True, help="the cause (故障原因)")
@store_options
def close_cmd(
    incident_id: int, by: str | None, note: str, config_path: str | None, db_url: str | None
) -> None:
    """Close a recovered incident with its cause."""
    _, who = _act(
        config_path,
        db_url,
        lambda acts, actor: acts.close(actor, incident_id, note, by),
    )
    click.echo(f"#{incident_id} 已关闭 closed by {who}")
