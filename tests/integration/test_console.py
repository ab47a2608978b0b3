"""The console through aiohttp's test client on the real store: every page renders, actions are
form posts that reach the store as the API's do, roles and CSRF tokens are checked, the live
feed tells of a write within a second, and every route (the OpenAPI document most of all) is
declared."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re

import pytest
from aiohttp.test_utils import make_mocked_request
from support.auth import PASSWORD, add_account, grant, login
from support.incidents import break_ticket_circuit

from noc.app import create_app
from noc.appkeys import ENGINE, HUB, OUTBOX, STORE
from noc.runtime.automation_steps import StepOutput
from noc.store.incidents import IncidentRepo
from noc.web.console.pages import NAV
from noc.web.openapi import document
from noc.web.routes import declaration, declared_routes

PAGES = [p.path for p in NAV]


async def as_user(client, name: str, role: str) -> None:
    """Log the test client in as ``name`` (a ``role`` account, created if needed)."""
    await add_account(client.app[STORE], name, role)
    await login(client, name)


@pytest.fixture
async def console(aiohttp_client, lingshui_config, sqlite_url):
    app = create_app(lingshui_config, sqlite_url, probing=False)
    client = await aiohttp_client(app)
    await as_user(client, "viewer1", "viewer")  # the default: a viewer
    await break_ticket_circuit(app[ENGINE])
    return client


async def incident_id(client) -> int:
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    return incident["id"]


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


async def form_token(client, path: str) -> str:
    return csrf(await (await client.get(path)).text())


@pytest.mark.parametrize("role", ["viewer", "operator", "lead", "admin", "security", "auditor"])
async def test_every_page_renders_for_every_role_or_says_403(console, role):
    await as_user(console, f"user-{role}", role)
    incident = await incident_id(console)
    for path in [*PAGES, f"/incidents/{incident}", "/assets/mstp-voice", "/sla/download"]:
        resp = await console.get(path)
        text = await resp.text()
        page = next((p for p in NAV if p.path == path), None)
        expected = (
            403 if page is not None and page.permission in ("system.view", "audit.read") else 200
        )
        if page is not None and page.key == "admin" and role in ("admin", "security"):
            expected = 200
        if page is not None and page.key == "audit" and role == "auditor":
            expected = 200
        assert resp.status == expected, (path, role, text[:500])
        if resp.content_type == "text/html":
            assert "{{" not in text and "Undefined" not in text


async def test_the_board_shows_the_services_the_incident_and_the_assets(console):
    html = await (await console.get("/")).text()
    assert 'lang="zh-CN"' in html and "网络运行监控" in html
    tiles = dict(re.findall(r'data-service="([a-z-]+)" data-status="(\w+)"', html))
    assert tiles == {
        "voice-intake": "grey",  # nothing probed it yet (probing is off in this test)
        "ticket-exchange": "red",
        "internet-channels": "grey",
        "staff-phones": "grey",
    }
    assert "省平台工单流转" in html and "专线中断" in html and "II级 重大" in html
    assert 'data-deadline="' in html  # the acknowledge countdown
    assert 'data-asset="mstp-ticket" data-status="red"' in html
    english = await (await console.get("/", params={"lang": "en"})).text()
    assert "Ticket exchange with the province" in english and "circuit down" in english
    # the language is remembered (a cookie) without ?lang on every link
    listing = await (await console.get("/incidents")).text()
    assert 'lang="en"' in listing and "circuit down" in listing


async def test_a_page_fragment_is_its_live_regions_only(console):
    html = await (await console.get("/", params={"partial": "1"})).text()
    assert "<html" not in html and 'data-region="tiles"' in html
    incident = await incident_id(console)
    part = await (await console.get(f"/incidents/{incident}", params={"partial": "1"})).text()
    assert 'data-region="timeline"' in part and 'data-region="runbook"' in part


async def test_the_incident_page_is_the_runbook_as_a_checklist(console):
    await as_user(console, "zhang", "operator")
    incident = await incident_id(console)
    html = await (await console.get(f"/incidents/{incident}")).text()
    assert "MSTP专线中断" in html or "专线中断" in html
    steps = re.findall(r'<li id="step-([a-z0-9_-]+)" class="step', html)
    assert len(steps) >= 4 and "traceroute" in html
    assert f'action="/incidents/{incident}/steps/' in html  # a "run" form per automated step
    for action in ("ack", "steps", "resolve"):
        assert f'action="/incidents/{incident}/{action}"' in html
    assert f'action="/incidents/{incident}/close"' not in html  # open: nothing to close yet
    assert f'action="/incidents/{incident}/regrade"' not in html  # operator: no regrade


@pytest.fixture
async def console_db(aiohttp_client, lingshui_config, db_url):
    """The console on both store backends."""
    app = create_app(lingshui_config, db_url, probing=False)
    client = await aiohttp_client(app)
    await as_user(client, "viewer1", "viewer")  # the default: a viewer
    await break_ticket_circuit(app[ENGINE])
    return client


async def test_an_operator_works_an_incident_with_forms(console_db):
    console = console_db
    await as_user(console, "zhang", "operator")
    incident = await incident_id(console)
    page = f"/incidents/{incident}"
    token = await form_token(console, page)
    resp = await console.post(
        f"{page}/ack", data={"csrf_token": token, "note": "在处理"}, allow_redirects=False
    )
    assert resp.status == 303 and resp.headers["Location"] == page
    resp = await console.post(
        f"{page}/steps",
        data={"csrf_token": token, "step": "report-carrier", "note": "报障单号 A1"},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    # recording a step that changes the network as "no intervention" needs a lead
    resp = await console.post(
        f"{page}/steps",
        data={"csrf_token": token, "step": "local-fix", "note": "x", "intervention": "no"},
    )
    assert resp.status == 403 and "值班长" in await resp.text()
    # a second ack is refused with the reason, and nothing changes
    resp = await console.post(f"{page}/ack", data={"csrf_token": token})
    assert resp.status == 409 and "it is acknowledged" in await resp.text()
    resp = await console.post(
        f"{page}/resolve", data={"csrf_token": token, "note": "运营商修复"}, allow_redirects=False
    )
    assert resp.status == 303
    detail = await (await console.get(f"/api/v1/incidents/{incident}")).json()
    assert detail["status"] == "recovered" and detail["acknowledged_by"] == "zhang"
    kinds = [(e["kind"], e["actor"]) for e in detail["timeline"]]
    assert ("acknowledged", "zhang") in kinds and ("resolved", "zhang") in kinds
    assert ("step_done", "zhang") in kinds
    [step] = [e for e in detail["timeline"] if e["kind"] == "step_done"]
    assert step["data"]["intervention"] is True and step["data"]["output"] == "报障单号 A1"
    assert detail["recovery_kind"] == "manual"
    # the operator may not close; a lead may, and may regrade
    resp = await console.post(f"{page}/close", data={"csrf_token": token, "note": "光缆"})
    assert resp.status == 403
    await as_user(console, "li", "lead")
    token = await form_token(console, page)
    assert f'action="{page}/close"' in await (await console.get(page)).text()
    resp = await console.post(
        f"{page}/regrade",
        data={"csrf_token": token, "level": "I", "note": "影响全部来电"},
        allow_redirects=False,
    )
    assert resp.status == 303
    resp = await console.post(
        f"{page}/close", data={"csrf_token": token, "note": "光缆被挖断"}, allow_redirects=False
    )
    assert resp.status == 303
    detail = await (await console.get(f"/api/v1/incidents/{incident}")).json()
    assert (detail["status"], detail["severity"], detail["peak_severity"]) == ("closed", "I", "I")
    assert detail["timeline"][-2]["kind"] == "regraded" and detail["timeline"][-2]["actor"] == "li"


async def test_a_viewer_sees_no_buttons_and_a_forged_post_is_refused(console):
    incident = await incident_id(console)
    page = f"/incidents/{incident}"
    html = await (await console.get(page)).text()  # the default: a signed-in viewer
    assert "<button" not in html.split('id="actions"')[1].split("</section>")[0]
    main = html.split("<main")[1]  # the header's 退出 form is the only post form a viewer has
    assert 'method="post"' not in main and html.count('method="post"') == 1
    assert 'action="/api/v1/logout"' in html.split("<main")[0]
    for action in ("ack", "resolve", "steps", "close", "regrade", "steps/path/run"):
        resp = await console.post(f"{page}/{action}", data={"csrf_token": "0" * 64})
        assert resp.status == 403, action
    repo = IncidentRepo(console.app[STORE], "lingshui")
    assert (await repo.get(incident)).status == "open"


async def test_a_post_without_the_forms_token_is_refused(console):
    await as_user(console, "zhang", "operator")
    incident = await incident_id(console)
    for data in ({}, {"csrf_token": "f" * 64}):
        resp = await console.post(f"/incidents/{incident}/ack", data=data)
        assert resp.status == 403 and "CSRF" in await resp.text()
    repo = IncidentRepo(console.app[STORE], "lingshui")
    assert (await repo.get(incident)).status == "open"


async def test_running_a_diagnostic_writes_its_output_to_the_timeline(console, monkeypatch):
    async def interface_table(step, context) -> StepOutput:  # the step itself: test_diag.py
        return StepOutput(True, "mstp-ticket down", f"{step.id}: ifOperStatus mstp-ticket down")

    monkeypatch.setattr("noc.runtime.automation.run_automated_step", interface_table)
    await as_user(console, "zhang", "operator")
    incident = await incident_id(console)
    page = f"/incidents/{incident}"
    token = await form_token(console, page)
    resp = await console.post(
        f"{page}/steps/ce-interface/run", data={"csrf_token": token}, allow_redirects=False
    )
    assert resp.status == 303
    repo = IncidentRepo(console.app[STORE], "lingshui")
    for _ in range(200):
        events = await repo.events(incident)
        done = [e for e in events if e.kind == "step_done" and e.data["step"] == "ce-interface"]
        if done:
            break
        await asyncio.sleep(0.1)
    assert done and done[0].actor == "noc-auto"
    assert "ce-interface: ifOperStatus mstp-ticket down" in await (await console.get(page)).text()


async def next_notice(resp) -> bytes:  # noqa: ANN001 - the /events stream
    """The next block of the feed that is not a ``resync``: the half-second watch may add one
    when writes it was not told of (the test's own setup) grew the log; it is a harmless extra,
    and it is never the event itself."""
    while True:
        block = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 30)
        if not block.startswith(b"event: resync"):
            return block


async def test_the_live_feed_pushes_a_write_as_it_is_written(console_db):
    """A write in this process is pushed to the page as what it is (a ``transition`` or
    ``incident`` event with its data): the half-second watch for other processes' writes only
    ever sends ``resync``, so receiving the event itself proves the push. How long the push
    takes is measured in bench/ (not asserted here: tests assert behaviour, not time)."""
    console = console_db
    app = console.app
    resp = await console.get("/events")
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert (await resp.content.readuntil(b"\n\n")).startswith(b"retry: 2000")
    for _ in range(50):
        if app[HUB].subscribers:
            break
        await asyncio.sleep(0.02)
    await app[STORE].append_transition(
        site="lingshui",
        asset="internet",
        check="icmp",
        from_state="UP",
        to_state="DEGRADED",
        at=dt.datetime.now(dt.UTC),
        reason="loss 8%",
    )
    block = await next_notice(resp)
    assert block.startswith(b"event: transition\n")
    data = json.loads(block.split(b"data: ", 1)[1])
    assert data == {"asset": "internet", "check": "icmp", "to": "DEGRADED"}
    # an operator's act on an incident is an incident event on the feed
    incident = await incident_id(console)
    await IncidentRepo(app[STORE], "lingshui").acknowledge(incident, "zhang")
    block = await next_notice(resp)
    assert block.startswith(b"event: incident\n")
    assert json.loads(block.split(b"data: ", 1)[1])["id"] == incident
    resp.close()


async def test_maintenance_forms(console):
    await as_user(console, "li", "lead")
    token = await form_token(console, "/maintenance")
    resp = await console.post(
        "/maintenance",
        data={
            "csrf_token": token,
            "assets": ["mstp-voice", "voice-gw"],
            "duration": "2h",
            "reason": "割接",
        },
        allow_redirects=False,
    )
    assert resp.status == 303
    [window] = await console.app[STORE].maintenance_windows()
    assert window.assets == ["mstp-voice", "voice-gw"] and window.created_by == "li"
    html = await (await console.get("/maintenance")).text()
    assert "割接" in html and f'action="/maintenance/{window.id}/end"' in html
    bad = await console.post("/maintenance", data={"csrf_token": token, "reason": "x"})
    assert bad.status == 400 and "name at least one asset" in await bad.text()
    resp = await console.post(
        f"/maintenance/{window.id}/end", data={"csrf_token": token}, allow_redirects=False
    )
    assert resp.status == 303
    [window] = await console.app[STORE].maintenance_windows()
    assert window.ended_at is not None


async def test_sla_page_and_downloads(console):
    html = await (await console.get("/sla")).text()
    assert "可用率" in html and "省平台工单流转" in html
    month = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    csv = await console.get("/sla/download", params={"period": month, "format": "csv"})
    assert csv.status == 200 and csv.content_type == "text/csv"
    assert (await csv.text()).startswith("\ufeffperiod,scope,availability_percent")  # BOM: Excel
    doc = await (await console.get("/sla/download", params={"format": "json"})).json()
    assert doc["site"] == "lingshui" and doc["rows"]
    bad = await console.get("/sla", params={"period": "last tuesday"})
    assert bad.status == 200 and 'class="error"' in await bad.text()


async def test_alerting_masks_receivers_and_queues_a_test_message(console, lingshui_config):
    html = await (await console.get("/alerting")).text()
    assert "noc-oncall" in html
    for receiver in lingshui_config.alerting.receivers:
        for url in receiver.urls:
            secret = url.get_secret_value()
            if "/" in secret.split("://", 1)[1]:
                assert secret not in html
    await as_user(console, "li", "lead")
    token = await form_token(console, "/alerting")
    resp = await console.post(
        "/alerting/test",
        data={"csrf_token": token, "receiver": "noc-oncall"},
        allow_redirects=False,
    )
    assert resp.status == 303
    stats = await console.app[OUTBOX].stats()
    assert stats.queue_depth["noc-oncall"] >= 1


async def test_the_login_and_password_pages_post_to_the_session_endpoints(
    aiohttp_client, lingshui_config, sqlite_url
):
    app = create_app(lingshui_config, sqlite_url, probing=False)
    client = await aiohttp_client(app)
    # an anonymous page request is sent to the login page
    resp = await client.get("/sla", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login?next=/sla"
    html = await (await client.get("/login?next=/sla")).text()
    assert 'action="/api/v1/login"' in html and 'type="password"' in html
    assert 'name="user"' in html and 'value="/sla"' in html
    await add_account(app[STORE], "wang", "operator", must_change=True)
    resp = await client.post(
        "/api/v1/login",
        data={"user": "wang", "password": "wrong", "next": "/sla"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"].startswith("/login?error=")
    resp = await client.post(
        "/api/v1/login",
        data={"user": "wang", "password": PASSWORD, "next": "/sla"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/sla"
    # a password that must change: every page leads to the password page
    resp = await client.get("/sla", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/password")
    html = await (await client.get("/password")).text()
    assert 'action="/api/v1/password"' in html and 'name="new_password"' in html
    resp = await client.post(
        "/api/v1/password",
        data={
            "csrf_token": csrf(html),
            "current_password": PASSWORD,
            "new_password": "Lingshui-12345-new!",
            "next": "/sla",
        },
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    assert (await client.get("/sla")).status == 200


async def test_every_route_is_declared_and_every_api_route_documented(console):
    app = console.app
    declared = {(r.method, r.path) for r in declared_routes(app)}
    undeclared = []
    for resource in app.router.resources():
        info = resource.get_info()
        if "directory" in info:  # static files
            continue
        for route in resource:
            if route.method == "HEAD":
                continue
            if (route.method, resource.canonical) not in declared:
                undeclared.append(f"{route.method} {resource.canonical}")
    assert undeclared == []
    served = await (await console.get("/api/v1/openapi.json")).json()
    assert served == document(declared_routes(app))
    assert served["openapi"].startswith("3.")
    missing = []
    for resource in app.router.resources():
        if not resource.canonical.startswith("/api/v1"):
            continue
        for route in resource:
            if route.method == "HEAD":
                continue
            op = served["paths"].get(resource.canonical, {}).get(route.method.lower())
            if op is None or not op["summary"] or "x-permission" not in op:
                missing.append(f"{route.method} {resource.canonical}")
    assert missing == []
    ack = served["paths"]["/api/v1/incidents/{id}/ack"]["post"]
    assert ack["x-permission"] == "ack"
    assert ack["parameters"][0]["name"] == "id"
    ack_body = ack["requestBody"]["content"]["application/json"]["schema"]
    assert "required" not in ack_body and "by" in ack_body["properties"]  # the actor is recorded
    html = await (await console.get("/api")).text()
    assert "/api/v1/incidents/{id}/ack" in html and "ack" in html
    # the access check finds the declaration of the route a request matched
    for path, method, permission in (
        ("/incidents/7/close", "POST", "close"),
        ("/api/v1/incidents/7/ack", "POST", "ack"),
        ("/sla", "GET", "read"),
        ("/healthz", "GET", "public"),
        ("/api/v1/login", "POST", "public"),
        ("/audit", "GET", "audit.read"),
    ):
        request = make_mocked_request(method, path, app=app)
        match = await app.router.resolve(request)
        match.add_app(app)
        match.current_app = app
        request._match_info = match
        assert declaration(request).permission == permission, path


async def test_the_api_regrades_too(console):
    incident = await incident_id(console)
    console.session.headers.update(await grant(console.app[STORE], "li", "lead"))
    resp = await console.post(
        f"/api/v1/incidents/{incident}/regrade", json={"by": "li", "level": "I", "note": "全部来电"}
    )
    assert resp.status == 200 and (await resp.json())["severity"] == "I"
    again = await console.post(
        f"/api/v1/incidents/{incident}/regrade", json={"by": "li", "level": "I", "note": "x"}
    )
    assert again.status == 409 and "already level I" in (await again.json())["reason"]
    bad = await console.post(
        f"/api/v1/incidents/{incident}/regrade", json={"by": "li", "level": "V", "note": "x"}
    )
    assert bad.status == 400 and "level must be one of" in (await bad.json())["reason"]


async def test_a_write_by_another_process_reaches_the_live_feed(console, sqlite_url):
    """``noc incident ack`` in a terminal writes through its own store: the feed says resync
    (the watch compares the log's heads every half second; the time is bench/'s to measure)."""
    from noc.store import Store

    app = console.app
    resp = await console.get("/events")
    await resp.content.readuntil(b"\n\n")
    other = await Store.open(sqlite_url, migrate=False)
    try:
        incident = await incident_id(console)
        await IncidentRepo(other, "lingshui").acknowledge(incident, "wang")
        block = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 30)
        while not block.startswith(b"event: resync"):  # a keepalive would do no harm
            block = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 30)
        assert app[HUB].subscribers == 1
    finally:
        await other.close()
        resp.close()
