"""The console's form posts act through the operator acts, as the API does (issue 12).

Every console form route (a POST tagged ``console``) is walked with a valid post as an allowed
account: each leaves exactly one audit row for its request, under the act's action name and
target (never the access middleware's fallback for a handler that forgot its act), with the
real account, session and channel. A refusal re-renders the page with the catalog's title in
the reader's language and is recorded once. The 批准 approve form: not one's own window (a 403
page), another lead's approval, and then the window's effect on the SLA is the one the store
test asserts (``support.sla_window``).
"""

from __future__ import annotations

import asyncio

import pytest
from support import sla_window as sw
from support.auth import add_account, login
from support.incidents import open_ticket_incident

from noc.app import create_app
from noc.appkeys import STORE
from noc.runtime.automation_steps import StepOutput
from noc.store.audit_log import AuditLog
from noc.store.incidents import IncidentRepo
from noc.store.operator_acts import ACTIONS
from noc.web.console.incidents import RUNNING
from noc.web.routes import declared_routes


def console_forms(app) -> dict[str, str]:  # noqa: ANN001
    """path → audit action of every console form route."""
    return {
        r.path: r.action or ""
        for r in declared_routes(app)
        if r.method == "POST" and r.tag == "console"
    }


async def as_user(client, name: str, role: str) -> str:  # noqa: ANN001
    """Log in as ``name`` (created with ``role``); returns a form token of the session."""
    await add_account(client.app[STORE], name, role)
    return (await login(client, name))["csrf_token"]


async def audit_rows(client) -> list:  # noqa: ANN001
    return await AuditLog(client.app[STORE]).rows()


async def one_row(client, path: str, data: dict, status: int = 303):  # noqa: ANN001
    """Post the form; the one audit row it left (and the answer)."""
    before = len(await audit_rows(client))
    resp = await client.post(path, data=data, allow_redirects=False)
    text = await resp.text()
    assert resp.status == status, text[:2000]
    rows = (await audit_rows(client))[before:]
    assert len(rows) == 1, [(r.action, r.outcome, r.target) for r in rows]
    return rows[0], resp, text


@pytest.fixture
async def console(aiohttp_client, lingshui_config, sqlite_url):
    return await aiohttp_client(create_app(lingshui_config, sqlite_url, probing=False))


async def test_every_console_form_names_the_act_it_performs(console):
    """The declaration: a form's audit action is an act's (so a refusal before the act is
    recorded under the act's name), never the ``console.<word>`` default of a form that names
    none; an operator or register act's permission is the route's. (The 系统 forms' acts are
    the account acts, walked by test_console_admin.py; the 登记 forms by test_console_kpi.py.)"""
    from noc.store.register_acts import ACTIONS as REGISTER_ACTIONS
    from noc.store.register_acts import PERMISSION as REGISTER_PERMISSION
    from noc.web.routes import lookup

    needs = dict(ACTIONS) | {one: REGISTER_PERMISSION for one, _ in REGISTER_ACTIONS.values()}
    forms = console_forms(console.app)
    assert forms and not [a for a in forms.values() if not a or a.startswith("console.")], forms
    for path, action in forms.items():
        if action in needs:
            assert lookup(console.app, "POST", path).permission == needs[action], path
    assert set(ACTIONS) <= set(forms.values()), "an operator act without its console form"


