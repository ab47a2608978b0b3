"""Asterisk ``queue_log`` → calls, by Asterisk's documented semantics.

A line is ``time|callid|queue|agent|event|data1|data2|…`` (the file Asterisk writes, time in
Unix seconds) or a row of its ``queue_log`` table export (``time, callid, queuename, agent,
event, data`` or ``data1``…``data5``; a time without an offset is site time).

The events that make a call (data fields as Asterisk documents them):

================  ==========================================  =====================
event             data                                        the call
================  ==========================================  =====================
ENTERQUEUE        url, callerid                               offered to the queue (转人工)
RINGNOANSWER      ringtime (ms)                               an agent's phone rang unanswered
CONNECT           holdtime, bridged channel id, ringtime      answered by ``agent``
COMPLETECALLER    holdtime, calltime, origposition            answered; the caller hung up
COMPLETEAGENT     holdtime, calltime, origposition            answered; the agent hung up
TRANSFER          extension, context, holdtime, calltime, …   answered, then transferred
BLINDTRANSFER     extension, context, holdtime, calltime, …   (Asterisk 12+) the same
ATTENDEDTRANSFER  method, method data, holdtime, calltime, …  (Asterisk 12+) the same
ABANDON           position, origposition, waittime            the caller hung up waiting
EXITWITHTIMEOUT   position, origposition, waittime            the queue's timeout expired
EXITEMPTY         position, origposition, waittime            no agent could take it
EXITWITHKEY       key, position, origposition, waittime       the caller left with a key
================  ==========================================  =====================

Outcomes: COMPLETE* → ``answered``; *TRANSFER → ``transferred``; ABANDON and EXITWITHKEY →
``abandoned`` (the caller chose to leave); EXITWITHTIMEOUT and EXITEMPTY → ``timeout`` (the
centre did not answer in time, or had nobody). ``end_reason`` keeps the event, so a KPI may
treat EXITEMPTY or EXITWITHKEY differently. Agent and system lines (AGENTLOGIN, PAUSE,
QUEUESTART, callid ``NONE`` …) are not calls and are skipped; RINGCANCELED, AGENTDUMP and
SYSCOMPAT are kept with their call but do not end it.

A call is one visit of a callid to one queue: ENTERQUEUE starts it, its first end event ends
it. A callid that overflows to a second queue (EXITWITHTIMEOUT in one, ENTERQUEUE in the next)
makes two calls, ``callid`` and ``callid#2``, in the order they entered. A visit whose end has
not arrived yet (a call in progress, or a log rotated mid-call) is *pending*: its lines are
kept in the store and the call appears once its end is imported, whichever file comes first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from noc.ingest import fields as f
from noc.ingest.privacy import Caller, CallerProtector
from noc.ingest.records import CallRecord

UTC = dt.UTC

END_EVENTS = {
    "COMPLETECALLER": "answered",
    "COMPLETEAGENT": "answered",
    "TRANSFER": "transferred",
    "BLINDTRANSFER": "transferred",
    "ATTENDEDTRANSFER": "transferred",
    "ABANDON": "abandoned",
    "EXITWITHKEY": "abandoned",
    "EXITWITHTIMEOUT": "timeout",
    "EXITEMPTY": "timeout",
}
CALL_EVENTS = frozenset(
    {"ENTERQUEUE", "CONNECT", "RINGNOANSWER", "RINGCANCELED", "AGENTDUMP", "SYSCOMPAT"}
    | set(END_EVENTS)
)
NOT_A_CALL = {"NONE", "REALTIME", ""}
_PRIORITY = {"ENTERQUEUE": 0, "RINGNOANSWER": 1, "RINGCANCELED": 1, "CONNECT": 2}


@dataclass(frozen=True)
class QueueLogLine:
    """One call line, with the caller number (ENTERQUEUE's data2) replaced by its protection."""

    time: dt.datetime
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]
    line_key: str  # keyed hash of the raw line: the same line imported twice is one line
    caller: Caller | None = None
    seq: int = 0  # position in its file, to order lines of one second


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str
    text: str = ""

    def __str__(self) -> str:
        shown = f": {self.text[:120]}" if self.text else ""
        return f"line {self.line}: {self.reason}{shown}"


