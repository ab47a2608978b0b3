"""Alerting end to end inside the service: engine → timeline → routes/groups → outbox → Apprise
→ a real local HTTP sink. Observations are fed to the real engine (no network needed)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select
from support.auth import authorize
from support.incidents import break_circuit
from support.sinks import HttpSink

from noc.app import create_app
from noc.appkeys import ENGINE, STORE
from noc.config import DEFAULT_CONFIG, parse_config
from noc.store.tables import Notification
from probes.base import ProbeResult


def config_for(sink: HttpSink, delivery: str = ""):
    text = (
        DEFAULT_CONFIG.read_text(encoding="utf-8")
        + f"""
alerting:{delivery}
  receivers:
    - {{name: noc-oncall, urls: ["{sink.json_url("oncall")}"]}}
    - {{name: noc-lead, urls: ["{sink.json_url("lead")}"]}}
    - {{name: carrier-liaison, urls: ["{sink.json_url("carrier")}"]}}
    - {{name: purchaser-contact, urls: ["{sink.json_url("purchaser")}"]}}
  route:
    receiver: noc-oncall
    group_by: [incident]
    group_wait: 0s
    group_interval: 1s
    repeat_interval: 1h
"""
    )
    return parse_config(text, "lingshui+alerting.yaml")


async def heal_circuit(engine, asset: str, at: float) -> None:
    ref = engine.refs[(asset, "icmp")]
    for i in range(3):
        await engine.ingest(
            ref,
            ProbeResult.success(
                kind="icmp", started_at=at + i * 0.2, values={"sent": 3, "received": 3}
            ),
        )


async def until(predicate, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := predicate():
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
async def service(aiohttp_client, http_sink, db_url):
    app = create_app(config_for(http_sink), db_url, probing=False)
    client = await aiohttp_client(app)
    await authorize(client, "lead", "zhangsan")  # a lead acknowledges and plans maintenance
    return client, app[ENGINE], http_sink


async def test_open_ack_recover_are_told_in_order(service):
    client, engine, sink = service
    now = time.time()
    await break_circuit(engine, "mstp-voice", now)
    await until(lambda: sink.bodies("/oncall"))
    opened = sink.bodies("/oncall")[0]
    assert "I级" in opened["title"] and len(opened["title"]) <= 60
    assert "mstp-voice" in opened["message"] and "预案：MSTP专线中断" in opened["message"]
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    for _ in range(100):  # the sink has it; the outbox marks it delivered right after
        detail = await (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
        if detail["alarmed_at"]:
            break
        await asyncio.sleep(0.05)
    assert detail["alarmed_at"] is not None
    assert [e["kind"] for e in detail["timeline"]].count("alarmed") == 1

    assert (await client.post(f"/api/v1/incidents/{incident['id']}/ack", json={})).status == 200
    await until(lambda: len(sink.bodies("/oncall")) >= 2)
    await heal_circuit(engine, "mstp-voice", time.time())
    await until(lambda: len(sink.bodies("/oncall")) >= 3)
    bodies = sink.bodies("/oncall")
    assert "zhangsan" in bodies[1]["message"]  # the acting account, not a typed name
    assert "自动恢复" in bodies[2]["message"]
    await asyncio.sleep(1.5)
    assert len(sink.bodies("/oncall")) == 3  # nothing sent twice


async def test_an_unacknowledged_old_incident_escalates_and_records_it(service):
    client, engine, sink = service
    await break_circuit(engine, "mstp-ticket", time.time() - 25 * 60)  # opened 25 min ago, level II
    await until(lambda: sink.bodies("/carrier") and sink.bodies("/lead"), 15)
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    detail = await (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
    escalations = [
        (e["data"]["reason"], e["data"]["notify"])
        for e in detail["timeline"]
        if e["kind"] == "escalated"
    ]
    assert (
        "not_recovered",
        "carrier-liaison",
    ) in escalations  # 15-minute tier of the circuit runbook
    assert (
        "not_acknowledged",
        "noc-lead",
    ) in escalations  # past twice … the 10-minute ack deadline
    assert len(escalations) == len(set(escalations))


async def test_maintenance_mutes_then_an_incident_that_outlasts_it_alerts(service):
    """A window mutes from the moment a lead creates it, approved or not (the approval only
    decides whether the SLA excuses it, issue 12)."""
    client, engine, sink = service
    resp = await client.post(
        "/api/v1/maintenance",
        json={"assets": ["mstp-ticket"], "duration": "1h", "reason": "割接"},
    )
    window = await resp.json()
    await break_circuit(engine, "mstp-ticket", time.time())
    await asyncio.sleep(2.0)
    assert sink.bodies("/oncall") == []
    assert (await client.post(f"/api/v1/maintenance/{window['id']}/end")).status == 200
    await until(lambda: sink.bodies("/oncall"), 10)
    assert "mstp-ticket" in sink.bodies("/oncall")[0]["message"]


async def test_a_window_upstream_mutes_the_circuits_behind_it(service):
    """Issue 11 (9g): work on the CE router is planned time for the circuits behind it in the SLA;
    it mutes their alerts too, until the window ends with the incident still open."""
    client, engine, sink = service
    resp = await client.post(
        "/api/v1/maintenance",
        json={"assets": ["ce-router"], "duration": "1h", "reason": "CE 升级"},
    )
    window = await resp.json()
    await break_circuit(engine, "mstp-ticket", time.time())
    await asyncio.sleep(2.0)
    assert sink.bodies("/oncall") == []  # was sent: only a window on mstp-ticket itself muted it
    assert (await client.post(f"/api/v1/maintenance/{window['id']}/end")).status == 200
    await until(lambda: sink.bodies("/oncall"), 10)
    assert "mstp-ticket" in sink.bodies("/oncall")[0]["message"]


async def test_deliveries_are_counted_in_metrics(service):
    client, engine, sink = service
    await break_circuit(engine, "internet", time.time())
    line = 'noc_alert_delivery_attempts_total{outcome="ok",receiver="noc-oncall"}'

    async def counted():
        text = await (await client.get("/metrics")).text()
        return line in text and text

    end = time.monotonic() + 15
    text = None
    while time.monotonic() < end and not (text := await counted()):
        await asyncio.sleep(0.5)
    assert text, "delivery attempts never showed in /metrics"
    assert 'noc_alert_queue_depth{receiver="noc-oncall"} 0.0' in text


async def test_alert_cli_sends_a_test_message_and_masks_channels(http_sink, tmp_path):
    """``noc alert test`` as this process's OS account (root here: it acts as admin), on a
    store: the test message arrives and its order is audited (``alert.test``)."""
    import subprocess
    import sys

    from support.stores import create_store

    from noc.store import Store
    from noc.store.audit_log import AuditLog

    db = await asyncio.to_thread(create_store, f"sqlite:///{tmp_path / 'noc.db'}")

    secret = "Tok3nSecretValue"
    cfg = tmp_path / "noc.yaml"
    cfg.write_text(
        DEFAULT_CONFIG.read_text(encoding="utf-8")
        + f"""
