"""``noc run``: start the service (stops cleanly on SIGTERM/SIGINT)."""

from __future__ import annotations

import click

from noc.cli.common import exit_on_error, load_config_or_exit, store_options


@click.command()
@store_options
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
@exit_on_error
def run(
    config_path: str | None,
    db_url: str | None,
    listen: str | None,
    log_format: str,
    log_level: str,
) -> None:
    """Start the service (stops cleanly on SIGTERM/SIGINT)."""
    from aiohttp import web

    from noc.app import create_app
    from noc.core.logs import configure_logging, get_logger
    from noc.store import mask_url, resolve_db_url

    configure_logging(log_format, log_level)  # type: ignore[arg-type]
    config = load_config_or_exit(config_path)
    host, _, port = (listen or config.server.listen).rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--listen")
    app = create_app(config, db_url)
    log = get_logger("noc.cli")
    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    log.info(
        "service_starting",
        site=config.site.name,
        assets=len(config.assets),
        db=mask_url(resolve_db_url(db_url, config.server.db)),
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
