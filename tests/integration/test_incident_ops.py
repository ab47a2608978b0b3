"""Operating incidents: the JSON API (aiohttp test client) and ``noc incident`` (real process).

An incident is produced by the real engine from results on the real store; then operators
acknowledge it, record runbook steps, resolve and close it, and bad requests are refused with
a reason while what was recorded stays. The runbook automation runs diagnostics when an
incident opens and its verify step once it recovers (issue 11).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
from support.auth import authorize
from support.incidents import break_ticket_circuit

from incident_runbooks import load_runbooks
from noc.app import create_app
from noc.appkeys import AUTOMATION, ENGINE, STORE
from noc.incident_view import incident_detail
from noc.runtime.automation import StepAutomation
from noc.runtime.automation_steps import StepOutput
from noc.store.audit_log import AuditLog
from noc.store.incidents import IncidentRepo
from probes.base import ProbeResult
from probes.probeset import ProbeSet


async def heal_ticket_circuit(engine, at: float) -> None:
    ref = engine.refs[("mstp-ticket", "icmp")]
    for i in range(3):
        await engine.ingest(
            ref,
            ProbeResult.success(
                kind="icmp",
                started_at=at + i * 0.2,
                values={"sent": 3, "received": 3, "loss_ratio": 0.0, "rtt_avg_seconds": 0.001},
            ),
        )


@pytest.fixture
async def client(aiohttp_client, lingshui_config, db_url):
    """A lead's token on every request (the acting account's name is recorded)."""
    app = create_app(lingshui_config, db_url, probing=False)
    client = await aiohttp_client(app)
    await authorize(client, "lead", "zhangsan")
    await break_ticket_circuit(app[ENGINE])
    return client


async def test_list_and_show_with_runbook_progress(client):
    listing = await (await client.get("/api/v1/incidents", params={"status": "active"})).json()
    [incident] = listing["incidents"]
    assert (incident["type"], incident["severity"], incident["status"]) == (
        "circuit_down",
        "II",
        "open",
    )
    detail = await (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert [e["kind"] for e in detail["timeline"]] == ["opened", "graded"]
    assert detail["timeline"][0]["at_local"].endswith("+08:00")
    progress = detail["runbook_progress"]
    assert progress["id"] == "mstp-circuit-down" and progress["done"] == 0
    assert progress["next_step"] == progress["steps"][0]["id"]
    assert detail["deadlines"]["acknowledge_within_seconds"] == 600  # level II: 10 min


async def test_operator_lifecycle_and_refusals(client):
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    base = f"/api/v1/incidents/{incident['id']}"

    resp = await client.post(f"{base}/close", json={"note": "done"})
    assert resp.status == 409 and "it is open" in (await resp.json())["reason"]
    resp = await client.post(f"{base}/ack", json={"by": "lisi"})  # the name is the actor's
    assert resp.status == 400 and "may not name someone else" in (await resp.json())["reason"]
    resp = await client.post(f"{base}/ack", data="not json")
    assert resp.status == 400
    assert (await client.post(f"{base}/ack", json={"by": "zhangsan"})).status == 200
    assert (await client.post(f"{base}/ack", json={})).status == 409

    detail = await (await client.get(base)).json()
    steps = detail["runbook_progress"]["steps"]
    resp = await client.post(f"{base}/steps", json={"step": "no-such-step"})
    assert resp.status == 400 and "has no step 'no-such-step'" in (await resp.json())["reason"]
    first = steps[0]["id"]
    assert (
        await client.post(f"{base}/steps", json={"step": first, "output": "CE 接口 down"})
    ).status == 200
    assert (await client.post(f"{base}/resolve", json={"note": "运营商已修复"})).status == 200
    assert (await client.post(f"{base}/close", json={"note": "光缆中断"})).status == 200

    detail = await (await client.get(base)).json()
    assert detail["status"] == "closed" and detail["recovery_kind"] == "manual"
    assert (
        detail["runbook_progress"]["steps"][0]["done"]
        and detail["runbook_progress"]["steps"][0]["done_by"] == "zhangsan"
    )
    assert [e["kind"] for e in detail["timeline"]] == [
        "opened",
        "graded",
        "acknowledged",
        "step_done",
        "resolved",
        "recovered",
        "closed",
    ]


async def test_run_an_automated_step_on_demand(client):
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    base = f"/api/v1/incidents/{incident['id']}"
    resp = await client.post(f"{base}/steps/confirm/run")
    assert resp.status == 200
    output = await resp.json()
    assert output["text"] and isinstance(output["ok"], bool)
    detail = await (await client.get(base)).json()
    [event] = [e for e in detail["timeline"] if e["kind"] == "step_done"]
    assert (event["actor"], event["data"]["step"], event["data"]["automated"]) == (
        "noc-auto",
        "confirm",
        True,
    )
    manual_step = next(
        s["id"] for s in detail["runbook_progress"]["steps"] if s["automated"] is None
    )
    not_auto = await client.post(f"{base}/steps/{manual_step}/run")
    assert not_auto.status == 400
    # the order and the refusal are audited, by whom (the output's actor stays noc-auto)
    rows = await AuditLog(client.app[STORE]).rows(action="incident.diagnose")
    assert [(r.outcome, r.actor_user, r.after) for r in rows] == [
        ("ok", "zhangsan", {"step": "confirm"}),
        ("refused", "zhangsan", None),
    ]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/incidents/999", 404),
        ("/api/v1/incidents/abc", 400),
        ("/api/v1/incidents?status=weird", 400),
        ("/api/v1/incidents?limit=0", 400),
    ],
)
async def test_bad_requests(client, path, status):
    resp = await client.get(path)
    assert resp.status == status
    assert (await resp.json())["reason"]


def noc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "noc", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


async def test_incident_cli(lingshui_config, sqlite_url):
    from noc.runtime.engine import Engine
    from noc.store import Store

    store = await Store.open(sqlite_url)
    try:
        engine = Engine(lingshui_config, store, runbook_for=lambda t: "mstp-circuit-down")
        await engine.start()
        await break_ticket_circuit(engine)
        [row] = await IncidentRepo(store, "lingshui").list()
    finally:
        await store.close()
    db = ["--db", sqlite_url]
    listing = noc("incident", "list", *db)
    assert (
        listing.returncode == 0 and f"#{row.id}" in listing.stdout and "II级 重大" in listing.stdout
    )
    acked = noc("incident", "ack", str(row.id), *db)  # as root, who acts as admin
    assert acked.returncode == 0 and "acknowledged by root" in acked.stdout
    again = noc("incident", "ack", str(row.id), *db)
    assert again.returncode == 1 and "it is acknowledged" in again.stderr
    bad_step = noc("incident", "step", str(row.id), "nope", *db)
    assert bad_step.returncode == 1 and "has no step 'nope'" in bad_step.stderr
    show = noc("incident", "show", str(row.id), "--json", *db)
    step_id = json.loads(show.stdout)["runbook_progress"]["steps"][0]["id"]
    assert (
        noc("incident", "step", str(row.id), step_id, "--output", "接口 down", *db).returncode == 0
    )
    text = noc("incident", "show", str(row.id), *db).stdout
    assert "[x] 1." in text and "时间线 timeline" in text and "运维方案" in text
    assert noc("incident", "resolve", str(row.id), "--note", "已修复", *db).returncode == 0
    assert noc("incident", "close", str(row.id), "--note", "光缆中断", *db).returncode == 0
    closed = json.loads(noc("incident", "show", str(row.id), "--json", *db).stdout)
    assert closed["status"] == "closed" and closed["close_note"] == "光缆中断"
    assert {e["actor"] for e in closed["timeline"] if e["actor"]} == {"root"}
    named = noc("incident", "close", str(row.id), "--by", "张三", "--note", "x", *db)
    assert named.returncode == 2 and "may not name someone else" in named.stderr


async def test_concurrent_timeline_writers_never_clash_on_seq(client):
    """Runbook automation, the API and the outbox append to one timeline at the same moment
    (seen: automation's step_done failing on the (incident, seq) unique index). Every append
    must land, with seqs 1..n and no gaps."""
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    base = f"/api/v1/incidents/{incident['id']}"
    ids = [s["id"] for s in (await (await client.get(base)).json())["runbook_progress"]["steps"]]
    steps = [
        client.post(f"{base}/steps", json={"step": ids[i % len(ids)], "output": "ok"})
        for i in range(12)
    ]
    responses = await asyncio.gather(*steps)
    assert [r.status for r in responses] == [200] * 12, [
        await r.text() for r in responses if r.status != 200
    ]
    detail = await (await client.get(base)).json()
    seqs = [e["seq"] for e in detail["timeline"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert sum(e["kind"] == "step_done" for e in detail["timeline"]) == 12


# -- automated steps: diagnostics when the incident opens, verification once it recovers ----


class FakeSteps:
    """Stands in for ``run_automated_step`` (the steps themselves are tested against real
    peers in test_runbook_automation.py): records which ran, and can hold the open-time ones
    to let the incident recover while its diagnostics are still running."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, step, context) -> StepOutput:
        if step.runs_on == "on_open":
            await self.release.wait()
        self.ran.append(step.id)
        return StepOutput(True, f"{step.id}: ok", f"{step.id}: ok {context.root_asset}")


@pytest.fixture
def fake_steps(monkeypatch) -> FakeSteps:
    fake = FakeSteps()
    monkeypatch.setattr("noc.runtime.automation.run_automated_step", fake)
    return fake


@pytest.fixture
async def automated(lingshui_config, db_url, fake_steps):
    """The engine on a real store with the runbook automation listening, as ``noc run`` has it."""
    from noc.runtime.engine import Engine
    from noc.store import Store

    runbooks = load_runbooks()
    store = await Store.open(db_url)
    engine = Engine(lingshui_config, store, runbook_for=runbooks.runbook_id_for)
    probes = ProbeSet()  # the steps' runner is replaced: nothing probes, but the set is required
    automation = StepAutomation(lingshui_config, runbooks, engine.repo, probes, start_delay=0)
    engine.listeners.append(automation.on_changes)
    await engine.start()
    try:
        yield engine, automation, IncidentRepo(store, "lingshui")
    finally:
        await automation.close()
        await probes.aclose()
        await store.close()


async def show(repo: IncidentRepo, incident_id: int) -> dict:
    row = await repo.get(incident_id)
    runbook = load_runbooks().for_fault(row.fault_type)
    return incident_detail(row, await repo.events(row.id), runbook, ZoneInfo("Asia/Shanghai"))


def step_events(detail: dict) -> dict[str, dict]:
    return {e["data"]["step"]: e for e in detail["timeline"] if e["kind"] == "step_done"}


async def test_verify_runs_when_the_incident_recovers_not_when_it_opens(automated, fake_steps):
    engine, automation, repo = automated
    t0 = time.time() - 120
    await break_ticket_circuit(engine, t0)
    await automation.idle()
    [row] = await repo.list()
    assert sorted(fake_steps.ran) == ["ce-interface", "confirm", "path"]
    opened = await show(repo, row.id)
    verify = next(s for s in opened["runbook_progress"]["steps"] if s["id"] == "verify")
    assert verify["runs_on"] == "on_recovery" and not verify["done"]
    assert "verify" not in step_events(opened)

    await heal_ticket_circuit(engine, t0 + 60)
    await automation.idle()
    assert fake_steps.ran[3:] == ["verify"]
    done = await show(repo, row.id)
    assert done["status"] == "recovered"
    timeline = done["timeline"]
    [recovered] = [e for e in timeline if e["kind"] == "recovered"]
    verified = step_events(done)["verify"]
    assert timeline.index(verified) > timeline.index(recovered)
    assert verified["seq"] > recovered["seq"] and verified["at"] > recovered["at"]
    assert (
        verified["actor"] == "noc-auto" and verified["data"]["output"] == "verify: ok mstp-ticket"
    )
    progress = {s["id"]: s for s in done["runbook_progress"]["steps"]}
    assert progress["verify"]["done"] and progress["verify"]["done_at"] > done["recovered_at"]
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)


