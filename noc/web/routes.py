"""One declaration per HTTP route: method, path, handler, permission, and for the API what the
OpenAPI document says of it.

Every module registers its routes through :func:`add_routes`, so the app holds the list of
what it serves (``ROUTES``): the OpenAPI document of ``/api/v1`` is generated from it
(:mod:`noc.web.openapi`), the access check reads the permission of the matched route from it
(:func:`declaration`), and a test walks the router and fails on a route missing from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from noc.web.permissions import known

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


ROUTES = web.AppKey("routes", list)  # list[Route]


def add_routes(app: web.Application, routes: Iterable[Route]) -> None:
    """Register the routes with aiohttp and record their declarations on the app."""
    declared = app.setdefault(ROUTES, [])
    for route in routes:
        if not known(route.permission):
            raise ValueError(f"{route.method} {route.path}: unknown permission {route.permission}")
        if route.method == "GET":  # GET answers HEAD too, as aiohttp's add_get does
            app.router.add_get(route.path, route.handler, name=route.name)
        else:
            app.router.add_route(route.method, route.path, route.handler, name=route.name)
        declared.append(route)


def declared_routes(app: web.Application) -> list[Route]:
    return list(app.get(ROUTES, []))


def declaration(request: web.Request) -> Route | None:
    """The declaration of the route that matched ``request`` (None: static files, 404s)."""
    info = request.match_info.route
    resource = info.resource
    if resource is None:
        return None
    path = resource.canonical
    method = info.method
    for route in request.app.get(ROUTES, []):
        if route.path == path and (route.method == method or method == "HEAD"):
            return route
    return None
