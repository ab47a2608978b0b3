"""Access control on every route: who is asking (session cookie or API token), may they, and the
record of refused writes. One aiohttp middleware; each route's permission is declared beside it
(:mod:`noc.web.routes`).

For each request the middleware finds the route's declaration (an undeclared route is refused:
deny by default), establishes the :class:`~noc.identity.actor.Actor` and puts it in
``request[ACTOR]`` (:func:`current_actor`):

- ``Authorization: Bearer noc_…`` → the token's holder, channel ``api``, limited to the token's
  scopes; no CSRF token needed (a browser never sends this header across sites by itself);
- the ``noc_session`` cookie (HttpOnly, SameSite=Strict, Secure under TLS) → the session's
  account, channel ``console``; a write must carry the session's CSRF token (header
  ``X-CSRF-Token`` or form field ``csrf_token``). A session whose password must be changed
  (first login, reset, expired) may only change it, see who it is and log out.

Unauthenticated → 401, too little role → 403, both JSON ``{"error", "reason"}`` through the error
middleware (:mod:`noc.web.errors`); a page (not under ``/api/``) asked for without a session is
sent to ``/login`` when the console has one. A refused write is audited here, under the route's
action; an admitted write is audited by its act, in the act's transaction (handlers take the
actor with :func:`writer`, after reading the request, so a request that cannot be read is
still refused *and* recorded exactly once).

The console calls :func:`current_actor`, :func:`csrf_token`, :func:`writer` and, when a form
answers a refusal with its page, :func:`record_refusal`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.web_urldispatcher import SystemRoute

from noc.appkeys import CONFIG, STORE
from noc.core.errors import AuthError, ForbiddenError, NocError
from noc.core.logs import get_logger
from noc.identity.actor import Actor, Channel
from noc.identity.audit import AuditEntry
from noc.identity.passwords import password_expired
from noc.identity.policy import SecurityPolicy
from noc.identity.rules import bootstrap_grants
from noc.identity.sessions import csrf_matches, secret_hash
from noc.identity.tokens import bearer_token, token_state
from noc.store import Store
from noc.store.api_tokens import AuthenticatedToken, TokenRepo
from noc.store.audit_log import AuditLog
from noc.store.auth_sessions import AuthenticatedSession, SessionRepo
from noc.store.identity_tables import UserRow
from noc.store.types import utcnow
from noc.store.users import UserRepo
from noc.web.permissions import PUBLIC, SCRAPE, require_route
from noc.web.routes import Route, lookup

log = get_logger("noc.web.auth")

SESSION_COOKIE = "noc_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _request_key(name: str, kind: type) -> Any:
    """A typed request key (``web.RequestKey``, aiohttp ≥ 3.14), a plain name on older ones."""
    maker = getattr(web, "RequestKey", None)
    return maker(name, kind) if maker is not None else f"noc_{name}"


POLICY = web.AppKey("security_policy", SecurityPolicy)
ACTOR = _request_key("actor", Actor)  # who is asking: request[ACTOR], or current_actor(request)
ROUTE = _request_key("route", Route)  # the declaration of the route being served
_CREDENTIALS = _request_key("credentials", object)
_AUDITED = _request_key("audited", bool)

MUST_CHANGE = (
    "须先修改口令 / change your password first (POST /api/v1/password): until then this "
    "session may only change it or log out"
)


@dataclass(frozen=True)
class Credentials:
    """What the request proved: an actor, and the session or token behind it (if any)."""

    actor: Actor
    session: AuthenticatedSession | None = None
    token: AuthenticatedToken | None = None
    must_change: bool = False


def policy_of(app: web.Application) -> SecurityPolicy:
    """The security policy ``create_app`` put in the app (from the config's ``security:``)."""
    found = app.get(POLICY)
    return found if found is not None else app[CONFIG].security.policy()


def source_of(request: web.Request) -> str:
    """The peer's address (behind a proxy: the proxy's; the proxy logs the client)."""
    return request.remote or "unknown"


def _anonymous(request: web.Request, why: str | None = None) -> Actor:
    channel = "console" if SESSION_COOKIE in request.cookies else "api"
    if why:
        return Actor(None, None, channel, source_of(request), anonymous_reason=why)
    return Actor(None, None, channel, source_of(request))


async def authenticate(request: web.Request, now: dt.datetime | None = None) -> Credentials:
    """The bearer token, else the session cookie, else nobody (``anonymous_reason`` says why)."""
    app = request.app
    store, policy = app[STORE], policy_of(app)
    now = now or utcnow()
    header = request.headers.get("Authorization")
    if header is not None:
        secret = bearer_token(header)
        if secret is None:
            return Credentials(
                _anonymous(request, "Authorization 须为 Bearer noc_… / expected Bearer noc_…")
            )
        try:
            token, extra = await _token(app, store, secret, now)
        except AuthError as exc:
            return Credentials(_anonymous(request, exc.message))
        user = token.user
        actor = Actor(
            user.name,
            user.role,
            "api",
            source_of(request),
            credential=token.credential,
            scopes=token.scopes,
            extra=extra,
        )
        return Credentials(actor, token=token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            session = await SessionRepo(store).authenticate(cookie, now, policy.session)
        except AuthError as exc:
            return Credentials(_anonymous(request, exc.message))
        user = session.user
        actor = await _actor(request, user, "console", session.credential)
        must = user.must_change or password_expired(user.password_changed_at, now, policy.password)
        return Credentials(actor, session=session, must_change=must)
    return Credentials(_anonymous(request))


TOKEN_CACHE_SECONDS = 1.0
"""How long a token found good is believed without asking the store again (see TokenCache)."""


class TokenCache:
    """Tokens found good in the last second, so a client sending a thousand requests a second
    costs one store lookup a second, not a thousand (the lookup itself is one indexed SELECT
    by the SHA-256 of the token; tokens are 32 random bytes, so a fast hash is enough — no
    argon2 per request, see docs/security.md).

    A hit is re-checked against the clock (an expired token is refused at once). A change to
    accounts or tokens made in this process — every one is an audited act — empties it
    (``Store.acts``); one made by another process (``noc token revoke`` on the command line)
    takes effect within ``TOKEN_CACHE_SECONDS``. Refusals are never kept.
    """

    MAX = 1024

    def __init__(self, seconds: float = TOKEN_CACHE_SECONDS):
        self.seconds = seconds
        self._acts = -1
        self._found: dict[str, tuple[float, AuthenticatedToken, frozenset[str]]] = {}

    def get(self, key: str, acts: int) -> tuple[AuthenticatedToken, frozenset[str]] | None:
        if acts != self._acts:
            self._found.clear()
            self._acts = acts
            return None
        hit = self._found.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1], hit[2]

    def put(self, key: str, acts: int, token: AuthenticatedToken, extra: frozenset[str]) -> None:
        if acts != self._acts or len(self._found) >= self.MAX:
            self._found.clear()
            self._acts = acts
        self._found[key] = (time.monotonic() + self.seconds, token, extra)


TOKENS = web.AppKey("token_cache", TokenCache)


async def _token(
    app: web.Application, store: Store, secret: str, now: dt.datetime
) -> tuple[AuthenticatedToken, frozenset[str]]:
    """The live token of ``secret`` and its holder's extra grants (AuthError when refused)."""
    cache = app.get(TOKENS)
    key = secret_hash(secret)
    acts = store.acts
    hit = cache.get(key, acts) if cache is not None else None
    if hit is not None:
        token, extra = hit
        state = token_state(expires_at=token.token.expires_at, revoked_at=None, now=now)
        if state == "active":
            return token, extra
    token = await TokenRepo(store).authenticate(secret, now)
    extra = await _extra(store, token.user.role)
    if cache is not None:
        cache.put(key, acts, token, extra)
    return token, extra


async def _actor(
    request: web.Request,
    user: UserRow,
    channel: Channel,
    credential: str,
    scopes: frozenset[str] | None = None,
) -> Actor:
    """The account ``user`` acting through ``channel`` (``api`` or ``console``)."""
    return Actor(
        user.name,
        user.role,
        channel,
        source_of(request),
        credential=credential,
        scopes=scopes,
        extra=await _extra(request.app[STORE], user.role),
    )


async def _extra(store: Store, role: str | None) -> frozenset[str]:
    """The bootstrap grant of an admin while no security officer exists (noc.identity.rules)."""
    if role != "admin":
        return frozenset()
    return bootstrap_grants(role, await UserRepo(store).security_officer_exists())


# -- what handlers and the console call ----------------------------------------------------


def credentials(request: web.Request) -> Credentials:
    found = request.get(_CREDENTIALS)
    return found if found is not None else Credentials(_anonymous(request))


def current_actor(request: web.Request) -> Actor:
    """Who is asking (an anonymous Actor on public routes and without credentials)."""
    return credentials(request).actor


def csrf_token(request: web.Request) -> str | None:
    """The session's CSRF token, for forms the console renders (None without a session)."""
    session = credentials(request).session
    return session.session.csrf_token if session is not None else None


def writer(request: web.Request) -> Actor:
    """The actor of an admitted write, taken once the request has been read: from here on the
    act records the audit row (in its own transaction), so the middleware does not."""
    request[_AUDITED] = True
    return current_actor(request)


async def record_refusal(request: web.Request, exc: NocError) -> None:
    """For a write that answers its refusal itself (a console form shows its page again with
    the reason): one ``refused`` row under the route's action, unless its act wrote it already."""
    if request.get(_AUDITED) is False:
        request[_AUDITED] = True
        await _audit_refusal(request, request[ROUTE], current_actor(request), exc)


def route_action(request: web.Request) -> str:
    """The audit action of the route being served (its declaration's, else method and path)."""
    decl = request[ROUTE]
    return decl.action or f"{decl.method} {decl.path}"


async def refused_write(request: web.Request, reason: str) -> None:
    """Record an admitted write that changed nothing as refused, with ``reason`` (a handler
    that answers without raising, e.g. an ingest whose every item was invalid)."""
    request[_AUDITED] = True
    await _audit(request, request[ROUTE], current_actor(request), "refused", reason[:500])


# -- the middleware ------------------------------------------------------------------------


@web.middleware
async def auth_middleware(request: web.Request, handler):
    route = request.match_info.route
    if isinstance(route, SystemRoute) or route.resource is None:
        return await handler(request)  # no such path or method: 404/405 as before
    decl = lookup(request.app, request.method, route.resource.canonical)
    if decl is None:
        log.error("route_undeclared", method=request.method, path=route.resource.canonical)
        raise ForbiddenError("此路由未声明权限 / this route declares no permission; refused")
    request[ROUTE] = decl
    if decl.permission == PUBLIC or (
        decl.permission == SCRAPE and request.app[CONFIG].server.metrics_auth == "open"
    ):
        return await handler(request)
    creds = await authenticate(request)
    request[_CREDENTIALS] = creds
    request[ACTOR] = creds.actor
    if not decl.is_write:
        _admit_or_redirect(request, decl, creds)
        return await handler(request)
    request[_AUDITED] = False
    try:
        await _admit(request, decl, creds)
        response = await handler(request)
    except NocError as exc:
        if not request[_AUDITED]:
            await _audit_refusal(request, decl, creds.actor, exc)
        raise
    except web.HTTPException as exc:  # a form's redirect (or a refusal raised as HTTP)
        if not request[_AUDITED]:
            await _audit_answer(request, decl, creds.actor, exc.status, exc.text or "")
        raise
    if not request[_AUDITED]:  # a handler that forgot its act: still one row, never none
        text = getattr(response, "text", None) or ""
        await _audit_answer(request, decl, creds.actor, response.status, text)
    return response


async def _audit_answer(
    request: web.Request, decl: Route, actor: Actor, status: int, text: str
) -> None:
    """One row for a write whose handler recorded none: refused if it answered 4xx/5xx."""
    if status >= 400:
        await _audit(request, decl, actor, "refused", text[:500])
    else:
        log.warning("write_not_audited", method=request.method, path=request.path)
        await _audit(request, decl, actor, "ok", "")


def _admit_or_redirect(request: web.Request, decl: Route, creds: Credentials) -> None:
    """A read: admitted, refused, or (a console page) sent to the login or password page."""
    try:
        _check(request, decl, creds)
    except (AuthError, ForbiddenError) as exc:
        page = None
        page_like = not request.path.startswith("/api/") and decl.permission != SCRAPE
        if page_like and request.method in ("GET", "HEAD"):
            if not creds.actor.known:
                page = "/login"
            elif creds.must_change and isinstance(exc, ForbiddenError):
                page = "/password"
        if page is not None and _has_page(request.app, page):
            raise web.HTTPSeeOther(f"{page}?next={quote(request.path_qs, safe='/')}") from None
        raise


def _has_page(app: web.Application, path: str) -> bool:
    return lookup(app, "GET", path) is not None


def _check(request: web.Request, decl: Route, creds: Credentials) -> None:
    actor = creds.actor
    if decl.permission == SCRAPE and creds.token is None:  # server.metrics_auth: bearer
        raise AuthError(
            "/metrics 需要 API 令牌 / /metrics needs Authorization: Bearer noc_… (a token that "
            f"may read){'' if actor.known else '; ' + actor.anonymous_reason}"
        )
    if not actor.known:
        raise AuthError(actor.anonymous_reason)
    if creds.must_change and not decl.while_must_change:
        raise ForbiddenError(MUST_CHANGE)
    require_route(actor, decl.permission, policy_of(request.app).permissions)


async def _admit(request: web.Request, decl: Route, creds: Credentials) -> None:
    _check(request, decl, creds)
    if creds.session is not None and creds.token is None:
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in FORM_TYPES:
            field = (await request.post()).get(CSRF_FIELD)
            given = field if isinstance(field, str) else None
        if not csrf_matches(creds.session.session.csrf_token, given):
            raise ForbiddenError(
                "CSRF 令牌缺失或不符 / missing or wrong CSRF token (X-CSRF-Token header or "
                "csrf_token form field)"
            )


async def _audit_refusal(request: web.Request, decl: Route, actor: Actor, exc: NocError) -> None:
    await _audit(request, decl, actor, "refused", exc.message)


async def _audit(request: web.Request, decl: Route, actor: Actor, outcome: str, why: str) -> None:
    entry = AuditEntry.by(
        actor,
        decl.action or f"{decl.method} {decl.path}",
        request.path[:255],
        outcome=outcome,  # type: ignore[arg-type]
        reason=why,
    )
    store = request.app[STORE]
    try:
        await AuditLog(store).record(entry)
    except Exception:  # the refusal still stands; the failure to record it is logged loudly
        log.exception("audit_refusal_failed", path=request.path, action=entry.action)


__all__ = [
    "ACTOR",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "POLICY",
    "SESSION_COOKIE",
    "Credentials",
    "auth_middleware",
    "authenticate",
    "credentials",
    "csrf_token",
    "current_actor",
    "policy_of",
    "record_refusal",
    "refused_write",
    "route_action",
    "source_of",
    "writer",
]
