"""The NOC web console: server-rendered pages (Jinja2), live by Server-Sent Events, every action
a plain form post.

Layout: :mod:`pages` (the navigation table, ``@page``/``@action``, rendering), :mod:`context`
(who is looking, language, CSRF: where the identity layer plugs in), :mod:`messages` (every
text, zh-CN and en), one module per area (:mod:`overview`, :mod:`incidents`, :mod:`inventory`,
:mod:`operations`, :mod:`reports` (SLA), :mod:`monthly` (月报), :mod:`kpi`, :mod:`registers`,
:mod:`search`, :mod:`system`), :mod:`live` (the SSE stream). Templates are
``noc/web/templates/console/``, the one script and style sheet ``noc/web/static/``.
"""

from __future__ import annotations

from aiohttp import web

from noc.appkeys import HUB
from noc.web.console import (  # noqa: F401 - importing a module declares its pages
    incidents,
    inventory,
    kpi,
    live,
    monthly,
    operations,
    overview,
    registers,
    reports,
    search,
    system,
)
from noc.web.console.pages import ROUTES, STATIC_DIR
from noc.web.routes import add_routes, add_static


async def _cache_static(request: web.Request, response: web.StreamResponse) -> None:
    """Static URLs carry their content's hash (``pages.static``): a browser keeps them for good
    instead of asking again on every page."""
    if request.path.startswith("/static/") and "v" in request.query and response.status == 200:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"


async def _close_streams(app: web.Application) -> None:
    app[HUB].close()  # open event streams end now, not at the shutdown timeout
    await incidents.stop_running(app)


def setup(app: web.Application) -> None:
    """Register the console's pages, forms, live feed and static files on ``app``."""
    app[incidents.RUNNING] = {}
    app[system.CHAIN] = {}
    app[kpi.CACHE] = {}
    add_routes(app, [*ROUTES, *live.ROUTES])
    add_static(app, "/static", STATIC_DIR, name="static")
    app.on_response_prepare.append(_cache_static)
    app.on_shutdown.append(_close_streams)
    app.cleanup_ctx.append(reports.sla_cache_ctx)
    app.cleanup_ctx.append(live.watch_ctx)
