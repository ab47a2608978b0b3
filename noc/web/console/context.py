"""Who is looking, in which language, and the template context every console page shares.

Who is there and the form token come from the access layer (:mod:`noc.web.auth`): the
middleware has authenticated the session and checked the route's declared permission (and the
CSRF token of every write) before any page runs; :func:`can` answers the template's "may this
role…" with the same :func:`noc.web.permissions.allows`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG
from noc.web import auth
from noc.web.console.messages import LANGS, translate
from noc.web.permissions import allows


@dataclass(frozen=True)
class User:
    name: str
    role: str | None
    placeholder: bool = False  # nobody logged in (a public page)


ANONYMOUS = User("anonymous", None, placeholder=True)
LANG_COOKIE = "lang"
CSRF_FIELD = auth.CSRF_FIELD


def current_user(request: web.Request) -> User:
    """The one answer to "who is this": the account the access middleware authenticated."""
    actor = auth.current_actor(request)
    if not actor.known:
        return ANONYMOUS
    return User(actor.user or "", actor.role)


def can(request: web.Request, permission: str) -> bool:
    actor = auth.current_actor(request)
    table = auth.policy_of(request.app).permissions
    return allows(actor.role if actor.known else None, permission, table)


def csrf_token(request: web.Request) -> str:
    """The token every console form carries (a hidden ``csrf_token`` field): the session's."""
    return auth.csrf_token(request) or ""


def lang(request: web.Request) -> str:
    """``?lang=`` (remembered in a cookie), then the cookie, then the site's locale."""
    asked = request.query.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGS:
        return asked
    return request.app[CONFIG].site.locale


def site_tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].site.timezone)


def base_context(request: web.Request) -> dict[str, Any]:
    """What every template may use: ``t``, ``can``, ``csrf_token``, ``local``, the user …"""
    language = lang(request)
    config = request.app[CONFIG]
    tz = site_tz(request)
    now = dt.datetime.now(dt.UTC)

    def t(key: str, **values: Any) -> str:
        return translate(key, language, **values)

    def local(value: dt.datetime | str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        if value is None:
            return "–"
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.astimezone(tz).strftime(fmt)

    return {
        "lang": language,
        "html_lang": "en" if language == "en" else "zh-CN",
        "t": t,
        "can": lambda permission: can(request, permission),
        "csrf_token": lambda: csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "user": current_user(request),
        "site_title": config.site.title.get(language),
        "timezone": config.site.timezone,
        "local": local,
        "now": now,
        "now_iso": now.isoformat(timespec="seconds"),
        "path": request.path,
        "query": request.query,
        "partial_url": _with_query(request, partial="1"),
        "lang_url": _with_query(request, lang="zh-CN" if language == "en" else "en"),
    }


def _with_query(request: web.Request, **changes: str) -> str:
    """This page's URL with some query parameters set (filters kept, ``lang`` and ``partial``
    dropped unless set here)."""
    query = {k: v for k, v in request.query.items() if k not in ("lang", "partial")}
    query.update(changes)
    return f"{request.path}?{urlencode(query)}"
