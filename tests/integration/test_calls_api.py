"""The call, ticket and knowledge-base API through aiohttp's test client, on both backends."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from support.auth import authorize, grant
from support.calls import with_privacy

from noc.app import create_app
from noc.appkeys import STORE
from noc.identity.audit import AuditEntry
from noc.store import db
from noc.store.audit_log import AuditLog
from noc.store.calls import CallRepo
from noc.store.tickets import TicketRepo
from noc.web.calls_api import ROUTES

CALL = {
    "call_id": "1793667600.1",
    "caller": "13800138000",
    "queue": "hotline",
    "entered_at": "2026-11-03 09:00:00",
    "answered_at": "2026-11-03 09:00:20",
    "ended_at": "2026-11-03 09:03:20",
    "outcome": "answered",
    "agent": "8002",
}
TICKET = {
    "ticket_no": "LS20261103001",
    "created_at": "2026-11-03 08:15",
    "type": "投诉",
    "town": "椰林镇",
    "content": "群众来电反映椰林镇文化路路灯不亮已经三天晚上出行不便",
    "caller": "0898-83301234",
}


@pytest.fixture
async def app_config(lingshui_config):
    return with_privacy(lingshui_config)


@pytest.fixture
async def client(aiohttp_client, app_config, db_url):
    client = await aiohttp_client(create_app(app_config, db_url, probing=False))
    await authorize(client, "lead")  # a lead may ingest and read
    return client


async def test_ingest_needs_a_token_with_the_ingest_permission(aiohttp_client, app_config, db_url):
    client = await aiohttp_client(create_app(app_config, db_url, probing=False))
    anonymous = await client.post("/api/v1/calls", json=CALL)
    assert anonymous.status == 401
    await authorize(client, "viewer")
    refused = await client.post("/api/v1/calls", json=CALL)
    assert refused.status == 403 and "ingest" in (await refused.json())["reason"]
    assert (await (await client.get("/api/v1/calls")).json())["calls"] == []


async def test_routes_declare_their_permission():
    assert {(r.method, r.path): r.permission for r in ROUTES} == {
        ("POST", "/api/v1/calls"): "ingest",
        ("POST", "/api/v1/tickets"): "ingest",
        ("POST", "/api/v1/ticket-events"): "ingest",
        ("POST", "/api/v1/kb"): "ingest",
        ("GET", "/api/v1/calls"): "read",
        ("GET", "/api/v1/tickets"): "read",
        ("GET", "/api/v1/tickets/{ticket_no}"): "read",
        ("GET", "/api/v1/kb"): "read",
        ("GET", "/api/v1/kb/{entry_id}"): "read",
    }


async def test_one_call_created_then_acknowledged_then_a_conflict(client):
    resp = await client.post("/api/v1/calls", json=CALL)
    assert resp.status == 201
    body = await resp.json()
    assert body["created"] == 1
    assert body["results"] == [
        {"index": 0, "id": CALL["call_id"], "status": "created", "code": 201}
    ]
    again = await client.post("/api/v1/calls", json=CALL)
    assert again.status == 200 and (await again.json())["duplicates"] == 1
    clash = await client.post("/api/v1/calls", json={**CALL, "outcome": "transferred"})
    assert clash.status == 409
    assert (await clash.json())["results"][0]["errors"] == [
        {"field": "outcome", "reason": "stored as 'answered', this record says 'transferred'"}
    ]


async def test_an_array_answers_per_item_with_index_field_and_reason(client):
    items = [
        CALL,
        {**CALL, "call_id": "c-2", "outcome": "abandoned", "answered_at": None},
        {**CALL, "call_id": "c-3", "ended_at": "soon", "agnet": "x"},
        "not an object",
        {**CALL, "answered_at": "2026-11-03 09:00:21"},
    ]
    resp = await client.post("/api/v1/calls", json=items)
    assert resp.status == 207
    body = await resp.json()
    assert (body["created"], body["conflicts"], body["invalid"]) == (2, 1, 2)
    results = body["results"]
    assert [r["status"] for r in results] == [
        "created",
        "created",
        "invalid",
        "invalid",
        "conflict",
    ]
    assert results[2] == {
        "index": 2,
        "id": "c-3",
        "status": "invalid",
        "code": 400,
        "errors": [
            {"field": "agnet", "reason": "unknown field (did you mean 'agent'?)"},
            {
                "field": "ended_at",
                "reason": "cannot read time 'soon'; use e.g. 2026-11-03 08:15:00 (site time) "
                "or ISO 8601 with an offset",
            },
        ],
    }
    assert results[3]["errors"] == [{"field": "", "reason": "must be a JSON object"}]
    assert results[4]["errors"][0]["field"] == "answered_at"
    ok = await client.post("/api/v1/calls", json=items[:2])
    assert ok.status == 200 and (await ok.json())["duplicates"] == 2


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "the body is not JSON"),
        (b"42", 400, "the body must be a JSON object or an array of objects"),
        (b"[]", 400, "the array is empty"),
        (json.dumps([{}] * 5001).encode(), 400, "at most 5000 items per request, got 5001"),
    ],
)
async def test_bad_bodies(client, body, status, reason):
    resp = await client.post(
        "/api/v1/tickets", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == status
    payload = await resp.json()
    assert payload["error"] == "bad_request" and reason in payload["reason"]


async def test_concurrent_duplicate_posts_create_one_row(client):
    responses = await asyncio.gather(*(client.post("/api/v1/calls", json=CALL) for _ in range(12)))
    codes = sorted(r.status for r in responses)
    assert codes == [200] * 11 + [201]
    listing = await (await client.get("/api/v1/calls")).json()
    assert listing["total"] == 1
    tickets = await asyncio.gather(
        *(
            client.post("/api/v1/tickets", json=[TICKET, {**TICKET, "ticket_no": "B"}])
            for _ in range(6)
        )
    )
    assert all(r.status == 200 for r in tickets)
    created = [(await r.json())["created"] for r in tickets]
    assert sum(created) == 2
    assert (await (await client.get("/api/v1/tickets")).json())["total"] == 2


async def test_concurrent_writers_are_all_answered_and_every_record_kept_once(client):
    """Single records and batches of calls, tickets and events at once: every request is
    answered 2xx (SQLite's one writer queues them; never a 500 "database is locked"), each is
    audited once, and the store holds exactly what was acknowledged."""
    singles = [client.post("/api/v1/calls", json={**CALL, "call_id": f"c{i}"}) for i in range(40)]
    batches = [
        client.post("/api/v1/calls", json=[{**CALL, "call_id": f"b{n}-{i}"} for i in range(50)])
        for n in range(6)
    ]
    tickets = [
        client.post("/api/v1/tickets", json={**TICKET, "ticket_no": f"T{i}"}) for i in range(20)
    ]
    responses = await asyncio.gather(*singles, *batches, *tickets)
    assert sorted({r.status for r in responses}) == [200, 201], [r.status for r in responses]
    events = [
        client.post(
            "/api/v1/ticket-events",
            json={"ticket_no": f"T{i}", "kind": "closed", "at": "2026-11-04 10:00"},
        )
        for i in range(20)
    ]
    assert {r.status for r in await asyncio.gather(*events)} == {201}
    store = client.app[STORE]
    assert await CallRepo(store).count() == 40 + 6 * 50
    assert await TicketRepo(store, ZoneInfo("Asia/Shanghai")).count() == 20
    closed = await client.get("/api/v1/tickets", params={"status": "closed", "limit": "100"})
    assert (await closed.json())["total"] == 20
    rows = await AuditLog(store).rows(action="calls.ingest")
    assert len(rows) == 46 and {r.outcome for r in rows} == {"ok"}
    assert sum(r.after["created"] for r in rows) == 340
    assert (await AuditLog(store).verify()).ok


async def test_a_writer_waits_for_the_one_before_it_however_long(
    aiohttp_client, app_config, sqlite_url, monkeypatch
):
    """SQLite: a write transaction of the service that lasts longer than the busy timeout
    (a large import, a starved CPU) does not fail the requests queued behind it."""
    monkeypatch.setattr(db, "SQLITE_BUSY_MS", 200)
    client = await aiohttp_client(create_app(app_config, sqlite_url, probing=False))
    await authorize(client, "lead")
    store = client.app[STORE]
    async with store.sessions.begin() as tx:
        await CallRepo(store).ingest([], tx)
        await AuditLog(store).append_many(tx, [AuditEntry("test.hold", "cli", "test")])
        waiting = asyncio.ensure_future(client.post("/api/v1/calls", json=CALL))
        await asyncio.sleep(0.6)  # three busy timeouts
        assert not waiting.done()
    assert (await waiting).status == 201


async def test_a_store_locked_by_another_process_is_a_503_with_retry_after(
    aiohttp_client, app_config, sqlite_url, monkeypatch
):
    """Another process (an import) holds SQLite's write lock past the busy timeout: the API
    answers 503 with Retry-After, not 500, and stores nothing half."""
    monkeypatch.setattr(db, "SQLITE_BUSY_MS", 200)
    client = await aiohttp_client(create_app(app_config, sqlite_url, probing=False))
    await authorize(client, "lead")
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        resp = await client.post("/api/v1/calls", json=CALL)
        assert resp.status == 503, await resp.text()
        assert resp.headers["Retry-After"] == "1"
        body = await resp.json()
        assert body["error"] == "store_busy" and "busy" in body["reason"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await client.post("/api/v1/calls", json=CALL)).status == 201
    assert await CallRepo(client.app[STORE]).count() == 1


async def test_viewers_see_masked_numbers_only(client):
    await client.post("/api/v1/calls", json=CALL)
    await client.post("/api/v1/tickets", json=TICKET)
    viewer = await grant(client.app[STORE], "vera", "viewer")

    async def read(path: str, **params: str) -> str:
        return await (await client.get(path, params=params, headers=viewer)).text()

    calls = await read("/api/v1/calls")
    tickets = await read("/api/v1/tickets")
    one = await read(f"/api/v1/tickets/{TICKET['ticket_no']}")
    found = await read("/api/v1/tickets", q="路灯")
    for text in (calls, tickets, one, found):
        assert "13800138000" not in text and "83301234" not in text
        assert "caller_hash" not in text and "caller_enc" not in text
    assert json.loads(calls)["calls"][0]["caller"] == "138****8000"
    assert json.loads(one)["caller"] == "0898-****1234"


async def test_encrypted_storage_still_shows_only_the_mask(aiohttp_client, lingshui_config, db_url):
    config = with_privacy(
        lingshui_config,
        store_caller="encrypted",
        encryption_key=SecretStr(Fernet.generate_key().decode()),
    )
    client = await aiohttp_client(create_app(config, db_url, probing=False))
    await authorize(client, "lead")
    assert (await client.post("/api/v1/calls", json=CALL)).status == 201
    text = await (await client.get("/api/v1/calls")).text()
    assert "13800138000" not in text and json.loads(text)["calls"][0]["caller"] == "138****8000"
    row = await CallRepo(client.server.app[STORE]).get(CALL["call_id"])
    assert row.caller_enc and config.privacy.protector().reveal(row.caller_enc) == "13800138000"


async def test_without_a_hash_key_a_caller_is_refused(aiohttp_client, lingshui_config, db_url):
    from noc.config.models import PrivacySettings

    config = lingshui_config.model_copy(update={"privacy": PrivacySettings(hash_key=None)})
    client = await aiohttp_client(create_app(config, db_url, probing=False))
    await authorize(client, "lead")
    resp = await client.post("/api/v1/calls", json=CALL)
    assert resp.status == 503
    assert "NOC_CALLER_HASH_KEY" in (await resp.json())["reason"]
    no_caller = {k: v for k, v in CALL.items() if k != "caller"}
    assert (await client.post("/api/v1/calls", json=no_caller)).status == 201


async def test_search_and_lists(client):
    tickets = [
        {
            **TICKET,
            "ticket_no": "LS001",
            "content": "路灯晚上一直不亮",
            "created_at": "2026-11-02 08:00",
        },
        {**TICKET, "ticket_no": "LS002", "created_at": "2026-10-02 08:00"},
        {**TICKET, "ticket_no": "LS003", "type": "咨询", "town": "光坡镇", "content": "停水"},
    ]
    assert (await client.post("/api/v1/tickets", json=tickets)).status == 200
    resp = await client.get("/api/v1/tickets", params={"q": "路灯 不亮"})
    assert resp.status == 200
    body = await resp.json()
    assert (body["total"], body["terms"]) == (2, ["路灯", "不亮"])
    first, second = body["tickets"]
    assert (first["ticket_no"], first["tier"], second["ticket_no"], second["tier"]) == (
        "LS002",
        1,
        "LS001",
        2,
    )
    assert "<mark>路灯不亮</mark>" in first["snippet"]["html"]
    assert first["created_at"].endswith("+00:00") and first["created_at_local"].endswith("+08:00")
    listing = await (await client.get("/api/v1/tickets", params={"town": "光坡镇"})).json()
    assert [t["ticket_no"] for t in listing["tickets"]] == ["LS003"]
    listing = await (
        await client.get("/api/v1/tickets", params={"type": "投诉", "limit": 1})
    ).json()
    assert (listing["total"], listing["count"]) == (2, 1)
    dated = await client.get("/api/v1/tickets", params={"from": "2026-11-01", "to": "2026-11-03"})
    assert [t["ticket_no"] for t in (await dated.json())["tickets"]] == ["LS003", "LS001"]
    missing = await client.get("/api/v1/tickets/LS999")
    assert missing.status == 404
    assert await missing.json() == {"error": "not_found", "reason": "no ticket 'LS999'"}
    for params, reason in (
        ({"q": " "}, "search text is empty"),
        ({"type": "抱怨"}, "type: '抱怨' is not one of"),
        ({"limit": "0"}, "limit must be between 1 and 500"),
        ({"from": "2026-13-01"}, "from: '2026-13-01' is not a date"),
    ):
        bad = await client.get("/api/v1/tickets", params=params)
        assert bad.status == 400 and reason in (await bad.json())["reason"]


async def test_ticket_events_and_kb(client):
    await client.post("/api/v1/tickets", json=TICKET)
    events = [
        {"ticket_no": TICKET["ticket_no"], "kind": "closed", "at": "2026-11-04 17:00"},
        {
            "ticket_no": TICKET["ticket_no"],
            "kind": "rated",
            "at": "2026-11-05 10:00",
            "satisfaction": "满意",
        },
    ]
    resp = await client.post("/api/v1/ticket-events", json=events)
    assert resp.status == 200 and (await resp.json())["created"] == 2
    detail = await (await client.get(f"/api/v1/tickets/{TICKET['ticket_no']}")).json()
    assert (detail["status"], detail["satisfaction"], detail["satisfaction_label"]) == (
        "closed",
        "satisfied",
        "满意",
    )
    assert [e["kind"] for e in detail["events"]] == ["created", "closed", "rated"]
    entry = {"entry_id": "KB-1", "title": "社保卡补办", "answer": "携带身份证到社保窗口办理"}
    assert (await client.post("/api/v1/kb", json=entry)).status == 201
    assert (
        await client.post("/api/v1/kb", json={**entry, "answer": "到政务中心办理"})
    ).status == 200
    found = await (await client.get("/api/v1/kb", params={"q": "社保"})).json()
    assert [(e["entry_id"], e["version"], e["tier"]) for e in found["entries"]] == [("KB-1", 2, 1)]
    one = await (await client.get("/api/v1/kb/KB-1")).json()
    assert [v["version"] for v in one["versions"]] == [1, 2]
    listing = await (await client.get("/api/v1/kb")).json()
    assert listing["total"] == 1
