"""系统 admin, 审计 audit, 登录 login, 修改密码 password and 接口 the API reference.

Users, roles, sessions, tokens and the audit log belong to the identity layer (issue 12): until
it is wired in, these pages say what will be here and render without its data, and the login
and password forms post to endpoints that answer "not yet" instead of pretending.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from noc.web.console.context import current_user
from noc.web.console.pages import NAV, action, page, render
from noc.web.openapi import document
from noc.web.permissions import PUBLIC, READ
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


@action("/login", PUBLIC)
async def login_post(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    """Replaced by the identity layer's login; until then it says so (503)."""
    context = {"page": _page("login"), "next": form.get("next", "/"), "message": "login.pending"}
    return render(request, "login.html", context, 503)


@action("/password", READ)
async def password_post(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    context = {"page": _page("password"), "message": "login.pending", "forced": False}
    return render(request, "password.html", context, 503)


@page("api")
async def api_reference(request: web.Request) -> dict[str, Any]:
    doc = document(declared_routes(request.app))
    operations = [
        {"path": path, "method": method.upper(), **op}
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    ]
    return {"doc": doc, "operations": operations, "user_name": current_user(request).name}
