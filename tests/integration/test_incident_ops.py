"""Operating incidents: the JSON API (aiohttp test client) and ``noc incident`` (real process).

An incident is produced by the real engine from results on the real store; then operators
acknowledge it, record runbook steps, resolve and close it, and bad requests are refused with
a reason while what was recorded stays.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from noc.app import create_app
from noc.appkeys import ENGINE
from noc.store.incidents import IncidentRepo
from probes.base import ProbeResult, ResultCode

T0 = 1_796_000_000.0


async def break_ticket_circuit(engine) -> None:
    ref = engine.refs[("mstp-ticket", "icmp")]
    await engine.ingest(
        ref, ProbeResult.success(kind="icmp", started_at=T0, values={"sent": 3, "received": 3})
    )
    for i in range(3):
        await engine.ingest(
            ref,
            ProbeResult.failure(
                ResultCode.TIMEOUT,
                "no reply",
                kind="icmp",
                started_at=T0 + 1 + i * 0.2,
                values={"sent": 3, "received": 0, "loss_ratio": 1.0},
            ),
        )


@pytest.fixture
async def client(aiohttp_client, lingshui_config, db_url):
    app = create_app(lingshui_config, db_url, probing=False)
    client = await aiohttp_client(app)
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

    resp = await client.post(f"{base}/close", json={"by": "张三", "note": "done"})
    assert resp.status == 409 and "it is open" in (await resp.json())["reason"]
    resp = await client.post(f"{base}/ack", json={"note": "no name"})
    assert resp.status == 400 and (await resp.json())["reason"] == "missing field(s): by"
    resp = await client.post(f"{base}/ack", data="not json")
    assert resp.status == 400
    assert (await client.post(f"{base}/ack", json={"by": "张三"})).status == 200
    assert (await client.post(f"{base}/ack", json={"by": "李四"})).status == 409

    detail = await (await client.get(base)).json()
    steps = detail["runbook_progress"]["steps"]
    resp = await client.post(f"{base}/steps", json={"by": "张三", "step": "no-such-step"})
    assert resp.status == 400 and "has no step 'no-such-step'" in (await resp.json())["reason"]
    first = steps[0]["id"]
    assert (
        await client.post(
            f"{base}/steps", json={"by": "张三", "step": first, "output": "CE 接口 down"}
        )
    ).status == 200
    assert (
        await client.post(f"{base}/resolve", json={"by": "张三", "note": "运营商已修复"})
    ).status == 200
    assert (
        await client.post(f"{base}/close", json={"by": "张三", "note": "光缆中断"})
    ).status == 200

    detail = await (await client.get(base)).json()
    assert detail["status"] == "closed" and detail["recovery_kind"] == "manual"
    assert (
        detail["runbook_progress"]["steps"][0]["done"]
        and detail["runbook_progress"]["steps"][0]["done_by"] == "张三"
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
    assert noc("incident", "ack", str(row.id), "--by", "张三", *db).returncode == 0
    again = noc("incident", "ack", str(row.id), "--by", "张三", *db)
    assert again.returncode == 1 and "it is acknowledged" in again.stderr
    bad_step = noc("incident", "step", str(row.id), "nope", "--by", "张三", *db)
    assert bad_step.returncode == 1 and "has no step 'nope'" in bad_step.stderr
    show = noc("incident", "show", str(row.id), "--json", *db)
    step_id = json.loads(show.stdout)["runbook_progress"]["steps"][0]["id"]
    assert (
        noc(
            "incident", "step", str(row.id), step_id, "--by", "张三", "--output", "接口 down", *db
        ).returncode
        == 0
    )
    text = noc("incident", "show", str(row.id), *db).stdout
    assert "[x] 1." in text and "时间线 timeline" in text and "运维方案" in text
    assert (
        noc("incident", "resolve", str(row.id), "--by", "张三", "--note", "已修复", *db).returncode
        == 0
    )
    assert (
        noc("incident", "close", str(row.id), "--by", "张三", "--note", "光缆中断", *db).returncode
        == 0
    )
    closed = json.loads(noc("incident", "show", str(row.id), "--json", *db).stdout)
    assert closed["status"] == "closed" and closed["close_note"] == "光缆中断"


async def test_concurrent_timeline_writers_never_clash_on_seq(client):
    """Runbook automation, the API and the outbox append to one timeline at the same moment
    (seen: automation's step_done failing on the (incident, seq) unique index). Every append
    must land, with seqs 1..n and no gaps."""
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    base = f"/api/v1/incidents/{incident['id']}"
    ids = [s["id"] for s in (await (await client.get(base)).json())["runbook_progress"]["steps"]]
    steps = [
        client.post(
            f"{base}/steps", json={"by": f"op{i}", "step": ids[i % len(ids)], "output": "ok"}
        )
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