async def test_a_recovery_during_the_diagnostics_still_gets_its_verify_step(automated, fake_steps):
    engine, automation, repo = automated
    fake_steps.release.clear()  # the diagnostics hang on (a traceroute takes its time)
    t0 = time.time() - 60
    await break_ticket_circuit(engine, t0)
    await heal_ticket_circuit(engine, t0 + 5)  # recovered seconds later
    [row] = await repo.list()
    assert row.status == "recovered"
    await asyncio.sleep(0.2)
    assert fake_steps.ran == []  # the verification waits for the diagnostics
    fake_steps.release.set()
    await automation.idle()
    assert sorted(fake_steps.ran[:3]) == ["ce-interface", "confirm", "path"]
    assert fake_steps.ran[3:] == ["verify"]
    detail = await show(repo, row.id)
    steps = step_events(detail)
    assert set(steps) == {"confirm", "ce-interface", "path", "verify"}
    assert all(
        steps["verify"]["seq"] > e["seq"] for e in detail["timeline"] if e is not steps["verify"]
    )
    assert detail["runbook_progress"]["done"] == 4


async def test_an_operator_resolve_through_the_api_runs_the_verify_step(client, fake_steps):
    app = client.server.app
    app[ENGINE].listeners.append(app[AUTOMATION].on_changes)  # as `noc run` wires it
    app[AUTOMATION].start_delay = 0
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    base = f"/api/v1/incidents/{incident['id']}"
    assert (await client.post(f"{base}/resolve", json={"note": "已修复"})).status == 200
    await app[AUTOMATION].idle()
    assert fake_steps.ran == ["verify"]
    detail = await (await client.get(base)).json()
    kinds = [(e["kind"], e["data"].get("step")) for e in detail["timeline"]]
    assert kinds[-3:] == [("resolved", None), ("recovered", None), ("step_done", "verify")]
