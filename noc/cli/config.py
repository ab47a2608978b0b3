"""``noc config check|show``: validate the inventory (and the runbooks), print it masked.

The file is given as ``--config FILE`` like every other command, or as the positional FILE
(kept for scripts); without either, ``$NOC_CONFIG`` and then the shipped inventory apply.
"""

from __future__ import annotations

from collections import Counter

import click
import yaml

from noc.cli.access import local
from noc.cli.common import config_option, exit_on_error, load_config_or_exit, resolve_config_path
from noc.core.units import format_bandwidth


@click.group()
def config() -> None:
    """Validate and show the inventory."""


def _one_file(file: str | None, option: str | None) -> str | None:
    if file and option and file != option:
        raise click.UsageError(f"two config files given ({file} and --config {option}); give one")
    return file or option


@config.command("check")
@local("validates a config file and the runbooks; no store data: read access to the files decides")
@click.argument("file", required=False)
@config_option
@click.option(
    "--runbooks",
    "runbooks_dir",
    metavar="DIR",
    help="runbook directory (default: the shipped runbooks)",
)
@exit_on_error
def config_check(file: str | None, config_path: str | None, runbooks_dir: str | None) -> None:
    """Validate FILE (both passes) and the runbooks; print a summary, or every error with exit code 2."""
    from incident_runbooks.loader import RunbookError, check_runbooks, load_runbooks

    file = _one_file(file, config_path)
    cfg = load_config_or_exit(file)
    path = resolve_config_path(file)
    runbook_issues = check_runbooks(runbooks_dir)
    if runbook_issues:
        raise RunbookError(runbook_issues)
    runbooks = load_runbooks(runbooks_dir)
    kinds = Counter(a.kind for a in cfg.assets)
    checks = Counter(c.type for _, c in cfg.iter_checks())
    edges = sum(len(a.depends_on) for a in cfg.assets) + sum(
        len(c.depends_on) for _, c in cfg.iter_checks()
    )
    click.echo(f"{path}: OK — {cfg.site.title.zh} ({cfg.site.name})")
    click.echo(
        f"资产 assets: {len(cfg.assets)}  ("
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + ")"
    )
    click.echo(
        f"检查 checks: {sum(checks.values())}  ("
        + ", ".join(f"{k} {n}" for k, n in sorted(checks.items()))
        + ")"
    )
    click.echo(f"依赖 dependencies: {edges}   服务 services: {len(cfg.services)}")
    click.echo("")
    width = max(len(a.name) for a in cfg.assets)
    for a in cfg.assets:
        checks_txt = ",".join(c.check_name for c in a.checks if c.enabled) or "-"
        bw = f" {format_bandwidth(a.bandwidth)}" if a.bandwidth else ""
        deps = f"  ← {', '.join(a.depends_on)}" if a.depends_on else ""
        click.echo(
            f"  {a.name:<{width}}  {a.kind:<13} {a.address or '-':<15}{bw:<5} [{checks_txt}]{deps}"
        )
    for s in cfg.services:
        click.echo(
            f"  service {s.name}: {s.title.zh} ({s.impact}) needs {', '.join(sorted(s.asset_names()))}"
        )
    click.echo(
        f"运维方案 runbooks: {len(runbooks.runbooks)} covering {len(runbooks.fault_types())} fault types"
    )


@config.command("show")
@local(
    "prints a config file with every secret masked; no store data: read access to the file decides"
)
@click.argument("file", required=False)
@config_option
@exit_on_error
def config_show(file: str | None, config_path: str | None) -> None:
    """Print the effective config (defaults filled in) with every secret masked."""
    cfg = load_config_or_exit(_one_file(file, config_path))
    # JSON mode: secrets print as ********** and durations/bandwidths in their human form
    data = cfg.model_dump(mode="json", exclude_none=True)
    click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120))
