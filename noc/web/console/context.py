"""Who is looking, in which language, and the template context every console page shares.

The identity layer (issue 12) plugs in here and only here: :func:`current_user` is the one place
a page asks who is there, :func:`csrf_token` / :func:`check_csrf` the one place a form gets and
proves its token. Until login lands, the user is the request's ``user`` (set by an auth
middleware) or else the app's preview user: an anonymous viewer, or ``NOC_CONSOLE_USER=name:role``
for a trial console on loopback; the CSRF token is an HMAC of the user's name under a key made
at start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG
from noc.web.console.messages import LANGS, translate
from noc.web.permissions import ROLES, allows


@dataclass(frozen=True)
class User:
    name: str
    role: str
    placeholder: bool = False  # nobody logged in: the console's stand-in until login lands


ANONYMOUS = User("anonymous", "viewer", placeholder=True)


@dataclass
class Seat:
    """Who the console takes a visitor for while nobody can log in (a test changes it)."""

    user: User = ANONYMOUS


PREVIEW_USER = web.AppKey("console_preview_user", Seat)
CSRF_KEY = web.AppKey("console_csrf_key", bytes)
LANG_COOKIE = "lang"
CSRF_FIELD = "csrf_token"


def preview_user_from_env(environ: dict[str, str] | None = None) -> User:
    """``NOC_CONSOLE_USER=name:role`` (until login lands); an anonymous viewer otherwise."""
    value = (environ if environ is not None else os.environ).get("NOC_CONSOLE_USER", "").strip()
    if not value:
        return ANONYMOUS
    name, _, role = value.partition(":")
    role = role or "viewer"
    if not name or role not in ROLES:
        raise ValueError(
            f"NOC_CONSOLE_USER={value!r}: expected NAME:ROLE with ROLE one of {', '.join(ROLES)}"
        )
    return User(name, role, placeholder=True)


def current_user(request: web.Request) -> User:
    """The one answer to "who is this": the auth middleware's user, else the preview user."""
    user = request.get("user")
    if user is not None:
        return user
    seat = request.app.get(PREVIEW_USER)
    return seat.user if seat is not None else ANONYMOUS


def can(request: web.Request, permission: str) -> bool:
    return allows(current_user(request).role, permission)


def csrf_token(request: web.Request) -> str:
    """The token every console form carries (a hidden ``csrf_token`` field)."""
    key = request.app[CSRF_KEY]
    name = current_user(request).name.encode()
    return hmac.new(key, name, hashlib.sha256).hexdigest()


def check_csrf(request: web.Request, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(submitted, csrf_token(request))


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
