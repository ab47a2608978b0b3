"""``/api/v1/users``, ``/api/v1/lockouts`` and ``/api/v1/tokens``: account management over HTTP.

The same audited acts as ``noc user …`` and ``noc token …`` (:class:`noc.store.accounts.Accounts`):
the security officer (``security``) lists accounts, adds them, changes roles (never their own),
disables and enables, resets passwords (a generated one, answered once, to be changed at the
next login), releases lockouts and ends someone's sessions; the system administrator (``admin``)
issues automation tokens (the token is in this one answer only) and, like the security officer,
revokes them. While no security officer exists, ``admin`` may manage accounts so that the first
one can be created (:func:`noc.identity.rules.bootstrap_grants`).

The security officer and the auditor get no API tokens, so their writes come from a console
session and carry its CSRF token (``X-CSRF-Token``). The console's 系统 page posts forms to its
own routes, which call the functions here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from noc.appkeys import STORE
from noc.core.errors import InputError
from noc.core.units import parse_duration
from noc.identity.roles import PERMISSIONS, ROLES
from noc.store.accounts import Accounts
from noc.store.api_tokens import token_json
from noc.store.types import utcnow
from noc.web.auth import policy_of, writer
from noc.web.requests import json_body
from noc.web.routes import Param, route

DEFAULT_TOKEN_LIFETIME = "90d"


def accounts(request: web.Request) -> Accounts:
    return Accounts(request.app[STORE], policy_of(request.app))


def token_lifetime(text: str | None) -> dt.timedelta:
    """``90d``, ``12h`` … (default 90 days); InputError names the field."""
    value = (text or "").strip() or DEFAULT_TOKEN_LIFETIME
    try:
        return dt.timedelta(seconds=parse_duration(value))
    except ValueError:
        raise InputError(f"expires {value!r}: a duration such as 30d, 90d, 12h") from None


def token_scopes(value: Any) -> list[str] | None:
    """None (the holder's role) or a list of permission names."""
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("scopes must be a list of permission names")
    return value


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return "" if value is None else str(value).strip()


async def list_users(request: web.Request) -> web.Response:
    return web.json_response(await accounts(request).overview())


async def add_user(request: web.Request) -> web.Response:
    body = await json_body(request)
    password = body.get("password")
    row, generated = await accounts(request).add_user(
        writer(request),
        _text(body, "name"),
        _text(body, "role"),
        None if password in (None, "") else str(password),
        _text(body, "os_user") or None,
    )
    return web.json_response({"user": row, "password": generated}, status=201)


async def set_role(request: web.Request) -> web.Response:
    body = await json_body(request)
    name = request.match_info["name"]
    row = await accounts(request).set_role(writer(request), name, _text(body, "role"))
    return web.json_response(row)


async def disable_user(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return web.json_response(await accounts(request).set_disabled(writer(request), name, True))


async def enable_user(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return web.json_response(await accounts(request).set_disabled(writer(request), name, False))


async def reset_password(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    password = await accounts(request).change_password(writer(request), name, reset=True)
    return web.json_response({"user": name, "password": password, "must_change": True})


async def revoke_sessions(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    ended = await accounts(request).revoke_sessions(writer(request), name)
    return web.json_response({"user": name, "sessions_ended": ended})


async def release_lockout(request: web.Request) -> web.Response:
    body = await json_body(request)
    cleared = await accounts(request).release_lockout(
        writer(request), _text(body, "user") or None, _text(body, "source") or None
    )
    return web.json_response({"failures_cleared": cleared})


async def list_tokens(request: web.Request) -> web.Response:
    now = utcnow()
    active = request.query.get("active", "false").lower() in ("1", "true")
    holder = request.query.get("user") or None
    rows = await accounts(request).tokens.list(holder, include_ended=not active, now=now)
    tokens = [token_json(r, name, now) for r, name in rows]
    return web.json_response({"tokens": tokens, "count": len(tokens)})


async def create_token(request: web.Request) -> web.Response:
    body = await json_body(request)
    lifetime = token_lifetime(body.get("expires"))
    scopes = token_scopes(body.get("scopes"))
    issued, row = await accounts(request).issue_token(
        writer(request), _text(body, "user"), _text(body, "label"), lifetime, scopes
    )
    return web.json_response({"token": row, "secret": issued.secret}, status=201)


async def revoke_token(request: web.Request) -> web.Response:
    ref = request.match_info["ref"]
    return web.json_response(await accounts(request).revoke_token(writer(request), ref))


_USER = "/api/v1/users/{name}"
_ROLE = {"type": "string", "enum": list(ROLES)}

ROUTES = [
    route(
        "GET",
        "/api/v1/users",
        list_users,
        "user.read",
        summary="Accounts: role, enabled, lock, last login, live sessions, password age",
        tag="accounts",
    ),
    route(
        "POST",
        "/api/v1/users",
        add_user,
        "user.manage",
        summary="Add an account (a generated password is answered once; changed at first login)",
        body={
            "type": "object",
            "required": ["name", "role"],
            "properties": {
                "name": {"type": "string"},
                "role": _ROLE,
                "password": {"type": "string", "description": "optional; else one is generated"},
                "os_user": {"type": "string", "description": "OS login whose CLI acts as it"},
            },
        },
        tag="accounts",
        action="user.add",
    ),
    route(
        "POST",
        f"{_USER}/role",
        set_role,
        "user.manage",
        summary="Change an account's role (never one's own; its sessions end)",
        body={"type": "object", "required": ["role"], "properties": {"role": _ROLE}},
        tag="accounts",
        action="user.role",
    ),
    route(
        "POST",
        f"{_USER}/disable",
        disable_user,
        "user.manage",
        summary="Disable an account (its sessions end, its tokens stop)",
        tag="accounts",
        action="user.disable",
    ),
    route(
        "POST",
        f"{_USER}/enable",
        enable_user,
        "user.manage",
        summary="Enable a disabled account",
        tag="accounts",
        action="user.enable",
    ),
    route(
        "POST",
        f"{_USER}/password",
        reset_password,
        "user.manage",
        summary="Reset someone's password: a generated one, answered once, changed at next login",
        tag="accounts",
        action="user.password_reset",
    ),
    route(
        "POST",
        f"{_USER}/sessions/revoke",
        revoke_sessions,
        "session.revoke",
        summary="End every live console session of an account",
        tag="accounts",
        action="session.revoke",
    ),
    route(
        "POST",
        "/api/v1/lockouts/release",
        release_lockout,
        "lockout.release",
        summary="Release a login lockout of an account name and/or a source address",
        body={
            "type": "object",
            "properties": {"user": {"type": "string"}, "source": {"type": "string"}},
        },
        tag="accounts",
        action="lockout.release",
    ),
    route(
        "GET",
        "/api/v1/tokens",
        list_tokens,
        "token.revoke",
        summary="Automation tokens by prefix: holder, label, expiry, last use (never the token)",
        query=(
            Param("user", "only this account's tokens"),
            Param("active", "true hides revoked and expired tokens"),
        ),
        tag="accounts",
    ),
    route(
        "POST",
        "/api/v1/tokens",
        create_token,
        "token.manage",
        summary="Issue an automation token (the token is in this answer only)",
        body={
            "type": "object",
            "required": ["user"],
            "properties": {
                "user": {"type": "string", "description": "the operating account it acts as"},
                "label": {"type": "string"},
                "expires": {"type": "string", "description": "lifetime, e.g. 90d (≤ 366d)"},
                "scopes": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(PERMISSIONS)},
                    "description": "limit to these permissions (default: the holder's role)",
                },
            },
        },
        tag="accounts",
        action="token.create",
    ),
    route(
        "POST",
        "/api/v1/tokens/{ref}/revoke",
        revoke_token,
        "token.revoke",
        summary="Revoke a token by its id or listed prefix",
        tag="accounts",
        action="token.revoke",
    ),
]
