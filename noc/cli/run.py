"""``noc run``: start the service (stops cleanly on SIGTERM/SIGINT).

On a store without accounts it first creates ``admin`` with a random password, printed once on
stderr in one block (must be changed at first login). HTTPS with ``server.tls`` or
``--tls-cert/--tls-key``; without TLS, listen on 127.0.0.1 or behind a TLS proxy.
"""

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
@click.option("--tls-cert", metavar="PEM", help="HTTPS certificate (chain); default: server.tls")
@click.option("--tls-key", metavar="PEM", help="its private key; default: server.tls")
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
    tls_cert: str | None,
    tls_key: str | None,
    log_format: str,
    log_level: str,
) -> None:
    """Start the service (stops cleanly on SIGTERM/SIGINT)."""
    from aiohttp import web

    from noc.app import create_app
    from noc.appkeys import STORE
    from noc.cli.identity_common import bootstrap_admin
    from noc.core.logs import configure_logging, get_logger
    from noc.store import mask_url, resolve_db_url
    from noc.web.auth import POLICY
    from noc.web.transport import server_context

    configure_logging(log_format, log_level)  # type: ignore[arg-type]
    config = load_config_or_exit(config_path)
    host, _, port = (listen or config.server.listen).rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--listen")
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("give both --tls-cert and --tls-key")
    tls = config.server.tls
    cert, key = (tls_cert, tls_key) if tls_cert else (tls.cert, tls.key) if tls else (None, None)
    ssl_context = server_context(cert, key) if cert and key else None
    app = create_app(config, db_url)
    log = get_logger("noc.cli")
    base = (
        f"{'https' if ssl_context else 'http'}://{host if ':' not in host else f'[{host}]'}:{port}"
    )
    log.info(
        "service_starting",
        site=config.site.name,
        assets=len(config.assets),
        db=mask_url(resolve_db_url(db_url, config.server.db)),
        console=f"{base}/",
        metrics=f"{base}/metrics",
    )

    async def bootstrap(app) -> None:  # a store without accounts: admin, its password once
        await bootstrap_admin(app[STORE], app[POLICY])

    async def announce(_app) -> None:
        log.info(
            "service_started",
            console=f"{base}/",
            metrics=f"{base}/metrics",
            api=f"{base}/api/v1/assets",
        )

    app.on_startup.append(bootstrap)
    app.on_startup.append(announce)
    web.run_app(
        app,
        host=host.strip("[]"),
        port=int(port),
        print=None,
        access_log=None,
        handle_signals=True,
        shutdown_timeout=1,
        ssl_context=ssl_context,
    )
    log.info("service_stopped")
