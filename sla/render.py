"""SLA reports as text: a terminal table (zh-CN by default, ``en``), JSON, CSV and Markdown.

Pure: rows of :class:`sla.compute.ScopeReport` and the config in, a string (or the JSON
document) out. Figures are rounded here and only here, each in the direction that never
flatters: an MTBF truncated, a breach's duration rounded up, a coverage truncated.

Monitoring coverage shows in every format: a scope without monitored time reads "no data"
(无监测数据) in place of every figure, one under the coverage threshold is marked "insufficient
coverage" (监测覆盖不足), and a fault found present when monitoring resumed is listed with the
instant it is dated from. Under the table: the breaches, the alerts never delivered (issue 11,
9e: an open delay, a lower bound) and those faults; a breach or "not alarmed" line of a row
without monitored time or under the threshold carries its status, as the row does.

The terminal table fits 100 columns (the contract's figures, a note line under a row that needs
one; aligned by :func:`noc.core.text.table`, CJK counted as two); ``wide`` shows every column.
CSV is for spreadsheets: UTF-8 with a BOM (Excel in a Chinese locale reads it right), numbers
only in numeric columns, and the qualifiers ("≥", "no data", "insufficient coverage") in
columns of their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from noc.config import NocConfig
from noc.core.text import display_width, table
from sla.compute import ScopeReport

BOM = "\ufeff"
COLUMNS = (  # key, zh, en
    ("scope", "范围", "scope"),
    ("availability_percent", "可用率%", "availability %"),
    ("operating_hours", "运行时间h", "operating h"),
    ("downtime_seconds", "故障时长s", "downtime s"),
    ("failures", "故障次数(I-III)", "failures (I-III)"),
    ("level_iv", "IV级", "level IV"),
    ("mtbf_hours", "MTBF h", "MTBF h"),
    ("mttr_automatic_seconds", "自动恢复MTTR s", "MTTR auto s"),
    ("mttr_manual_seconds", "手工恢复MTTR s", "MTTR manual s"),
    ("breaches", "超时次数", "breaches"),
    ("alarm_delay_p50_seconds", "告警延迟p50 s", "alarm delay p50 s"),
    ("alarm_delay_max_seconds", "告警延迟max s", "alarm delay max s"),
    ("response_timeliness_percent", "响应及时率%", "response on time %"),
    ("error_budget_remaining_percent", "剩余错误预算%", "error budget left %"),
    ("coverage_percent", "监测覆盖率%", "coverage %"),
    ("monitored_hours", "监测时间h", "monitored h"),
    ("unmonitored_hours", "未监测时间h", "unmonitored h"),
)
# the CSV's qualifier columns: text that belongs next to a number, never inside it
QUALIFIERS = ("mtbf_qualifier", "coverage_status")
STATUS_COLUMN = ("status", "监测状态", "coverage status")
# the terminal table's columns (short headers): the contract's figures and the coverage
NARROW = (
    ("scope", "范围", "scope"),
    ("availability_percent", "可用率%", "avail %"),
    ("coverage_percent", "覆盖率%", "covered %"),
    ("failures", "故障", "failures"),
    ("mtbf_hours", "MTBF h", "MTBF h"),
    ("mttr_automatic_seconds", "自动MTTR s", "MTTR auto s"),
    ("mttr_manual_seconds", "手工MTTR s", "MTTR man s"),
    ("breaches", "超时", "breaches"),
)
TABLE_WIDTH = 100
STATUS_TEXT = {  # status → (zh, en)
    "no_data": ("无监测数据", "no data"),
    "insufficient": ("监测覆盖不足", "insufficient coverage"),
}
REASON_TEXT = {  # unmonitored reason → (zh, en)
    "not_running": ("服务未运行", "service not running"),
    "not_configured": ("检查未配置", "check not configured"),
    "stale": ("结果过期", "results stale"),
}
# what a scope without monitored time shows as "no data" rather than a number
_MEASURES = (
    "availability_percent",
    "downtime_seconds",
    "failures",
    "level_iv",
    "mtbf_hours",
    "mttr_automatic_seconds",
    "mttr_manual_seconds",
    "breaches",
    "alarm_delay_p50_seconds",
    "alarm_delay_max_seconds",
    "response_timeliness_percent",
    "error_budget_remaining_percent",
)


def _iso(value: dt.datetime | None, tz: ZoneInfo | None = None) -> str | None:
    if value is None:
        return None
    return (value.astimezone(tz) if tz else value).isoformat()


def _num(value: float | None, digits: int = 6) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(value, digits)


def report_json(report: ScopeReport, tz: ZoneInfo) -> dict[str, Any]:
    """Every figure of one row; instants in UTC with a site-time twin, durations in seconds.
    Without monitored time the figures are null (``coverage.status`` is ``no_data``)."""
    doc = {
        "scope": report.scope,
        "period": report.window.label,
        "start": _iso(report.window.start),
        "end": _iso(report.window.end),
        "start_local": _iso(report.window.start, tz),
        "end_local": _iso(report.window.end, tz),
        "evaluated_until": _iso(report.evaluated_until),
        "period_seconds": report.period_seconds,
        "maintenance_seconds": report.maintenance_seconds,
        "operating_seconds": report.operating_seconds,
        "downtime_seconds": report.downtime_seconds,
        "availability_ratio": _num(report.availability_ratio, 9),
        "failures": report.failures,
        "level_iv": report.level_iv,
        "mtbf_seconds": _num(report.mtbf_seconds, 3),
        "mtbf_lower_bound": report.mtbf_lower_bound,
        "mtbf_meets_target": report.mtbf_meets_target,
        "mttr_seconds": {k: _num(v, 3) for k, v in report.mttr_seconds.items()},
        "recoveries": report.recoveries,
        "breaches": [
            {
                "incident_id": b.incident_id,
                "kind": b.kind,
                "duration_seconds": b.duration_seconds,
                "target_seconds": b.target_seconds,
            }
            for b in report.breaches
        ],
        "alarm_delay_seconds": {
            "p50": _num(report.alarm_delay_p50_seconds, 3),
            "max": _num(report.alarm_delay_max_seconds, 3),
            "count": report.alarmed,
        },
        # issue 11 (9e): alerts never delivered (open delays, counted above) and muted time apart
        "not_alarmed": [
            {"incident_id": a.incident_id, "open_delay_seconds": _num(a.delay_seconds, 3)}
            for a in report.alarm_lines
            if a.alarmed_at is None
        ],
        "alarm_muted_seconds": _num(report.alarm_muted_seconds, 3),
        # monitored operating time − downtime: what MTBF divides (9a with item 1)
        "up_seconds": report.up_seconds,
        "response": {
            "due": report.responses_due,
            "on_time": report.responses_on_time,
            "timeliness_ratio": _num(report.response_timeliness_ratio),
        },
        "error_budget_seconds": _num(report.error_budget_seconds, 3),
        "error_budget_remaining_ratio": _num(report.error_budget_remaining_ratio),
        "burn_rates": {k: _num(v) for k, v in report.burn_rates.items()},
        "burn_alerts": list(report.burn_alerts),
        "coverage": _coverage_json(report, tz),
        # issue 12: maintenance nobody approved (it muted alerts, the SLA counts its time) and
        # recoveries whose kind rests on a step's overridden intervention flag
        "unapproved_maintenance": [
            {
                "window_id": u.window_id,
                "assets": list(u.assets),
                "start": _iso(u.start),
                "end": _iso(u.end),
                "start_local": _iso(u.start, tz),
                "end_local": _iso(u.end, tz),
                "seconds_in_window": u.seconds_in_window,
            }
            for u in report.unapproved
        ],
        "overridden_recoveries": [
            {
                "incident_id": o.incident_id,
                "recovery_kind": o.recovery_kind,
                "overrides": [
                    {
                        "step": s.step,
                        "intervention": s.intervention,
                        "reason": s.reason,
                        "by": s.by,
                        "at": _iso(s.at),
                    }
                    for s in o.overrides
                ],
            }
            for o in report.overridden
        ],
        "failure_list": [
            {
                "incident_id": f.incident_id,
                "level": f.level,
                "started_at": _iso(f.started_at),
                "started_at_local": _iso(f.started_at, tz),
                "recovered_at": _iso(f.recovered_at),
                "recovery_kind": f.recovery_kind,
                "repair_seconds": f.repair_seconds,
                "downtime_in_window_seconds": f.downtime_in_window_seconds,
            }
            for f in report.failure_lines
        ],
    }
    if _no_data(report):  # never a number, never "meets"
        doc.update(
            availability_ratio=None,
            downtime_seconds=None,
            mtbf_seconds=None,
            mtbf_lower_bound=False,
            mtbf_meets_target=None,
            error_budget_remaining_ratio=None,
            burn_rates={},
            burn_alerts=[],
            up_seconds=None,
            alarm_muted_seconds=None,
            alarm_delay_seconds={**doc["alarm_delay_seconds"], "p50": None, "max": None},
        )
    return doc


def _no_data(report: ScopeReport) -> bool:
    return report.no_data


def _coverage_json(report: ScopeReport, tz: ZoneInfo) -> dict[str, Any] | None:
    cover = report.coverage
    if cover is None:
        return None
    label = STATUS_TEXT.get(cover.status)
    return {
        "status": cover.status,
        "label": {"zh": label[0], "en": label[1]} if label else None,
        "ratio": _num(cover.ratio, 9),
        "threshold_ratio": cover.threshold,
        "scheduled_seconds": cover.scheduled_seconds,
        "monitored_seconds": cover.monitored_seconds,
        "unmonitored_seconds": {**cover.unmonitored_seconds, "total": cover.unmonitored_total},
        "recorded": cover.recorded,
        "found_at_start": [
            {
                "incident_id": f.incident_id,
                "found_at": _iso(f.found_at),
                "found_at_local": _iso(f.found_at, tz),
                "dated_from": _iso(f.dated_from),
                "dated_from_local": _iso(f.dated_from, tz),
            }
            for f in cover.found_at_start
        ],
    }


def document(reports: Sequence[ScopeReport], config: NocConfig, now: dt.datetime) -> dict[str, Any]:
    tz = ZoneInfo(config.sla.timezone)
    targets = config.sla.targets()
    return {
        "site": config.site.name,
        "computed_at": _iso(now),
        "timezone": config.sla.timezone,
        "targets": {
            "availability_objective_ratio": targets.availability_objective_ratio,
            "mtbf_seconds": targets.mtbf_seconds,
            "mttr_seconds": targets.mttr_seconds,
            "coverage_threshold_ratio": targets.coverage_threshold_ratio,
        },
        "rows": [report_json(r, tz) for r in reports],
    }


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 4)


def _flat(report: ScopeReport) -> dict[str, Any]:
    """Machine values: numbers (or None) in the numeric columns, qualifiers apart."""
    cover = report.coverage
    flat: dict[str, Any] = {
        "scope": report.scope,
        "availability_percent": _pct(report.availability_ratio),
        "operating_hours": round(report.operating_seconds / 3600, 3),
        "downtime_seconds": round(report.downtime_seconds, 3),
        "failures": report.failures,
        "level_iv": report.level_iv,
        "mtbf_hours": None if report.mtbf_seconds is None else _down(report.mtbf_seconds / 3600),
        "mttr_automatic_seconds": _num(report.mttr_seconds.get("automatic"), 3),
        "mttr_manual_seconds": _num(report.mttr_seconds.get("manual"), 3),
        "breaches": len(report.breaches),
        "alarm_delay_p50_seconds": _num(report.alarm_delay_p50_seconds, 3),
        "alarm_delay_max_seconds": _num(report.alarm_delay_max_seconds, 3),
        "response_timeliness_percent": _pct(report.response_timeliness_ratio),
        "error_budget_remaining_percent": _pct(report.error_budget_remaining_ratio),
        "coverage_percent": None if cover is None else _pct_down(cover.ratio),
        "monitored_hours": None if cover is None else round(cover.monitored_seconds / 3600, 3),
        "unmonitored_hours": None if cover is None else round(cover.unmonitored_total / 3600, 3),
        "mtbf_qualifier": "≥" if report.mtbf_lower_bound and report.mtbf_seconds else "",
        "coverage_status": STATUS_TEXT[cover.status][1] if cover and cover.status != "ok" else "",
    }
    if _no_data(report):
        flat.update(dict.fromkeys(_MEASURES), mtbf_qualifier="")
    return flat


def _pct_down(ratio: float | None) -> str | None:
    """A coverage percentage truncated to four decimals: 98.99999 % must not read as 99 %."""
    if ratio is None:
        return None
    value = Decimal(repr(ratio * 100)).quantize(Decimal("0.0001"), rounding=ROUND_FLOOR)
    return f"{value.normalize():f}"


def _status(report: ScopeReport, lang: str) -> str:
    """ "无监测数据 no data" / "监测覆盖不足 insufficient coverage" (en: the English only); ok: ""."""
    cover = report.coverage
    if cover is None or cover.status not in STATUS_TEXT:
        return ""
    zh, en = STATUS_TEXT[cover.status]
    return en if lang.startswith("en") else f"{zh} {en}"


def _cells(report: ScopeReport, lang: str) -> dict[str, str]:
    """What a person reads: "-" for nothing, the MTBF with its "≥", the coverage status."""
    flat = _flat(report)
    cells = {k: _cell(v) for k, v in flat.items()}
    if flat["mtbf_hours"] is not None:
        cells["mtbf_hours"] = flat["mtbf_qualifier"] + flat["mtbf_hours"]
    cells["status"] = _status(report, lang)
    return cells


def _down(hours: float) -> str:
    """Three decimals, truncated: 599.9997 h must not read as 600.000 next to a missed 600 h target
    (and a lower bound stays a lower bound)."""
    return f"{Decimal(repr(hours)).quantize(Decimal('0.001'), rounding=ROUND_FLOOR):f}"


def _up(seconds: float) -> str:
    """A breach's seconds rounded up to the millisecond, without an exponent: 900.000001 s over a
    900 s target reads ``900.001``, never ``900``; 1,209,600 s reads ``1209600``, not ``1.2096e+06``."""
    text = f"{Decimal(repr(seconds)).quantize(Decimal('0.001'), rounding=ROUND_CEILING):f}"
    return text.rstrip("0").rstrip(".")


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def render_csv(reports: Sequence[ScopeReport]) -> str:
    """Machine columns (English keys), one row per scope, ``period`` first; UTF-8 with a BOM.
    Numeric columns hold a number or nothing; "≥" and the coverage status have their own."""
    keys = [key for key, _, _ in COLUMNS] + list(QUALIFIERS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period", *keys])
    for r in reports:
        flat = _flat(r)
        writer.writerow([r.window.label] + ["" if flat[k] is None else flat[k] for k in keys])
    return BOM + out.getvalue()


def _headers(columns: Sequence[tuple[str, str, str]], lang: str) -> list[str]:
    return [en if lang.startswith("en") else zh for _, zh, en in columns]


def _fit(first: str, rest: str, indent: str = "  ", width: int = TABLE_WIDTH - 2) -> list[str]:
    """``first  rest`` on one line if it fits (a section's lines are indented by 2), else two."""
    line = f"{first}  {rest}"
    return [line] if display_width(line) <= width else [first, indent + rest]


def _breach_lines(reports: Sequence[ScopeReport], lang: str, fit: bool = True) -> list[str]:
    """One per breach; a row without monitored time or under the threshold says so on each
    (``fit``: two lines when one would pass 100 columns)."""
    en = lang.startswith("en")
    kinds = {"automatic": "自动恢复", "manual": "手工恢复", "open": "仍未恢复"}
    lines = []
    for r in reports:
        status = _status(r, lang)
        for b in r.breaches:
            kind = b.kind if en else kinds.get(b.kind, b.kind)
            text = (
                f"#{b.incident_id}  {kind}  {_up(b.duration_seconds)}s > {_up(b.target_seconds)}s"
            )
            text += f"  {status}" if status else ""
            lines += _fit(r.scope, text) if fit else [f"{r.scope}  {text}"]
    return lines


def _not_alarmed_lines(reports: Sequence[ScopeReport], lang: str, fit: bool = True) -> list[str]:
    """Issue 11 (9e): incidents whose alert was never delivered, with their open delay (a lower
    bound). A row without monitored time or under the coverage threshold says so on each line,
    as its figures do (``fit``: two lines when one would pass 100 columns)."""
    lines = []
    for r in reports:
        status = _status(r, lang)
        for a in r.alarm_lines:
            if a.alarmed_at is not None:
                continue
            text = f"#{a.incident_id}  ≥{_up(a.delay_seconds)}s" + (f"  {status}" if status else "")
            lines += _fit(r.scope, text) if fit else [f"{r.scope}  {text}"]
    return lines


def _coverage_notes(report: ScopeReport, lang: str) -> list[str]:
    """Under a row that needs it: its coverage status, and the unmonitored time by reason."""
    cover = report.coverage
    if cover is None or cover.status == "ok":
        return []
    en = lang.startswith("en")
    label = _status(report, lang)
    threshold = f"{cover.threshold * 100:g}"
    if cover.no_data:
        first = (
            f"{label}: nothing was monitored in this period"
            if en
            else f"{label}：本周期没有监测时间"
        )
    else:
        covered = _pct_down(cover.ratio)
        first = (
            f"{label}: {covered} % monitored, under the {threshold} % threshold"
            if en
            else f"{label}：监测覆盖 {covered}%，低于阈值 {threshold}%"
        )
    reasons = [
        f"{REASON_TEXT[k][1 if en else 0]} {v / 3600:.3f} h"
        for k, v in cover.unmonitored_seconds.items()
        if v > 0
    ]
    lines = [first]
    if reasons:
        total = f"{cover.unmonitored_total / 3600:.3f} h"
        head = f"unmonitored {total}: " if en else f"未监测 {total}："
        line = head + (", " if en else "，").join(reasons)
        # one reason a line when all do not fit (the table indents a note by 4)
        lines += (
            [line]
            if display_width(line) <= TABLE_WIDTH - 4
            else [head.rstrip()] + ["  " + r for r in reasons]
        )
    return lines


def _found_lines(reports: Sequence[ScopeReport], tz: ZoneInfo, lang: str) -> list[str]:
    """Faults found present when monitoring resumed, once each, with the start they are given."""
    en = lang.startswith("en")
    seen: dict[int, Any] = {}
    for r in reports:
        for f in r.coverage.found_at_start if r.coverage else ():
            seen.setdefault(f.incident_id, f)
    lines = []
    for f in seen.values():
        found = _local(f.found_at, tz)
        if f.dated_from is not None:
            dated = _local(f.dated_from, tz)
            text = (
                f"found {found}; dated from the last good observation, {dated}"
                if en
                else f"发现于 {found}，按中断前最后一次正常观测计起：{dated}"
            )
        else:
            text = (
                f"found {found}, present when monitoring began (no earlier observation)"
                if en
                else f"发现于 {found}，监测开始时已存在（此前无观测）"
            )
        lines += _fit(f"#{f.incident_id}", text)
    return lines


def _local(value: dt.datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _unapproved_lines(reports: Sequence[ScopeReport], tz: ZoneInfo) -> list[str]:
    """Issue 12: windows that muted alerts but were never approved (their time is not excused)."""
    return [
        f"{r.scope}  #{u.window_id}  {','.join(u.assets)}  "
        f"{u.start.astimezone(tz):%Y-%m-%d %H:%M} → {u.end.astimezone(tz):%Y-%m-%d %H:%M}"
        for r in reports
        for u in r.unapproved
    ]


def _override_lines(reports: Sequence[ScopeReport]) -> list[str]:
    """Issue 12: recoveries whose kind rests on an overridden intervention flag, with why."""
    out = []
    for r in reports:
        for o in r.overridden:
            steps = "; ".join(
                f"{s.step}={'intervention' if s.intervention else 'no intervention'} "
                f"by {s.by}: {s.reason}"
                for s in o.overrides
            )
            out.append(f"{r.scope}  #{o.incident_id}  {o.recovery_kind or '-'}  {steps}")
    return out


def _extra_sections(
    reports: Sequence[ScopeReport], config: NocConfig, lang: str
) -> list[tuple[str, list[str]]]:
    en = lang.startswith("en")
    tz = ZoneInfo(config.sla.timezone)
    return [
        (
            "unapproved maintenance (not excused):"
            if en
            else "未审批维护（不扣除）unapproved maintenance:",
            _unapproved_lines(reports, tz),
        ),
        (
            "overridden recoveries:" if en else "人工干预标记被改动的恢复 overridden recoveries:",
            _override_lines(reports),
        ),
    ]


def _title_lines(reports: Sequence[ScopeReport], config: NocConfig, lang: str) -> list[str]:
    """The period on one line, the targets and the coverage rule on the next."""
    tz = ZoneInfo(config.sla.timezone)
    w = reports[0].window if reports else None
    span = f"{w.label}  [{_iso(w.start, tz)} → {_iso(w.end, tz)})" if w else ""
    objective = config.sla.availability_objective * 100
    mtbf = config.sla.mtbf_target / 3600
    threshold = config.sla.coverage.threshold * 100
    if lang.startswith("en"):
        return [
            f"SLA report {config.site.name} {span}",
            f"(objective {objective:g} %, MTBF target > {mtbf:g} h, coverage threshold "
            f"{threshold:g} %; figures count monitored time only)",
        ]
    return [
        f"SLA 报表 {config.site.name} {span}",
        f"（可用率目标 {objective:g}%，MTBF 目标 > {mtbf:g} h，监测覆盖阈值 {threshold:g}%；"
        "各项指标只计监测时间）",
    ]


def _title(reports: Sequence[ScopeReport], config: NocConfig, lang: str) -> str:
    return " ".join(_title_lines(reports, config, lang))


def _sections(reports: Sequence[ScopeReport], config: NocConfig, lang: str) -> list[str]:
    """Below the table: the breaches, the alerts never delivered, then the faults found present
    when monitoring resumed."""
    en = lang.startswith("en")
    breaches = _breach_lines(reports, lang)
    lines = ["", ("breaches:" if en else "超时明细 breaches:") + ("" if breaches else " -")]
    lines += ["  " + b for b in breaches]
    if unalarmed := _not_alarmed_lines(reports, lang):
        lines.append("not alarmed:" if en else "未送达告警 not alarmed:")
        lines += ["  " + u for u in unalarmed]
    found = _found_lines(reports, ZoneInfo(config.sla.timezone), lang)
    if found:
        lines.append("found when monitoring resumed:" if en else "监测恢复时已存在的故障:")
        lines += ["  " + f for f in found]
    for heading, items in _extra_sections(reports, config, lang):
        if items:
            lines.append(heading)
            lines += ["  " + i for i in items]
    return lines


def render_table(
    reports: Sequence[ScopeReport], config: NocConfig, lang: str = "zh-CN", wide: bool = False
) -> str:
    """For a terminal: scopes as rows, then the breaches, the alerts never delivered and the
    faults found at restart, one per line. Within 100 columns: the contract's figures, a scope too
    long for its column on a line of its own, a coverage note under a row that needs one (the
    columns aligned by :func:`noc.core.text.table`). ``wide``: every column, one line a scope."""
    if wide:
        return _wide_table(reports, config, lang)
    headers = _headers(NARROW, lang)
    rows = [[c[k] for k, _, _ in NARROW] for c in (_cells(r, lang) for r in reports)]
    # the figures' columns as wide as they need; the scope gets what is left of the 100
    rest = [max(display_width(row[i]) for row in [headers, *rows]) for i in range(1, len(NARROW))]
    room = max(display_width(headers[0]), TABLE_WIDTH - sum(rest) - 2 * len(rest))
    alone = [display_width(row[0]) > room for row in rows]  # on a line of its own, figures under
    body = table(
        headers, [["", *row[1:]] if long else row for row, long in zip(rows, alone, strict=True)]
    )
    lines = [*_title_lines(reports, config, lang), body[0]]
    for r, row, long, line in zip(reports, rows, alone, body[1:], strict=True):
        lines += [row[0]] if long else []
        lines.append(line)
        lines += ["    " + note for note in _coverage_notes(r, lang)]
    return "\n".join(lines + _sections(reports, config, lang))


def _wide_table(reports: Sequence[ScopeReport], config: NocConfig, lang: str) -> str:
    columns = (*COLUMNS, STATUS_COLUMN)
    rows = [[c[k] for k, _, _ in columns] for c in (_cells(r, lang) for r in reports)]
    lines = [_title(reports, config, lang), *table(_headers(columns, lang), rows)]
    return "\n".join(lines + _sections(reports, config, lang))


def render_md(reports: Sequence[ScopeReport], config: NocConfig, lang: str = "zh-CN") -> str:
    columns = (*COLUMNS, STATUS_COLUMN)
    headers = _headers(columns, lang)
    en = lang.startswith("en")
    lines = [
        f"# {_title(reports, config, lang)}",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    for r in reports:
        cells = _cells(r, lang)
        lines.append("| " + " | ".join(cells[k] or "-" for k, _, _ in columns) + " |")
    notes = [(r.scope, _coverage_notes(r, lang)) for r in reports]
    notes = [f"- {scope}: " + "; ".join(n) for scope, n in notes if n]
    if notes:
        lines += ["", "## " + ("Monitoring coverage" if en else "监测覆盖"), "", *notes]
    breaches = _breach_lines(reports, lang, fit=False)
    lines += ["", "## " + ("Breaches" if en else "超时明细"), ""]
    lines += [f"- {b}" for b in breaches] or ["- " + ("none" if en else "无")]
    if unalarmed := _not_alarmed_lines(reports, lang, fit=False):
        lines += ["", "## " + ("Not alarmed" if en else "未送达告警"), ""]
        lines += [f"- {u}" for u in unalarmed]
    found = _found_lines(reports, ZoneInfo(config.sla.timezone), lang)
    if found:
        lines += ["", "## " + ("Found when monitoring resumed" if en else "监测恢复时已存在的故障")]
        lines += ["", *(f"- {f.strip()}" for f in found)]
    for heading, items in _extra_sections(reports, config, lang):
        if items:
            lines += ["", "## " + heading.rstrip(":"), ""]
            lines += [f"- {i}" for i in items]
    return "\n".join(lines) + "\n"


def render(
    reports: Sequence[ScopeReport],
    config: NocConfig,
    fmt: str,
    lang: str,
    now: dt.datetime,
    wide: bool = False,
) -> str:
    if fmt == "json":
        return json.dumps(document(reports, config, now), ensure_ascii=False, indent=1)
    if fmt == "csv":
        return render_csv(reports)
    if fmt == "md":
        return render_md(reports, config, lang)
    return render_table(reports, config, lang, wide)