async def test_every_console_form_leaves_one_audit_row_of_its_act(console, monkeypatch):
    async def interface_table(step, context) -> StepOutput:  # the step itself: test_diag.py
        return StepOutput(True, "mstp-ticket down", f"{step.id}: ifOperStatus mstp-ticket down")

    monkeypatch.setattr("noc.runtime.automation.run_automated_step", interface_table)
    app = console.app
    incident = await open_ticket_incident(app)
    inc = f"/incidents/{incident}"
    walked: set[str] = set()

    async def post(route: str, path: str, data: dict, user: str, target: str):
        row, resp, _ = await one_row(console, path, data)
        assert (row.action, row.outcome, row.actor_user) == (forms[route], "ok", user), route
        assert row.channel == "console" and row.credential.startswith("session:"), route
        assert row.target == target, route  # the act's target, not the middleware's path
        walked.add(route)
        return row, resp

    forms = {p: a for p, a in console_forms(app).items() if a in ACTIONS}  # the operator acts
    token = await as_user(console, "zhang", "operator")
    row, resp = await post(
        "/incidents/{id}/ack",
        f"{inc}/ack",
        {"csrf_token": token, "note": "在处理"},
        "zhang",
        f"incident:{incident}",
    )
    assert resp.headers["Location"] == inc
    assert (row.before, row.after["status"]) == ({"status": "open"}, "acknowledged")
    row, _ = await post(
        "/incidents/{id}/steps",
        f"{inc}/steps",
        {"csrf_token": token, "step": "report-carrier", "note": "报障单号 A1"},
        "zhang",
        f"incident:{incident}",
    )
    assert row.after == {"step": "report-carrier", "intervention": True}
    row, resp = await post(
        "/incidents/{id}/steps/{step}/run",
        f"{inc}/steps/ce-interface/run",
        {"csrf_token": token},
        "zhang",
        f"incident:{incident}",
    )
    assert row.after == {"step": "ce-interface"}
    assert resp.headers["Location"] == f"{inc}#step-ce-interface"
    for _ in range(200):  # the step runs in the background; its output is the automation's
        if not app[RUNNING]:
            break
        await asyncio.sleep(0.05)
    events = await IncidentRepo(app[STORE], "lingshui").events(incident)
    assert [e.actor for e in events if e.kind == "step_done" and e.data["step"] == "ce-interface"]
    await post(
        "/incidents/{id}/resolve",
        f"{inc}/resolve",
        {"csrf_token": token, "note": "运营商修复"},
        "zhang",
        f"incident:{incident}",
    )

    token = await as_user(console, "li", "lead")
    # a lead overrides a step's intervention flag, with the reason: kept on the row
    row, _ = await post(
        "/incidents/{id}/steps",
        f"{inc}/steps",
        {
            "csrf_token": token,
            "step": "local-fix",
            "note": "只看了配置",
            "intervention": "no",
            "reason": "未改动设备",
        },
        "li",
        f"incident:{incident}",
    )
    assert row.after["override"] == {
        "runbook_intervention": True,
        "intervention": False,
        "reason": "未改动设备",
        "by": "li",
    }
    row, _ = await post(
        "/incidents/{id}/regrade",
        f"{inc}/regrade",
        {"csrf_token": token, "level": "I", "note": "影响全部来电"},
        "li",
        f"incident:{incident}",
    )
    assert row.after["severity"] == "I"
    row, _ = await post(
        "/incidents/{id}/close",
        f"{inc}/close",
        {"csrf_token": token, "note": "光缆被挖断"},
        "li",
        f"incident:{incident}",
    )
    assert (row.before, row.after["status"]) == ({"status": "recovered"}, "closed")

    row, _ = await post(
        "/maintenance",
        "/maintenance",
        {"csrf_token": token, "assets": ["mstp-voice"], "duration": "2h", "reason": "割接"},
        "li",
        "maintenance:1",
    )
    assert row.after["created_by"] == "li" and row.after["approved_by"] is None
    row, _ = await post(
        "/alerting/test",
        "/alerting/test",
        {"csrf_token": token, "receiver": "noc-oncall"},
        "li",
        "receiver:noc-oncall",
    )
    token = await as_user(console, "wang", "lead")
    row, resp = await post(
        "/maintenance/{id}/approve",
        "/maintenance/1/approve",
        {"csrf_token": token},
        "wang",
        "maintenance:1",
    )
    assert row.after["approved_by"] == "wang"
    assert resp.headers["Location"] == "/maintenance#window-1"
    row, _ = await post(
        "/maintenance/{id}/end",
        "/maintenance/1/end",
        {"csrf_token": token},
        "wang",
        "maintenance:1",
    )
    assert row.after["ended_at"]

    assert walked == set(forms), "an operator act's console form this walk does not post"
    detail = await (await console.get(f"/api/v1/incidents/{incident}")).json()
    people = {e["actor"] for e in detail["timeline"] if e["actor"]} - {"noc", "noc-auto"}
    assert people == {"zhang", "li"}
    assert (await AuditLog(app[STORE]).verify()).ok


