"""Maintenance windows through the API and the CLI, on both stores: a lead plans and ends them
(under their own name), a second person approves them for the SLA."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.auth import authorize, grant
from support.stores import create_store

from noc.app import create_app
from noc.appkeys import STORE


@pytest.fixture
async def client(aiohttp_client, lingshui_config, db_url):
    client = await aiohttp_client(create_app(lingshui_config, db_url, probing=False))
    await authorize(client, "lead", "zhangsan")
    return client


async def test_plan_list_and_end_a_window(client):
    resp = await client.post(
        "/api/v1/maintenance",
        json={
            "assets": ["mstp-voice", "mstp-voice"],
            "starts_at": "2030-01-01 02:00",
            "duration": "2h",
            "reason": "运营商割接",
            "by": "zhangsan",
        },
    )
    assert resp.status == 201
    window = await resp.json()
    assert window["assets"] == ["mstp-voice"]
    assert window["starts_at"] == "2029-12-31T18:00:00+00:00"  # 02:00 Asia/Shanghai
    assert (
        window["starts_at_local"] == "2030-01-01T02:00+08:00"
        and window["ends_at_local"] == "2030-01-01T04:00+08:00"
    )
    assert not window["active"] and not window["entered_late"]
    assert window["sla_counts_from"] == window["starts_at"]
    assert (window["created_by"], window["approved"], window["approved_by"]) == (
        "zhangsan",
        False,
        None,
    )
    now = await client.post(
        "/api/v1/maintenance",
        json={"assets": ["phone-01"], "duration": "30m", "reason": "更换话机"},
    )
    current = await now.json()
    assert current["active"]
    active = await (await client.get("/api/v1/maintenance", params={"active": "true"})).json()
    assert [w["id"] for w in active["windows"]] == [current["id"]]
    ended = await client.post(f"/api/v1/maintenance/{current['id']}/end")
    assert ended.status == 200 and (await ended.json())["ended_at"]
    again = await client.post(f"/api/v1/maintenance/{current['id']}/end")
    assert again.status == 409
    assert (await (await client.get("/api/v1/maintenance")).json())["count"] == 2


async def test_a_window_entered_after_it_started_says_the_sla_counts_it_only_from_then(client):
    resp = await client.post(
        "/api/v1/maintenance",
        json={
            "assets": ["mstp-ticket"],
            "starts_at": "2026-01-05 09:00",
            "duration": "2h",
            "reason": "补录",
            "by": "zhangsan",
        },
    )
    window = await resp.json()
    assert resp.status == 201 and window["entered_late"]
    assert window["sla_counts_from"] > window["starts_at"]  # from when it was entered, not 09:00


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"assets": ["nope"], "duration": "1h"}, "unknown asset(s): nope"),
        ({"assets": [], "duration": "1h"}, "name at least one asset"),
        ({"assets": "mstp-voice", "duration": "1h"}, "assets must be a list"),
        ({"assets": ["internet"]}, "exactly one of an end time or a duration"),
        ({"assets": ["internet"], "duration": "soon"}, "duration 'soon'"),
        (
            {
                "assets": ["internet"],
                "starts_at": "2030-01-01T04:00",
                "ends_at": "2030-01-01T03:00",
            },
            "must end after it starts",
        ),
        (
            {"assets": ["internet"], "starts_at": "tomorrow", "duration": "1h"},
            "cannot read time 'tomorrow'",
        ),
    ],
)
async def test_bad_requests_are_refused_with_a_reason(client, body, reason):
    resp = await client.post("/api/v1/maintenance", json={**body, "by": "zhangsan", "reason": "x"})
    assert resp.status == 400
    assert reason in (await resp.json())["reason"]
    assert (await (await client.get("/api/v1/maintenance")).json())["count"] == 0


def test_cli(sqlite_url):
    create_store(sqlite_url)  # `noc maintenance` never creates one

    def noc(*args):
        return subprocess.run(
            [sys.executable, "-m", "noc", "maintenance", *args, "--db", sqlite_url],
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ.copy(),
        )

    added = noc(
        "add",
        "--assets",
        "internet,ce-router",
        "--duration",
        "1h",
        "--reason",
        "割接",
    )
    assert added.returncode == 0, added.stderr
    assert "ce-router, internet" in added.stdout
    bad = noc("add", "--assets", "ghost", "--duration", "1h", "--reason", "x")
    assert bad.returncode == 2 and "unknown asset(s): ghost" in bad.stderr
    late = noc(
        "add",
        "--assets",
        "internet",
        "--start",
        "2026-01-05 09:00",
        "--duration",
        "1h",
        "--reason",
        "补录",
    )
    assert late.returncode == 0 and "SLA 只从登记时起扣除" in late.stderr
    assert "SLA" not in added.stderr
    listed = json.loads(noc("list", "--active", "--json").stdout)
    assert len(listed) == 1 and listed[0]["active"]
    assert noc("end", str(listed[0]["id"])).returncode == 0
    assert noc("end", str(listed[0]["id"])).returncode == 1
    assert json.loads(noc("list", "--active", "--json").stdout) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # 02:00 at +08:00 on the first day of year 1 is before year 1 in UTC: it used to overflow
        # (OverflowError: a 500 here, a traceback in the CLI)
        (
            {"starts_at": "0001-01-01T02:00", "duration": "1h"},
            "cannot read time '0001-01-01T02:00'",
        ),
        ({"starts_at": "2030-01-01T02:00", "ends_at": "9999-12-31T23:00-05:00"}, "out of range"),
        ({"starts_at": "9999-12-31T23:00", "duration": "20h"}, "ends after the year 9999"),
        ({"starts_at": 20300101, "duration": "1h"}, "not a string"),
    ],
)
async def test_instants_out_of_range_are_a_400_with_a_reason(client, body, reason):
    resp = await client.post(
        "/api/v1/maintenance",
        json={**body, "assets": ["internet"], "by": "zhangsan", "reason": "x"},
    )
    assert resp.status == 400
    answer = await resp.json()
    assert answer["error"] == "bad_request" and reason in answer["reason"]
    assert (await (await client.get("/api/v1/maintenance")).json())["count"] == 0


def test_cli_refuses_an_instant_out_of_range_in_one_line(sqlite_url):
    create_store(sqlite_url)
    bad = subprocess.run(
        [sys.executable, "-m", "noc", "maintenance", "add", "--assets", "internet"]
        + ["--start", "0001-01-01T02:00", "--duration", "1h", "--reason", "x"]
        + ["--db", sqlite_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "cannot read time '0001-01-01T02:00': out of range" in bad.stderr


async def test_a_second_person_approves_and_a_typed_name_cannot_stand_in(client):
    resp = await client.post(
        "/api/v1/maintenance",
        json={"assets": ["mstp-voice"], "duration": "1h", "reason": "割接", "by": "lisi"},
    )
    assert resp.status == 400 and "may not name someone else" in (await resp.json())["reason"]
    window = await (
        await client.post(
            "/api/v1/maintenance", json={"assets": ["mstp-voice"], "duration": "1h", "reason": "x"}
        )
    ).json()
    url = f"/api/v1/maintenance/{window['id']}/approve"
    own = await client.post(url)
    assert own.status == 403 and "someone other than" in (await own.json())["reason"]
    store = client.app[STORE]
    operator = await grant(store, "op1", "operator")
    assert (await client.post(url, headers=operator)).status == 403
    lisi = await grant(store, "lisi", "lead")
    approved = await client.post(url, headers=lisi)
    assert approved.status == 200
    body = await approved.json()
    assert (body["approved"], body["approved_by"]) == (True, "lisi") and body["approved_at"]
    assert (await client.post(url, headers=lisi)).status == 409
    missing = await client.post("/api/v1/maintenance/999/approve", headers=lisi)
    assert missing.status == 404


async def test_the_auditor_approves_when_the_config_says_so(
    aiohttp_client, lingshui_config, db_url
):
    from support.auth import login

    from noc.config.security import SecuritySettings

    security = SecuritySettings(maintenance_approvers=["auditor"])
    config = lingshui_config.model_copy(update={"security": security})
    client = await aiohttp_client(create_app(config, db_url, probing=False))
    store = client.app[STORE]
    lead = await grant(store, "zhangsan", "lead")
    window = await (
        await client.post(
            "/api/v1/maintenance",
            json={"assets": ["internet"], "duration": "1h", "reason": "x"},
            headers=lead,
        )
    ).json()
    url = f"/api/v1/maintenance/{window['id']}/approve"
    other_lead = await grant(store, "lisi", "lead")
    assert (await client.post(url, headers=other_lead)).status == 403  # only the auditor now
    from support.auth import add_account

    await add_account(store, "buyer", "auditor")
    session = await login(client, "buyer")
    resp = await client.post(url, headers={"X-CSRF-Token": session["csrf_token"]})
    assert resp.status == 200 and (await resp.json())["approved_by"] == "buyer"


def test_cli_approve_is_someone_elses_and_audited(sqlite_url, monkeypatch):
    """``noc maintenance approve`` as OS accounts bound to NOC users (in-process, the OS account
    replaced as in the identity CLI tests): not one's own window, not without the role."""
    from click.testing import CliRunner

    from noc.cli import identity_common, main
    from noc.store.audit_log import AuditLog

    create_store(sqlite_url)  # the CLI refuses a store that does not exist

    def noc(*args: str, login: str):
        monkeypatch.setattr(identity_common, "os_account", lambda: (login, login == "root"))
        return CliRunner().invoke(main, [*args, "--db", sqlite_url])

    assert (
        noc("user", "add", "sue", "--role", "security", "--os-user", "sue", login="root").exit_code
        == 0
    )
    for name, role in (("zhang", "lead"), ("li", "lead"), ("op", "operator")):
        made = noc("user", "add", name, "--role", role, "--os-user", name, login="sue")
        assert made.exit_code == 0, made.output
    stranger = noc("maintenance", "add", "--assets", "internet", "--duration", "1h",
                   "--reason", "x", login="mallory")  # fmt: skip
    assert stranger.exit_code == 1 and "not bound to a NOC user" in stranger.output
    incident = noc("incident", "ack", "1", login="mallory")  # incidents alike
    assert incident.exit_code == 1 and "not bound to a NOC user" in incident.output
    added = noc("maintenance", "add", "--assets", "internet", "--duration", "1h",
                "--reason", "割接", login="zhang")  # fmt: skip
    assert added.exit_code == 0 and "awaiting approval" in added.output
    assert noc("maintenance", "approve", "1", login="zhang").exit_code == 1  # own window
    assert noc("maintenance", "approve", "1", login="op").exit_code == 1  # an operator
    done = noc("maintenance", "approve", "1", login="li")
    assert done.exit_code == 0 and "approved by li" in done.output
    listed = json.loads(noc("maintenance", "list", "--json", login="li").output)
    assert (listed[0]["created_by"], listed[0]["approved_by"]) == ("zhang", "li")

    async def rows():
        from noc.store import Store

        store = await Store.open(sqlite_url)
        try:
            return await AuditLog(store).rows()
        finally:
            await store.close()

    import asyncio

    acts = [
        (r.action, r.outcome, r.actor_user, r.channel)
        for r in asyncio.run(rows())
        if r.action.startswith("maintenance.")
    ]
    refused = [(r.action, r.outcome, r.actor_user) for r in asyncio.run(rows())]
    assert ("incident.ack", "refused", None) in refused
    assert acts == [
        ("maintenance.add", "refused", None, "cli"),
        ("maintenance.add", "ok", "zhang", "cli"),
        ("maintenance.approve", "refused", "zhang", "cli"),
        ("maintenance.approve", "refused", "op", "cli"),
        ("maintenance.approve", "ok", "li", "cli"),
    ]