@dataclass
class ParsedLog:
    lines: list[QueueLogLine] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    skipped: int = 0  # agent and system lines, not calls


def _time(raw: Any, tz: ZoneInfo) -> dt.datetime:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return dt.datetime.fromtimestamp(float(raw), UTC)
    text = f._text(raw)
    if text is None:
        raise f.Invalid("time is empty")
    try:
        return dt.datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    out = f.instant(text, tz)
    assert out is not None
    return out


def _line(
    number: int,
    time: Any,
    callid: str,
    queue: str,
    agent: str,
    event: str,
    data: Sequence[str],
    tz: ZoneInfo,
    callers: CallerProtector,
    out: ParsedLog,
    raw_text: str,
) -> None:
    event = event.strip().upper()
    callid = callid.strip()
    if event not in CALL_EVENTS or callid.upper() in NOT_A_CALL:
        out.skipped += 1
        return
    try:
        when = _time(time, tz)
    except f.Invalid as exc:
        out.errors.append(LineError(number, str(exc), raw_text))
        return
    data = tuple(d.strip() for d in data)
    while data and data[-1] == "":
        data = data[:-1]
    caller = None
    canonical = "|".join(
        [when.strftime("%Y-%m-%dT%H:%M:%S.%f"), callid, queue.strip(), agent.strip(), event, *data]
    )
    if event == "ENTERQUEUE" and len(data) >= 2:
        try:
            caller = callers.protect(data[1])
        except f.Invalid as exc:
            out.errors.append(LineError(number, f"callerid {exc}", raw_text))
            return
        data = (data[0], "", *data[2:])  # the number itself is never stored
    out.lines.append(
        QueueLogLine(
            time=when,
            callid=callid,
            queue=queue.strip(),
            agent=agent.strip(),
            event=event,
            data=data,
            line_key=callers.keyed_hash(canonical),
            caller=caller,
            seq=number,
        )
    )


def parse_text(text: str, tz: ZoneInfo, callers: CallerProtector) -> ParsedLog:
    """The pipe-delimited file Asterisk writes."""
    out = ParsedLog()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split("|")
        if len(parts) < 5:
            out.errors.append(
                LineError(number, "expected time|callid|queue|agent|event|data…", line)
            )
            continue
        _line(number, parts[0], *parts[1:5], parts[5:], tz, callers, out, line)
    return out


TABLE_COLUMNS = ("time", "callid", "queuename", "agent", "event")


def parse_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]], tz: ZoneInfo, callers: CallerProtector
) -> ParsedLog:
    """Rows of a ``queue_log`` table export: ``time, callid, queuename, agent, event`` and
    either ``data`` (pipe-joined) or ``data1``…``dataN``; ``queue`` is read for ``queuename``."""
    out = ParsedLog()
    for number, row in rows:
        row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        if "queuename" not in row and "queue" in row:
            row["queuename"] = row["queue"]
        if "data" in row:
            data = (f._text(row["data"]) or "").split("|")
        else:
            data = []
            for i in range(1, 10):
                if f"data{i}" not in row:
                    break
                data.append(f._text(row[f"data{i}"]) or "")
        values = [f._text(row.get(c)) or "" for c in TABLE_COLUMNS[1:]]
        raw_text = "|".join([str(row.get("time", "")), *values, *data])
        _line(number, row.get("time"), *values, data, tz, callers, out, raw_text)
    return out


# -- lines → calls --------------------------------------------------------------------------


def _number(data: Sequence[str], index: int) -> float | None:
    if len(data) <= index:
        return None
    try:
        value = float(data[index])
    except ValueError:
        return None
    return value if value >= 0 else None


