"""The OpenAPI 3 document of ``/api/v1``, generated from the route declarations.

Nothing here is written by hand per route: each :class:`noc.web.routes.Route` under ``/api/v1``
becomes one operation (summary, permission as ``x-permission``, path and query parameters,
JSON body schema, the error shape every route shares), so a route cannot be served without
being documented. Served at ``/api/v1/openapi.json`` and rendered as a page by the console.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

import noc
from noc.web.permissions import PERMISSIONS, READ
from noc.web.routes import Route, declared_routes

API_PREFIX = "/api/v1"
_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "reason"],
    "properties": {
        "error": {"type": "string", "description": "a short code: bad_request, not_found …"},
        "reason": {"type": "string", "description": "what was wrong, for a person"},
    },
}


def _who_may(permission: str) -> str:
    if permission == READ:
        return "any logged-in role"
    needed = PERMISSIONS.get(permission)
    if needed is None:
        return "anyone"
    return "roles " + ", ".join(needed)


def _content(route: Route) -> dict[str, Any]:
    if not route.produces:
        return {"application/json": {}}
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {media: binary for media in route.produces}


def operation(route: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(route.path)
    ]
    params += [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description,
            "schema": p.schema,
        }
        for p in route.query
    ]
    op: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{route.handler.__name__}",
        "summary": route.summary,
        "description": f"Permission: `{route.permission}` ({_who_may(route.permission)}).",
        "tags": [route.tag] if route.tag else [],
        "x-permission": route.permission,
        "parameters": params,
        "responses": {
            "200": {"description": "OK", "content": _content(route)},
            "4XX": {
                "description": "refused, with the reason",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": route.body}},
        }
    return op


def document(routes: list[Route], server_url: str = "/") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not route.path.startswith(API_PREFIX):
            continue
        path = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hotline NOC API",
            "version": noc.__version__,
            "description": "Instants are UTC (ISO 8601) with a site-time twin (`…_local`).",
        },
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "noc_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"session": []}, {"bearer": []}],
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document(declared_routes(request.app)))


ROUTES = (
    Route("GET", f"{API_PREFIX}/openapi.json", openapi_json, READ, "This document", tag="service"),
)