async def test_migration_0007_adds_the_approval_and_goes_back(db_url):
    """Windows planned before 0007 come out unapproved: the SLA excuses them once approved."""
    import sqlalchemy as sa

    from noc.store import Store
    from noc.store import db as dbmod

    async def columns(store: Store) -> set[str]:
        async with store.engine.connect() as conn:
            return await conn.run_sync(
                lambda c: {col["name"] for col in sa.inspect(c).get_columns("maintenance_windows")}
            )

    store = Store(db_url)
    try:
        await dbmod.upgrade(store.engine, "0006")
        assert not {"approved_by", "approved_at"} & await columns(store)
        async with store.engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO maintenance_windows (site, assets, reason, starts_at, ends_at, "
                "created_by, created_at) VALUES ('lingshui', '[\"internet\"]', 'x', "
                "'2026-09-10 02:00:00', '2026-09-10 04:00:00', 'zhang', '2026-09-09 12:00:00')"
            )
        await dbmod.upgrade(store.engine)
        assert {"approved_by", "approved_at"} <= await columns(store)
        [window] = await store.maintenance_windows()
        assert (window.approved_by, window.approved_at) == (None, None)
        await dbmod.downgrade(store.engine, "0006")
        assert not {"approved_by", "approved_at"} & await columns(store)
        await dbmod.upgrade(store.engine)
    finally:
        await store.close()
