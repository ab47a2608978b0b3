"""系统 admin, 审计 audit, 登录 login, 修改密码 password and 接口 the API reference.

**系统 admin** shows each person what their role may do with accounts and tokens, and nothing
else (三员分立): the security officer (``security``) lists accounts — role, enabled, lock, last
login, live sessions, password age and expiry — adds them, changes roles (never their own),
disables and enables, resets passwords, releases lockouts and ends sessions; the system
administrator (``admin``) issues and revokes automation tokens. Every control is a plain form
post with the session's CSRF token, and every one calls the same audited act as ``noc user`` /
``noc token`` and ``/api/v1/users`` / ``/api/v1/tokens`` (:mod:`noc.web.accounts_api`): the act
writes its ``ok`` or ``refused`` row with the real actor. A success answers 303 back to the page;
a refusal shows the page again with the reason (and the status of the refusal); a reset password
or a new token is shown in the answer to its post, once, and is kept nowhere.

**审计 audit** (``audit.read``: the auditor) lists the log newest first with filters (actor,
action, target, outcome, period) and pages, shows whether the hash chain is intact (checked at
most every :data:`CHAIN_TTL`, or on demand), and exports the selection as CSV or JSON through the
same code as ``GET /api/v1/audit`` (the export is itself audited; phone numbers and secrets are
masked, :mod:`noc.audit_view`).

The login form posts to ``POST /api/v1/login`` and the password form to ``POST /api/v1/password``
(:mod:`noc.web.session_api`); the access middleware sends an anonymous page request to
``/login`` and a session that must change its password to ``/password``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from noc.appkeys import STORE
from noc.audit_view import masked_row
from noc.core.errors import InputError, NocError
from noc.identity.actor import Actor
from noc.identity.roles import OPERATING_ROLES, PERMISSIONS, ROLES
from noc.store.api_tokens import token_json
from noc.store.audit_log import AuditLog, audit_json
from noc.store.types import utcnow
from noc.web.accounts_api import accounts, token_lifetime, token_scopes
from noc.web.audit_api import FILTERS, OUTCOMES, audit_filters, chain_json, export, secrets_of
from noc.web.auth import FORM_TYPES, current_actor, policy_of, writer
from noc.web.console.context import current_user, site_tz
from noc.web.console.pages import NAV, action, page, render, see_other, subpage
from noc.web.openapi import document
from noc.web.routes import declared_routes

AUDIT_PER_PAGE = 50
CHAIN_TTL = dt.timedelta(minutes=5)
CHAIN = web.AppKey("console_audit_chain", dict)  # the last chain check: report, at, head
TOKEN_LIFETIMES = ("30d", "90d", "180d", "366d")
DONE = frozenset(
    {"role", "disable", "enable", "unlock", "sessions", "token_revoked"}
)  # the notices a 303 back to the admin page may name


def _page(key: str):  # noqa: ANN202 - a pages.Page
    return next(p for p in NAV if p.key == key)


# -- 系统 admin ------------------------------------------------------------------------------


def _may(request: web.Request) -> dict[str, bool]:
    """What this account may do here; the actor's own grants (so the bootstrap admin, before a
    security officer exists, sees the account forms the middleware would admit)."""
    actor = current_actor(request)
    table = policy_of(request.app).permissions
    return {
        "user_read": actor.can("user.read", table),
        "manage": actor.can("user.manage", table),
        "release": actor.can("lockout.release", table),
        "revoke_sessions": actor.can("session.revoke", table),
        "token_manage": actor.can("token.manage", table),
        "token_revoke": actor.can("token.revoke", table),
    }


async def admin_context(request: web.Request) -> dict[str, Any]:
    may = _may(request)
    now = utcnow()
    acts = accounts(request)
    context: dict[str, Any] = {
        "page": _page("admin"),
        "here": "/admin",
        "may": may,
        "roles": ROLES,
        "users": [],
        "locked_sources": [],
        "tokens": [],
        "holders": [],
        "scopes": PERMISSIONS,
        "lifetimes": TOKEN_LIFETIMES,
        "policy": policy_of(request.app),
        "shown": None,
        "error": None,
        "done": None,
        "who": "",
    }
    if may["user_read"]:
        overview = await acts.overview(now)
        for u in overview["users"]:
            changed = dt.datetime.fromisoformat(u["password_changed_at"])
            u["password_age_days"] = max(0, (now - changed).days)
        context["users"] = overview["users"]
        context["locked_sources"] = overview["locked_sources"]
    if may["token_revoke"] or may["token_manage"]:
        context["tokens"] = [token_json(r, n, now) for r, n in await acts.tokens.list(now=now)]
    if may["token_manage"]:
        context["holders"] = [
            u.name for u in await acts.users.list() if u.role in OPERATING_ROLES and not u.disabled
        ]
    return context


@page("admin")
async def admin(request: web.Request) -> dict[str, Any]:
    context = await admin_context(request)
    done = request.query.get("done")
    if done in DONE:
        context.update(done=done, who=request.query.get("who", ""))
    return context


async def _admin_act(
    request: web.Request,
    act: Callable[[Actor], Awaitable[Any]],
    done: str | None = None,
    who: str = "",
    shown: Callable[[Any], dict[str, str]] | None = None,
) -> web.StreamResponse:
    """Do an account act as the signed-in actor; 303 back with a notice, or the page with the
    secret shown once (``shown``), or with the refusal and its status."""
    try:
        result = await act(writer(request))
    except NocError as exc:
        if request.content_type not in FORM_TYPES:  # a script: the API's JSON answer
            raise
        context = await admin_context(request)
        context["error"] = exc.message
        return render(request, "admin.html", context, exc.status)
    if shown is not None:
        context = await admin_context(request)
        context["shown"] = shown(result)
        return render(request, "admin.html", context)
    see_other(f"/admin?{urlencode({'done': done, 'who': who})}")
    raise AssertionError("unreachable")  # see_other raises


@action("/admin/users", "user.manage", audit="user.add")
async def add_user(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    name = form.get("name", "").strip()
    role = form.get("role", "")
    os_user = form.get("os_user", "").strip() or None
    acts = accounts(request)

    def shown(result: tuple[dict[str, Any], str | None]) -> dict[str, str]:
        return {"kind": "password", "user": name, "secret": result[1] or ""}

    return await _admin_act(
        request, lambda actor: acts.add_user(actor, name, role, None, os_user), shown=shown
    )


@action("/admin/users/{name}/role", "user.manage", audit="user.role")
async def set_role(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    name, role = request.match_info["name"], form.get("role", "")
    acts = accounts(request)
    return await _admin_act(request, lambda a: acts.set_role(a, name, role), "role", name)


@action("/admin/users/{name}/disable", "user.manage", audit="user.disable")
async def disable_user(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    name = request.match_info["name"]
    acts = accounts(request)
    return await _admin_act(request, lambda a: acts.set_disabled(a, name, True), "disable", name)


@action("/admin/users/{name}/enable", "user.manage", audit="user.enable")
async def enable_user(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    name = request.match_info["name"]
    acts = accounts(request)
    return await _admin_act(request, lambda a: acts.set_disabled(a, name, False), "enable", name)


@action("/admin/users/{name}/password", "user.manage", audit="user.password_reset")
async def reset_password(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    name = request.match_info["name"]
    acts = accounts(request)
    return await _admin_act(
        request,
        lambda a: acts.change_password(a, name, reset=True),
        shown=lambda password: {"kind": "password", "user": name, "secret": password or ""},
    )


@action("/admin/users/{name}/sessions/revoke", "session.revoke", audit="session.revoke")
async def revoke_sessions(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    name = request.match_info["name"]
    acts = accounts(request)
    return await _admin_act(request, lambda a: acts.revoke_sessions(a, name), "sessions", name)


@action("/admin/lockouts/release", "lockout.release", audit="lockout.release")
async def release_lockout(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    name = form.get("user", "").strip() or None
    source = form.get("source", "").strip() or None
    acts = accounts(request)
    return await _admin_act(
        request,
        lambda a: acts.release_lockout(a, name, source),
        "unlock",
        " ".join(x for x in (name, source) if x),
    )


@action("/admin/tokens", "token.manage", audit="token.create")
async def create_token(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    holder, label = form.get("user", "").strip(), form.get("label", "").strip()
    lifetime = token_lifetime(form.get("expires"))  # a bad one: 400, audited by the middleware
    post = await request.post()
    scopes = token_scopes([str(s) for s in post.getall("scopes", [])])
    acts = accounts(request)
    return await _admin_act(
        request,
        lambda a: acts.issue_token(a, holder, label, lifetime, scopes),
        shown=lambda result: {"kind": "token", "user": holder, "secret": result[0].secret},
    )


@action("/admin/tokens/{ref}/revoke", "token.revoke", audit="token.revoke")
async def revoke_token(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    ref = request.match_info["ref"]
    acts = accounts(request)
    return await _admin_act(request, lambda a: acts.revoke_token(a, ref), "token_revoked", ref)


# -- 审计 audit ------------------------------------------------------------------------------


async def chain_status(request: web.Request, force: bool = False) -> dict[str, Any]:
    """The hash chain's state: checked again when asked, or when the last check is older than
    :data:`CHAIN_TTL` (a full walk reads every row)."""
    cache = request.app[CHAIN]
    log = AuditLog(request.app[STORE])
    now = utcnow()
    if force or not cache or now - cache["at"] > CHAIN_TTL:
        head = await log.head()
        report = await log.verify()
        cache.update(report=chain_json(report), at=now, head=head[0])
    head_id, _ = await log.head()
    return {**cache["report"], "at": cache["at"], "since": head_id - cache["head"]}


@page("audit")
async def audit(request: web.Request) -> dict[str, Any]:
    query = request.query
    shown = {k: query.get(k, "") for k in FILTERS}
    raw_page = query.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
    rows: list[dict[str, Any]] = []
    more, problem = False, None
    try:
        filters = audit_filters(query, site_tz(request))
    except InputError as exc:
        problem = exc.message
    else:
        found = await AuditLog(request.app[STORE]).rows(
            **filters,
            limit=AUDIT_PER_PAGE + 1,
            offset=(number - 1) * AUDIT_PER_PAGE,
            newest_first=True,
        )
        more = len(found) > AUDIT_PER_PAGE
        secrets = secrets_of(request.app)
        for r in found[:AUDIT_PER_PAGE]:
            row = masked_row(audit_json(r), secrets)
            row["changes"] = _changes(row["before"], row["after"])
            rows.append(row)
    base = {k: v for k, v in shown.items() if v}
    return {
        "rows": rows,
        "filters": shown,
        "problem": problem,
        "outcomes": OUTCOMES,
        "chain": await chain_status(request, force=query.get("verify") == "1"),
        "page_number": number,
        "prev_query": {**base, "page": number - 1} if number > 1 else None,
        "next_query": {**base, "page": number + 1} if more else None,
        "export_csv": urlencode({**base, "format": "csv"}),
        "export_json": urlencode({**base, "format": "json"}),
    }


def _changes(before: Any, after: Any) -> str:
    def text(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    if before is None and after is None:
        return ""
    if before is None:
        return text(after)
    return f"{text(before)} → {text(after)}"


@subpage("/audit/export", "audit.html", "audit.read")
async def audit_export(request: web.Request) -> web.StreamResponse:
    """The page's selection as a file: ``GET /api/v1/audit``'s code, audited the same way."""
    filters = audit_filters(request.query, site_tz(request))
    return await export(request, filters, request.query.get("format", "csv"))


# -- login, password, API reference ----------------------------------------------------------


@page("login")
async def login(request: web.Request) -> dict[str, Any]:
    return {"next": request.query.get("next", "/"), "message": None}


@page("password")
async def password(request: web.Request) -> dict[str, Any]:
    return {"message": None, "forced": request.query.get("forced") == "1"}


@page("api")
async def api_reference(request: web.Request) -> dict[str, Any]:
    doc = document(declared_routes(request.app))
    operations = [
        {"path": path, "method": method.upper(), **op}
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    ]
    return {"doc": doc, "operations": operations, "user_name": current_user(request).name}
