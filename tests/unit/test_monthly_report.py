"""The monthly report's content model (kpi/monthly.py, kpi/breakdown.py), from hand-built
records, with hand-computed figures (docs/report.md): comparisons against months without data
read "无数据", never 0 %; a month without calls has no answer rate; hot topics, handling on time."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from kpi import breakdown as bd
from kpi.compute import Context, Scope
from kpi.document import Chart, Editable, Table
from kpi.model import INDICATORS, NAMES, Call, Facts, Rules, Ticket, TicketEvent
from kpi.monthly import MonthInputs, build
from kpi.render import report_data
from sla.intervals import PeriodError

SH = ZoneInfo("Asia/Shanghai")
AS_OF = dt.datetime(2026, 12, 2, 9, tzinfo=SH).astimezone(dt.UTC)
SECTIONS = (
    "overview",
    "calls",
    "tickets",
    "hot",
    "handling",
    "callbacks",
    "knowledge",
    "quality",
    "scorecard",
    "network",
    "staffing",
    "emergencies",
    "correlation",
    "next-month",
)


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(dt.UTC)


def sla_row(scope: str, *, no_data: bool) -> dict:
    return {
        "scope": scope,
        "availability_ratio": None if no_data else 0.999,
        "failures": 0,
        "mtbf_seconds": None if no_data else 2_592_000.0,
        "mtbf_lower_bound": not no_data,
        "mtbf_meets_target": None if no_data else True,
        "mttr_seconds": {},
        "breaches": [],
        "alarm_delay_seconds": {"p50": None, "max": None, "count": 0},
        "not_alarmed": [],
        "response": {"due": 0, "on_time": 0, "timeliness_ratio": None},
        "coverage": {"status": "no_data" if no_data else "ok", "ratio": 0.0 if no_data else 1.0},
    }


def inputs(facts: Facts, counts: dict | None = None, calls: dict | None = None, **kw):
    months = bd.months_of("2026-11", SH)
    rules = Rules()
    kpi = report_data(facts, months.current, AS_OF, Scope(), rules, SH)
    return MonthInputs(
        site_title=("陵水分平台", "Lingshui"),
        months=months,
        as_of=AS_OF,
        tz=SH,
        rules=rules,
        facts=facts,
        kpi=kpi,
        ticket_counts=counts or {},
        calls=calls or {},
        sla=kw.pop("sla", {"targets": {}, "rows": [sla_row("site:lingshui", no_data=True)]}),
        **kw,
    )


def cells(table: Table) -> dict[str, tuple[str, ...]]:
    return {row[0]: row[1:] for row in table.rows}


# -- the months compared --------------------------------------------------------------------


def test_the_months_compared_cross_the_year():
    m = bd.months_of("2026-01", SH)
    assert m.current.label == "2026-01" and m.previous.label == "2025-12"
    assert [w.label for w in m.before] == ["2025-12", "2025-11", "2025-10"]
    assert m.last_year.label == "2025-01"
    assert m.current.start == dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC)  # site midnight


@pytest.mark.parametrize("text", ["2026-13", "2026-11-01", "2026-W48", "11/2026", ""])
def test_the_report_takes_a_calendar_month_only(text):
    with pytest.raises(PeriodError, match="calendar month"):
        bd.months_of(text, SH)


def test_a_change_against_a_month_without_data_is_not_a_number():
    assert bd.change(10, 0, previous_has_data=False) is None
    assert bd.change(10, 0, previous_has_data=True) == "new"
    assert bd.change(0, 0, previous_has_data=True) == 0.0
    assert bd.change(15, 10, previous_has_data=True) == 0.5


def test_hot_topics_rise_against_the_mean_of_the_months_with_data():
    current = Counter({"医保": 10, "户籍": 3, "供水": 5, "城管": 2, None: 9})
    before = [Counter({"医保": 4, "户籍": 3}), Counter({"医保": 6, "户籍": 3}), Counter()]
    hot = bd.hot_topics(current, before)
    # the empty third month is left out of the mean: 医保 (4+6)/2 = 5 → +5 (+100 %);
    # 供水 never seen → +5, new; 户籍 flat; 城管 under 3 tickets; no category: never a topic
    assert [(h.key, h.mean_before, h.rise, h.ratio) for h in hot] == [
        ("供水", 0.0, 5.0, None),
        ("医保", 5.0, 5.0, 1.0),
    ]
    assert bd.hot_topics(current, [Counter(), Counter(), Counter()]) == []


# -- calls ----------------------------------------------------------------------------------


def test_a_month_without_calls_reads_no_data_never_zero_percent():
    doc = build(inputs(Facts()))
    calls = cells(doc.table("calls"))
    assert calls["接通率"] == ("无数据",) * 5
    assert calls["转人工来电"] == ("0", "无数据", "无数据", "无数据", "无数据")
    assert cells(doc.table("overview-figures"))["接通率"] == ("无数据",)
    assert "接通率 无数据" in doc.section("overview").blocks[0].text
    assert "%" not in repr(doc.section("calls"))  # no rate of anything: nothing was counted
    trend = next(c for c in doc.charts() if c.id == "daily-calls")
    assert len(trend.x) == 30 and set(trend.series[2].values) == {None}  # gaps, not zeros


def test_calls_by_day_and_hour_in_site_time():
    calls = (
        Call("a", t("2026-11-02 08:30"), "answered"),  # Monday 08h
        Call("b", t("2026-11-02 08:50"), "abandoned", 3.0),
        Call("c", t("2026-11-30 23:59"), "transferred"),  # Monday 23h, still November
        Call("d", t("2026-12-01 00:00"), "answered"),  # December
        Call("e", t("2026-11-03 10:00"), "ivr_only"),  # never offered to an agent
    )
    ctx = Context(bd.months_of("2026-11", SH).current, AS_OF, Scope(), Rules(), SH)
    days = {d: (o, a) for d, o, a in bd.daily_calls(calls, ctx)}
    assert days[dt.date(2026, 11, 2)] == (2, 1) and days[dt.date(2026, 11, 30)] == (1, 1)
    grid = bd.hour_weekday(calls, ctx)
    assert grid[0][8] == 2 and grid[0][23] == 1 and sum(map(sum, grid)) == 3
    stats = bd.call_stats(calls, ctx)
    assert (stats.offered, stats.answered, stats.abandoned, stats.rate) == (3, 2, 1, 2 / 3)


# -- tickets --------------------------------------------------------------------------------


def counts(rows: dict[str, int], dim: str = "category") -> list:
    out = []
    for key, n in rows.items():
        row = {"type": "help", "channel": "phone", "town": "椰林镇", "category": None, dim: key}
        out.append((row["type"], row["channel"], row["town"], row["category"], n))
    return out


def test_tickets_by_dimension_with_month_on_month_and_no_last_year():
    doc = build(
        inputs(
            Facts(),
            counts={
                "2026-11": counts({"医保": 30, "户籍": 10}),
                "2026-10": counts({"医保": 20}),
                "2026-09": counts({"医保": 20}),
                "2026-08": counts({"医保": 20}),
            },
            labels={"type": {"help": "求助"}},
        )
    )
    by_cat = cells(doc.table("tickets-category"))
    # columns: this month, share, previous, MoM, a year before, YoY
    assert by_cat["医保"] == ("30", "75.0%", "20", "+50.0%", "无数据", "无数据")
    assert by_cat["户籍"] == ("10", "25.0%", "0", "新增", "无数据", "无数据")
    assert cells(doc.table("tickets-type"))["求助"][:4] == ("40", "100.0%", "20", "+100.0%")
    hot = doc.table("hot-topics").rows
    assert [(r[1], r[2], r[3], r[5]) for r in hot] == [
        ("医保", "30", "20.0", "+50.0%"),
        ("户籍", "10", "0.0", "新增"),
    ]


def test_no_previous_months_no_hot_topics():
    doc = build(inputs(Facts(), counts={"2026-11": counts({"医保": 30})}))
    assert "无数据" in doc.section("hot").blocks[0].text
    with pytest.raises(StopIteration):
        doc.table("hot-topics")


def ev(kind: str, at: str, **data) -> TicketEvent:
    return TicketEvent(kind, t(at), data)


def test_handling_against_the_deadline_in_force():
    deadline = "2026-11-10T18:00:00+08:00"
    tickets = (
        Ticket(
            "T1",
            t("2026-11-03 09:00"),
            "help",
            events=(
                ev("dispatched", "2026-11-03 10:00", deadline=deadline),
                ev("closed", "2026-11-10 17:00"),
            ),
        ),  # fmt: skip
        Ticket(
            "T2",
            t("2026-11-03 09:00"),
            "help",
            events=(
                ev("dispatched", "2026-11-03 09:00", deadline=deadline),
                ev("closed", "2026-11-11 09:00"),
            ),
        ),  # fmt: skip
        Ticket(
            "T3",
            t("2026-11-04 09:00"),
            "help",
            events=(ev("dispatched", "2026-11-04 09:00", deadline=deadline),),
        ),  # fmt: skip
        Ticket(
            "T4",
            t("2026-11-05 09:00"),
            "enquiry",
            instant_answer=True,
            events=(ev("closed", "2026-11-05 09:05"),),
        ),  # fmt: skip
        # taken in October, closed in November after a reopening: counts here, by its closing
        Ticket(
            "T5",
            t("2026-10-20 09:00"),
            "help",
            events=(
                ev("dispatched", "2026-10-20 09:00", deadline="2026-10-30T18:00:00+08:00"),
                ev("closed", "2026-10-25 09:00"),
                ev("reopened", "2026-10-28 09:00"),
                ev("dispatched", "2026-10-28 09:00", deadline="2026-11-20T18:00:00+08:00"),
                ev("closed", "2026-11-19 09:00"),
            ),
        ),  # fmt: skip
    )
    ctx = Context(bd.months_of("2026-11", SH).current, AS_OF, Scope(), Rules(), SH)
    h = bd.handling(Facts(tickets=tickets), ctx)
    assert (h.taken, h.instant, h.dispatched) == (4, 1, 3)
    assert h.closed == ["T1", "T2", "T4", "T5"]
    assert (h.on_time, h.late, h.overdue_open) == (["T1", "T5"], ["T2"], ["T3"])
    assert h.on_time_rate == 2 / 3
    # dispatch → closing: T1 7 d 7 h, T2 8 d, T5 from the first dispatch 30 d
    assert h.hours == [175.0, 192.0, 720.0]
    doc = build(inputs(Facts(tickets=tickets)))
    assert cells(doc.table("handling"))["按时办结率"] == ("66.67% (2/3)",)


# -- the scorecard, network, the editable part ---------------------------------------------


def test_the_scorecard_is_the_kpi_reports():
    data = inputs(Facts(calls=(Call("a", t("2026-11-02 08:30"), "answered"),)))
    doc = build(data)
    table = doc.table("scorecard")
    assert len(table.rows) == len(INDICATORS) + 1
    by_id = {item["id"]: item for item in data.kpi["scorecard"]["items"]}
    for row, fid in zip(table.rows, INDICATORS, strict=False):
        assert row[1] == NAMES[fid][0]
        item = by_id[fid]
        assert row[5] == ("—" if item["points"] is None else f"{item['points']:g}")
        assert row[6] == item["why_zh"]
    assert table.rows[0][3] == "100.00% (1/1)"
    assert table.rows[-1][5] == f"{data.kpi['scorecard']['total']:g}"
    en = build(data, "en")
    assert en.table("scorecard").rows[0][1] == "answer rate"
    assert en.table("scorecard").rows[0][6] == by_id["answer_rate"]["why_en"]


def test_network_without_monitoring_never_reads_met():
    doc = build(inputs(Facts()))
    [row] = doc.table("sla").rows
    assert row[1] == "无数据" and row[4] == "无数据" and "无监测数据" in row[2]
    assert "达标" not in " ".join(row)
    watched = build(
        inputs(Facts(), sla={"targets": {}, "rows": [sla_row("site:lingshui", no_data=False)]})
    )
    [row] = watched.table("sla").rows
    assert row[1] == "99.900%" and row[4] == "≥ 720 小时 (达标)"


def test_every_section_in_order_and_next_month_is_editable():
    doc = build(inputs(Facts()))
    assert tuple(s.id for s in doc.sections) == SECTIONS
    [block] = doc.section("next-month").blocks
    assert isinstance(block, Editable) and "下月工作计划" in block.text
    assert {c.id for c in doc.charts()} == {"daily-calls", "hour-weekday"}
    assert all(isinstance(c, Chart) and c.title for c in doc.charts())
    en = build(inputs(Facts()), "en")
    assert en.section("next-month").title == "14. Next month" and en.lang == "en"
