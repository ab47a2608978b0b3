"""Calls, tickets, events and the knowledge base in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from support.calls import QUEUE_LOGS, TZ, context, local

from noc.calls_intake import ingest_items, store_records
from noc.ingest import queue_log
from noc.ingest.records import validate_event, validate_kb, validate_ticket
from noc.ingest.search import gram_token, parse_query
from noc.store import Store
from noc.store.calls import CallFilter, CallRepo
from noc.store.kb import KbRepo
from noc.store.tables_calls import (
    AgentComplaintRow,
    CommendationRow,
    QueueLogLineRow,
    SpotCheckRow,
    TicketEventRow,
)
from noc.store.tickets import TicketFilter, TicketRepo

CTX = context()


@pytest.fixture
async def store(db_url):
    store = await Store.open(db_url)
    try:
        yield store
    finally:
        await store.close()


def statuses(results) -> list[str]:
    return [r.status for r in results]


CALL = {
    "call_id": "c-1",
    "caller": "13800138000",
    "entered_at": "2026-11-03 08:00:00",
    "answered_at": "2026-11-03 08:00:12",
    "ended_at": "2026-11-03 08:03:12",
    "outcome": "answered",
    "agent": "1001",
    "queue": "hotline",
}


async def test_calls_are_stored_once_and_a_differing_repeat_is_a_conflict(store):
    items = [CALL, {**CALL, "call_id": "c-2", "outcome": "abandoned", "answered_at": None}]
    first = await ingest_items(store, "calls", items, CTX)
    assert statuses(first) == ["created", "created"]
    again = await ingest_items(store, "calls", [*items, {**CALL, "agent": "1002"}], CTX)
    assert statuses(again) == ["duplicate", "duplicate", "conflict"]
    assert [(e.field, e.reason) for e in again[2].errors] == [
        ("agent", "stored as '1001', this record says '1002'")
    ]
    repo = CallRepo(store)
    assert await repo.count() == 2
    row = await repo.get("c-1")
    assert row.caller_masked == "138****8000" and row.caller_enc is None
    assert row.caller_hash == CTX.callers.protect("13800138000").hash
    assert "13800138000" not in repr([getattr(row, c.key) for c in sa.inspect(type(row)).columns])
    rows, total = await repo.list(CallFilter(outcome="abandoned"))
    assert total == 1 and rows[0].call_id == "c-2"


async def test_the_same_call_id_in_another_source_is_another_call(store):
    results = await ingest_items(store, "calls", [CALL, {**CALL, "source": "cc2"}], CTX)
    assert statuses(results) == ["created", "created"]


async def test_concurrent_identical_batches_make_one_row_each(store):
    items = [{**CALL, "call_id": f"c-{i}"} for i in range(50)]
    runs = await asyncio.gather(*(ingest_items(store, "calls", items, CTX) for _ in range(4)))
    counts = Counter(s for run in runs for s in statuses(run))
    assert counts == {"created": 50, "duplicate": 150}
    assert await CallRepo(store).count() == 50


async def test_queue_log_rotated_mid_call_in_either_order(store):
    repo = CallRepo(store)

    def lines(name):
        return queue_log.parse_text((QUEUE_LOGS / name).read_text(), TZ, CTX.callers).lines

    newer = await repo.ingest_queue_log(lines("queue_log"), "asterisk")
    assert (newer.new_lines, newer.calls_created, newer.pending) == (2, 1, 1)
    older = await repo.ingest_queue_log(lines("queue_log.1"), "asterisk")
    assert (older.new_lines, older.calls_created, older.calls_updated) == (5, 1, 1)
    call = await repo.get("1793671200.30", "asterisk")
    assert call.caller_masked == "138****8030" and call.details == {}
    assert (call.entered_at, call.answered_at, call.ended_at) == (
        local("2026-11-03 10:00:00"),
        local("2026-11-03 10:00:12"),
        local("2026-11-03 10:07:12"),
    )
    again = await repo.ingest_queue_log(lines("queue_log.1") + lines("queue_log"), "asterisk")
    assert (again.new_lines, again.calls_created, again.calls_updated) == (0, 0, 0)
    assert await repo.count() == 2
    assert await repo.pending_visits("asterisk", {"1793671700.31"}) == 1


async def test_log_tables_are_append_only(store):
    await ingest_items(store, "tickets", [TICKET], CTX)
    await CallRepo(store).ingest_queue_log(
        queue_log.parse_text((QUEUE_LOGS / "midnight.log").read_text(), TZ, CTX.callers).lines,
        "asterisk",
    )
    for model in (TicketEventRow, QueueLogLineRow):
        for stmt in (sa.update(model).values(id=model.id), sa.delete(model)):
            with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
                async with store.sessions.begin() as s:
                    await s.execute(stmt)


TICKET = {
    "ticket_no": "LS20261103001",
    "created_at": "2026-11-03 08:15",
    "channel": "电话",
    "type": "投诉",
    "town": "椰林镇",
    "content": "群众来电反映椰林镇文化路路灯不亮已经三天晚上出行不便",
    "caller": "13800138000",
    "agent": "1001",
}


async def test_a_later_export_adds_history_and_never_rewrites_it(store):
    repo = TicketRepo(store, TZ)
    assert statuses(await ingest_items(store, "tickets", [TICKET], CTX)) == ["created"]
    assert statuses(await ingest_items(store, "tickets", [TICKET], CTX)) == ["duplicate"]
    later = {
        **TICKET,
        "dispatched_to": "县住建局",
        "dispatched_at": "2026-11-03 09:00",
        "closed_at": "2026-11-04 17:00",
        "callback_at": "2026-11-05 10:00",
        "callback_method": "电话",
        "satisfaction": "满意",
    }
    assert statuses(await ingest_items(store, "tickets", [later], CTX)) == ["updated"]
    assert statuses(await ingest_items(store, "tickets", [later, TICKET], CTX)) == [
        "duplicate",
        "duplicate",
    ]
    detail = await repo.get("LS20261103001")
    t = detail.ticket
    assert (t.status, t.dispatched_to, t.satisfaction, t.callback_method) == (
        "closed",
        "县住建局",
        "satisfied",
        "phone",
    )
    assert t.closed_at == local("2026-11-04 17:00")
    assert [e.kind for e in detail.events] == [
        "created",
        "dispatched",
        "closed",
        "callback",
        "rated",
    ]
    changed = await ingest_items(
        store, "tickets", [{**later, "content": "另一件事", "satisfaction": "不满意"}], CTX
    )
    assert statuses(changed) == ["conflict"]
    assert [e.field for e in changed[0].errors] == ["content", "satisfaction"]
    assert len((await repo.get("LS20261103001")).events) == 5


async def test_events_update_the_ticket_and_fill_the_registers(store):
    repo = TicketRepo(store, TZ)
    await ingest_items(store, "tickets", [TICKET], CTX)
    events = [
        {"ticket_no": TICKET["ticket_no"], "kind": "closed", "at": "2026-11-04 17:00"},
        {
            "ticket_no": TICKET["ticket_no"],
            "kind": "rated",
            "at": "2026-11-05 10:00",
            "satisfaction": "不满意",
        },
        {
            "ticket_no": TICKET["ticket_no"],
            "kind": "spot_checked",
            "at": "2026-11-06 09:00",
            "result": "不合格",
            "reason": "答复不完整",
        },
        {
            "ticket_no": TICKET["ticket_no"],
            "kind": "complaint_ruled",
            "at": "2026-11-07 09:00",
            "agent": "1001",
            "justified": "是",
            "reason": "态度生硬",
        },
        {
            "kind": "commended",
            "at": "2026-11-07 23:30",
            "agent": "1002",
            "commendation_kind": "锦旗",
        },
        {"ticket_no": "NOPE", "kind": "closed", "at": "2026-11-04 17:00"},
        {
            "ticket_no": TICKET["ticket_no"],
            "kind": "callback",
            "at": "2026-11-05 10:00",
            "method": "短信",
        },
    ]
    results = await ingest_items(store, "events", events, CTX)
    assert statuses(results) == ["created"] * 5 + ["invalid", "created"]
    assert [(e.field, e.reason) for e in results[5].errors] == [("ticket_no", "no ticket 'NOPE'")]
    again = await ingest_items(store, "events", events[:5], CTX)
    assert statuses(again) == ["duplicate"] * 5
    clash = await ingest_items(
        store, "events", [{**events[1], "event_id": results[1].id, "satisfaction": "满意"}], CTX
    )
    assert statuses(clash) == ["conflict"]
    assert clash[0].errors[0].reason == "stored as 'dissatisfied', this record says 'satisfied'"
    detail = await repo.get(TICKET["ticket_no"])
    t = detail.ticket
    assert (t.status, t.satisfaction, t.callback_method) == ("closed", "dissatisfied", "sms")
    assert [(s.result, s.reason) for s in detail.spot_checks] == [("fail", "答复不完整")]
    assert [(c.agent, c.justified) for c in detail.complaints] == [("1001", True)]
    async with store.sessions() as s:
        (praise,) = (await s.scalars(sa.select(CommendationRow))).all()
        assert (praise.agent, praise.kind, praise.ticket_id) == ("1002", "banner", None)
        assert praise.date.isoformat() == "2026-11-07"  # 23:30 site time, not UTC's 15:30
        assert await s.scalar(sa.select(sa.func.count()).select_from(SpotCheckRow)) == 1
        assert await s.scalar(sa.select(sa.func.count()).select_from(AgentComplaintRow)) == 1
    reopened = await ingest_items(
        store,
        "events",
        [{"ticket_no": TICKET["ticket_no"], "kind": "reopened", "at": "2026-11-08 09:00"}],
        CTX,
    )
    assert statuses(reopened) == ["created"]
    t = (await repo.get(TICKET["ticket_no"])).ticket
    assert (t.status, t.closed_at, t.satisfaction) == ("reopened", None, None)


async def test_ticket_events_can_arrive_out_of_order(store):
    await ingest_items(store, "tickets", [TICKET], CTX)
    no = TICKET["ticket_no"]
    await ingest_items(
        store, "events", [{"ticket_no": no, "kind": "callback", "at": "2026-11-06 10:00"}], CTX
    )
    await ingest_items(
        store, "events", [{"ticket_no": no, "kind": "closed", "at": "2026-11-05 17:00"}], CTX
    )
    t = (await TicketRepo(store, TZ).get(no)).ticket
    assert (t.status, t.callback_at) == ("closed", local("2026-11-06 10:00"))


def _ticket(no: str, content: str, created: str, **extra) -> dict:
    return {"ticket_no": no, "created_at": created, "type": "投诉", "content": content, **extra}


async def seed_search(store):
    tickets = [
        _ticket("LS001", "路灯晚上一直不亮，文化路很黑", "2026-11-01 08:00", town="椰林镇"),
        _ticket(
            "LS002",
            "群众来电反映椰林镇文化路路灯不亮已经三天晚上出行不便",
            "2026-10-01 08:00",
            town="椰林镇",
        ),
        _ticket(
            "LS003", "光坡镇自来水停水两天没有通知", "2026-11-02 08:00", town="光坡镇", type="求助"
        ),
        _ticket(
            "LS004", "咨询社保卡补办需要哪些材料", "2026-11-03 08:00", town="英州镇", type="咨询"
        ),
        _ticket("LS005", "英州镇路灯不亮", "2025-01-01 08:00", town="英州镇"),
    ]
    assert statuses(await ingest_items(store, "tickets", tickets, CTX)) == ["created"] * 5


async def test_search_finds_a_substring_inside_a_chinese_sentence_and_ranks_the_phrase_first(store):
    await seed_search(store)
    repo = TicketRepo(store, TZ)
    hits, total = await repo.search(parse_query("路灯 不亮"), TicketFilter())
    assert total == 3
    # the exact phrase (LS002, LS005) before the terms apart (LS001) though LS001 is newest
    assert [(r.ticket_no, t) for r, t in hits] == [("LS002", 1), ("LS005", 1), ("LS001", 2)]
    # three or more characters in the middle of a sentence (FTS5 trigram / pg_trgm)
    hits, total = await repo.search(parse_query("化路路灯不"), TicketFilter())
    assert [r.ticket_no for r, _ in hits] == ["LS002"] and total == 1
    # one and two characters: the short-gram index (see the test below)
    hits, _ = await repo.search(parse_query("停水"), TicketFilter())
    assert [r.ticket_no for r, _ in hits] == ["LS003"]
    hits, _ = await repo.search(parse_query("黑"), TicketFilter())
    assert [r.ticket_no for r, _ in hits] == ["LS001"]
    # the number and the town are searched too; the exact number first
    hits, _ = await repo.search(parse_query("LS003"), TicketFilter())
    assert [(r.ticket_no, t) for r, t in hits] == [("LS003", 0)]
    hits, _ = await repo.search(parse_query("ls00"), TicketFilter(), limit=2, offset=1)
    assert [r.ticket_no for r, _ in hits] == ["LS003", "LS001"]
    hits, _ = await repo.search(parse_query("光坡镇"), TicketFilter())
    assert [r.ticket_no for r, _ in hits] == ["LS003"]
    # filters: period, type, town
    window = TicketFilter(start=local("2026-10-15 00:00"), end=local("2026-12-01 00:00"))
    hits, _ = await repo.search(parse_query("路灯 不亮"), window)
    assert [r.ticket_no for r, _ in hits] == ["LS001"]
    hits, _ = await repo.search(parse_query("路灯"), TicketFilter(town="英州镇"))
    assert [r.ticket_no for r, _ in hits] == ["LS005"]
    hits, _ = await repo.search(parse_query("镇"), TicketFilter(type="help"))
    assert [r.ticket_no for r, _ in hits] == ["LS003"]
    assert (await repo.search(parse_query("没有的内容"), TicketFilter()))[1] == 0
    # LIKE's wildcards are text
    assert (await repo.search(parse_query("%"), TicketFilter()))[1] == 0


async def test_short_terms_are_found_by_index_with_the_same_answers_as_a_scan(store):
    """Terms of one or two characters go through the short-gram index (migration 0009); the
    answers are those of checking every ticket's text: substring of the number, town or
    content (ASCII case ignored), never across two fields, wildcards as text."""
    await seed_search(store)
    extra = [
        _ticket("AB-7", "水管爆裂 100% 漏水", "2026-11-04 08:00", town="新村镇"),
        _ticket("ab_8", "镇上", "2026-11-05 08:00", town="水"),
        _ticket("X9", "a_b", "2026-11-06 08:00"),
    ]
    assert statuses(await ingest_items(store, "tickets", extra, CTX)) == ["created"] * 3
    everything = [(*_fields(t),) for t in (await TicketRepo(store, TZ).list(TicketFilter()))[0]]
    repo = TicketRepo(store, TZ)
    for text in (
        "水",
        "停水",
        "镇水",
        "ab",
        "AB",
        "b-",
        "%",
        "0%",
        "_",
        "a_",
        "不",
        "亮 路",
        "Ls",
        "水 水",
    ):
        query = parse_query(text)
        expected = [
            no
            for no, created, fields in sorted(everything, key=lambda t: t[1], reverse=True)
            if all(any(term.lower() in f.lower() for f in fields) for term in query.terms)
        ]
        hits, total = await repo.search(query, TicketFilter(), limit=100)
        found = [r.ticket_no for r, _ in hits]
        assert total == len(expected), text
        assert sorted(found) == sorted(expected), text
        assert [r.ticket_no for r, t in hits if t == 0] == [
            no for no in expected if no.lower() == text.lower()
        ], text
        phrase = {
            no
            for no, _, fields in everything
            if any(text.lower() in f.lower() for f in fields) and no.lower() != text.lower()
        }
        assert {r.ticket_no for r, t in hits if t == 1} == phrase, text
    if store.backend == "sqlite":  # each ticket's grams were written with it
        async with store.engine.connect() as conn:
            for no, _, _ in everything:
                found = await conn.exec_driver_sql(
                    "SELECT t.ticket_no FROM tickets_grams g JOIN tickets t ON t.id = g.rowid "
                    "WHERE tickets_grams MATCH ?",
                    (f'"{gram_token(no[:2].lower())}"',),
                )
                assert no in found.scalars().all()


def _fields(row) -> tuple[str, object, list[str]]:
    return row.ticket_no, row.created_at, [row.ticket_no, row.town or "", row.content]


async def test_ordinary_queries(store):
    await seed_search(store)
    repo = TicketRepo(store, TZ)
    rows, total = await repo.list(TicketFilter(town="椰林镇"))
    assert total == 2 and [r.ticket_no for r in rows] == ["LS001", "LS002"]
    rows, total = await repo.list(TicketFilter(type="complaint"), limit=1, offset=1)
    assert total == 3 and [r.ticket_no for r in rows] == ["LS002"]


async def test_knowledge_base_versions_and_search(store):
    repo = KbRepo(store)
    entry = {
        "entry_id": "KB-SB-01",
        "title": "社保卡补办",
        "question": "社保卡丢了怎么补办",
        "answer": "携带本人身份证到县社保局窗口办理，工本费20元",
        "category": "社保",
        "tags": ["社保", "补办"],
        "department": "县人社局",
    }
    assert statuses(await ingest_items(store, "kb", [entry], CTX)) == ["created"]
    assert statuses(await ingest_items(store, "kb", [entry], CTX)) == ["duplicate"]
    changed = {**entry, "answer": "携带本人身份证到县政务服务中心社保窗口办理，免工本费"}
    assert statuses(await ingest_items(store, "kb", [changed], CTX)) == ["updated"]
    assert statuses(await ingest_items(store, "kb", [{**entry, "version": 1}], CTX)) == [
        "duplicate"
    ]
    clash = await ingest_items(store, "kb", [{**entry, "version": 2}], CTX)
    assert statuses(clash) == ["conflict"]
    assert clash[0].errors[0].field == "answer"
    skip = await ingest_items(store, "kb", [{**entry, "title": "x", "version": 5}], CTX)
    assert skip[0].errors[0].reason == "version 5 skips 3 (stored: 2)"
    found, versions = await repo.get("KB-SB-01")
    assert found.version == 2 and [v.version for v in versions] == [1, 2]
    assert "免工本费" in found.answer and "20元" in versions[0].answer
    other = {"entry_id": "KB-2", "title": "办理社保卡补办的时间", "answer": "工作日"}
    await ingest_items(store, "kb", [other], CTX)
    hits, total = await repo.search(parse_query("社保卡补办"))
    assert total == 2 and [(h.entry_id, t) for h, t in hits] == [("KB-SB-01", 0), ("KB-2", 1)]
    hits, _ = await repo.search(parse_query("政务服务"))
    assert [(h.entry_id, t) for h, t in hits] == [("KB-SB-01", 2)]
    # the old answer is history, not searchable
    assert (await repo.search(parse_query("工本费20元")))[1] == 0


async def test_strict_run_in_one_transaction_rolls_back_everything(store):
    records = [validate_ticket(TICKET, CTX)]
    with pytest.raises(RuntimeError):
        async with store.sessions.begin() as s:
            await store_records(store, "tickets", records, TZ, s)
            raise RuntimeError("refused")
    assert await TicketRepo(store, TZ).count() == 0


async def test_a_generator_can_hand_records_in_bulk(store):
    records = [
        dataclasses.replace(validate_ticket(TICKET, CTX), ticket_no=f"GEN{i:06d}")
        for i in range(1200)
    ]
    results = await store_records(store, "tickets", records, TZ)
    assert Counter(statuses(results)) == {"created": 1200}
    events = [
        validate_event(
            {"ticket_no": f"GEN{i:06d}", "kind": "closed", "at": "2026-11-04 10:00"}, CTX
        )
        for i in range(1200)
    ]
    assert Counter(statuses(await store_records(store, "events", events, TZ))) == {"created": 1200}
    assert (await TicketRepo(store, TZ).list(TicketFilter(status="closed")))[1] == 1200
    kb = [validate_kb({"entry_id": f"K{i}", "title": "t", "answer": "a"}, CTX) for i in range(3)]
    assert statuses(await store_records(store, "kb", kb, TZ)) == ["created"] * 3


async def test_sqlite_search_index_matches_its_tables_after_repeats_and_versions(sqlite_url):
    store = await Store.open(sqlite_url)
    try:
        await seed_search(store)
        await ingest_items(store, "tickets", [_ticket("LS001", "x", "2026-11-01 08:00")], CTX)
        await ingest_items(
            store, "events", [{"ticket_no": "LS001", "kind": "closed", "at": "2026-11-02"}], CTX
        )
        entry = {"entry_id": "K", "title": "社保卡补办", "answer": "a"}
        await ingest_items(store, "kb", [entry, entry, {**entry, "answer": "b"}], CTX)
        async with store.engine.begin() as conn:
            for fts in ("tickets_fts", "kb_fts"):
                # rank 1: check the index against the content table, not only itself
                await conn.exec_driver_sql(
                    f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"
                )
        hits, _ = await KbRepo(store).search(parse_query("卡补办"))
        assert [(h.entry_id, h.answer) for h, _ in hits] == [("K", "b")]
    finally:
        await store.close()
