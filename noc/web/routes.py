"""One declaration per HTTP route: method, path, handler, permission, the audit action of a
write, and for the API what the OpenAPI document says of it.

Every web module (API, console, session, audit) registers its routes through
:func:`add_routes`, so the app holds the list of what it serves (``ROUTES``) and a lookup table
by method and canonical path (``ACCESS``): the OpenAPI document of ``/api/v1`` is generated
from the list (:mod:`noc.web.openapi`), the access middleware (:mod:`noc.web.auth`) reads the
declaration of the matched route from the table, refusing a route it does not know (deny by
default), and tests walk the router with :func:`undeclared`.

``permission`` names a permission of :mod:`noc.identity.roles` or one of the web words of
:mod:`noc.web.permissions`: ``public`` (no credentials: ``/healthz``, the login page and
endpoint, static assets), ``read`` (any signed-in role; a token needs the ``read`` scope),
``signed-in`` (any signed-in account, even one that must change its password first: who am I,
logout, the password change), ``metrics`` (``/metrics``: open unless ``server.metrics_auth:
bearer``), ``system.view`` (the admin page).

A write (any method but GET/HEAD/OPTIONS) names its audit ``action``: the refusals the
middleware answers itself are recorded under it. ``while_must_change`` marks the few routes a
session that must change its password may use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from noc.web.permissions import PUBLIC, READ, SCRAPE, SIGNED_IN, known

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Param:
    """A query parameter, for the OpenAPI document."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    permission: str
    summary: str = ""
    query: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None  # JSON schema of the request body
    tag: str = ""
    name: str | None = None  # the aiohttp route name, for url_for
    action: str | None = None  # the audit action of a write
    while_must_change: bool = False
    produces: tuple[str, ...] = ()  # media types of a 200 that is a file, not JSON

    def __post_init__(self) -> None:
        if not known(self.permission):
            raise ValueError(f"{self.method} {self.path}: unknown permission {self.permission!r}")
        if self.is_write and self.permission != PUBLIC and not self.action:
            raise ValueError(f"{self.method} {self.path}: a write names its audit action")

    @property
    def is_write(self) -> bool:
        return self.method.upper() not in SAFE_METHODS


def route(method: str, path: str, handler: Handler, permission: str, **kwargs: Any) -> Route:
    """A declaration (keyword fields as :class:`Route`'s)."""
    return Route(method.upper(), path, handler, permission, **kwargs)


ROUTES = web.AppKey("routes", list)  # list[Route], in declaration order
AccessTable = dict[tuple[str, str], Route]
ACCESS = web.AppKey("access", AccessTable)  # (method, canonical path) → Route


def _table(app: web.Application) -> AccessTable:
    if ACCESS not in app:
        app[ACCESS] = {}
    return app[ACCESS]


def add_routes(app: web.Application, routes: Iterable[Route]) -> None:
    """Register the routes with aiohttp and record their declarations on the app (a GET
    answers HEAD too, as aiohttp's ``add_get`` does)."""
    declared = app.setdefault(ROUTES, [])
    table = _table(app)
    for r in routes:
        if r.method == "GET":
            resource = app.router.add_get(r.path, r.handler, name=r.name).resource
        else:
            resource = app.router.add_route(r.method, r.path, r.handler, name=r.name).resource
        assert resource is not None
        table[(r.method, resource.canonical)] = r
        if r.method == "GET":
            table[("HEAD", resource.canonical)] = r
        declared.append(r)


def add_static(app: web.Application, prefix: str, path: Any, **kwargs: Any) -> None:
    """Static assets: public, declared like any route (not in the OpenAPI list)."""
    resource = app.router.add_static(prefix, path, **kwargs)
    table = _table(app)
    for method in ("GET", "HEAD"):
        table[(method, resource.canonical)] = Route(method, prefix, _static_marker, PUBLIC)


async def _static_marker(request: web.Request) -> web.StreamResponse:  # pragma: no cover
    raise web.HTTPNotFound()  # never called: the static resource answers itself


def declared_routes(app: web.Application) -> list[Route]:
    return list(app.get(ROUTES, []))


def lookup(app: web.Application, method: str, canonical: str) -> Route | None:
    """The declaration of ``METHOD canonical-path`` (None: undeclared)."""
    return app.get(ACCESS, {}).get((method.upper(), canonical))


def declaration(request: web.Request) -> Route | None:
    """The declaration of the route that matched ``request`` (None: 404s, undeclared)."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    return lookup(request.app, request.method, resource.canonical)


def undeclared(app: web.Application) -> list[str]:
    """``METHOD path`` of every registered route without a declaration (should be none)."""
    missing = []
    for r in app.router.routes():
        canonical = r.resource.canonical if r.resource is not None else "?"
        if r.method == "*" or lookup(app, r.method, canonical) is None:
            missing.append(f"{r.method} {canonical}")
    return missing


__all__ = [
    "ACCESS",
    "PUBLIC",
    "READ",
    "ROUTES",
    "SCRAPE",
    "SIGNED_IN",
    "Param",
    "Route",
    "add_routes",
    "add_static",
    "declaration",
    "declared_routes",
    "lookup",
    "route",
    "undeclared",
]
