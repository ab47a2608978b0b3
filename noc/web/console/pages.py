"""One way to declare a console page and its permission, and one navigation table.

A page is a GET handler returning its template's context, declared with :func:`page`; a form
post is a handler declared with :func:`action`. Both become :class:`noc.web.routes.Route`
declarations (so the access check and the router walk see them like any API route). The
access middleware (:mod:`noc.web.auth`) checks the declared permission, and for actions the CSRF
token, before the handler runs, so no handler can forget either. The navigation shows the pages with
``nav=True`` that the user's role may open, in declaration order. A page's ``?partial=1``
renders only its ``live`` block: what the page's script fetches when the live feed says
something changed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

import noc
from noc.web.console import formats
from noc.web.console.board import check_status
from noc.web.console.context import (
    LANG_COOKIE,
    base_context,
    can,
    lang,
)
from noc.web.console.messages import LANGS, has
from noc.web.permissions import PUBLIC, READ, SIGNED_IN
from noc.web.routes import Route

templates = jinja2.Environment(
    loader=jinja2.PackageLoader("noc.web", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

PageHandler = Callable[[web.Request], Awaitable[dict[str, Any] | web.StreamResponse]]
ActionHandler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Page:
    key: str
    path: str
    name_zh: str
    name_en: str
    template: str
    permission: str = READ
    nav: bool = True

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh


# the console's pages, in navigation order; a page joins by one line here and one @page handler
NAV: tuple[Page, ...] = (
    Page("board", "/", "总览", "Board", "board.html"),
    Page("wall", "/wall", "大屏", "Wall screen", "wall.html", nav=False),
    Page("incidents", "/incidents", "故障", "Incidents", "incidents.html"),
    Page("assets", "/assets", "资产", "Assets", "assets.html"),
    Page("maintenance", "/maintenance", "维护", "Maintenance", "maintenance.html"),
    Page("sla", "/sla", "SLA", "SLA", "sla.html"),
    Page("kpi", "/kpi", "考核", "KPIs", "kpi.html"),
    Page("reports", "/reports", "月报", "Reports", "report.html"),
    Page("tickets", "/tickets", "工单", "Tickets", "tickets.html"),
    Page("kb", "/kb", "知识库", "Knowledge base", "kb.html"),
    Page("registers", "/registers", "登记", "Registers", "registers.html"),
    Page("alerting", "/alerting", "告警", "Alerting", "alerting.html"),
    Page("admin", "/admin", "系统", "Admin", "admin.html", "system.view"),
    Page("audit", "/audit", "审计", "Audit", "audit.html", "audit.read"),
    Page("api", "/api", "接口", "API", "api.html"),
    Page("login", "/login", "登录", "Log in", "login.html", PUBLIC, nav=False),
    Page("password", "/password", "修改密码", "Change password", "password.html", SIGNED_IN, False),
)
ROUTES: list[Route] = []


templates.globals.update(
    {
        "ms": formats.ms,
        "pct": formats.pct,
        "hours": formats.hours,
        "duration": formats.duration,
        "clock": formats.clock,
        "bandwidth": formats.bandwidth,
        "epoch": formats.epoch,
        "check_status": check_status,
        "has": has,
        "version": noc.__version__,
    }
)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@functools.cache
def static(name: str) -> str:
    """``/static/NAME?v=HASH``: a new file is a new URL, so a browser never runs a stale script."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    partial: bool = False,
) -> web.Response:
    ctx = {**base_context(request), "nav": navigation(request), "static": static, **context}
    if "here" in context:  # a form post answered with a page: its links are the page's own
        other = "zh-CN" if ctx["lang"] == "en" else "en"
        ctx["partial_url"] = f"{context['here']}?partial=1"
        ctx["lang_url"] = f"{context['here']}?lang={other}"
    ctx["m"] = templates.get_template("console/_macros.html").make_module(ctx)
    tmpl = templates.get_template(f"console/{template}")
    if partial and "live" in tmpl.blocks:
        html = "".join(tmpl.blocks["live"](tmpl.new_context(ctx)))
    else:
        html = tmpl.render(ctx)
    response = web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
    response.headers["Cache-Control"] = "no-store"
    asked = request.query.get("lang")
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="Strict")
    return response


def navigation(request: web.Request) -> list[dict[str, Any]]:
    language = lang(request)
    return [
        {"path": p.path, "name": p.name(language), "key": p.key, "current": _current(p, request)}
        for p in NAV
        if p.nav and can(request, p.permission)
    ]


def _current(page: Page, request: web.Request) -> bool:
    if page.path == "/":
        return request.path == "/"
    return request.path == page.path or request.path.startswith(page.path + "/")


def refuse(request: web.Request, permission: str, reason: str = "") -> web.Response:
    return render(
        request, "error.html", {"status": 403, "permission": permission, "reason": reason}, 403
    )


def page(key: str) -> Callable[[PageHandler], PageHandler]:
    """Bind a handler to the page ``key`` of :data:`NAV`; it returns the template's context."""
    declared = next(p for p in NAV if p.key == key)

    def register(handler: PageHandler) -> PageHandler:
        async def serve(request: web.Request) -> web.StreamResponse:
            result = await handler(request)
            if isinstance(result, web.StreamResponse):
                return result
            partial = request.query.get("partial") == "1"
            return render(request, declared.template, {"page": declared, **result}, 200, partial)

        serve.__name__ = handler.__name__
        ROUTES.append(
            Route(
                "GET",
                declared.path,
                serve,
                declared.permission,
                f"console: {declared.name_en}",
                tag="console",
                name=key,
                while_must_change=declared.permission == SIGNED_IN,  # the password page
            )
        )
        return handler

    return register


def subpage(path: str, template: str, permission: str = READ, name: str | None = None):
    """A page outside the navigation (an incident's detail, one asset, a download)."""

    def register(handler: PageHandler) -> PageHandler:
        async def serve(request: web.Request) -> web.StreamResponse:
            result = await handler(request)
            if isinstance(result, web.StreamResponse):
                return result
            status = result.pop("status", 200)
            partial = request.query.get("partial") == "1"
            return render(request, template, result, status, partial)

        serve.__name__ = handler.__name__
        ROUTES.append(Route("GET", path, serve, permission, "console page", tag="console"))
        return handler

    return register


def action(
    path: str, permission: str, audit: str | None = None
) -> Callable[[ActionHandler], ActionHandler]:
    """Declare a form post: the access middleware checks the permission and the CSRF token
    before it runs. ``audit`` is the action of the operator act it performs (so a refusal before
    the act is recorded under the same name as the act); else ``console.`` + the path's last word."""

    def register(handler: ActionHandler) -> ActionHandler:
        async def serve(request: web.Request) -> web.StreamResponse:
            form = {k: str(v) for k, v in (await request.post()).items()}
            return await handler(request, form)

        serve.__name__ = handler.__name__
        act = audit or "console." + path.rstrip("/").rsplit("/", 1)[-1]
        ROUTES.append(
            Route("POST", path, serve, permission, "console form", tag="console", action=act)
        )
        return handler

    return register


def see_other(location: str) -> web.Response:
    """After a form post: 303 to the page that shows the result (a reload does not re-post)."""
    raise web.HTTPSeeOther(location)
