"""``/api/v1/login``, ``/logout``, ``/password`` and ``/session``: console sessions over HTTP.

Login takes JSON ``{"user", "password"}`` or a form post (``user``, ``password``, ``next``)
from the console's login page. Every failure gets the same answer (wrong name, wrong password,
disabled account), a lock says only that there were too many failures, and both are audited
(:mod:`noc.store.logins`). Success issues a new session id every time, in an HttpOnly,
SameSite=Strict cookie (Secure under TLS or when ``server.public_url`` is https), and returns
the session's CSRF token; a form post is redirected to ``next`` (a local path) instead, and a
failed one back to ``/login?error=CODE``. A session whose password must be changed (first
login, reset, expired) may only change it (``POST /api/v1/password``), ask who it is
(``GET /api/v1/session``) and log out.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.core.errors import AuthError, ForbiddenError, InputError
from noc.identity.lockout import LOCKED
from noc.store.accounts import Accounts
from noc.store.logins import Logins
from noc.web.auth import (
    CSRF_FIELD,
    FORM_TYPES,
    SESSION_COOKIE,
    credentials,
    csrf_token,
    current_actor,
    policy_of,
    source_of,
    writer,
)
from noc.web.requests import json_body
from noc.web.routes import PUBLIC, SIGNED_IN, route


def _is_form(request: web.Request) -> bool:
    return request.content_type in FORM_TYPES


async def _fields(request: web.Request, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields of a JSON body or a form post (missing ones as empty strings)."""
    if _is_form(request):
        form = await request.post()
        return {n: str(form.get(n) or "") for n in (*names, "next")}
    body = await json_body(request)
    return {n: str(body.get(n) or "") for n in (*names, "next")}


def _local_path(target: str, default: str = "/") -> str:
    """Only a path on this site: never ``//host`` or ``https://…`` (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def see_other(location: str) -> web.Response:
    """A 303 to ``location`` that can still carry a cookie (returned, not raised)."""
    return web.Response(status=303, headers={"Location": location})


def secure_cookies(request: web.Request) -> bool:
    public = request.app[CONFIG].server.public_url or ""
    return request.secure or public.startswith("https://")


async def login(request: web.Request) -> web.StreamResponse:
    fields = await _fields(request, ("user", "password"))
    name = fields["user"].strip()
    if not name or not fields["password"]:
        raise InputError("用户名和口令必填 / user and password are required")
    policy = policy_of(request.app)
    try:
        result = await Logins(request.app[STORE], policy).login(
            name, fields["password"], source_of(request), channel="console"
        )
    except AuthError as exc:
        if _is_form(request):
            code = "locked" if exc.reason == LOCKED.code else "bad_credentials"
            raise web.HTTPSeeOther(f"/login?error={code}") from None
        raise AuthError(exc.message) from None
    issued = result.session
    body: dict[str, Any] = {
        "user": result.actor.user,
        "role": result.actor.role,
        "must_change": result.must_change,
        "password_expired": result.password_expired,
        "csrf_token": issued.csrf_token,
        "expires_at": issued.expires_at.isoformat(),
        "idle_timeout_seconds": policy.session.idle.total_seconds(),
    }
    response = (
        see_other(_local_path(fields["next"])) if _is_form(request) else web.json_response(body)
    )
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
    )
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    session = credentials(request).session
    if session is None:
        raise InputError(
            "退出只结束网页会话；令牌用 noc token revoke 吊销 / logout ends a console session; "
            "tokens are revoked with noc token revoke"
        )
    form = _is_form(request)
    writer(request)
    await Logins(request.app[STORE], policy_of(request.app)).logout(session, channel="console")
    response = see_other("/login") if form else web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def change_password(request: web.Request) -> web.StreamResponse:
    fields = await _fields(request, ("current_password", "new_password"))
    actor = current_actor(request)
    if credentials(request).session is None:
        raise ForbiddenError(
            "口令只能在网页会话中修改 / a password is changed in a console session, not with a "
            "token"
        )
    if not fields["current_password"] or not fields["new_password"]:
        raise InputError("当前口令和新口令必填 / current_password and new_password are required")
    writer(request)
    accounts = Accounts(request.app[STORE], policy_of(request.app))
    await accounts.change_password(
        actor, actor.user or "", fields["new_password"], fields["current_password"]
    )
    if _is_form(request):
        raise web.HTTPSeeOther(_local_path(fields["next"]))
    return web.json_response({"ok": True, "must_change": False})


async def whoami(request: web.Request) -> web.Response:
    creds = credentials(request)
    actor = creds.actor
    table = policy_of(request.app).permissions
    allowed = sorted(p for p in table.roles_by_permission if actor.can(p, table))
    return web.json_response(
        {
            "user": actor.user,
            "role": actor.role,
            "channel": actor.channel,
            "credential": actor.credential,
            "must_change": creds.must_change,
            "csrf_token": csrf_token(request),
            "csrf_field": CSRF_FIELD,
            "permissions": [] if creds.must_change else allowed,
        }
    )


ROUTES = [
    route(
        "POST", "/api/v1/login", login, PUBLIC, summary="Log in: a session cookie", tag="session"
    ),
    route(
        "POST",
        "/api/v1/logout",
        logout,
        SIGNED_IN,
        summary="Log out: end this session",
        tag="session",
        action="logout",
        while_must_change=True,
    ),
    route(
        "POST",
        "/api/v1/password",
        change_password,
        SIGNED_IN,
        summary="Change one's own password (current_password, new_password)",
        tag="session",
        action="user.password",
        while_must_change=True,
    ),
    route(
        "GET",
        "/api/v1/session",
        whoami,
        SIGNED_IN,
        summary="Who am I: account, role, whether the password must change",
        tag="session",
        while_must_change=True,
    ),
]
