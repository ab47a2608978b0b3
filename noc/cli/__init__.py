"""The ``noc`` command: run the service, check and show config, migrate the store.

Exit codes: 0 success, 1 a check or probe said no, 2 bad input (config errors, usage).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

import click
import yaml

from noc.config import DEFAULT_CONFIG, ConfigError, NocConfig, load_config
from noc.core.units import format_bandwidth

CONFIG_HELP = "inventory YAML (default: $NOC_CONFIG, then the shipped Lingshui inventory)"
DB_HELP = "database URL (default: the config's server.db, then $NOC_DB, then sqlite:///noc.db)"


def _config_path(path: str | None) -> Path:
    return Path(path or os.environ.get("NOC_CONFIG") or DEFAULT_CONFIG)


def _load_or_exit(path: str | None) -> NocConfig:
    try:
        return load_config(_config_path(path))
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        click.echo(f"配置有误 / config invalid: {len(exc.issues)} error(s)", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hotline-noc", prog_name="noc")
def main() -> None:
    """hotline NOC — 陵水12345热线分平台网络运行监控与SLA服务 / network operations and SLA service."""


# -- run -----------------------------------------------------------------------------------


@main.command()
@click.option("--config", "config_path", metavar="FILE", help=CONFIG_HELP)
@click.option("--db", metavar="URL", help=DB_HELP)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="address to serve on (default: the config's server.listen)",
)
@click.option("--log-format", type=click.Choice(["kv", "json"]), default="kv", show_default=True)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def run(
    config_path: str | None, db: str | None, listen: str | None, log_format: str, log_level: str
) -> None:
    """Start the service (stops cleanly on SIGTERM/SIGINT)."""
    from aiohttp import web

    from noc.app import create_app
    from noc.core.logs import configure_logging, get_logger
    from noc.store import mask_url, resolve_db_url

    configure_logging(log_format, log_level)  # type: ignore[arg-type]
    config = _load_or_exit(config_path)
    host, _, port = (listen or config.server.listen).rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--listen")
    app = create_app(config, db)
    log = get_logger("noc.cli")
    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    log.info(
        "service_starting",
        site=config.site.name,
        assets=len(config.assets),
        db=mask_url(resolve_db_url(db, config.server.db)),
        console=f"{base}/",
        metrics=f"{base}/metrics",
    )

    async def announce(_app) -> None:
        log.info(
            "service_started",
            console=f"{base}/",
            metrics=f"{base}/metrics",
            api=f"{base}/api/v1/assets",
        )

    app.on_startup.append(announce)
    web.run_app(
        app,
        host=host.strip("[]"),
        port=int(port),
        print=None,
        access_log=None,
        handle_signals=True,
        shutdown_timeout=1,
    )
    log.info("service_stopped")


# -- config --------------------------------------------------------------------------------


@main.group()
def config() -> None:
    """Validate and show the inventory."""


@config.command("check")
@click.argument("file", required=False)
@click.option(
    "--runbooks",
    "runbooks_dir",
    metavar="DIR",
    help="runbook directory (default: the shipped runbooks)",
)
def config_check(file: str | None, runbooks_dir: str | None) -> None:
    """Validate FILE (both passes) and the runbooks; print a summary, or every error with exit code 2."""
    from incident_runbooks.loader import check_runbooks, load_runbooks

    cfg = _load_or_exit(file)
    path = _config_path(file)
    runbook_issues = check_runbooks(runbooks_dir)
    if runbook_issues:
        for issue in runbook_issues:
            click.echo(str(issue), err=True)
        click.echo(f"运维方案有误 / runbooks invalid: {len(runbook_issues)} error(s)", err=True)
        sys.exit(2)
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
@click.argument("file", required=False)
def config_show(file: str | None) -> None:
    """Print the effective config (defaults filled in) with every secret masked."""
    cfg = _load_or_exit(file)
    # JSON mode: secrets print as ********** and durations/bandwidths in their human form
    data = cfg.model_dump(mode="json", exclude_none=True)
    click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120))


# -- db ------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Event store maintenance."""


def _with_engine(url: str, work):
    """Run ``work(engine)`` on a fresh engine for ``url``; dispose of it afterwards."""
    from noc.store import db as dbmod

    async def go():
        engine = dbmod.create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@db.command("upgrade")
@click.option("--config", "config_path", metavar="FILE", help=CONFIG_HELP)
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
@click.option("--revision", default="head", show_default=True)
def db_upgrade(config_path: str | None, db_url: str | None, revision: str) -> None:
    """Migrate the store to REVISION (default: the newest)."""
    from noc.store import db as dbmod
    from noc.store import mask_url, resolve_db_url

    url = resolve_db_url(db_url, _config_db(config_path, db_url))

    async def upgrade(engine) -> str | None:
        await dbmod.upgrade(engine, revision)
        return await dbmod.current_revision(engine)

    try:
        current = _with_engine(url, upgrade)
    except Exception as exc:
        click.echo(f"迁移失败 / migration failed on {mask_url(url)}: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{mask_url(url)}: at revision {current}")


@db.command("current")
@click.option("--config", "config_path", metavar="FILE", help=CONFIG_HELP)
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
def db_current(config_path: str | None, db_url: str | None) -> None:
    """Print the store's migration revision and the newest one this version knows."""
    from noc.store import db as dbmod
    from noc.store import mask_url, resolve_db_url

    url = resolve_db_url(db_url, _config_db(config_path, db_url))
    current = _with_engine(url, dbmod.current_revision)
    click.echo(f"{mask_url(url)}: current {current or '(empty)'}, head {dbmod.head_revision()}")


def _config_db(config_path: str | None, db_url: str | None) -> str | None:
    """The config's server.db, read only when --db was not given (a store command needs no inventory)."""
    if db_url:
        return None
    if config_path is None and not os.environ.get("NOC_CONFIG"):
        return None
    return _load_or_exit(config_path).server.db


def _register_plugins() -> None:
    """Command groups owned by other parts of the service."""
    from noc.cli.alerts import alert
    from noc.cli.calls import calls
    from noc.cli.diag import diag
    from noc.cli.incidents import incident
    from noc.cli.kb import kb
    from noc.cli.maintenance import maintenance
    from noc.cli.probe import probe
    from noc.cli.sla import sla
    from noc.cli.tickets import tickets
    from noc.lab.cli import lab

    for group in (incident, maintenance, alert, probe, diag, lab, sla, calls, tickets, kb):
        main.add_command(group)


_register_plugins()


if __name__ == "__main__":  # pragma: no cover
    main()