async def test_a_refusal_shows_the_page_again_in_the_readers_language_recorded_once(console):
    app = console.app
    incident = await open_ticket_incident(app)
    inc = f"/incidents/{incident}"
    token = await as_user(console, "zhang", "operator")
    await one_row(console, f"{inc}/ack", {"csrf_token": token})
    # the act refuses (409): the incident again, the catalog's title, the act's reason
    row, _, text = await one_row(console, f"{inc}/ack", {"csrf_token": token}, 409)
    assert (row.action, row.outcome, row.target) == (
        "incident.ack",
        "refused",
        f"incident:{incident}",
    )
    assert "与当前状态不符" in text and row.reason in text and 'id="runbook"' in text
    row, _, text = await one_row(console, f"{inc}/ack?lang=en", {"csrf_token": token}, 409)
    assert "does not fit the current state" in text and "与当前状态不符" not in text
    # refused before the act (a step its runbook lacks): one row, under the act's name
    row, _, text = await one_row(
        console, f"{inc}/steps", {"csrf_token": token, "step": "nope"}, 400
    )
    assert (row.action, row.outcome, row.actor_user) == ("incident.step", "refused", "zhang")
    assert "has no step 'nope'" in row.reason and "bad request" in text
    # the act's rule, not the console's: an operator may not override the flag (403, named roles)
    row, _, text = await one_row(
        console,
        f"{inc}/steps?lang=zh-CN",
        {"csrf_token": token, "step": "local-fix", "intervention": "no", "reason": "x"},
        403,
    )
    assert (row.action, row.outcome) == ("incident.step", "refused")
    assert "值班长或系统管理员" in text and "step.override" in text
    # a resolve without saying what fixed it: the act refuses (400)
    row, _, text = await one_row(console, f"{inc}/resolve", {"csrf_token": token}, 400)
    assert (row.action, row.outcome) == ("incident.resolve", "refused")
    assert "what fixed it" in text
    # no such incident: the plain 404 (there is no page to show again), recorded once
    row, _, text = await one_row(console, "/incidents/999/ack", {"csrf_token": token}, 404)
    assert (row.action, row.outcome) == ("incident.ack", "refused") and "999" in text
    assert (await IncidentRepo(app[STORE], "lingshui").get(incident)).status == "acknowledged"


async def test_a_lead_cannot_approve_their_own_window_and_another_lead_can(
    aiohttp_client, lingshui_config, db_url
):
    console = await aiohttp_client(create_app(lingshui_config, db_url, probing=False))
    store = console.app[STORE]
    token = await as_user(console, "li", "lead")
    start, end = sw.WINDOW_LOCAL
    await one_row(
        console,
        "/maintenance",
        {
            "csrf_token": token,
            "assets": sw.ASSETS,
            "starts_at": start,
            "ends_at": end,
            "reason": "割接",
        },
    )
    [window] = await store.maintenance_windows()
    await sw.planned_the_day_before(store, window.id)
    await sw.fault_inside(store, lingshui_config)

    html = await (await console.get("/maintenance")).text()
    approve = f'action="/maintenance/{window.id}/approve"'
    assert approve not in html and "须由他人批准" in html  # not on one's own window
    row, _, text = await one_row(
        console, f"/maintenance/{window.id}/approve", {"csrf_token": token}, 403
    )
    assert (row.action, row.outcome, row.actor_user) == ("maintenance.approve", "refused", "li")
    assert "someone other than the person who created it" in text and "无权限" in text
    figures, _ = await sw.voice_september(store, lingshui_config)
    sw.assert_not_excused(figures, window.id)

    token = await as_user(console, "wang", "lead")
    html = await (await console.get("/maintenance")).text()
    assert approve in html and "未批准" in html
    row, _, _ = await one_row(console, f"/maintenance/{window.id}/approve", {"csrf_token": token})
    assert (row.action, row.outcome, row.actor_user) == ("maintenance.approve", "ok", "wang")
    html = await (await console.get("/maintenance", params={"lang": "en"})).text()
    shown = html.split(f'id="window-{window.id}"')[1].split("</tr>")[0]
    assert "approved" in shown and "not approved" not in shown and "wang" in shown
    assert approve not in shown
    listed = await (await console.get("/api/v1/maintenance")).json()
    assert [(w["approved"], w["approved_by"]) for w in listed["windows"]] == [(True, "wang")]
    figures, _ = await sw.voice_september(store, lingshui_config)
    sw.assert_excused(figures)
    # twice is a conflict, shown on the page
    _, _, text = await one_row(
        console, f"/maintenance/{window.id}/approve", {"csrf_token": token}, 409
    )
    assert "already approved by wang" in text