@dataclass
class _Visit:
    queue: str
    lines: list[QueueLogLine] = field(default_factory=list)
    enter: QueueLogLine | None = None
    connect: QueueLogLine | None = None
    end: QueueLogLine | None = None

    def add(self, line: QueueLogLine) -> None:
        self.lines.append(line)
        if line.event == "ENTERQUEUE" and self.enter is None:
            self.enter = line
        elif line.event == "CONNECT" and self.connect is None and self.end is None:
            self.connect = line
        elif line.event in END_EVENTS and self.end is None:
            self.end = line

    def start(self) -> dt.datetime:
        return (self.enter or self.lines[0]).time


def _visits(lines: Iterable[QueueLogLine]) -> list[_Visit]:
    by_queue: dict[str, list[QueueLogLine]] = defaultdict(list)
    for line in lines:
        by_queue[line.queue].append(line)
    visits: list[_Visit] = []
    for queue, group in by_queue.items():
        group.sort(key=lambda x: (x.time, _PRIORITY.get(x.event, 3), x.seq))
        current: _Visit | None = None
        for line in group:
            starts = line.event == "ENTERQUEUE" and not (
                current is not None and current.enter is None and current.end is None
            )  # lines stamped before their own ENTERQUEUE (clock skew) stay with it
            if current is None or starts:
                current = _Visit(queue)
                visits.append(current)
            current.add(line)
    visits.sort(key=lambda v: v.start())
    return visits


def derive_calls(
    callid: str, lines: Iterable[QueueLogLine], source: str
) -> tuple[list[CallRecord], int]:
    """The calls of one callid from all its lines known so far, and how many are pending."""
    calls: list[CallRecord] = []
    pending = 0
    for number, visit in enumerate(_visits(lines), start=1):
        call_id = callid if number == 1 else f"{callid}#{number}"
        if visit.end is None:
            pending += 1
            continue
        calls.append(_call(call_id, visit, source))
    return calls, pending


def _call(call_id: str, visit: _Visit, source: str) -> CallRecord:
    end = visit.end
    assert end is not None
    outcome = END_EVENTS[end.event]
    data = end.data
    details: dict[str, Any] = {}
    wait = talk = None
    if outcome in ("answered", "transferred"):
        offset = 0 if end.event.startswith("COMPLETE") else 2
        wait, talk = _number(data, offset), _number(data, offset + 1)
        if end.event == "TRANSFER" or end.event == "BLINDTRANSFER":
            details["transfer_to"] = "@".join(x for x in data[:2] if x)
        elif end.event == "ATTENDEDTRANSFER":
            details["transfer_method"] = data[0] if data else ""
    else:
        offset = 1 if end.event == "EXITWITHKEY" else 0
        if end.event == "EXITWITHKEY" and data:
            details["key"] = data[0]
        wait = _number(data, offset + 2)
        if len(data) > offset:
            details["position"] = data[offset]
    if visit.connect is not None and wait is None:
        wait = _number(visit.connect.data, 0)
    ring_no_answer = sum(1 for x in visit.lines if x.event == "RINGNOANSWER")
    if ring_no_answer:
        details["ring_no_answer"] = ring_no_answer
    answered_at = None
    agent = None
    if outcome in ("answered", "transferred"):
        agent = (visit.connect.agent if visit.connect else end.agent) or None
        if visit.connect is not None:
            answered_at = visit.connect.time
        else:
            answered_at = end.time - dt.timedelta(seconds=talk or 0)
    if visit.enter is not None:
        entered_at = visit.enter.time
    else:
        entered_at = (answered_at or end.time) - dt.timedelta(seconds=wait or 0)
        details["enter_missing"] = True
    if wait is None:
        wait = ((answered_at or end.time) - entered_at).total_seconds()
    if talk is None and answered_at is not None:
        talk = (end.time - answered_at).total_seconds()
    return CallRecord(
        call_id=call_id,
        source=source,
        queue=visit.queue or None,
        caller=visit.enter.caller if visit.enter else None,
        started_at=entered_at,
        entered_at=entered_at,
        answered_at=answered_at,
        agent=agent[:63] if agent else None,
        ended_at=end.time,
        outcome=outcome,
        wait_seconds=wait,
        talk_seconds=talk if outcome in ("answered", "transferred") else None,
        end_reason=end.event.lower(),
        details=details,
    )
