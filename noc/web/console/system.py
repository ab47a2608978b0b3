"""系统 admin, 审计 audit, 登录 login, 修改密码 password and 接口 the API reference.

The login form posts to ``POST /api/v1/login`` and the password form to ``POST /api/v1/password``
(:mod:`noc.web.session_api`); the access middleware sends an anonymous page request to
``/login`` and a session that must change its password to ``/password``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from noc.web.console.context import current_user
from noc.web.console.pages import NAV, page
from noc.web.openapi import document
from noc.web.routes import declared_routes


@page("admin")
async def admin(request: web.Request) -> dict[str, Any]:
    return {"identity": False}


@page("audit")
async def audit(request: web.Request) -> dict[str, Any]:
    return {"identity": False}


@page("login")
async def login(request: web.Request) -> dict[str, Any]:
    return {"next": request.query.get("next", "/"), "message": None}


@page("password")
async def password(request: web.Request) -> dict[str, Any]:
    return {"message": None, "forced": request.query.get("forced") == "1"}


def _page(key: str):  # noqa: ANN202 - a pages.Page
    return next(p for p in NAV if p.key == key)


@page("api")
async def api_reference(request: web.Request) -> dict[str, Any]:
    doc = document(declared_routes(request.app))
    operations = [
        {"path": path, "method": method.upper(), **op}
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    ]
    return {"doc": doc, "operations": operations, "user_name": current_user(request).name}
