"""Asterisk queue_log → calls, per Asterisk's documented event data (pure: no store)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from noc.ingest import queue_log
from noc.ingest.privacy import CallerProtector, mask

DATA = Path(__file__).resolve().parent.parent / "data" / "queue_log"
TZ = ZoneInfo("Asia/Shanghai")
KEYS = CallerProtector("unit-test-hash-key-0123456789")
UTC = dt.UTC


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


def calls_of(*parsed: queue_log.ParsedLog, source: str = "asterisk") -> dict[str, object]:
    by_callid = defaultdict(list)
    for p in parsed:
        for line in p.lines:
            by_callid[line.callid].append(line)
    out = {}
    for callid, lines in by_callid.items():
        for call in queue_log.derive_calls(callid, lines, source)[0]:
            out[call.call_id] = call
    return out


def test_every_event_makes_its_call():
    parsed = queue_log.parse_text((DATA / "all_events.log").read_text(), TZ, KEYS)
    assert parsed.errors == []
    assert parsed.skipped == 4  # QUEUESTART, ADDMEMBER, PAUSE, UNPAUSE
    calls = calls_of(parsed)
    assert sorted(calls) == [
        "1793667600.1",
        "1793667660.2",
        "1793667720.3",
        "1793667780.4",
        "1793667840.5",
        "1793667900.6",
        "1793667960.7",
        "1793668020.9",
        "1793668020.9#2",
    ]
    c1 = calls["1793667600.1"]
    assert (c1.outcome, c1.end_reason, c1.agent) == ("answered", "completecaller", "SIP/8002")
    assert c1.entered_at == local("2026-11-03 09:00:00")
    assert c1.answered_at == local("2026-11-03 09:00:20")
    assert c1.ended_at == local("2026-11-03 09:03:20")
    assert (c1.wait_seconds, c1.talk_seconds) == (20.0, 180.0)
    assert c1.details == {"ring_no_answer": 1}
    assert c1.caller.masked == "138****8000" and len(c1.caller.hash) == 64
    assert c1.queue == "hotline" and c1.source == "asterisk"

    c2 = calls["1793667660.2"]
    assert (c2.outcome, c2.end_reason, c2.wait_seconds, c2.talk_seconds) == (
        "answered",
        "completeagent",
        12.0,
        95.0,
    )
    assert c2.caller.masked == "0898-****1234"

    c3 = calls["1793667720.3"]
    assert (c3.outcome, c3.end_reason, c3.wait_seconds, c3.answered_at, c3.agent) == (
        "abandoned",
        "abandon",
        33.0,
        None,
        None,
    )
    assert c3.talk_seconds is None and c3.ended_at == local("2026-11-03 09:02:33")

    c4 = calls["1793667780.4"]
    assert (c4.outcome, c4.end_reason, c4.wait_seconds) == ("timeout", "exitwithtimeout", 300.0)
    c5 = calls["1793667840.5"]
    assert (c5.outcome, c5.end_reason, c5.wait_seconds) == ("timeout", "exitempty", 0.0)
    c6 = calls["1793667900.6"]
    assert (c6.outcome, c6.end_reason, c6.wait_seconds) == ("abandoned", "exitwithkey", 9.0)
    assert c6.details["key"] == "1"

    c7 = calls["1793667960.7"]
    assert (c7.outcome, c7.end_reason, c7.agent) == ("transferred", "transfer", "SIP/8004")
    assert (c7.wait_seconds, c7.talk_seconds) == (15.0, 60.0)
    assert c7.details["transfer_to"] == "8100@from-internal"
    assert c7.caller is None  # "anonymous": no number

    first, overflow = calls["1793668020.9"], calls["1793668020.9#2"]
    assert (first.queue, first.outcome, first.wait_seconds) == ("hotline", "timeout", 30.0)
    assert (overflow.queue, overflow.outcome, overflow.agent) == (
        "overflow",
        "answered",
        "SIP/8101",
    )
    assert overflow.entered_at == local("2026-11-03 09:07:30")


def test_the_number_is_never_kept_in_a_line():
    parsed = queue_log.parse_text((DATA / "all_events.log").read_text(), TZ, KEYS)
    for line in parsed.lines:
        assert "13800138000" not in "|".join(line.data)
    enter = next(x for x in parsed.lines if x.event == "ENTERQUEUE")
    assert enter.data[1] == "" and enter.caller.masked == "138****8000"


def test_a_call_across_midnight_is_one_call_on_the_day_it_entered():
    calls = calls_of(queue_log.parse_text((DATA / "midnight.log").read_text(), TZ, KEYS))
    (call,) = calls.values()
    assert call.entered_at == local("2026-11-03 23:59:40")
    assert call.answered_at == local("2026-11-03 23:59:55")
    assert call.ended_at == local("2026-11-04 00:04:10")
    assert (call.outcome, call.wait_seconds, call.talk_seconds) == ("answered", 15.0, 255.0)


@pytest.mark.parametrize("order", [("queue_log.1", "queue_log"), ("queue_log", "queue_log.1")])
def test_a_log_rotated_mid_call_gives_one_complete_call_in_either_order(order):
    first = queue_log.parse_text((DATA / order[0]).read_text(), TZ, KEYS)
    alone = calls_of(first)
    if order[0] == "queue_log.1":
        # the call's end is in the later file: until then it is pending, not a call
        assert "1793671200.30" not in alone and "1793671100.29" in alone
    else:
        # only its end: a call already (times from the end's hold and talk time), no caller yet
        partial = alone["1793671200.30"]
        assert partial.caller is None and partial.details.get("enter_missing") is True
        assert partial.entered_at == local("2026-11-03 10:00:00")
    second = queue_log.parse_text((DATA / order[1]).read_text(), TZ, KEYS)
    calls = calls_of(first, second)
    call = calls["1793671200.30"]
    assert call.caller.masked == "138****8030"
    assert call.entered_at == local("2026-11-03 10:00:00")
    assert call.answered_at == local("2026-11-03 10:00:12")
    assert call.ended_at == local("2026-11-03 10:07:12")
    assert (call.outcome, call.wait_seconds, call.talk_seconds) == ("answered", 12.0, 420.0)
    assert "enter_missing" not in call.details
    # the call still in progress at the end of the newer file stays pending
    lines = [x for p in (first, second) for x in p.lines if x.callid == "1793671700.31"]
    assert queue_log.derive_calls("1793671700.31", lines, "asterisk") == ([], 1)


def test_the_table_export_reads_like_the_file():
    from noc.ingest.tabular import read_csv

    table = read_csv((DATA / "table_export.csv").read_bytes(), queue_log.TABLE_COLUMNS)
    parsed = queue_log.parse_rows(table.rows, TZ, KEYS)
    assert parsed.errors == [] and parsed.skipped == 1
    calls = calls_of(parsed)
    answered, abandoned = calls["1793674800.40"], calls["1793675160.41"]
    assert answered.answered_at == local("2026-11-03 11:00:18.5")
    assert (answered.agent, answered.talk_seconds) == ("PJSIP/8005", 120.0)
    assert (abandoned.outcome, abandoned.wait_seconds) == ("abandoned", 40.0)


def test_bad_lines_are_reported_with_their_number():
    text = "1793667600|c1|q|NONE|ENTERQUEUE||13800138000\nnot a line\nabc|c2|q|NONE|ABANDON|1|1|3\n"
    parsed = queue_log.parse_text(text, TZ, KEYS)
    assert [str(e) for e in parsed.errors] == [
        "line 2: expected time|callid|queue|agent|event|data…: not a line",
        "line 3: cannot read time 'abc'; use e.g. 2026-11-03 08:15:00 (site time) or ISO 8601 "
        "with an offset: abc|c2|q|NONE|ABANDON|1|1|3",
    ]
    assert len(parsed.lines) == 1


def test_the_same_line_has_the_same_key_and_another_key_gives_another():
    text = (DATA / "midnight.log").read_text()
    a = queue_log.parse_text(text, TZ, KEYS)
    b = queue_log.parse_text(text, TZ, KEYS)
    c = queue_log.parse_text(text, TZ, CallerProtector("another-hash-key-0123456789"))
    assert [x.line_key for x in a.lines] == [x.line_key for x in b.lines]
    assert not {x.line_key for x in a.lines} & {x.line_key for x in c.lines}
    assert mask("13800138001") == a.lines[0].caller.masked
