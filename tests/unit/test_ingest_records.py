"""One validation path for every way in: each field's reason, exactly as an operator reads it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from noc.ingest.lifecycle import project
from noc.ingest.privacy import CallerProtector
from noc.ingest.records import (
    Context,
    RecordInvalid,
    diff,
    validate_call,
    validate_event,
    validate_kb,
    validate_ticket,
)

TZ = ZoneInfo("Asia/Shanghai")
CTX = Context(
    TZ, CallerProtector("unit-test-hash-key-0123456789"), dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
)
UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def errors(validate, raw) -> list[tuple[str, str]]:
    with pytest.raises(RecordInvalid) as info:
        validate(raw, CTX)
    return [(e.field, e.reason) for e in info.value.errors]


CALL = {
    "call_id": "c-1",
    "caller": "13800138000",
    "entered_at": "2026-11-03 08:00:00",
    "answered_at": "2026-11-03 08:00:12",
    "ended_at": "2026-11-03T08:03:12+08:00",
    "outcome": "接通",
    "agent": "1001",
}


def test_a_good_call():
    call = validate_call(CALL, CTX)
    assert call.outcome == "answered" and call.source == "default"
    assert call.entered_at == utc("2026-11-03T00:00:00")  # site time without an offset
    assert call.started_at == call.entered_at
    assert (call.wait_seconds, call.talk_seconds) == (12.0, 180.0)
    assert call.caller.masked == "138****8000"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"call_id": None}, [("call_id", "is required")]),
        ({"call_id": "c 1"}, [("call_id", "'c 1' must not contain spaces or control characters")]),
        (
            {"outcome": "hung up"},
            [
                (
                    "outcome",
                    "'hung up' is not one of 接通 (answered), 放弃 (abandoned), 超时 (timeout), "
                    "转接 (transferred), 仅自助语音 (ivr_only)",
                )
            ],
        ),
        (
            {"entered_at": "yesterday"},
            [
                (
                    "entered_at",
                    "cannot read time 'yesterday'; use e.g. 2026-11-03 08:15:00 (site time) or "
                    "ISO 8601 with an offset",
                )
            ],
        ),
        ({"answered_at": None}, [("answered_at", "is required when outcome is answered")]),
        (
            {"outcome": "abandoned"},
            [("answered_at", "must be empty when outcome is abandoned")],
        ),
        ({"answered_at": "2026-11-03 07:59:00"}, [("answered_at", "is before entered_at")]),
        ({"ended_at": "2026-11-03 08:00:05"}, [("ended_at", "is before answered_at")]),
        ({"caller": "138-abc"}, [("caller", "'138-abc' is not a phone number")]),
        ({"wait_seconds": "-3"}, [("wait_seconds", "'-3' must be a number of seconds ≥ 0")]),
        (
            {"talk_seconds": "abc"},
            [("talk_seconds", "'abc' must be seconds (e.g. 42 or 00:00:42)")],
        ),
        ({"colour": "red"}, [("colour", "unknown field")]),
        ({"agnet": "1001"}, [("agnet", "unknown field (did you mean 'agent'?)")]),
        (
            {"outcome": "ivr_only", "answered_at": None},
            [
                ("entered_at", "must be empty when outcome is ivr_only"),
                ("started_at", "is required when outcome is ivr_only"),
            ],
        ),
    ],
)
def test_call_errors(change, expected):
    assert errors(validate_call, {**CALL, **change}) == expected


def test_every_wrong_field_at_once():
    assert errors(validate_call, {"call_id": "", "outcome": "x", "ended_at": "later"}) == [
        ("call_id", "is required"),
        (
            "ended_at",
            "cannot read time 'later'; use e.g. 2026-11-03 08:15:00 (site time) or ISO 8601 with an offset",
        ),
        (
            "outcome",
            "'x' is not one of 接通 (answered), 放弃 (abandoned), 超时 (timeout), 转接 (transferred), 仅自助语音 (ivr_only)",
        ),
    ]


def test_durations_as_call_centres_write_them():
    call = validate_call({**CALL, "wait_seconds": "00:00:42", "talk_seconds": "1:02:03"}, CTX)
    assert (call.wait_seconds, call.talk_seconds) == (42.0, 3723.0)


TICKET = {
    "ticket_no": "LS20261103001",
    "created_at": "2026-11-03 08:15",
    "channel": "电话",
    "type": "投诉",
    "town": "椰林镇",
    "content": "群众反映椰林镇文化路路灯不亮已经三天",
    "caller": "13800138000",
    "dispatched_to": "县住建局",
    "dispatched_at": "2026/11/03 09:00",
    "closed_at": "2026-11-04 17:00",
    "callback_at": "2026-11-05 10:00",
    "callback_method": "电话",
    "satisfaction": "满意",
}


def test_a_ticket_snapshot_states_its_history():
    ticket = validate_ticket(TICKET, CTX)
    assert (ticket.type, ticket.channel, ticket.source) == ("complaint", "phone", None)
    assert [(e.kind, e.at) for e in ticket.events()] == [
        ("created", utc("2026-11-03T00:15:00")),
        ("dispatched", utc("2026-11-03T01:00:00")),
        ("closed", utc("2026-11-04T09:00:00")),
        ("callback", utc("2026-11-05T02:00:00")),
        ("rated", utc("2026-11-05T02:00:00")),
    ]
    assert ticket.events()[0].event_id == "LS20261103001/created/20261103T001500.000000Z"
    state = project(ticket.events())
    assert (state.status, state.satisfaction, state.callback_method) == (
        "closed",
        "satisfied",
        "phone",
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"type": "抱怨"},
            [
                (
                    "type",
                    "'抱怨' is not one of 咨询 (enquiry), 求助 (help), 投诉 (complaint), 建议 (suggestion), 举报 (report), 表扬 (praise), 其他 (other)",
                )
            ],
        ),
        (
            {"satisfaction": "很好"},
            [
                (
                    "satisfaction",
                    "'很好' is not one of 满意 (satisfied), 基本满意 (basically_satisfied), 不满意 (dissatisfied), 未评价 (unrated)",
                )
            ],
        ),
        ({"closed_at": "2026-11-02 08:00"}, [("closed_at", "is before created_at")]),
        (
            {"instant_answer": "maybe"},
            [("instant_answer", "'maybe' must be 是 or 否 (true or false)")],
        ),
        ({"content": "  "}, [("content", "is required")]),
        ({"callback_at": None}, [("callback_method", "is given without callback_at")]),
        ({"town": "椰" * 40}, [("town", "is longer than 32 characters (40)")]),
    ],
)
def test_ticket_errors(change, expected):
    assert errors(validate_ticket, {**TICKET, **change}) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"ticket_no": "T1", "kind": "closed"}, [("at", "is required")]),
        (
            {"ticket_no": "T1", "kind": "rated", "at": "2026-11-05 10:00"},
            [("satisfaction", "is required for a rated event")],
        ),
        (
            {"ticket_no": "T1", "kind": "closed", "at": "2026-11-05 10:00", "satisfaction": "满意"},
            [("satisfaction", "does not apply to a closed event")],
        ),
        (
            {"ticket_no": "T1", "kind": "created", "at": "2026-11-05 10:00"},
            [("kind", "created comes with the ticket itself (POST /api/v1/tickets)")],
        ),
        (
            {"kind": "spot_checked", "at": "2026-11-05 10:00", "result": "合格"},
            [("ticket_no", "is required")],
        ),
        (
            {
                "ticket_no": "T1",
                "kind": "complaint_ruled",
                "at": "2026-11-05 10:00",
                "agent": "1001",
            },
            [("justified", "is required for a complaint_ruled event")],
        ),
    ],
)
def test_event_errors(raw, expected):
    assert errors(validate_event, raw) == expected


def test_events_get_a_stable_id_and_a_commendation_needs_no_ticket():
    raw = {
        "ticket_no": "T1",
        "kind": "抽检",
        "at": "2026-11-06 09:00",
        "result": "不合格",
        "reason": "答复不完整",
    }
    a, b = validate_event(raw, CTX), validate_event(raw, CTX)
    assert a.event_id == b.event_id == "T1/spot_checked/20261106T010000.000000Z"
    assert a.data == {"result": "fail", "reason": "答复不完整"}
    praise = validate_event(
        {"kind": "commended", "at": "2026-11-06", "agent": "1001", "commendation_kind": "锦旗"}, CTX
    )
    assert praise.ticket_no is None and praise.data["commendation_kind"] == "banner"
    assert praise.event_id == "~1001/commended/20261105T160000.000000Z"


def test_kb_entries():
    entry = validate_kb(
        {
            "entry_id": "KB-1",
            "title": "社保卡补办",
            "answer": "携带身份证到…",
            "tags": "社保、补办, 证件",
        },
        CTX,
    )
    assert entry.tags == ["社保", "补办", "证件"] and entry.updated_at == CTX.now
    assert errors(
        validate_kb,
        {
            "entry_id": "KB-1",
            "title": "x",
            "answer": "y",
            "valid_from": "2026-12-01",
            "valid_to": "2026-11-01",
        },
    ) == [("valid_to", "is before valid_from")]
    assert errors(
        validate_kb, {"entry_id": "KB-1", "title": "x", "answer": "y", "version": "0"}
    ) == [("version", "'0' must be ≥ 1")]


def test_diff_ignores_what_a_record_does_not_state():
    stored = {"agent": "1001", "queue": "hotline", "wait_seconds": 12.0}
    assert diff(stored, {"agent": "1001", "queue": None, "wait_seconds": 12}) == []
    (error,) = diff(stored, {"agent": "1002"})
    assert (error.field, error.reason) == ("agent", "stored as '1001', this record says '1002'")


def test_lifecycle_is_the_order_things_happened_not_the_order_they_arrived():
    class E:
        def __init__(self, kind, at, **data):
            self.kind, self.at, self.data = kind, utc(at), data

    events = [
        E("rated", "2026-11-05T02:00:00", satisfaction="dissatisfied"),
        E("created", "2026-11-03T00:15:00"),
        E("callback", "2026-11-05T02:00:00", method="phone"),
        E("closed", "2026-11-04T09:00:00"),
        E(
            "dispatched",
            "2026-11-03T01:00:00",
            dispatched_to="县住建局",
            deadline="2026-11-08T09:00:00+00:00",
        ),
        E("reopened", "2026-11-06T01:00:00", reason="不满意重办"),
        E("closed", "2026-11-07T09:00:00"),
    ]
    now = project(events)
    assert (now.status, now.closed_at, now.satisfaction, now.callback_at) == (
        "closed",
        utc("2026-11-07T09:00:00"),
        None,
        None,
    )
    assert now.deadline == utc("2026-11-08T09:00:00") and now.dispatched_to == "县住建局"
    then = project(events, as_of=utc("2026-11-05T12:00:00"))
    assert (then.status, then.satisfaction, then.closed_at) == (
        "closed",
        "dissatisfied",
        utc("2026-11-04T09:00:00"),
    )
    assert project(reversed(events)) == now
