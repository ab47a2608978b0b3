"""The console's 系统 admin and 审计 audit pages, and the accounts API behind them, through
aiohttp's test client on the real store (issue 13 on issue 12's identity layer).

Each form works for the role that holds its permission and is refused (403) to every other,
whatever the page showed; each act leaves its audit row with the real actor (the signed-in
account, channel ``console``); nobody changes their own role; a reset password and a new token
are shown once; the audit page filters, pages, checks the hash chain and exports with phone
numbers and secrets masked, the export itself on record.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from support.auth import PASSWORD, add_account, bearer, login
from support.identity import drop_audit_guards, fast_hashing  # noqa: F401

from noc.app import create_app
from noc.appkeys import STORE
from noc.identity import Actor
from noc.identity.audit import AuditEntry
from noc.store.audit_log import AuditLog
from noc.store.users import UserRepo

pytestmark = pytest.mark.usefixtures("fast_hashing")

PHONE = "13800138000"


@pytest.fixture
async def client(aiohttp_client, lingshui_config, sqlite_url):
    return await aiohttp_client(create_app(lingshui_config, sqlite_url, probing=False))


@pytest.fixture
async def client_db(aiohttp_client, lingshui_config, db_url):
    """The console on both store backends (the account overview's queries are store code)."""
    return await aiohttp_client(create_app(lingshui_config, db_url, probing=False))


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def shown_secret(html: str) -> str:
    return re.search(r'<code class="secret" data-secret="\w+">([^<]+)</code>', html)[1]


async def sign_in(client, name: str, role: str) -> str:
    """Log the test client in as ``name`` (a ``role`` account, created if needed); the CSRF
    token of the new session."""
    await add_account(client.app[STORE], name, role)
    return (await login(client, name))["csrf_token"]


@asynccontextmanager
async def other_browser(client) -> AsyncIterator[aiohttp.ClientSession]:
    """A second browser (its own cookie jar) on the same service."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=client.make_url("/"), cookie_jar=jar) as session:
        yield session


async def log_in(session: aiohttp.ClientSession, name: str, password: str) -> int:
    resp = await session.post("/api/v1/login", json={"user": name, "password": password})
    return resp.status


async def rows_since(client, before: int) -> list:
    return (await AuditLog(client.app[STORE]).rows())[before:]


async def audit_count(client) -> int:
    return len(await AuditLog(client.app[STORE]).rows())


async def post_form(client, path: str, token: str, **fields) -> aiohttp.ClientResponse:
    return await client.post(path, data={"csrf_token": token, **fields}, allow_redirects=False)


# -- the security officer ------------------------------------------------------------------


async def test_the_security_officer_adds_an_account_and_resets_its_password(client_db):
    client = client_db
    token = await sign_in(client, "sec1", "security")
    html = await (await client.get("/admin")).text()
    assert 'action="/admin/users"' in html and 'data-user="sec1"' in html
    assert 'action="/admin/tokens"' not in html  # issuing tokens is the admin's
    assert 'action="/admin/users/sec1/role"' not in html  # never one's own

    before = await audit_count(client)
    resp = await post_form(client, "/admin/users", token, name="wang", role="operator")
    assert resp.status == 200
    page = await resp.text()
    password = shown_secret(page)
    assert resp.headers["Cache-Control"] == "no-store"
    [row] = await rows_since(client, before)
    assert (row.action, row.outcome, row.actor_user, row.actor_role) == (
        "user.add",
        "ok",
        "sec1",
        "security",
    )
    assert row.channel == "console" and row.credential.startswith("session:")
    assert password not in str(row.after)  # the store and the record keep no password
    listing = await (await client.get("/admin")).text()
    assert password not in listing  # shown once
    wang = listing.split('data-user="wang"')[1].split("</tr>")[0]
    assert "须修改" in wang and "从未" in wang  # must change; never logged in

    async with other_browser(client) as browser:
        assert await log_in(browser, "wang", password) == 200
        who = await (await browser.get("/api/v1/session")).json()
        assert (who["role"], who["must_change"]) == ("operator", True)
        listing = await (await client.get("/admin")).text()
        wang = listing.split('data-user="wang"')[1].split("</tr>")[0]
        assert '<td class="num">1</td>' in wang  # one live session
        assert 'action="/admin/users/wang/sessions/revoke"' in wang

        before = await audit_count(client)
        resp = await post_form(client, "/admin/users/wang/password", token)
        assert resp.status == 200
        new_password = shown_secret(await resp.text())
        assert new_password != password
        [row] = await rows_since(client, before)
        assert (row.action, row.target, row.actor_user) == ("user.password_reset", "wang", "sec1")
        assert (await browser.get("/api/v1/session")).status == 401  # the reset ended it
        assert await log_in(browser, "wang", password) == 401
        assert await log_in(browser, "wang", new_password) == 200
        assert (await (await browser.get("/api/v1/session")).json())["must_change"] is True


async def test_role_changes_disable_enable_and_never_ones_own(client_db):
    client = client_db
    token = await sign_in(client, "sec1", "security")
    store = client.app[STORE]
    await add_account(store, "li", "operator")
    before = await audit_count(client)
    resp = await post_form(client, "/admin/users/li/role", token, role="lead")
    assert resp.status == 303 and resp.headers["Location"] == "/admin?done=role&who=li"
    assert "已修改 li 的角色" in await (await client.get(resp.headers["Location"])).text()
    [row] = await rows_since(client, before)
    assert (row.action, row.outcome, row.actor_user, row.before, row.after) == (
        "user.role",
        "ok",
        "sec1",
        {"role": "operator"},
        {"role": "lead"},
    )
    assert (await UserRepo(store).get("li")).role == "lead"

    # one's own role: refused with the reason, on record, unchanged
    before = await audit_count(client)
    resp = await post_form(client, "/admin/users/sec1/role", token, role="admin")
    assert resp.status == 403
    assert "nobody grants a role to" in await resp.text()
    [row] = await rows_since(client, before)
    assert (row.action, row.outcome, row.actor_user, row.target) == (
        "user.role",
        "refused",
        "sec1",
        "sec1",
    )
    assert (await UserRepo(store).get("sec1")).role == "security"

    resp = await post_form(client, "/admin/users/li/disable", token)
    assert resp.status == 303 and (await UserRepo(store).get("li")).disabled
    async with other_browser(client) as browser:
        assert await log_in(browser, "li", PASSWORD) == 401
    again = await post_form(client, "/admin/users/li/disable", token)
    assert again.status == 409 and "disabled already" in await again.text()
    resp = await post_form(client, "/admin/users/li/enable", token)
    assert resp.status == 303 and not (await UserRepo(store).get("li")).disabled
    actions = [(r.action, r.outcome) for r in await rows_since(client, before)]
    assert actions == [
        ("user.role", "refused"),
        ("user.disable", "ok"),
        ("login", "refused"),
        ("user.disable", "refused"),
        ("user.enable", "ok"),
    ]


async def test_lockouts_are_shown_and_released_and_sessions_ended(client_db):
    client = client_db
    token = await sign_in(client, "sec1", "security")
    await add_account(client.app[STORE], "zhao", "viewer")
    async with other_browser(client) as browser:
        for _ in range(5):
            assert await log_in(browser, "zhao", "wrong-password-1") == 401
        assert await log_in(browser, "zhao", PASSWORD) == 401  # locked
        html = await (await client.get("/admin")).text()
        zhao = html.split('data-user="zhao"')[1].split("</tr>")[0]
        assert 'class="warn"' in zhao and 'name="user" value="zhao"' in zhao
        assert 'name="source" value="127.0.0.1"' in html  # the address is locked too
        before = await audit_count(client)
        resp = await post_form(client, "/admin/lockouts/release", token, user="zhao")
        assert resp.status == 303
        resp = await post_form(client, "/admin/lockouts/release", token, source="127.0.0.1")
        assert resp.status == 303
        rows = await rows_since(client, before)
        assert [(r.action, r.target, r.actor_user, r.after) for r in rows] == [
            ("lockout.release", "zhao", "sec1", {"failures_cleared": 5}),
            ("lockout.release", "127.0.0.1", "sec1", {"failures_cleared": 0}),
        ]
        assert await log_in(browser, "zhao", PASSWORD) == 200
        assert (await browser.get("/api/v1/session")).status == 200

        before = await audit_count(client)
        resp = await post_form(client, "/admin/users/zhao/sessions/revoke", token)
        assert resp.status == 303
        [row] = await rows_since(client, before)
        assert (row.action, row.target, row.after) == (
            "session.revoke",
            "zhao",
            {"sessions_ended": 1},
        )
        assert (await browser.get("/api/v1/session")).status == 401
    own = await post_form(client, "/admin/users/sec1/sessions/revoke", token)
    assert own.status == 403 and "log out" in await own.text()


# -- the system administrator --------------------------------------------------------------


async def test_the_admin_issues_a_token_shown_once_and_revokes_it(client):
    store = client.app[STORE]
    await add_account(store, "sec1", "security")  # so admin holds no bootstrap grant
    await add_account(store, "ops1", "operator")
    token = await sign_in(client, "admin1", "admin")
    html = await (await client.get("/admin")).text()
    assert 'action="/admin/tokens"' in html and "<option>ops1</option>" in html
    assert "<option>sec1</option>" not in html  # duty roles get no tokens
    assert 'action="/admin/users"' not in html and 'data-user="' not in html

    before = await audit_count(client)
    resp = await post_form(
        client, "/admin/tokens", token, user="ops1", label="工单导入", expires="30d"
    )
    assert resp.status == 200, await resp.text()
    secret = shown_secret(await resp.text())
    assert secret.startswith("noc_")
    [row] = await rows_since(client, before)
    assert (row.action, row.outcome, row.actor_user, row.channel) == (
        "token.create",
        "ok",
        "admin1",
        "console",
    )
    assert secret not in str(row.after) and row.after["label"] == "工单导入"
    # the token works, as its holder; the page lists it by prefix only
    assert (await client.get("/api/v1/assets", headers=bearer(secret))).status == 200
    listing = await (await client.get("/admin")).text()
    assert secret not in listing and secret[:12] in listing
    [token_id] = re.findall(r'data-token="(\d+)"', listing)
    line = listing.split(f'data-token="{token_id}"')[1].split("</tr>")[0]
    assert "工单导入" in line and "ops1" in line

    # a forged post for a security officer's token: refused with the reason, on record
    refused = await post_form(client, "/admin/tokens", token, user="sec1", expires="30d")
    assert refused.status == 403 and "get no API tokens" in await refused.text()

    before = await audit_count(client)
    resp = await post_form(client, f"/admin/tokens/{token_id}/revoke", token)
    assert resp.status == 303
    [row] = await rows_since(client, before)
    assert (row.action, row.outcome, row.actor_user) == ("token.revoke", "ok", "admin1")
    resp = await client.get("/api/v1/assets", headers=bearer(secret))
    assert resp.status == 401
    assert (
        "已吊销" in (await (await client.get("/admin")).text()).split(f'data-token="{token_id}"')[1]
    )


async def test_before_any_security_officer_the_admin_creates_the_first(client):
    token = await sign_in(client, "admin", "admin")
    html = await (await client.get("/admin")).text()
    assert 'action="/admin/users"' in html  # the bootstrap grant
    resp = await post_form(client, "/admin/users", token, name="sec1", role="security")
    assert resp.status == 200 and shown_secret(await resp.text())
    html = await (await client.get("/admin")).text()
    assert 'action="/admin/users"' not in html  # the officer exists: accounts are theirs now
    resp = await post_form(client, "/admin/users", token, name="x1", role="viewer")
    assert resp.status == 403


# -- everyone else -------------------------------------------------------------------------

ADMIN_FORMS = (
    ("/admin/users", {"name": "mallory", "role": "admin"}),
    ("/admin/users/wang/role", {"role": "admin"}),
    ("/admin/users/wang/disable", {}),
    ("/admin/users/wang/enable", {}),
    ("/admin/users/wang/password", {}),
    ("/admin/users/wang/sessions/revoke", {}),
    ("/admin/lockouts/release", {"user": "wang"}),
    ("/admin/tokens", {"user": "wang", "expires": "30d"}),
    ("/admin/tokens/1/revoke", {}),
)


@pytest.mark.parametrize("role", ["viewer", "operator", "lead", "auditor"])
async def test_other_roles_see_no_admin_page_and_forged_posts_get_403(client, role):
    store = client.app[STORE]
    await add_account(store, "sec1", "security")
    await add_account(store, "wang", "operator")
    token = await sign_in(client, f"user-{role}", role)
    page = await client.get("/admin")
    assert page.status == 403
    assert 'action="/admin' not in await page.text()
    nav = await (await client.get("/api")).text()
    assert 'href="/admin"' not in nav
    before = await audit_count(client)
    for path, fields in ADMIN_FORMS:
        resp = await post_form(client, path, token, **fields)
        assert resp.status == 403, (path, await resp.text())
    rows = await rows_since(client, before)
    assert {(r.outcome, r.actor_user) for r in rows} == {("refused", f"user-{role}")}
    assert len(rows) == len(ADMIN_FORMS)
    assert await UserRepo(store).get("mallory") is None
    assert (await UserRepo(store).get("wang")).role == "operator"


async def test_the_admin_and_the_security_officer_cannot_do_each_others_part(client):
    store = client.app[STORE]
    await add_account(store, "sec1", "security")
    await add_account(store, "wang", "operator")
    token = await sign_in(client, "admin1", "admin")
    for path, fields in ADMIN_FORMS[:7]:
        resp = await post_form(client, path, token, **fields)
        assert resp.status == 403, path
    token = await sign_in(client, "sec1", "security")
    resp = await post_form(client, "/admin/tokens", token, user="wang", expires="30d")
    assert resp.status == 403
    assert (await client.get("/audit")).status == 403


# -- the accounts API ----------------------------------------------------------------------


async def test_the_accounts_api_acts_like_the_forms(client):
    store = client.app[STORE]
    csrf_token = await sign_in(client, "sec1", "security")
    headers = {"X-CSRF-Token": csrf_token}
    resp = await client.post(
        "/api/v1/users", json={"name": "wang", "role": "operator"}, headers=headers
    )
    assert resp.status == 201
    made = await resp.json()
    assert made["user"]["must_change"] is True and len(made["password"]) >= 10
    own = await client.post("/api/v1/users/sec1/role", json={"role": "admin"}, headers=headers)
    assert own.status == 403 and "their own account" in (await own.json())["reason"]
    resp = await client.post("/api/v1/users/wang/role", json={"role": "lead"}, headers=headers)
    assert resp.status == 200 and (await resp.json())["role"] == "lead"
    listed = await (await client.get("/api/v1/users")).json()
    wang = next(u for u in listed["users"] if u["name"] == "wang")
    assert wang["role"] == "lead" and wang["live_sessions"] == 0 and wang["locked_until"] is None
    reset = await client.post("/api/v1/users/wang/password", headers=headers)
    assert reset.status == 200 and (await reset.json())["password"]
    assert (await client.get("/api/v1/tokens")).status == 200  # it may revoke, so it lists
    resp = await client.post("/api/v1/tokens", json={"user": "wang"}, headers=headers)
    assert resp.status == 403

    await add_account(store, "admin1", "admin")
    await login(client, "admin1")
    admin_csrf = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    headers = {"X-CSRF-Token": admin_csrf}
    resp = await client.post(
        "/api/v1/tokens",
        json={"user": "wang", "label": "ingest", "scopes": ["ingest"]},
        headers=headers,
    )
    assert resp.status == 201
    issued = await resp.json()
    assert issued["secret"].startswith("noc_") and issued["token"]["scopes"] == ["ingest"]
    listed = await (await client.get("/api/v1/tokens")).json()
    assert [t["label"] for t in listed["tokens"]] == ["ingest"]
    assert issued["secret"] not in str(listed)
    bad = await client.post(
        "/api/v1/tokens", json={"user": "wang", "expires": "soon"}, headers=headers
    )
    assert bad.status == 400 and "expires" in (await bad.json())["reason"]
    resp = await client.post(f"/api/v1/tokens/{issued['token']['id']}/revoke", headers=headers)
    assert resp.status == 200 and (await resp.json())["state"] == "revoked"
    actions = [
        (r.action, r.outcome, r.actor_user)
        for r in await AuditLog(store).rows()
        if r.action.startswith(("user.", "token."))
    ]
    assert actions == [
        ("user.add", "ok", "sec1"),
        ("user.role", "refused", "sec1"),
        ("user.role", "ok", "sec1"),
        ("user.password_reset", "ok", "sec1"),
        ("token.create", "refused", "sec1"),
        ("token.create", "ok", "admin1"),
        ("token.create", "refused", "admin1"),
        ("token.revoke", "ok", "admin1"),
    ]


# -- 审计 audit ----------------------------------------------------------------------------


async def seed_audit(store, n: int = 60) -> None:
    log = AuditLog(store)
    ops = Actor("zhang", "operator", "api", "10.0.0.5", credential="token:1")
    async with store.transaction() as tx:
        for i in range(n):
            await log.append(tx, AuditEntry.by(ops, "incident.ack", f"incident:{i}"))
        await log.append(
            tx,
            AuditEntry.by(
                ops,
                "ingest.tickets",
                "tickets.csv",
                outcome="refused",
                reason=f"row 3 column caller: {PHONE} belongs to no queue; token noc_{'a' * 40}",
            ),
        )


async def test_the_auditor_filters_pages_and_sees_the_chain(client_db):
    client = client_db
    store = client.app[STORE]
    await seed_audit(store)
    await sign_in(client, "ann", "auditor")
    html = await (await client.get("/audit")).text()
    assert 'data-chain="ok"' in html and "散列链校验通过" in html
    ids = [int(i) for i in re.findall(r'data-audit="(\d+)"', html)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)  # newest first, one page
    assert PHONE not in html and "138****8000" in html and "a" * 40 not in html
    assert 'rel="next"' in html
    older = await (await client.get("/audit", params={"page": "2"})).text()
    more = [int(i) for i in re.findall(r'data-audit="(\d+)"', older)]
    assert more and max(more) < min(ids) and 'rel="prev"' in older

    refused = await (await client.get("/audit", params={"outcome": "refused"})).text()
    assert [r for r in re.findall(r'data-audit="(\d+)"', refused)] == ["61"]
    by_target = await (await client.get("/audit", params={"target": "incident:5"})).text()
    found = sorted(int(i) for i in re.findall(r'data-audit="(\d+)"', by_target))
    assert found == [6, *range(51, 61)]  # incident:5 and incident:50 … 59
    by_action = await (
        await client.get("/audit", params={"action": "login", "actor": "ann"})
    ).text()
    assert len(re.findall(r'data-audit="(\d+)"', by_action)) == 1
    future = await (await client.get("/audit", params={"from": "2999-01-01"})).text()
    assert "没有符合条件的审计记录" in future
    bad = await client.get("/audit", params={"from": "yesterday"})
    assert bad.status == 200 and "from: cannot read time" in await bad.text()
    english = await (await client.get("/audit", params={"lang": "en"})).text()
    assert "Audit log intact" in english


async def test_the_export_is_masked_and_audited(client):
    store = client.app[STORE]
    await seed_audit(store, n=3)
    await sign_in(client, "ann", "auditor")
    resp = await client.get("/audit/export", params={"format": "csv", "outcome": "refused"})
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert [(r["action"], r["masked"]) for r in rows] == [("ingest.tickets", "True")]
    assert PHONE not in rows[0]["reason"] and "138****8000" in rows[0]["reason"]
    assert "a" * 40 not in rows[0]["reason"]
    doc = await (await client.get("/audit/export", params={"format": "json"})).json()
    assert doc["count"] == 6  # 4 seeded, ann's login, the CSV export
    assert [r["masked"] for r in doc["rows"]] == [False, False, False, True, False, False]
    assert PHONE not in str(doc)
    exports = [r for r in await AuditLog(store).rows() if r.action == "audit.export"]
    assert [(r.actor_user, r.channel, r.after) for r in exports] == [
        ("ann", "console", {"format": "csv", "rows": 1, "outcome": "refused"}),
        ("ann", "console", {"format": "json", "rows": 6}),
    ]
    api = await (await client.get("/api/v1/audit", params={"outcome": "refused"})).json()
    assert PHONE not in str(api) and api["rows"][0]["masked"] is True
    assert (await client.get("/audit/export", params={"format": "xml"})).status == 400


async def test_a_row_changed_by_hand_shows_on_the_audit_page(client):
    store = client.app[STORE]
    await seed_audit(store, n=5)
    await sign_in(client, "ann", "auditor")
    assert 'data-chain="ok"' in await (await client.get("/audit")).text()
    await drop_audit_guards(store)
    async with store.engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE audit_log SET target = 'incident:99' WHERE id = 3")
    cached = await (await client.get("/audit")).text()
    assert 'data-chain="ok"' in cached  # checked a moment ago; the page says when
    html = await (await client.get("/audit", params={"verify": "1"})).text()
    assert 'data-chain="broken"' in html and "第 3 条处断链" in html
    verify = await (await client.get("/api/v1/audit/verify")).json()
    assert (verify["ok"], verify["broken_at"], verify["code"]) == (False, 3, "changed")


@pytest.mark.parametrize("role", ["viewer", "lead", "admin", "security"])
async def test_only_the_auditor_reads_the_audit_page(client, role):
    await sign_in(client, f"user-{role}", role)
    assert (await client.get("/audit")).status == 403
    assert (await client.get("/audit/export", params={"format": "csv"})).status == 403
    assert (await client.get("/api/v1/audit/verify")).status == 403
