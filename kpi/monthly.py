"""The monthly report (12345热线月报) as data: :func:`build` turns one month's inputs into a
:class:`kpi.document.Document` in Chinese or English. Pure: the shell (``noc.reports.gather``)
reads the store, the renderers (``noc.reports``) draw the result.

Where each figure comes from is in docs/report.md. Three rules hold everywhere:
the scorecard's figures are the ones ``noc kpi report`` prints (the same dictionary); a rate
without a denominator reads "无数据 / no data", never 0 % or 100 %; a change against a month
that holds no data reads the same, never a fake 0 %.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from kpi import breakdown as bd
from kpi.compute import Context, Scope, headcount
from kpi.document import Chart, Document, Editable, Paragraph, Section, Series, Table
from kpi.model import INDICATORS, NAMES, Call, Facts, Rules

TOP_CATEGORIES = 15
TOP_KB = 10
WEEKDAYS = (("周一", "Mon"), ("周二", "Tue"), ("周三", "Wed"), ("周四", "Thu"), ("周五", "Fri"),
            ("周六", "Sat"), ("周日", "Sun"))  # fmt: skip
DIMENSION_TITLES = {
    "type": ("诉求类型", "type"),
    "channel": ("来源渠道", "channel"),
    "town": ("所属乡镇", "town"),
    "category": ("诉求分类", "category"),
}
COVERAGE_WORDS = {  # as `noc sla report` says them (sla.render.STATUS_TEXT)
    "no_data": ("（无监测数据）", " (no data)"),
    "insufficient": ("（监测覆盖不足）", " (insufficient coverage)"),
}
SATISFACTION_ORDER = ("satisfied", "basically_satisfied", "dissatisfied", "unrated")
NEXT_MONTH_PLACEHOLDER = (
    "（请在此填写下月工作计划：话务高峰排班、热点诉求应对、知识库更新、人员补充、网络与系统维护安排等。"
    "本段由分平台办公室编辑，系统不生成内容。）",
    "(Write next month's plan here: shifts for the peaks, the hot topics, knowledge-base updates, "
    "hiring, network and system maintenance. The office edits this part; the system writes "
    "nothing in it.)",
)


@dataclass(frozen=True)
class MonthInputs:
    """Everything one month's report is made of, read by the shell."""

    site_title: tuple[str, str]  # (zh, en)
    months: bd.Months
    as_of: dt.datetime
    tz: ZoneInfo
    rules: Rules
    facts: Facts  # the month's KPI facts (with their look-back), as ``noc kpi report`` loads them
    kpi: dict  # ``noc.kpi_view.kpi_document`` for the month: figures, scorecard, correlation
    ticket_counts: dict[str, list[bd.TicketCount]]  # window label → counts (current … last year)
    calls: dict[str, tuple[Call, ...]]  # window label → calls (previous month, last year)
    sla: dict  # ``sla.render.document`` for the month: the site and its services
    kb_titles: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # dimension → code → 中文
    scope_titles: dict[str, tuple[str, str]] = field(default_factory=dict)


