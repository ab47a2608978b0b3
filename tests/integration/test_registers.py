"""The KPI registers (staff, report submissions, emergencies) through the API and the CLI, on
both backends: who may write (``register.write``: a lead), one audit row per write with the
real actor, records kept by their key, and file imports that name every bad row and change
nothing the second time (docs/kpi.md, indicators 7–9)."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import Result
from support.auth import authorize, grant
from support.identity import fast_hashing, noc_as_os_account  # noqa: F401
from support.stores import audit_rows, create_store, on_store

from noc.app import create_app
from noc.appkeys import STORE
from noc.store import Store
from noc.store.audit_log import AuditLog
from noc.store.kpi_registers import KpiRegisters
from noc.web.registers_api import ROUTES

HOST = socket.gethostname()


@pytest.fixture
async def client(aiohttp_client, lingshui_config, db_url):
    return await aiohttp_client(create_app(lingshui_config, db_url, probing=False))


async def audit(client) -> list:
    return await AuditLog(client.app[STORE]).rows()


def test_routes_declare_their_permission_and_audit_action():
    assert {(r.method, r.path): (r.permission, r.action) for r in ROUTES} == {
        ("GET", "/api/v1/staff"): ("read", None),
        ("POST", "/api/v1/staff"): ("register.write", "staff.add"),
        ("GET", "/api/v1/report-submissions"): ("read", None),
        ("POST", "/api/v1/report-submissions"): ("register.write", "report.submit"),
        ("GET", "/api/v1/emergencies"): ("read", None),
        ("POST", "/api/v1/emergencies"): ("register.write", "emergency.add"),
    }


async def test_a_lead_enters_staff_by_key_and_every_write_is_audited(client):
    await authorize(client, "lead", "wang")
    spell = {"person": "张三", "post": "接话", "start": "2025-01-01"}
    first = await client.post("/api/v1/staff", json=spell)
    assert first.status == 201, await first.text()
    made = await first.json()
    assert made["status"] == "created"
    assert (made["person"], made["post"], made["start"], made["end"]) == (
        "张三",
        "接话",
        "2025-01-01",
        None,
    )
    again = await client.post("/api/v1/staff", json=spell)
    assert again.status == 200 and (await again.json())["status"] == "duplicate"
    left = await client.post("/api/v1/staff", json={**spell, "end": "2026-10-31"})
    assert left.status == 200
    changed = await left.json()
    assert (changed["status"], changed["id"], changed["end"]) == (
        "updated",
        made["id"],
        "2026-10-31",
    )
    assert changed["before"] == {"end": None}
    listed = await (await client.get("/api/v1/staff")).json()
    assert listed["count"] == 1 and listed["staff"][0]["end"] == "2026-10-31"

    rows = await audit(client)
    assert [(r.action, r.outcome, r.actor_user, r.actor_role, r.channel) for r in rows] == [
        ("staff.add", "ok", "wang", "lead", "api"),
    ] * 3
    assert [r.after["status"] for r in rows] == ["created", "duplicate", "updated"]
    assert rows[0].target == f"staff:{made['id']}"
    assert rows[2].before == {"end": None} and rows[2].after["end"] == "2026-10-31"


async def test_emergencies_and_submissions_in_site_time(client):
    await authorize(client, "lead", "wang")
    em = await client.post(
        "/api/v1/emergencies",
        json={"kind": "台风", "title": "台风“摩羯”", "started_at": "2026-11-10 08:00"},
    )
    assert em.status == 201, await em.text()
    body = await em.json()
    assert (body["kind"], body["started_at"]) == ("typhoon", "2026-11-10T00:00:00+00:00")
    assert body["started_at_local"] == "2026-11-10T08:00+08:00" and body["responded_at"] is None
    responded = await client.post(
        "/api/v1/emergencies",
        json={
            "kind": "typhoon",
            "started_at": "2026-11-10T00:00:00Z",
            "title": "台风“摩羯”",
            "responded_at": "2026-11-10 08:20",
        },
    )
    assert (await responded.json())["before"] == {"responded_at": None}
    sub = await client.post(
        "/api/v1/report-submissions",
        json={"period": "2026-10", "submitted_at": "2026-11-06 09:00", "corrected": "否"},
    )
    assert sub.status == 201, await sub.text()
    assert (await sub.json())["kind"] == "monthly"
    now = await client.post(
        "/api/v1/report-submissions", json={"kind": "data", "period": "2026-W45"}
    )
    assert now.status == 201  # submitted now
    ems = await (await client.get("/api/v1/emergencies")).json()
    subs = await (await client.get("/api/v1/report-submissions")).json()
    assert (
        ems["count"] == 1
        and ems["emergencies"][0]["responded_at_local"] == "2026-11-10T08:20+08:00"
    )
    assert [s["kind"] for s in subs["submissions"]] == ["monthly", "data"]
    assert [(r.action, r.actor_user) for r in await audit(client)] == [
        ("emergency.add", "wang"),
        ("emergency.add", "wang"),
        ("report.submit", "wang"),
        ("report.submit", "wang"),
    ]


@pytest.mark.parametrize(
    ("path", "body", "reasons"),
    [
        (
            "/api/v1/staff",
            {"person": "张三", "start": "soon"},
            ["post: is required", "start: cannot read date 'soon'"],
        ),
        (
            "/api/v1/staff",
            {"person": "张三", "post": "接话", "start": "2026-11-02", "end": "2026-11-01"},
            ["end: is before start"],
        ),
        (
            "/api/v1/staff",
            {"person": "张三", "post": "接话", "start": "2026-11-02", "boss": "x"},
            ["boss: unknown field"],
        ),
        (
            "/api/v1/emergencies",
            {"kind": "flood", "started_at": "2026-11-01"},
            ["kind: 'flood' is not one of 台风 (typhoon)"],
        ),
        (
            "/api/v1/emergencies",
            {
                "kind": "typhoon",
                "started_at": "2026-11-01 10:00",
                "responded_at": "2026-11-01 09:00",
            },
            ["responded_at: is before started_at"],
        ),
        (
            "/api/v1/report-submissions",
            {"period": "October"},
            ["period: cannot read period 'October'"],
        ),
        ("/api/v1/report-submissions", ["2026-10"], ["body must be a JSON object"]),
    ],
)
async def test_a_bad_body_is_a_400_naming_each_field_and_is_audited(client, path, body, reasons):
    await authorize(client, "lead", "wang")
    resp = await client.post(path, json=body)
    assert resp.status == 400
    reason = (await resp.json())["reason"]
    for part in reasons:
        assert part in reason, reason
    [row] = await audit(client)
    assert (row.outcome, row.actor_user) == ("refused", "wang") and reasons[0] in row.reason
    listed = await (await client.get(path)).json()
    assert listed["count"] == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/staff", "/api/v1/report-submissions", "/api/v1/emergencies"]
)
async def test_only_a_lead_writes_registers_anyone_signed_in_reads(client, path):
    body = {
        "/api/v1/staff": {"person": "张三", "post": "接话", "start": "2025-01-01"},
        "/api/v1/report-submissions": {"period": "2026-10"},
        "/api/v1/emergencies": {"kind": "power_cut", "started_at": "2026-11-03 10:00"},
    }[path]
    store = client.app[STORE]
    nobody = await client.post(path, json=body)
    assert nobody.status == 401
    assert (await client.get(path)).status == 401
    operator = await grant(store, "li", "operator")
    refused = await client.post(path, json=body, headers=operator)
    assert refused.status == 403
    assert "register.write" in (await refused.json())["reason"]
    viewer = await grant(store, "zhao", "viewer")
    assert (await client.get(path, headers=viewer)).status == 200
    assert (await (await client.get(path, headers=viewer)).json())["count"] == 0
    lead = await grant(store, "wang", "lead")
    assert (await client.post(path, json=body, headers=lead)).status == 201
    rows = await audit(client)
    assert [(r.outcome, r.actor_user) for r in rows] == [
        ("refused", None),
        ("refused", "li"),
        ("ok", "wang"),
    ]


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(db_url, monkeypatch, fast_hashing):  # noqa: F811
    """``cli(*args, login="root")``: run ``noc`` in-process as that OS account on ``db_url``."""
    create_store(db_url)
    return noc_as_os_account(monkeypatch, db_url)


def stored(url: str, kind: str) -> list[dict]:
    async def work(store):
        regs = KpiRegisters(store)
        from noc.store.kpi_registers import REGISTERS

        return [REGISTERS[kind].values(r) for r in await regs.rows(kind)]

    return on_store(url, work)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_cli_writes_act_as_the_bound_account_and_are_audited(cli):
    ok(cli("user", "add", "sue", "--role", "security", "--os-user", "sue"))
    ok(cli("user", "add", "wang", "--role", "lead", "--os-user", "wang", login="sue"))
    ok(cli("user", "add", "li", "--role", "operator", "--os-user", "li", login="sue"))
    n = len(audit_rows(cli.url))
    args = ("emergency", "add", "--kind", "power_cut", "--started", "2026-11-03 10:00")
    stranger = cli(*args, login="mallory")
    assert stranger.exit_code == 1 and "'mallory' is not bound" in stranger.stderr
    operator = cli(*args, login="li")
    assert operator.exit_code == 1 and "register.write" in operator.stderr
    made = ok(cli(*args, login="wang"))
    assert "已登记 created" in made.stdout
    again = ok(cli(*args, "--responded", "2026-11-03 10:20", login="wang"))
    assert "已更新 updated" in again.stdout and "responded_at -" in again.stdout
    sub = ok(
        cli("report", "submit", "--period", "2026-10", "--at", "2026-11-05 17:00", login="wang")
    )
    assert "submission 1: monthly 2026-10" in sub.stdout
    bad = cli("staff", "add", "张三", "--post", "接话", "--start", "someday", login="wang")
    assert bad.exit_code == 2 and "--start: cannot read date 'someday'" in bad.stderr
    rows = audit_rows(cli.url)[n:]
    assert [(r.action, r.outcome, r.actor_user, r.channel, r.source) for r in rows] == [
        ("emergency.add", "refused", None, "cli", f"mallory@{HOST}"),
        ("emergency.add", "refused", "li", "cli", f"li@{HOST}"),
        ("emergency.add", "ok", "wang", "cli", f"wang@{HOST}"),
        ("emergency.add", "ok", "wang", "cli", f"wang@{HOST}"),
        ("report.submit", "ok", "wang", "cli", f"wang@{HOST}"),
        ("staff.add", "refused", "wang", "cli", f"wang@{HOST}"),
    ]
    assert (
        stored(cli.url, "emergencies")[0]["responded_at"].isoformat() == "2026-11-03T02:20:00+00:00"
    )
    listed = json.loads(ok(cli("emergency", "list", "--json")).stdout)
    assert [e["kind"] for e in listed] == ["power_cut"]
    assert "monthly\t2026-10\t2026-11-05 17:00+08:00" in ok(cli("report", "submissions")).stdout


STAFF = """person,post,start,end
张三,接话,2025-01-01,
李四,接话,2025-01-01,2026-09-30
王五,接话,someday,
赵六,,2025-03-01,2025-02-01
张三,接话,2025-01-01,2026-01-01
钱七,派单岗,2025-06-01,
"""
EMERGENCIES = """kind,title,started_at,responded_at,force_majeure
typhoon,台风,2026-11-10 08:00,2026-11-10 08:20,否
power_cut,停电,2026-11-12 09:00,,是
flood,洪水,2026-11-13 09:00,,
"""
SUBMISSIONS = """kind,period,submitted_at,due_at,corrected
monthly,2026-10,2026-11-06 09:00,,
monthly,2026-10,2026-11-08 09:00,,是
data,2026-W45,,2026-11-10 18:00,
"""


@pytest.mark.parametrize(
    ("group", "kind", "text", "good", "problems"),
    [
        (
            ("staff",),
            "staff",
            STAFF,
            3,
            [
                "row 4, column start, value 'someday': cannot read date 'someday'",
                "row 5, column post: is required",
                "row 5, column end, value '2025-02-01': is before start",
                "row 6: repeats the person, post, start of row 2; left out",
            ],
        ),
        (
            ("emergency",),
            "emergencies",
            EMERGENCIES,
            2,
            ["row 4, column kind, value 'flood': 'flood' is not one of 台风 (typhoon)"],
        ),
        (
            ("report",),
            "submissions",
            SUBMISSIONS,
            2,
            ["row 4, column submitted_at: is required"],
        ),
    ],
)
def test_import_names_bad_rows_keeps_the_good_and_a_second_run_changes_nothing(
    cli, tmp_path, group, kind, text, good, problems
):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    n = len(audit_rows(cli.url))
    first = cli(*group, "import", str(path))
    assert first.exit_code == 1, first.output
    for problem in problems:
        assert problem in first.stderr, first.stderr
    assert f"{good} new, 0 updated, 0 already stored" in first.stdout
    rows = stored(cli.url, kind)
    assert len(rows) == good
    second = cli(*group, "import", str(path))
    assert second.exit_code == 1
    assert f"0 new, 0 updated, {good} already stored" in second.stdout
    assert stored(cli.url, kind) == rows
    imports = audit_rows(cli.url)[n:]
    action = {"staff": "staff.import", "emergencies": "emergency.import"}.get(kind, "report.import")
    assert [(r.action, r.outcome, r.actor_user, r.target) for r in imports] == [
        (action, "ok", "root", f"file:{kind}.csv")
    ] * 2
    assert len(imports[0].after["created"]) == good and imports[1].after["created"] == []
    assert imports[1].after["duplicates"] == good and imports[1].after["updated"] == []


def test_a_later_roster_updates_last_days(cli, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("person,post,start\n张三,接话,2025-01-01\n", encoding="utf-8")
    ok(cli("staff", "import", str(path)))
    path.write_text("person,post,start,end\n张三,接话,2025-01-01,2026-11-15\n", encoding="utf-8")
    assert "0 new, 1 updated" in ok(cli("staff", "import", str(path))).stdout
    [row] = stored(cli.url, "staff")
    assert str(row["end"]) == "2026-11-15"
    [updated] = audit_rows(cli.url)[-1].after["updated"]
    assert updated["before"] == {"end": None} and updated["after"]["end"] == "2026-11-15"
    # a roster without the end column (or an empty cell) says nothing of it: the day is kept
    path.write_text("person,post,start,note\n张三,接话,2025-01-01,\n", encoding="utf-8")
    assert "0 new, 0 updated, 1 already stored" in ok(cli("staff", "import", str(path))).stdout
    assert str(stored(cli.url, "staff")[0]["end"]) == "2026-11-15"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "person,post,strat\n张三,接话,2025-01-01\n",
            "unknown column(s) 'strat' (did you mean 'start'?)",
        ),
        ("person,start\n张三,2025-01-01\n", "missing column(s) post"),
        ("", "the file is empty"),
    ],
)
def test_a_file_with_a_wrong_header_is_refused_whole_and_audited(cli, tmp_path, text, reason):
    path = tmp_path / "staff.csv"
    path.write_text(text, encoding="utf-8")
    n = len(audit_rows(cli.url))
    result = cli("staff", "import", str(path))
    assert result.exit_code == 2 and reason in result.stderr, result.output
    assert stored(cli.url, "staff") == []
    [row] = audit_rows(cli.url)[n:]
    assert (row.action, row.outcome, row.target) == ("staff.import", "refused", "file:staff.csv")
    assert reason in row.reason


def test_an_unbound_account_cannot_import(cli, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(STAFF, encoding="utf-8")
    ok(cli("user", "add", "sue", "--role", "security", "--os-user", "sue"))
    n = len(audit_rows(cli.url))
    result = cli("staff", "import", str(path), login="mallory")
    assert result.exit_code == 1 and "'mallory' is not bound" in result.stderr
    assert stored(cli.url, "staff") == []
    [row] = audit_rows(cli.url)[n:]
    assert (row.action, row.outcome, row.actor_user) == ("staff.import", "refused", None)


async def test_migration_0008_merges_repeats_and_goes_back(db_url):
    """Rows entered twice before 0008: the latest registration of a key stays."""
    import sqlalchemy as sa

    from noc.store import db as dbmod

    async def indexes(store: Store) -> set[str]:
        async with store.engine.connect() as conn:
            return await conn.run_sync(
                lambda c: {i["name"] for i in sa.inspect(c).get_indexes("kpi_staff")}
            )

    store = Store(db_url)
    try:
        await dbmod.upgrade(store.engine, "0007")
        async with store.engine.begin() as conn:
            for end in ("NULL", "'2026-09-30'"):
                await conn.exec_driver_sql(
                    "INSERT INTO kpi_staff (person, post, start_date, end_date, recorded_at) "
                    f"VALUES ('张三', '接话', '2025-01-01', {end}, '2026-11-01 00:00:00')"
                )
            await conn.exec_driver_sql(
                "INSERT INTO kpi_staff (person, post, start_date, recorded_at) "
                "VALUES ('李四', '接话', '2025-01-01', '2026-11-01 00:00:00')"
            )
        await dbmod.upgrade(store.engine)
        assert "ux_kpi_staff_key" in await indexes(store)
        rows = await KpiRegisters(store).rows("staff")
        assert [(r.id, r.person, str(r.end_date)) for r in rows] == [
            (2, "张三", "2026-09-30"),
            (3, "李四", "None"),
        ]
        await dbmod.downgrade(store.engine, "0007")
        assert "ux_kpi_staff_key" not in await indexes(store)
        await dbmod.upgrade(store.engine)
    finally:
        await store.close()