alerting:
  receivers:
    - {{name: noc-oncall, urls: ["json://noc:{secret}@{http_sink.base}/test"]}}
    - {{name: noc-lead, urls: ["{http_sink.json_url("lead")}"]}}
    - {{name: carrier-liaison, urls: ["{http_sink.json_url("carrier")}"]}}
    - {{name: purchaser-contact, urls: ["{http_sink.json_url("purchaser")}"]}}
  route: {{receiver: noc-oncall}}
""",
        encoding="utf-8",
    )

    def noc(*args):
        return subprocess.run(
            [sys.executable, "-m", "noc", "alert", *args, "--config", str(cfg)]
            + (["--db", db] if args[0] == "test" else []),
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = await asyncio.to_thread(noc, "receivers")
    assert listed.returncode == 0 and "noc-oncall" in listed.stdout and secret not in listed.stdout
    sent = await asyncio.to_thread(noc, "test", "noc-oncall")
    assert sent.returncode == 0, sent.stderr
    assert http_sink.bodies("/test") and "测试" in http_sink.bodies("/test")[0]["title"]
    unknown = await asyncio.to_thread(noc, "test", "nobody")
    assert unknown.returncode == 2 and "unknown receiver 'nobody'" in unknown.stderr
    store = await Store.open(db)
    try:
        rows = [(r.action, r.target, r.outcome, r.channel) for r in await AuditLog(store).rows()]
    finally:
        await store.close()
    assert rows == [
        ("alert.test", "receiver:noc-oncall", "ok", "cli"),
        ("alert.test", "receiver:nobody", "refused", "cli"),
    ]


OUTAGE_SECONDS = 60.0
SINK_PATHS = {
    "noc-oncall": "/oncall",
    "noc-lead": "/lead",
    "carrier-liaison": "/carrier",
    "purchaser-contact": "/purchaser",
}


async def test_a_channel_down_for_a_minute_gets_every_message_after_in_order_once(
    http_sink, aiohttp_client, tmp_path
):
    """Issue #5's outage check at service level: the sink refuses (HTTP 503) for 60 s while three
    incidents open and one recovers; once it answers, every message arrives, in the order it was
    queued, none twice. SQLite only: the outbox itself is tested on both backends."""
    delivery = "\n  delivery: {retry_initial: 1s, retry_max: 5s}"
    app = create_app(
        config_for(http_sink, delivery), f"sqlite:///{tmp_path / 'noc.db'}", probing=False
    )
    await aiohttp_client(app)
    engine, store = app[ENGINE], app[STORE]
    http_sink.mode = "refuse"
    started = time.monotonic()
    for asset in ("mstp-voice", "mstp-ticket", "internet"):
        await break_circuit(engine, asset, time.time())
        await asyncio.sleep(OUTAGE_SECONDS / 4)
    await heal_circuit(engine, "mstp-voice", time.time())
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
    assert (
        http_sink.requests == [] and http_sink.refused >= 4
    )  # retried all minute, nothing accepted

    async def queued() -> list[Notification]:
        async with store.sessions() as session:
            return list(
                (await session.scalars(select(Notification).order_by(Notification.id))).all()
            )

    expected = len(await queued())
    assert expected >= 4
    http_sink.mode = "ok"
    await until(lambda: len(http_sink.requests) >= expected, 30)
    for _ in range(200):  # the outbox marks rows delivered right after the sink answers
        rows = await queued()
        if all(r.status == "delivered" for r in rows):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(3.0)  # long enough for a wrongful resend (retry_max 5 s, next retry ≤ 5 s)
    rows = await queued()
    assert all(r.status == "delivered" for r in rows), [(r.id, r.status) for r in rows]
    oncall = [r for r in rows if r.receiver == "noc-oncall"]
    kinds = [r.event_kind for r in oncall]
    assert kinds.count("opened") == 3 and "recovered" in kinds
    for receiver in {r.receiver for r in rows}:
        sent = [r.title for r in rows if r.receiver == receiver]
        got = [b["title"] for b in http_sink.bodies(SINK_PATHS[receiver])]
        assert got == sent, receiver  # queue order, each once
    assert len(http_sink.requests) == len(rows)