class _Text:
    """The report's language: ``t(zh, en)``, numbers and instants as the reader sees them."""

    def __init__(self, lang: str, tz: ZoneInfo):
        self.en = lang.startswith("en")
        self.tz = tz
        self.no_data = "no data" if self.en else "无数据"

    def t(self, zh: str, en: str) -> str:
        return en if self.en else zh

    def pct(self, value: float | None, digits: int = 2) -> str:
        return self.no_data if value is None else f"{value * 100:.{digits}f}%"

    def change(self, value: float | str | None) -> str:
        if value is None:
            return self.no_data
        if value == "new":
            return self.t("新增", "new")
        return f"{value * 100:+.1f}%"

    def when(self, at: dt.datetime | None) -> str:
        return "—" if at is None else at.astimezone(self.tz).strftime("%m-%d %H:%M")

    def minutes(self, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return self.t(
            f"{math.ceil(seconds / 6) / 10:g} 分钟", f"{math.ceil(seconds / 6) / 10:g} min"
        )

    def hours(self, seconds: float | None, floor: bool = False) -> str:
        if seconds is None:
            return "—"
        tenths = seconds / 360
        value = (math.floor(tenths) if floor else math.ceil(tenths)) / 10
        return self.t(f"{value:g} 小时", f"{value:g} h")

    def label(self, labels: dict[str, str], code: str | None) -> str:
        if code is None:
            return self.t("未填", "not given")
        return code if self.en else labels.get(code, code)


def _month_zh(window, tz: ZoneInfo) -> str:
    start = window.start.astimezone(tz)
    return f"{start.year}年{start.month}月"


def figure_text(fig: dict, x: _Text) -> str:
    """One indicator's figure as the KPI report shows it: a rate with numerator/denominator, a
    count, or "无数据"/"不适用"."""
    if fig["status"] == "no_data":
        return x.no_data
    if fig["status"] == "n/a":
        return x.t("不适用", "n/a")
    if fig["value"] is not None and fig["id"] != "staffing":
        return f"{x.pct(fig['value'])} ({fig['numerator']}/{fig['denominator']})"
    return x.t(f"{fig['count']} 项", f"{fig['count']} item(s)")


def _target_text(rule, x: _Text) -> str:
    if rule.kind == "rate":
        return f"≥ {x.pct(rule.target)}" if rule.target < 1 else "100%"
    if rule.kind == "bonus":
        return x.t("每项 +1", "+1 each")
    return x.t("0 项", "0")


class _Builder:
    def __init__(self, inputs: MonthInputs, lang: str):
        self.i = inputs
        self.x = _Text(lang, inputs.tz)
        self.m = inputs.months
        self.ctx = Context(inputs.months.current, inputs.as_of, Scope(), inputs.rules, inputs.tz)
        self.figs = {f["id"]: f for f in inputs.kpi["figures"]}
        self.counts = {
            label: rows for label, rows in inputs.ticket_counts.items()
        }  # window label → rows

    # helpers -------------------------------------------------------------------------------

    def t(self, zh: str, en: str) -> str:
        return self.x.t(zh, en)

    def rows_of(self, window) -> list[bd.TicketCount]:
        return self.counts.get(window.label, [])

    def has_data(self, window) -> bool:
        return sum(r[4] for r in self.rows_of(window)) > 0

    def ctx_of(self, window) -> Context:
        return Context(window, self.i.as_of, Scope(), self.i.rules, self.i.tz)

    def call_stats(self, window) -> bd.CallStats:
        calls = (
            self.i.facts.calls if window == self.m.current else self.i.calls.get(window.label, ())
        )
        return bd.call_stats(calls, self.ctx_of(window))

    # sections ------------------------------------------------------------------------------

    def overview(self) -> Section:
        x, m = self.x, self.m
        cur = self.call_stats(m.current)
        prev = self.call_stats(m.previous)
        taken = sum(r[4] for r in self.rows_of(m.current))
        taken_prev = sum(r[4] for r in self.rows_of(m.previous))
        card = self.i.kpi["scorecard"]
        site = self._site_row()
        avail = x.no_data if site is None else x.pct(site["availability_ratio"], 3)
        faults = len(self._faults())
        ticket_change = x.change(bd.change(taken, taken_prev, self.has_data(m.previous)))
        text = self.t(
            f"{_month_zh(m.current, self.i.tz)}，平台转人工来电 {cur.offered} 个，接通 {cur.answered} 个，接通率 "
            f"{x.pct(cur.rate)}（上月 {x.pct(prev.rate)}）；受理工单 {taken} 件，环比 {ticket_change}。"
            f"考核得分 {card['total']:g} 分（基础 {card['base']:g} 分，奖励 {card['bonus']:g} 分）。"
            f"网络可用率 {avail}，发生网络事件 {faults} 起。",
            f"In {m.current.label} the platform was offered {cur.offered} calls and answered "
            f"{cur.answered}: answer rate {x.pct(cur.rate)} (previous month {x.pct(prev.rate)}). "
            f"{taken} tickets were taken ({ticket_change} on the month). The scorecard stands at "
            f"{card['total']:g} points ({card['base']:g} + {card['bonus']:g} bonus). Network "
            f"availability {avail}; {faults} network incident(s).",
        )
        rows = []
        for fid in INDICATORS:
            fig = self.figs[fid]
            zh, en = NAMES[fid]
            rows.append((self.t(zh, en), figure_text(fig, x)))
        return Section(
            "overview",
            self.t("一、概况", "1. Overview"),
            (
                Paragraph(text),
                Table(
                    "overview-figures",
                    (self.t("考核指标", "indicator"), self.t("本月", "this month")),
                    tuple(rows),
                    caption=self.t("主要指标", "Key figures"),
                ),
            ),
        )

    def calls(self) -> Section:
        x, m = self.x, self.m
        stats = {w.label: self.call_stats(w) for w in (m.current, m.previous, m.last_year)}
        cur, prev, ly = stats[m.current.label], stats[m.previous.label], stats[m.last_year.label]

        def line(name: str, attr: str):
            a, b, c = getattr(cur, attr), getattr(prev, attr), getattr(ly, attr)
            return (
                name,
                str(a),
                str(b) if prev.offered else x.no_data,
                x.change(bd.change(a, b, prev.offered > 0)),
                str(c) if ly.offered else x.no_data,
                x.change(bd.change(a, c, ly.offered > 0)),
            )

        def rate_change(a: float | None, b: float | None) -> str:
            if a is None or b is None:
                return x.no_data
            return self.t(f"{(a - b) * 100:+.2f} 个百分点", f"{(a - b) * 100:+.2f} pp")

        rows = [
            line(self.t("转人工来电", "offered to agents"), "offered"),
            line(self.t("接通", "answered"), "answered"),
            line(self.t("放弃", "abandoned"), "abandoned"),
            line(self.t("超时", "timed out"), "timeout"),
            (
                self.t("接通率", "answer rate"),
                x.pct(cur.rate),
                x.pct(prev.rate),
                rate_change(cur.rate, prev.rate),
                x.pct(ly.rate),
                rate_change(cur.rate, ly.rate),
            ),
        ]
        columns = (
            self.t("项目", "item"),
            self.t("本月", "this month"),
            self.t("上月", "previous month"),
            self.t("环比", "MoM"),
            self.t("去年同期", "a year before"),
            self.t("同比", "YoY"),
        )
        note = self.t(
            "来电按转人工时间归属月份；接通率 = 接通（含转接）/ 转人工来电（docs/kpi.md 指标1）。",
            "Calls count in the month they were offered to an agent; answer rate = answered "
            "(incl. transferred) / offered (docs/kpi.md, indicator 1).",
        )
        if cur.excused:
            note += self.t(
                f" 另有 {cur.excused} 个短时放弃按配置不计入。",
                f" {cur.excused} short abandons are left out by the configuration.",
            )
        days = bd.daily_calls(self.i.facts.calls, self.ctx)
        trend = Chart(
            "daily-calls",
            "line",
            self.t("每日来电量与接通率", "Calls and answer rate by day"),
            x=tuple(d.strftime("%m-%d") for d, _, _ in days),
            series=(
                Series(self.t("转人工来电", "offered"), tuple(float(o) for _, o, _ in days), "bar"),
                Series(self.t("接通", "answered"), tuple(float(a) for _, _, a in days), "line"),
                Series(
                    self.t("接通率", "answer rate"),
                    tuple(a / o if o else None for _, o, a in days),
                    "line",
                    axis="right",
                    percent=True,
                ),
            ),
            y_label=self.t("来电（个）", "calls"),
            y2_label=self.t("接通率", "answer rate"),
            alt=self.t(
                f"{len(days)} 天，日均来电 {cur.offered / len(days):.0f} 个。"
                if days
                else "本月尚无数据。",
                f"{len(days)} days, {cur.offered / len(days):.0f} calls a day on average."
                if days
                else "No day of the month has begun.",
            ),
        )
        grid = bd.hour_weekday(self.i.facts.calls, self.ctx)
        peak = max(((grid[d][h], d, h) for d in range(7) for h in range(24)), default=(0, 0, 0))
        heat = Chart(
            "hour-weekday",
            "heatmap",
            self.t("来电时段分布（星期 × 小时）", "Calls by weekday and hour"),
            x=tuple(f"{h:02d}" for h in range(24)),
            rows=tuple(self.t(zh, en) for zh, en in WEEKDAYS),
            matrix=tuple(tuple(float(v) for v in row) for row in grid),
            y_label=self.t("星期", "weekday"),
            alt=self.t(
                f"高峰：{WEEKDAYS[peak[1]][0]} {peak[2]:02d} 时，{peak[0]} 个来电。"
                if peak[0]
                else "本月无来电。",
                f"Peak: {WEEKDAYS[peak[1]][1]} {peak[2]:02d}:00, {peak[0]} calls."
                if peak[0]
                else "No calls this month.",
            ),
        )
        return Section(
            "calls",
            self.t("二、话务量与接通率", "2. Call volume and answer rate"),
            (
                Table("calls", columns, tuple(rows), self.t("话务量", "Calls"), note),
                trend,
                heat,
            ),
        )

    def tickets(self) -> Section:
        x, m = self.x, self.m
        blocks: list = []
        cur_rows, prev_rows, ly_rows = (
            self.rows_of(m.current),
            self.rows_of(m.previous),
            self.rows_of(m.last_year),
        )
        total = sum(r[4] for r in cur_rows)
        prev_ok, ly_ok = self.has_data(m.previous), self.has_data(m.last_year)
        blocks.append(
            Paragraph(
                self.t(
                    f"本月受理工单 {total} 件；上月 {sum(r[4] for r in prev_rows) if prev_ok else x.no_data}，"
                    f"去年同期 {sum(r[4] for r in ly_rows) if ly_ok else x.no_data}。"
                    "环比、同比在对比月份无数据时显示“无数据”。",
                    f"{total} tickets this month; previous month "
                    f"{sum(r[4] for r in prev_rows) if prev_ok else x.no_data}, a year before "
                    f"{sum(r[4] for r in ly_rows) if ly_ok else x.no_data}. A change against a "
                    "month without data reads 'no data'.",
                )
            )
        )
        for dim in bd.DIMENSIONS:
            cur = bd.counts_by(cur_rows, dim)
            prev = bd.counts_by(prev_rows, dim)
            ly = bd.counts_by(ly_rows, dim)
            keys = sorted(cur, key=lambda k: (-cur[k], str(k)))
            rest = []
            if dim == "category" and len(keys) > TOP_CATEGORIES:
                keys, rest = keys[:TOP_CATEGORIES], keys[TOP_CATEGORIES:]
            labels = self.i.labels.get(dim, {})
            rows = []
            for key in keys:
                rows.append(self._count_row(x.label(labels, key), cur[key], total, prev[key],
                                            prev_ok, ly[key], ly_ok))  # fmt: skip
            if rest:
                rows.append(
                    self._count_row(
                        self.t(f"其他（{len(rest)} 类）", f"other ({len(rest)})"),
                        sum(cur[k] for k in rest),
                        total,
                        sum(prev[k] for k in rest),
                        prev_ok,
                        sum(ly[k] for k in rest),
                        ly_ok,
                    )
                )
            zh, en = DIMENSION_TITLES[dim]
            blocks.append(
                Table(
                    f"tickets-{dim}",
                    (
                        self.t(zh, en),
                        self.t("本月", "this month"),
                        self.t("占比", "share"),
                        self.t("上月", "previous month"),
                        self.t("环比", "MoM"),
                        self.t("去年同期", "a year before"),
                        self.t("同比", "YoY"),
                    ),
                    tuple(rows),
                    self.t(f"按{zh}", f"By {en}"),
                )
            )
        return Section(
            "tickets",
            self.t("三、工单受理情况", "3. Tickets by type, channel, town and category"),
            tuple(blocks),
        )

    def _count_row(self, name, n, total, prev, prev_ok, ly, ly_ok):
        x = self.x
        return (
            name,
            str(n),
            x.pct(n / total if total else None, 1),
            str(prev) if prev_ok else x.no_data,
            x.change(bd.change(n, prev, prev_ok)),
            str(ly) if ly_ok else x.no_data,
            x.change(bd.change(n, ly, ly_ok)),
        )

    def hot(self) -> Section:
        x, m = self.x, self.m
        cur = bd.counts_by(self.rows_of(m.current), "category")
        before = [bd.counts_by(self.rows_of(w), "category") for w in m.before]
        months_with_data = sum(1 for c in before if sum(c.values()))
        hot = bd.hot_topics(cur, before)
        labels = self.i.labels.get("category", {})
        rows = tuple(
            (
                str(n),
                x.label(labels, h.key),
                str(h.current),
                f"{h.mean_before:.1f}" if h.mean_before is not None else x.no_data,
                f"+{h.rise:.1f}",
                x.change(h.ratio) if h.ratio is not None else self.t("新增", "new"),
            )
            for n, h in enumerate(hot, start=1)
        )
        if months_with_data == 0:
            text = self.t(
                "前三个月无工单数据，无法判断上升的热点诉求（无数据）。",
                "The three months before hold no tickets: no rising topic can be told (no data).",
            )
        elif not rows:
            text = self.t(
                "本月没有较前三个月月均明显上升的诉求分类。",
                "No category rose against the mean of the three months before.",
            )
        else:
            names = (
                "、".join(r[1] for r in rows[:3]) if not x.en else ", ".join(r[1] for r in rows[:3])
            )
            text = self.t(
                f"与前 {months_with_data} 个月月均相比上升最多的诉求分类：{names}。",
                f"The categories that rose most against the mean of the {months_with_data} "
                f"month(s) before: {names}.",
            )
        blocks: list = [Paragraph(text)]
        if rows:
            blocks.append(
                Table(
                    "hot-topics",
                    (
                        self.t("排名", "rank"),
                        self.t("诉求分类", "category"),
                        self.t("本月", "this month"),
                        self.t("前三月月均", "mean of 3 months before"),
                        self.t("增量", "rise"),
                        self.t("增幅", "rise %"),
                    ),
                    rows,
                    self.t("热点诉求", "Hot topics"),
                    self.t(
                        f"月均只计有数据的月份（{months_with_data} 个）；本月不足 3 件的分类不列。",
                        f"The mean counts only months with data ({months_with_data}); categories "
                        "under 3 tickets this month are left out.",
                    ),
                )
            )
        return Section("hot", self.t("四、热点诉求", "4. Hot topics"), tuple(blocks))

    def handling(self) -> Section:
        x = self.x
        h = bd.handling(self.i.facts, self.ctx)
        rows = (
            (self.t("受理工单", "tickets taken"), str(h.taken)),
            (self.t("即时办结", "answered at once"), str(h.instant)),
            (self.t("派单", "dispatched"), str(h.dispatched)),
            (self.t("本月办结", "closed this month"), str(len(h.closed))),
            (self.t("有办理时限的办结工单", "closed with a deadline"), str(len(h.with_deadline))),
            (self.t("按时办结", "closed on time"), str(len(h.on_time))),
            (self.t("超时办结", "closed late"), str(len(h.late))),
            (
                self.t("按时办结率", "closed on time, rate"),
                x.pct(h.on_time_rate)
                + (f" ({len(h.on_time)}/{len(h.with_deadline)})" if h.with_deadline else ""),
            ),
            (
                self.t("平均办理时长（派单至办结）", "mean handling time (dispatch → closed)"),
                x.hours(None if h.mean_hours is None else h.mean_hours * 3600),
            ),
            (
                self.t("截至统计时刻超期未办结", "past the deadline, still open at as-of"),
                str(len(h.overdue_open)),
            ),
        )
        return Section(
            "handling",
            self.t("五、工单办理与按时办结", "5. Handling and closure on time"),
            (
                Table(
                    "handling",
                    (self.t("项目", "item"), self.t("数值", "figure")),
                    rows,
                    self.t("办理情况", "Handling"),
                    self.t(
                        "办结按最后一次办结时间归属月份（重办后以再次办结为准）；按时 = 办结时间不晚于当时的办理时限。",
                        "A closing counts in the month of the last closing (after a reopening, the "
                        "new one); on time = closed at or before the deadline then in force.",
                    ),
                ),
            ),
        )

    def callbacks(self) -> Section:
        x = self.x
        cb = self.figs["callback_on_time"]
        sat = self.figs["satisfaction"]
        rated = bd.ratings(self.i.facts, self.ctx)
        methods = bd.callback_methods(self.i.facts, self.ctx)
        labels = self.i.labels.get("satisfaction", {})
        total = sum(rated.values())
        rows = [
            (self.t("按时回访率", "callback on time"), figure_text(cb, x)),
            (
                self.t("回访未到期（待回访）", "callback not yet due (pending)"),
                str(len(cb["records"].get("pending", []))),
            ),
            (self.t("超时或未回访", "late or missing"), str(len(cb["records"].get("failed", [])))),
        ]
        rows += [
            (self.t(f"{'电话' if m == 'phone' else '短信' if m == 'sms' else '其他'}回访", f"callbacks by {m}"), str(n))
            for m, n in sorted(methods.items())
        ]  # fmt: skip
        rows.append((self.t("满意率", "satisfaction"), figure_text(sat, x)))
        rows += [
            (x.label(labels, s), f"{rated[s]} ({x.pct(rated[s] / total if total else None, 1)})")
            for s in SATISFACTION_ORDER
            if s in rated
        ]
        return Section(
            "callbacks",
            self.t("六、回访与满意度", "6. Callbacks and satisfaction"),
            (
                Table(
                    "callbacks",
                    (self.t("项目", "item"), self.t("数值", "figure")),
                    tuple(rows),
                    self.t("回访与评价", "Callbacks and ratings"),
                    self.t(
                        "按时回访：办结后 24 小时内回访，按办结时间归属月份，未到期的不计为失败；"
                        "满意率 = 满意（含基本满意，按配置）/ 已评价，未评价不计（docs/kpi.md 指标4、5）。",
                        "On time: called back within 24 h of closing, by the closing's month; one "
                        "not yet due is pending, not failed. Satisfaction = satisfied (incl. basically, "
                        "by configuration) / rated; unrated left out (docs/kpi.md, 4 and 5).",
                    ),
                ),
            ),
        )

    def knowledge(self) -> Section:
        x = self.x
        ia = self.figs["instant_answer"]
        taken, cited, per_entry = bd.kb_use(self.i.facts, self.ctx)
        rows = (
            (self.t("咨询类办件即时答复率", "instant answers to enquiries"), figure_text(ia, x)),
            (self.t("引用知识库的工单", "tickets citing the knowledge base"), str(cited)),
            (
                self.t("知识库引用率", "share citing the knowledge base"),
                x.pct(cited / taken if taken else None, 1),
            ),
            (self.t("被引用的知识条目", "entries cited"), str(len(per_entry))),
        )
        blocks: list = [
            Table(
                "knowledge",
                (self.t("项目", "item"), self.t("数值", "figure")),
                rows,
                self.t("知识库使用", "Knowledge-base use"),
            )
        ]
        top = sorted(per_entry.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_KB]
        if top:
            blocks.append(
                Table(
                    "knowledge-top",
                    (
                        self.t("知识编号", "entry"),
                        self.t("标题", "title"),
                        self.t("引用次数", "cited"),
                    ),
                    tuple((e, self.i.kb_titles.get(e, "—"), str(n)) for e, n in top),
                    self.t(f"引用最多的 {len(top)} 条知识", f"The {len(top)} entries cited most"),
                )
            )
        return Section(
            "knowledge",
            self.t("七、知识库使用与即时答复", "7. Knowledge base and instant answers"),
            tuple(blocks),
        )

    def quality(self) -> Section:
        x = self.x
        sc, cp, cm = self.figs["spot_check"], self.figs["complaints"], self.figs["commendations"]
        fails = len(sc["records"].get("denominator", [])) - len(sc["records"].get("numerator", []))
        comm = {c.id: c for c in self.i.facts.commendations}
        kinds = Counter(comm[i].kind for i in cm["records"].get("items", []) if i in comm)
        labels = self.i.labels.get("commendation", {})
        rows = [
            (self.t("抽检达标率", "spot-check compliance"), figure_text(sc, x)),
            (self.t("抽检不合格", "spot checks failed"), str(fails)),
            (self.t("有理由投诉", "justified complaints"), str(cp["count"])),
            (
                self.t("经认定无理由的投诉", "complaints ruled not justified"),
                str(len(cp["records"].get("not_justified", []))),
            ),
            (self.t("表扬", "commendations"), str(cm["count"])),
        ]
        rows += [
            (self.t(f"  其中{x.label(labels, k)}", f"  of which {k}"), str(n))
            for k, n in sorted(kinds.items())
        ]
        blocks: list = [
            Table(
                "quality",
                (self.t("项目", "item"), self.t("数值", "figure")),
                tuple(rows),
                self.t("服务质量", "Quality"),
            )  # fmt: skip
        ]
        complaints = {c.id: c for c in self.i.facts.complaints}
        listed = [complaints[i] for i in cp["records"].get("items", []) if i in complaints]
        if listed:
            blocks.append(
                Table(
                    "complaints",
                    (
                        self.t("工单", "ticket"),
                        self.t("坐席", "agent"),
                        self.t("认定时间", "ruled"),
                    ),
                    tuple((c.ticket, c.agent, x.when(c.ruled_at)) for c in listed),
                    self.t("有理由投诉明细", "Justified complaints"),
                )
            )
        return Section("quality", self.t("八、服务质量", "8. Quality"), tuple(blocks))

    def scorecard(self) -> Section:
        x = self.x
        card = self.i.kpi["scorecard"]
        rows = []
        for n, item in enumerate(card["items"], start=1):
            fid = item["id"]
            zh, en = NAMES[fid]
            got = "—" if item["points"] is None else f"{item['points']:g}"
            rows.append(
                (
                    str(n),
                    self.t(zh, en),
                    _target_text(self.i.rules.rules[fid], x),
                    figure_text(self.figs[fid], x),
                    ("+" if item["bonus"] else "") + f"{item['max']:g}",
                    got,
                    item["why_en"] if x.en else item["why_zh"],
                )
            )
        rows.append(
            (
                "",
                self.t("合计", "total"),
                "",
                "",
                "100 + 5",
                f"{card['total']:g}",
                self.t(
                    f"基础 {card['base']:g} 分 + 奖励 {card['bonus']:g} 分",
                    f"{card['base']:g} + {card['bonus']:g} bonus",
                ),
            )
        )
        return Section(
            "scorecard",
            self.t("九、考核计分", "9. Scorecard"),
            (
                Table(
                    "scorecard",
                    (
                        self.t("序号", "#"),
                        self.t("考核指标", "indicator"),
                        self.t("目标", "target"),
                        self.t("本月数值", "figure"),
                        self.t("分值", "points"),
                        self.t("得分", "score"),
                        self.t("扣分说明", "deduction explained"),
                    ),
                    tuple(rows),
                    self.t("考核标准（100 分 + 5 分奖励）", "The scorecard (100 + 5 points)"),
                    self.t(
                        f"截至 {x.when(self.i.as_of)} 计算；计分规则见 docs/kpi.md，可在配置 kpi: 中调整。",
                        f"Computed as of {x.when(self.i.as_of)}; the rules are in docs/kpi.md and "
                        "the config's kpi: section.",
                    ),
                    nowrap=(0, 1, 2, 3, 4, 5),
                ),
            ),
        )

    # network -------------------------------------------------------------------------------

    def _site_row(self) -> dict | None:
        return next((r for r in self.i.sla.get("rows", []) if r["scope"].startswith("site:")), None)

    def _faults(self):
        w = self.m.current
        return sorted(
            (
                f
                for f in self.i.facts.faults
                if f.started_at < min(w.end, self.i.as_of)
                and (f.recovered_at is None or f.recovered_at > w.start)
            ),
            key=lambda f: f.started_at,
        )

    def network(self) -> Section:
        x = self.x
        targets = self.i.sla.get("targets", {})
        mtbf_target = targets.get("mtbf_seconds", 600 * 3600)
        mttr = targets.get("mttr_seconds", {"automatic": 900, "manual": 86400})
        rows = []
        for row in self.i.sla.get("rows", []):
            zh, en = self.i.scope_titles.get(row["scope"], (row["scope"], row["scope"]))
            cover = row.get("coverage") or {}
            status = cover.get("status", "ok")
            no_data = status == "no_data"
            mtbf = row["mtbf_seconds"]
            verdict = {True: self.t("达标", "met"), False: self.t("未达标", "not met")}.get(
                row["mtbf_meets_target"], x.no_data
            )
            mtbf_text = (
                x.no_data
                if no_data or mtbf is None
                else ("≥ " if row["mtbf_lower_bound"] else "")
                + x.hours(mtbf, floor=True)
                + f" ({verdict})"
            )
            breaches = Counter(b["kind"] for b in row["breaches"])
            rows.append(
                (
                    self.t(zh, en),
                    x.no_data if no_data else x.pct(row["availability_ratio"], 3),
                    x.pct(cover.get("ratio"), 2) + COVERAGE_WORDS.get(status, ("", ""))[x.en],
                    str(row["failures"]),
                    mtbf_text,
                    x.minutes(row["mttr_seconds"].get("automatic")),
                    x.hours(row["mttr_seconds"].get("manual")),
                    str(sum(breaches.values())),
                    x.pct(row["response"]["timeliness_ratio"], 1),
                )
            )
        blocks: list = [
            Table(
                "sla",
                (
                    self.t("范围", "scope"),
                    self.t("可用率", "availability"),
                    self.t("监测覆盖", "coverage"),
                    self.t("故障次数", "failures"),
                    self.t(
                        f"MTBF（目标 > {mtbf_target / 3600:g} 小时）",
                        f"MTBF (target > {mtbf_target / 3600:g} h)",
                    ),
                    self.t(
                        f"自动恢复 MTTR（< {mttr['automatic'] / 60:g} 分钟）",
                        f"automatic MTTR (< {mttr['automatic'] / 60:g} min)",
                    ),
                    self.t(
                        f"人工恢复 MTTR（< {mttr['manual'] / 3600:g} 小时）",
                        f"manual MTTR (< {mttr['manual'] / 3600:g} h)",
                    ),
                    self.t("恢复超时", "recoveries over target"),
                    self.t("故障响应及时率", "fault response on time"),
                ),
                tuple(rows),
                self.t("网络运行与SLA", "Network and SLA"),
                self.t(
                    "与 `noc sla report` 同一计算（docs/sla.md）：只计监测到的时间，无监测数据的范围不显示数值；"
                    "MTBF 向下取整、恢复时长向上取整。",
                    "The same computation as `noc sla report` (docs/sla.md): monitored time only, "
                    "no figure for a scope without it; MTBF rounded down, recovery times up.",
                ),
            )
        ]
        site = self._site_row()
        if site is not None:
            delay = site["alarm_delay_seconds"]
            blocks.append(
                Paragraph(
                    self.t(
                        f"告警延迟：中位 {x.minutes(delay['p50'])}，最长 {x.minutes(delay['max'])}（{delay['count']} 起）；"
                        f"未送达的告警 {len(site['not_alarmed'])} 起。",
                        f"Alarm delay: median {x.minutes(delay['p50'])}, longest "
                        f"{x.minutes(delay['max'])} ({delay['count']} incident(s)); alerts never "
                        f"delivered: {len(site['not_alarmed'])}.",
                    )
                )
            )
        faults = self._faults()
        if faults:
            blocks.append(
                Table(
                    "incidents",
                    (
                        self.t("编号", "id"),
                        self.t("级别", "level"),
                        self.t("事件", "incident"),
                        self.t("开始", "started"),
                        self.t("恢复", "recovered"),
                        self.t("时长", "duration"),
                        self.t("响应", "acknowledged"),
                    ),
                    tuple(
                        (
                            f.id,
                            f.level,
                            f.title or "—",
                            x.when(f.started_at),
                            x.when(f.recovered_at) if f.recovered_at else self.t("未恢复", "open"),
                            x.minutes(
                                ((f.recovered_at or self.i.as_of) - f.started_at).total_seconds()
                            ),
                            x.when(f.acknowledged_at),
                        )
                        for f in faults
                    ),
                    self.t("网络事件", "Network incidents"),
                )
            )
        else:
            blocks.append(Paragraph(self.t("本月无网络事件。", "No network incident this month.")))
        return Section("network", self.t("十、网络运行与SLA", "10. Network and SLA"), tuple(blocks))

    def staffing(self) -> Section:
        x = self.x
        fig = self.figs["staffing"]
        days = self.ctx.days()
        spells = list(self.i.facts.staff)
        blocks: list = []
        if not days:
            blocks.append(Paragraph(x.no_data))
        else:
            last = days[-1]
            need = [(self.t("合计", "total"), None, self.i.rules.staff_total)]
            need += [(p, p, n) for p, n in self.i.rules.staff_posts.items()]
            rows = []
            for name, post, n in need:
                have = headcount(spells, last, post)
                rows.append(
                    (
                        name,
                        str(n),
                        str(have),
                        self.t("缺", "short ") + str(n - have) if have < n else "✓",
                    )
                )
            blocks.append(
                Table(
                    "staffing",
                    (
                        self.t("岗位", "post"),
                        self.t("要求人数", "required"),
                        self.t(f"{last.strftime('%m-%d')} 在岗", f"on {last.isoformat()}"),
                        self.t("缺员", "short"),
                    ),
                    tuple(rows),
                    self.t("岗位人员配备", "Staffing"),
                    self.t(
                        f"超期未补（缺员超过 1 个月）{fig['count'] or 0} 项：{'、'.join(fig['records'].get('items', [])) or '无'}。",
                        f"Vacancies open over a month: {fig['count'] or 0}: "
                        f"{', '.join(fig['records'].get('items', [])) or 'none'}.",
                    ),
                )
            )
        return Section("staffing", self.t("十一、人员配备", "11. Staffing"), tuple(blocks))

    def emergencies(self) -> Section:
        x = self.x
        fig = self.figs["emergencies"]
        limit = self.i.rules.emergency_response
        labels = self.i.labels.get("emergency", {})
        rows = []
        for e in sorted(self.i.facts.emergencies, key=lambda e: e.started_at):
            if not self.ctx.within(e.started_at):
                continue
            if e.force_majeure:
                verdict = self.t("不可抗力，不计", "force majeure, not counted")
            elif e.responded_at is None or e.responded_at > self.i.as_of:
                verdict = (
                    self.t("待响应", "pending")
                    if e.started_at + limit > self.i.as_of
                    else self.t("未响应", "no response")
                )
            else:
                verdict = (
                    self.t("及时", "on time")
                    if e.responded_at - e.started_at <= limit
                    else self.t("超时", "late")
                )
            took = (
                None if e.responded_at is None else (e.responded_at - e.started_at).total_seconds()
            )
            rows.append((x.label(labels, e.kind), e.title or "—", x.when(e.started_at),
                         x.minutes(took), verdict))  # fmt: skip
        auto = [i for i in fig["records"].get("denominator", []) + fig["records"].get("pending", [])
                if i.startswith("incident:")]  # fmt: skip
        text = self.t(
            f"突发事件响应处置：{figure_text(fig, x)}；I、II 级网络事件自动计入 {len(auto)} 起；"
            f"响应时限 {limit.total_seconds() / 60:g} 分钟。",
            f"Emergency response: {figure_text(fig, x)}; level I/II network incidents counted "
            f"automatically: {len(auto)}; response limit {limit.total_seconds() / 60:g} min.",
        )
        blocks: list = [Paragraph(text)]
        if rows:
            blocks.append(
                Table(
                    "emergencies",
                    (
                        self.t("类型", "kind"),
                        self.t("事件", "what"),
                        self.t("开始", "started"),
                        self.t("响应用时", "response"),
                        self.t("评价", "verdict"),
                    ),
                    tuple(rows),
                    self.t("突发事件登记", "Emergency register"),
                )
            )
        return Section("emergencies", self.t("十二、突发事件", "12. Emergencies"), tuple(blocks))

    def correlation(self) -> Section:
        x = self.x
        corr = self.i.kpi.get("correlation") or {}
        all_, out = corr.get("answer_rate", {}), corr.get("answer_rate_outside_incidents", {})
        text = self.t(
            f"全月接通率 {x.pct(all_.get('value'))}（{all_.get('answered', 0)}/{all_.get('offered', 0)}），"
            f"扣除影响来电受理的网络故障时段后 {x.pct(out.get('value'))}（{out.get('answered', 0)}/{out.get('offered', 0)}）。",
            f"Answer rate for the month {x.pct(all_.get('value'))} ({all_.get('answered', 0)}/"
            f"{all_.get('offered', 0)}); outside incident time that impaired voice intake "
            f"{x.pct(out.get('value'))} ({out.get('answered', 0)}/{out.get('offered', 0)}).",
        )
        blocks: list = [Paragraph(text)]
        incidents = corr.get("incidents", [])
        if incidents:
            blocks.append(
                Table(
                    "correlation",
                    (
                        self.t("事件", "incident"),
                        self.t("影响业务", "services"),
                        self.t("时段", "during"),
                        self.t("期间来电", "calls offered"),
                        self.t("期间放弃", "abandoned"),
                        self.t("延误工单", "tickets delayed"),
                    ),
                    tuple(
                        (
                            f"#{i['incident']} {i['title']}".strip(),
                            ", ".join(self._service_title(s) for s in i["services"]),
                            f"{x.when(dt.datetime.fromisoformat(i['start']))} – "
                            f"{x.when(dt.datetime.fromisoformat(i['end']))}",
                            str(len(i["calls_offered"])),
                            str(len(i["calls_abandoned"])),
                            str(len(i["tickets_delayed"])),
                        )
                        for i in incidents
                    ),
                    self.t("网络事件对市民服务的影响", "What the incidents cost the citizens"),
                )
            )
        else:
            blocks.append(
                Paragraph(
                    self.t(
                        "本月无影响来电受理或工单流转的网络事件。",
                        "No incident impaired voice intake or ticket exchange this month.",
                    )
                )
            )
        return Section(
            "correlation", self.t("十三、网络与业务关联", "13. Network and service"), tuple(blocks)
        )

    def _service_title(self, name: str) -> str:
        zh, en = self.i.scope_titles.get(f"service:{name}", (name, name))
        return self.t(zh, en)

    def next_month(self) -> Section:
        zh, en = NEXT_MONTH_PLACEHOLDER
        return Section(
            "next-month",
            self.t("十四、下月工作计划", "14. Next month"),
            (Editable("next-month", self.t(zh, en)),),
        )

    def document(self) -> Document:
        i, x = self.i, self.x
        zh, en = i.site_title
        sections = (
            self.overview(),
            self.calls(),
            self.tickets(),
            self.hot(),
            self.handling(),
            self.callbacks(),
            self.knowledge(),
            self.quality(),
            self.scorecard(),
            self.network(),
            self.staffing(),
            self.emergencies(),
            self.correlation(),
            self.next_month(),
        )
        start = i.months.current.start.astimezone(i.tz)
        return Document(
            title=self.t(
                f"12345热线月报（{start.year}年{start.month}月）",
                f"12345 hotline monthly report, {start.strftime('%B %Y')}",
            ),
            subtitle=self.t(zh, en),
            lang="en" if x.en else "zh-CN",
            period=i.months.current.label,
            facts_line=self.t(
                f"统计周期 {i.months.current.label}（{i.tz.key}），数据截至 "
                f"{i.as_of.astimezone(i.tz).strftime('%Y-%m-%d %H:%M')}",
                f"Period {i.months.current.label} (site time {i.tz.key}), data as of "
                f"{i.as_of.astimezone(i.tz).strftime('%Y-%m-%d %H:%M')}",
            ),
            sections=sections,
            meta={"scorecard": i.kpi["scorecard"], "as_of": i.as_of.isoformat()},
        )


def build(inputs: MonthInputs, lang: str = "zh-CN") -> Document:
    """The month's report in ``lang`` (``zh-CN`` or ``en``)."""
    return _Builder(inputs, lang).document()


def windows_needed(months: bd.Months) -> Sequence:
    """The windows whose ticket counts the report compares (current first)."""
    return (months.current, *months.before, months.last_year)
