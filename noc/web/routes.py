"""Every route with its permission, declared next to it: one table per web module.

Each module lists its routes as ``ROUTES = [route("POST", "/api/v1/incidents/{id}/ack", ack,
"ack", action="incident.ack"), …]`` and :func:`add_routes` registers them, keeping the
declaration where the access middleware (:mod:`noc.web.auth`) finds it for every request. A
route the table does not know is refused (deny by default), and :func:`undeclared` lists any
route registered around the table (a test walks the router with it).

``permission`` names a permission of :mod:`noc.identity.roles` (never a role), or one of:

- :data:`PUBLIC`: no credentials (``/healthz``, the login page and endpoint, static assets);
- :data:`SIGNED_IN`: any signed-in account (who am I, logout, changing one's own password);
- :data:`SCRAPE`: ``/metrics``, open unless ``server.metrics_auth: bearer`` asks for a token
  that may ``read``.

A write (any method but GET/HEAD/OPTIONS) names its audit ``action``: the refusals the
middleware answers itself (no credentials, too little role, a bad CSRF token, a body that
cannot be read) are recorded under it. ``while_must_change`` marks the few routes a session
that must change its password may use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from noc.identity.roles import PERMISSIONS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PUBLIC = "public"
SIGNED_IN = "signed-in"
SCRAPE = "metrics"
SPECIAL = (PUBLIC, SIGNED_IN, SCRAPE)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    permission: str
    action: str | None = None
    while_must_change: bool = False

    def __post_init__(self) -> None:
        if self.permission not in PERMISSIONS and self.permission not in SPECIAL:
            raise ValueError(f"{self.method} {self.path}: unknown permission {self.permission!r}")
        if self.is_write and self.permission != PUBLIC and not self.action:
            raise ValueError(f"{self.method} {self.path}: a write names its audit action")

    @property
    def is_write(self) -> bool:
        return self.method.upper() not in SAFE_METHODS


def route(
    method: str,
    path: str,
    handler: Handler,
    permission: str,
    *,
    action: str | None = None,
    while_must_change: bool = False,
) -> Route:
    return Route(method.upper(), path, handler, permission, action, while_must_change)


AccessTable = dict[tuple[str, str], Route]
ACCESS = web.AppKey("access", AccessTable)


def _table(app: web.Application) -> AccessTable:
    if ACCESS not in app:
        app[ACCESS] = {}
    return app[ACCESS]


def add_routes(app: web.Application, routes: Iterable[Route]) -> None:
    """Register ``routes`` with their declarations (a GET answers HEAD too, as aiohttp's
    ``add_get`` does)."""
    table = _table(app)
    for r in routes:
        resource = app.router.add_resource(r.path)
        resource.add_route(r.method, r.handler)
        table[(r.method, resource.canonical)] = r
        if r.method == "GET":
            resource.add_route("HEAD", r.handler)
            table[("HEAD", resource.canonical)] = r


def add_static(app: web.Application, prefix: str, path: str, **kwargs: object) -> None:
    """Static assets: public, declared like any route."""
    resource = app.router.add_static(prefix, path, **kwargs)  # type: ignore[arg-type]
    table = _table(app)
    for method in ("GET", "HEAD"):
        table[(method, resource.canonical)] = Route(method, prefix, _static_marker, PUBLIC)


async def _static_marker(request: web.Request) -> web.StreamResponse:  # pragma: no cover
    raise web.HTTPNotFound()  # never called: the static resource answers itself


def declaration(app: web.Application, method: str, canonical: str) -> Route | None:
    return app.get(ACCESS, {}).get((method.upper(), canonical))


def undeclared(app: web.Application) -> list[str]:
    """``METHOD path`` of every registered route without a declaration (should be none)."""
    missing = []
    for r in app.router.routes():
        canonical = r.resource.canonical if r.resource is not None else "?"
        if r.method == "*" or declaration(app, r.method, canonical) is None:
            missing.append(f"{r.method} {canonical}")
    return missing
