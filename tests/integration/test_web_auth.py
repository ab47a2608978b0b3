"""Access control on every route, through aiohttp's test server on the real store (issue 12).

The router walk; 401 without credentials and 403 with too little role for every write route
(parametrised over the route table itself, so a new write route is covered the day it lands);
CSRF; sessions (a new id at each login, idle timeout, logout, forced password change); tokens
(expired, revoked, scoped); lockout after 5 failures and its release; exactly one audit row per
write with the right actor; security headers on every answer; /metrics behind a token when
configured; the audit API. Store-touching tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from aiohttp import web
from support.auth import PASSWORD, add_account, authorize, bearer, grant, login
from support.identity import fast_hashing  # noqa: F401

from noc.app import create_app
from noc.appkeys import STORE
from noc.config.security import LockoutSettings, SecuritySettings, SessionSettings
from noc.identity import Actor
from noc.identity.roles import DUTY_ROLES, OPERATING_ROLES, permission_table
from noc.store.accounts import Accounts
from noc.store.audit_log import AuditLog
from noc.store.incidents import IncidentRepo
from noc.web.auth import CSRF_HEADER, SESSION_COOKIE
from noc.web.routes import ACCESS, PUBLIC, SIGNED_IN, route, undeclared
from noc.web.transport import CSP

pytestmark = pytest.mark.usefixtures("fast_hashing")

TABLE = permission_table()


def app_for(config, db_url: str, **security) -> web.Application:
    if security:
        config = config.model_copy(update={"security": SecuritySettings(**security)})
    return create_app(config, db_url, probing=False)


@pytest.fixture
async def client(aiohttp_client, lingshui_config, db_url):
    return await aiohttp_client(app_for(lingshui_config, db_url))


@pytest.fixture
async def sqlite_client(aiohttp_client, lingshui_config, sqlite_url):
    return await aiohttp_client(app_for(lingshui_config, sqlite_url))


def write_routes() -> list[tuple[str, str, str, str]]:
    """(method, path, permission, action) of every write route that needs a permission."""
    app = create_app_for_table()
    return sorted(
        {
            (r.method, path, r.permission, r.action or "")
            for (method, path), r in app[ACCESS].items()
            if r.is_write and r.permission not in (PUBLIC, SIGNED_IN)
        }
    )


def create_app_for_table() -> web.Application:
    from noc.config import DEFAULT_CONFIG, load_config

    return create_app(load_config(DEFAULT_CONFIG), "sqlite:///:memory:", probing=False)


def concrete(path: str) -> str:
    return (
        path.replace("{id}", "1")
        .replace("{step}", "confirm")
        .replace("{name}", "nobody")
        .replace("{ref}", "999")
    )


def weaker_role(permission: str) -> str:
    """The highest operating role that does not hold ``permission``."""
    return [r for r in OPERATING_ROLES if not TABLE.allows(r, permission)][-1]


async def audit_rows(client) -> list:
    return await AuditLog(client.app[STORE]).rows()


# -- declarations --------------------------------------------------------------------------


def test_every_route_declares_its_permission():
    app = create_app_for_table()
    assert undeclared(app) == []
    methods = {(r.method, r.resource.canonical) for r in app.router.routes()}
    assert ("POST", "/api/v1/incidents/{id}/close") in methods and len(methods) > 20


async def test_an_undeclared_route_is_listed_and_refused(aiohttp_client, lingshui_config):
    app = create_app_for_table()

    async def sneaky(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/api/v1/sneaky", sneaky)
    assert sorted(undeclared(app)) == ["GET /api/v1/sneaky", "HEAD /api/v1/sneaky"]
    client = await aiohttp_client(app)
    resp = await client.get("/api/v1/sneaky")
    assert resp.status == 403 and "declares no permission" in (await resp.json())["reason"]


async def test_static_assets_are_public_and_declared(aiohttp_client, tmp_path):
    from noc.web.routes import add_static

    (tmp_path / "console.css").write_text("body { color: #222 }\n", encoding="utf-8")
    app = create_app_for_table()
    add_static(app, "/static", str(tmp_path))
    assert undeclared(app) == []
    client = await aiohttp_client(app)
    resp = await client.get("/static/console.css")
    assert resp.status == 200 and "color" in await resp.text()
    assert resp.headers["Content-Security-Policy"] == CSP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_a_write_route_must_name_its_audit_action():
    async def handler(request):  # pragma: no cover
        raise AssertionError

    with pytest.raises(ValueError, match="audit action"):
        route("POST", "/x", handler, "ack")
    with pytest.raises(ValueError, match="unknown permission"):
        route("GET", "/x", handler, "everything")


# -- 401 and 403 on every write route ------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "permission", "action"), write_routes())
async def test_every_write_route_refuses_strangers_and_too_little_role(
    sqlite_client, method, path, permission, action
):
    client = sqlite_client
    url = concrete(path)
    resp = await client.request(method, url, json={})
    assert resp.status == 401
    body = await resp.json()
    assert body["error"] == "unauthenticated" and body["reason"]

    role = weaker_role(permission)
    holder = TABLE.roles_for(permission)[0]
    if holder in DUTY_ROLES:  # a security officer exists, so admin holds no bootstrap grant
        await add_account(client.app[STORE], "officer", "security")
    headers = await grant(client.app[STORE], f"weak-{role}", role)
    resp = await client.request(method, url, json={}, headers=headers)
    assert resp.status == 403, await resp.text()
    body = await resp.json()
    assert body["error"] == "forbidden" and repr(permission) in body["reason"]

    # with the role the request is admitted; on this empty store it is refused further in (no
    # such incident, window or account, or a body without its fields), recorded once all the
    # same. The duty roles get no tokens: they act from a console session with its CSRF token.
    if holder in DUTY_ROLES:
        await add_account(client.app[STORE], f"able-{holder}", holder)
        headers = {CSRF_HEADER: (await login(client, f"able-{holder}"))["csrf_token"]}
    else:
        headers = await grant(client.app[STORE], f"able-{holder}", holder)
    resp = await client.request(method, url, json={}, headers=headers)
    assert resp.status in (400, 404), await resp.text()

    rows = [r for r in await audit_rows(client) if r.action != "login"]
    assert [(r.action, r.outcome, r.actor_user) for r in rows] == [
        (action, "refused", None),
        (action, "refused", f"weak-{role}"),
        (action, "refused", f"able-{holder}"),
    ]
    assert rows[1].credential.startswith("token:") and rows[1].channel == "api"
    if resp.content_type == "application/json" and "reason" in (answer := await resp.json()):
        assert answer["reason"] == rows[2].reason
    else:  # an ingest's per-item errors, a console form's page: the answer is the reason
        assert rows[2].reason and rows[2].reason in (await resp.text())[:500]


async def test_reads_need_credentials_and_public_routes_do_not(sqlite_client):
    client = sqlite_client
    for path in ("/api/v1/assets", "/api/v1/incidents", "/api/v1/maintenance", "/api/v1/sla"):
        resp = await client.get(path)
        assert resp.status == 401, path
        assert (await resp.json())["error"] == "unauthenticated"
    page = await client.get("/", allow_redirects=False)  # a page: sent to the login page
    assert page.status == 303 and page.headers["Location"].startswith("/login")
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/metrics")).status == 200  # open by default, as Prometheus expects
    await authorize(client, "viewer")
    assert (await client.get("/api/v1/assets")).status == 200
    assert (await client.get("/api/v1/audit")).status == 403  # the auditor's


# -- tokens --------------------------------------------------------------------------------


async def test_expired_revoked_and_unknown_tokens_are_refused(client):
    store = client.app[STORE]
    expired = await grant(store, "ops", "operator", lifetime=dt.timedelta(seconds=-1))
    resp = await client.get("/api/v1/incidents", headers=expired)
    assert resp.status == 401 and "token expired" in (await resp.json())["reason"]

    live = await grant(store, "ops", "operator")
    assert (await client.get("/api/v1/incidents", headers=live)).status == 200
    await add_account(store, "al", "admin")
    admin = Actor("al", "admin", "cli", "al@test")
    *_, (row, _) = await Accounts(store).tokens.list(user="ops")  # the newest: the live one
    await Accounts(store).revoke_token(admin, str(row.id))
    resp = await client.get("/api/v1/incidents", headers=live)
    assert resp.status == 401 and "token revoked" in (await resp.json())["reason"]

    resp = await client.get("/api/v1/incidents", headers=bearer("noc_nothing-like-this"))
    assert resp.status == 401 and "invalid token" in (await resp.json())["reason"]
    resp = await client.get("/api/v1/incidents", headers={"Authorization": "Basic eDp5"})
    assert resp.status == 401 and "Bearer" in (await resp.json())["reason"]


async def test_a_scoped_token_acts_only_within_its_scopes(sqlite_client):
    store = sqlite_client.app[STORE]
    ingest_only = await grant(store, "feeder", "operator", scopes=["ingest"])
    resp = await sqlite_client.get("/api/v1/incidents", headers=ingest_only)
    assert resp.status == 403 and "not scoped for 'read'" in (await resp.json())["reason"]


# -- sessions ------------------------------------------------------------------------------


async def test_login_sets_a_fresh_httponly_strict_session_each_time(client):
    await add_account(client.app[STORE], "zhang", "operator")
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: "planted-by-someone-else"})
    resp = await client.post("/api/v1/login", json={"user": "zhang", "password": PASSWORD})
    assert resp.status == 200
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain HTTP in this test; see test_tls for Secure
    first = cookie.value
    assert first != "planted-by-someone-else"
    body = await resp.json()
    assert body["user"] == "zhang" and body["role"] == "operator" and body["csrf_token"]
    assert body["must_change"] is False

    again = await client.post("/api/v1/login", json={"user": "zhang", "password": PASSWORD})
    assert again.cookies[SESSION_COOKIE].value not in (first, "planted-by-someone-else")
    me = await (await client.get("/api/v1/session")).json()
    assert (me["user"], me["channel"], me["must_change"]) == ("zhang", "console", False)
    assert "ack" in me["permissions"] and "close" not in me["permissions"]
    rows = [r for r in await audit_rows(client) if r.action == "login"]
    assert [(r.outcome, r.actor_user, r.channel) for r in rows] == [
        ("ok", "zhang", "console"),
        ("ok", "zhang", "console"),
    ]


async def test_csrf_token_is_required_for_cookie_writes_only(client):
    await add_account(client.app[STORE], "zhang", "operator")
    session = await login(client, "zhang")
    url = "/api/v1/incidents/1/ack"
    refused = await client.post(url, json={})
    assert refused.status == 403 and "CSRF" in (await refused.json())["reason"]
    wrong = await client.post(url, json={}, headers={CSRF_HEADER: "not-it"})
    assert wrong.status == 403
    form = await client.post(url, data={"csrf_token": "not-it"})
    assert form.status == 403 and "CSRF" in (await form.json())["reason"]
    # with the token the request reaches the act: incident #1 does not exist
    admitted = await client.post(url, json={}, headers={CSRF_HEADER: session["csrf_token"]})
    assert admitted.status == 404
    form_ok = await client.post(url, data={"csrf_token": session["csrf_token"]})
    assert form_ok.status == 400  # admitted; the act wants a JSON body
    # an API token needs no CSRF token
    token = await grant(client.app[STORE], "bot", "operator")
    assert (await client.post(url, json={}, headers=token)).status == 404
    rows = [r for r in await audit_rows(client) if r.action == "incident.ack"]
    assert [(r.outcome, r.actor_user) for r in rows] == [("refused", "zhang")] * 5 + [
        ("refused", "bot")
    ]
    assert [r.reason[:4] for r in rows[:3]] == ["CSRF"] * 3  # the middleware's refusals
    assert [r.target for r in rows[3:]] == ["incident:1", url, "incident:1"]  # the acts'
    assert "JSON" in rows[4].reason


async def test_logout_ends_the_session(client):
    await add_account(client.app[STORE], "zhang", "operator")
    session = await login(client, "zhang")
    assert (await client.post("/api/v1/logout")).status == 403  # CSRF applies to logout too
    resp = await client.post("/api/v1/logout", headers={CSRF_HEADER: session["csrf_token"]})
    assert resp.status == 200
    after = await client.get("/api/v1/incidents")
    assert after.status == 401 and after.cookies.get(SESSION_COOKIE) is None
    actions = [(r.action, r.outcome) for r in await audit_rows(client)]
    assert actions[-2:] == [("logout", "refused"), ("logout", "ok")]


async def test_idle_session_ends(aiohttp_client, lingshui_config, sqlite_url):
    client = await aiohttp_client(
        app_for(lingshui_config, sqlite_url, session=SessionSettings(idle=1, absolute=60))
    )
    await add_account(client.app[STORE], "zhang", "viewer")
    await login(client, "zhang")
    assert (await client.get("/api/v1/incidents")).status == 200
    await asyncio.sleep(1.1)
    resp = await client.get("/api/v1/incidents")
    assert resp.status == 401 and "idle" in (await resp.json())["reason"]


async def test_a_must_change_session_may_only_change_the_password(client):
    await add_account(client.app[STORE], "newbie", "operator", must_change=True)
    session = await login(client, "newbie")
    assert session["must_change"] is True
    csrf = {CSRF_HEADER: session["csrf_token"]}
    resp = await client.get("/api/v1/incidents")
    assert resp.status == 403 and "change your password first" in (await resp.json())["reason"]
    me = await (await client.get("/api/v1/session")).json()
    assert me["must_change"] is True and me["permissions"] == []
    weak = await client.post(
        "/api/v1/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=csrf,
    )
    assert weak.status == 400 and "password refused" in (await weak.json())["reason"]
    wrong = await client.post(
        "/api/v1/password",
        json={"current_password": "Wrong-Password-1", "new_password": "Brand-New-Pass-7"},
        headers=csrf,
    )
    assert wrong.status == 403
    done = await client.post(
        "/api/v1/password",
        json={"current_password": PASSWORD, "new_password": "Brand-New-Pass-7"},
        headers=csrf,
    )
    assert done.status == 200
    assert (await client.get("/api/v1/incidents")).status == 200
    rows = [(r.action, r.outcome) for r in await audit_rows(client) if r.action == "user.password"]
    assert rows == [("user.password", "refused")] * 2 + [("user.password", "ok")]


async def test_form_login_redirects_and_failures_go_back_to_the_login_page(sqlite_client):
    client = sqlite_client
    await add_account(client.app[STORE], "zhang", "operator")
    ok = await client.post(
        "/api/v1/login",
        data={"user": "zhang", "password": PASSWORD, "next": "/incidents"},
        allow_redirects=False,
    )
    assert ok.status == 303 and ok.headers["Location"] == "/incidents"
    assert ok.cookies[SESSION_COOKIE]["httponly"]
    offsite = await client.post(
        "/api/v1/login",
        data={"user": "zhang", "password": PASSWORD, "next": "//evil.example/"},
        allow_redirects=False,
    )
    assert offsite.headers["Location"] == "/"
    bad = await client.post(
        "/api/v1/login", data={"user": "zhang", "password": "nope"}, allow_redirects=False
    )
    assert bad.status == 303 and bad.headers["Location"] == "/login?error=bad_credentials"


# -- lockout -------------------------------------------------------------------------------


async def test_lockout_after_five_failures_says_nothing_about_the_account_and_ends(
    aiohttp_client, lingshui_config, db_url
):
    client = await aiohttp_client(
        app_for(lingshui_config, db_url, lockout=LockoutSettings(failures=5, window=60, duration=2))
    )
    await add_account(client.app[STORE], "zhang", "operator")

    async def attempt(name: str, password: str) -> tuple[int, dict]:
        resp = await client.post("/api/v1/login", json={"user": name, "password": password})
        return resp.status, await resp.json()

    wrong = [await attempt("zhang", f"Wrong-Pass-{i}") for i in range(5)]
    ghost = await attempt("nobody-here", "Wrong-Pass-0")
    assert {s for s, _ in wrong} == {401}
    assert (
        len({b["reason"] for _, b in wrong[:4]}) == 1
        and "wrong user name or password" in (wrong[0][1]["reason"])
    )
    locked = await attempt("zhang", PASSWORD)  # the right password, but locked
    assert locked[0] == 401 and "too many failed logins" in locked[1]["reason"]
    # the same answer for a name that does not exist (locked by source too): nothing told
    assert ghost[1] == locked[1]
    await asyncio.sleep(2.1)
    released, body = await attempt("zhang", PASSWORD)
    assert released == 200 and body["user"] == "zhang"
    rows = await audit_rows(client)
    assert sum(1 for r in rows if r.action == "lockout") >= 1
    assert [r.outcome for r in rows if r.action == "login"][-1] == "ok"


# -- exactly one audit row per write, with the right actor ---------------------------------


async def test_every_write_leaves_exactly_one_audit_row_with_its_actor(client):
    from support.incidents import open_ticket_incident

    incident_id = await open_ticket_incident(client.app)
    store = client.app[STORE]
    lead = await grant(store, "lead1", "lead")
    other = await grant(store, "lead2", "lead")
    base = f"/api/v1/incidents/{incident_id}"

    async def one_row(method, url, headers, body, status, action, outcome="ok", user="lead1"):
        before = len(await audit_rows(client))
        resp = await client.request(method, url, json=body, headers=headers)
        assert resp.status == status, await resp.text()
        rows = (await audit_rows(client))[before:]
        assert [(r.action, r.outcome, r.actor_user) for r in rows] == [(action, outcome, user)]
        return rows[0], resp

    row, _ = await one_row("POST", f"{base}/ack", lead, {"note": "on it"}, 200, "incident.ack")
    assert (row.before, row.after["status"], row.target) == (
        {"status": "open"},
        "acknowledged",
        f"incident:{incident_id}",
    )
    assert row.credential.startswith("token:") and row.source == "127.0.0.1"
    await one_row("POST", f"{base}/ack", lead, {}, 409, "incident.ack", "refused")
    await one_row(
        "POST", f"{base}/ack", lead, {"by": "someone-else"}, 400, "incident.ack", "refused"
    )
    await one_row("POST", f"{base}/steps", lead, {"step": "confirm"}, 200, "incident.step")
    await one_row("POST", f"{base}/steps", lead, {"step": "nope"}, 400, "incident.step", "refused")
    await one_row("POST", f"{base}/resolve", lead, {"note": "fixed"}, 200, "incident.resolve")
    await one_row("POST", f"{base}/close", lead, {"note": "cable"}, 200, "incident.close")
    detail = await (await client.get(base, headers=lead)).json()
    # every operator act is lead1's (the service's own automation may add a verify as "noc")
    people = {e["actor"] for e in detail["timeline"] if e["actor"]} - {"noc", "noc-auto"}
    assert people == {"lead1"}

    window, resp = await one_row(
        "POST",
        "/api/v1/maintenance",
        lead,
        {"assets": ["mstp-voice"], "duration": "1h", "reason": "割接"},
        201,
        "maintenance.add",
    )
    created = await resp.json()
    assert created["created_by"] == "lead1" and created["approved"] is False
    url = f"/api/v1/maintenance/{created['id']}"
    own, _ = await one_row(
        "POST", f"{url}/approve", lead, None, 403, "maintenance.approve", "refused"
    )
    assert "someone other than the person who created it" in own.reason
    await one_row("POST", f"{url}/approve", other, None, 200, "maintenance.approve", user="lead2")
    await one_row(
        "POST", f"{url}/approve", other, None, 409, "maintenance.approve", "refused", "lead2"
    )
    await one_row("POST", f"{url}/end", lead, None, 200, "maintenance.end")
    await one_row(
        "POST", "/api/v1/maintenance/abc/end", lead, None, 400, "maintenance.end", "refused"
    )
    [listed] = (await (await client.get("/api/v1/maintenance", headers=lead)).json())["windows"]
    assert (listed["approved"], listed["approved_by"]) == (True, "lead2")
    assert (await AuditLog(store).verify()).ok


async def test_overriding_a_steps_intervention_flag_needs_a_lead_and_a_reason(sqlite_client):
    from support.incidents import open_ticket_incident

    client = sqlite_client
    incident_id = await open_ticket_incident(client.app)
    store = client.app[STORE]
    operator = await grant(store, "op1", "operator")
    lead = await grant(store, "lead1", "lead")
    url = f"/api/v1/incidents/{incident_id}/steps"
    # local-fix changes the network (the runbook says intervention)
    no = {"step": "local-fix", "intervention": False}
    resp = await client.post(url, json=no, headers=operator)
    assert resp.status == 403 and "'step.override'" in (await resp.json())["reason"]
    resp = await client.post(url, json=no, headers=lead)
    assert resp.status == 400 and "needs a reason" in (await resp.json())["reason"]
    resp = await client.post(url, json={**no, "reason": "只查看了配置"}, headers=lead)
    assert resp.status == 200
    resp = await client.post(url, json={"step": "local-fix"}, headers=operator)
    assert resp.status == 200  # as the runbook says: no override
    events = await IncidentRepo(store, "lingshui").events(incident_id)
    steps = [e.data for e in events if e.kind == "step_done"]
    assert steps[0]["override"] == {
        "runbook_intervention": True,
        "intervention": False,
        "reason": "只查看了配置",
        "by": "lead1",
    }
    assert steps[1]["intervention"] is True and "override" not in steps[1]


# -- audit API -----------------------------------------------------------------------------


async def test_the_auditor_reads_and_exports_the_audit_log(client):
    store = client.app[STORE]
    await add_account(store, "ann", "auditor")
    await grant(store, "lead1", "lead")
    lead = await grant(store, "lead1", "lead")
    await client.post("/api/v1/incidents/7/ack", json={}, headers=lead)  # refused: 404
    assert (await client.get("/api/v1/audit", headers=lead)).status == 403
    session = await login(client, "ann")
    assert session["role"] == "auditor"
    doc = await (await client.get("/api/v1/audit", params={"actor": "lead1"})).json()
    assert [(r["action"], r["outcome"], r["actor_user"]) for r in doc["rows"]] == [
        ("incident.ack", "refused", "lead1")
    ]
    today = dt.datetime.now(dt.UTC).astimezone().date().isoformat()
    resp = await client.get(
        "/api/v1/audit", params={"from": "2000-01-01", "to": today, "format": "csv"}
    )
    assert resp.status == 200 and resp.content_type == "text/csv"
    text = await resp.text()
    assert text.splitlines()[0].startswith("id,at,actor_user") and "incident.ack" in text
    bad = await client.get("/api/v1/audit", params={"from": "yesterday"})
    assert bad.status == 400
    exports = [r for r in await audit_rows(client) if r.action == "audit.export"]
    assert [(r.actor_user, r.after["rows"]) for r in exports] == [("ann", 1), ("ann", 3)]


# -- headers and /metrics ------------------------------------------------------------------


async def test_security_headers_on_every_answer(sqlite_client):
    client = sqlite_client
    for path, status in (("/healthz", 200), ("/api/v1/assets", 401), ("/nothing", 404)):
        resp = await client.get(path)
        assert resp.status == status
        assert resp.headers["Content-Security-Policy"] == CSP
        assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
        assert "Strict-Transport-Security" not in resp.headers  # plain HTTP


async def test_metrics_behind_a_token_when_configured(aiohttp_client, lingshui_config, sqlite_url):
    server = lingshui_config.server.model_copy(update={"metrics_auth": "bearer"})
    config = lingshui_config.model_copy(update={"server": server})
    client = await aiohttp_client(create_app(config, sqlite_url, probing=False))
    resp = await client.get("/metrics")
    assert resp.status == 401 and "Bearer" in await resp.text()
    await add_account(client.app[STORE], "viewer1", "viewer")
    await login(client, "viewer1")
    assert (await client.get("/metrics")).status == 401  # a session is not a scrape credential
    token = await grant(client.app[STORE], "prometheus", "viewer")
    resp = await client.get("/metrics", headers=token)
    assert resp.status == 200 and "noc_build_info" in await resp.text()
