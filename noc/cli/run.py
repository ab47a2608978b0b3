"""``noc run``: start the service (stops cleanly on SIGTERM/SIGINT).

With ``noc db upgrade`` the one command that creates the store (the SQLite file's folder and
the schema). Whatever stops it from starting — a database URL it cannot use, a store it cannot
open or migrate, an address it cannot listen on — is one line on stderr and exit 1 (2 for a
bad option or config), never a traceback; ``--log-level debug`` adds the traceback of an
unexpected start-up failure.

On a store without accounts it first creates ``admin`` with a random password, printed once on
stderr in one block (must be changed at first login). HTTPS with ``server.tls`` or
``--tls-cert/--tls-key``; without TLS, listen on 127.0.0.1 or behind a TLS proxy.
"""

from __future__ import annotations

import errno
import socket
import traceback

import click

from noc.cli.access import local
from noc.cli.common import exit_on_error, load_config_or_exit, store_options
from noc.core.errors import NocError, UnavailableError

_LISTEN_REASONS = {
    errno.EADDRINUSE: "address already in use (another noc run or another service listens there)",
    errno.EADDRNOTAVAIL: "address not available (not an address of this machine)",
}


def _listen_reason(exc: OSError, port: int) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        if port < 1024:
            return "permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)"
        return "permission denied"
    return _LISTEN_REASONS.get(exc.errno or 0) or (exc.strerror or str(exc))


def check_listen(host: str, port: int) -> None:
    """Refuse an address the service could not listen on, before the store is opened.

    Every address ``host`` resolves to is bound once, the way aiohttp will (SO_REUSEADDR,
    IPv6 only on IPv6 sockets), and released at once."""
    shown = f"{host if ':' not in host else f'[{host}]'}:{port}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnavailableError(f"cannot listen on {shown}: {exc}") from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise UnavailableError(
                    f"cannot listen on {shown}: {_listen_reason(exc, port)}"
                ) from None


@click.command()
@local(
    "starts the service: the store's credentials and the listen port decide; on a store "
    "without accounts it creates admin (audited as user.bootstrap by system)"
)
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
    """Start the service (stops cleanly on SIGTERM/SIGINT); creates or migrates the store."""
    from aiohttp import web

    from noc.app import create_app
    from noc.appkeys import STORE
    from noc.cli.identity_common import bootstrap_admin
    from noc.core.logs import configure_logging, get_logger
    from noc.store import mask_url, resolve_db_url
    from noc.store.db import async_url
    from noc.web.auth import POLICY
    from noc.web.transport import server_context

    configure_logging(log_format, log_level)  # type: ignore[arg-type]
    config = load_config_or_exit(config_path)
    host, _, port = (listen or config.server.listen).rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--listen")
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("give both --tls-cert and --tls-key")
    url = resolve_db_url(db_url, config.server.db)
    async_url(url)  # a URL the service cannot use: one line, exit 2, before anything starts
    check_listen(host.strip("[]"), int(port))
    tls = config.server.tls
    cert, key = (tls_cert, tls_key) if tls_cert else (tls.cert, tls.key) if tls else (None, None)
    ssl_context = server_context(cert, key) if cert and key else None
    log = get_logger("noc.cli")
    scheme = "https" if ssl_context else "http"
    base = f"{scheme}://{host if ':' not in host else f'[{host}]'}:{port}"

    async def bootstrap(app) -> None:  # a store without accounts: admin, its password once
        await bootstrap_admin(app[STORE], app[POLICY])

    async def announce(_app) -> None:
        log.info(
            "service_started",
            console=f"{base}/",
            metrics=f"{base}/metrics",
            api=f"{base}/api/v1/assets",
        )

    try:
        app = create_app(config, db_url)
        app.on_startup.append(bootstrap)
        app.on_startup.append(announce)
        log.info(
            "service_starting",
            site=config.site.name,
            assets=len(config.assets),
            db=mask_url(url),
            console=f"{base}/",
            metrics=f"{base}/metrics",
        )
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
    except NocError:
        raise  # refusals (a broken runbook, the store's): one line already
    except Exception as exc:  # noqa: BLE001 - start-up failed: one line, the traceback on debug
        if log_level == "debug":
            traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        raise UnavailableError(f"start-up failed: {type(exc).__name__}: {first}") from exc
    log.info("service_stopped")
