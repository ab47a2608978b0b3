"""SLA reports as text: a terminal table (zh-CN by default, ``en``), JSON, CSV and Markdown.

Pure: rows of :class:`sla.compute.ScopeReport` and the config in, a string (or the JSON
document) out. Figures are rounded here and only here, each in the direction that never
flatters: an MTBF truncated, a breach's duration rounded up.
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
from noc.core.text import table
from sla.compute import ScopeReport

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
    """Every figure of one row; instants in UTC with a site-time twin, durations in seconds."""
    return {
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
        "up_seconds": report.up_seconds,  # operating − downtime: what MTBF divides (9a)
        "response": {
            "due": report.responses_due,
            "on_time": report.responses_on_time,
            "timeliness_ratio": _num(report.response_timeliness_ratio),
        },
        "error_budget_seconds": _num(report.error_budget_seconds, 3),
        "error_budget_remaining_ratio": _num(report.error_budget_remaining_ratio),
        "burn_rates": {k: _num(v) for k, v in report.burn_rates.items()},
        "burn_alerts": list(report.burn_alerts),
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
        },
        "rows": [report_json(r, tz) for r in reports],
    }


def _flat(report: ScopeReport) -> dict[str, Any]:
    def pct(value: float | None) -> float | None:
        return None if value is None else round(value * 100, 4)

    return {
        "scope": report.scope,
        "availability_percent": pct(report.availability_ratio),
        "operating_hours": round(report.operating_seconds / 3600, 3),
        "downtime_seconds": round(report.downtime_seconds, 3),
        "failures": report.failures,
        "level_iv": report.level_iv,
        "mtbf_hours": None
        if report.mtbf_seconds is None
        else ("≥" if report.mtbf_lower_bound else "") + _down(report.mtbf_seconds / 3600),
        "mttr_automatic_seconds": _num(report.mttr_seconds.get("automatic"), 3),
        "mttr_manual_seconds": _num(report.mttr_seconds.get("manual"), 3),
        "breaches": len(report.breaches),
        "alarm_delay_p50_seconds": _num(report.alarm_delay_p50_seconds, 3),
        "alarm_delay_max_seconds": _num(report.alarm_delay_max_seconds, 3),
        "response_timeliness_percent": pct(report.response_timeliness_ratio),
        "error_budget_remaining_percent": pct(report.error_budget_remaining_ratio),
    }


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
    """Machine columns (English keys), one row per scope, ``period`` first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period"] + [key for key, _, _ in COLUMNS])
    for r in reports:
        flat = _flat(r)
        writer.writerow(
            [r.window.label] + ["" if flat[k] is None else flat[k] for k, _, _ in COLUMNS]
        )
    return out.getvalue()


def _headers(lang: str) -> list[str]:
    return [en if lang.startswith("en") else zh for _, zh, en in COLUMNS]


def _breach_lines(reports: Sequence[ScopeReport], lang: str) -> list[str]:
    en = lang.startswith("en")
    kinds = {"automatic": "自动恢复", "manual": "手工恢复", "open": "仍未恢复"}
    lines = []
    for r in reports:
        for b in r.breaches:
            kind = b.kind if en else kinds.get(b.kind, b.kind)
            lines.append(
                f"{r.scope}  #{b.incident_id}  {kind}  {_up(b.duration_seconds)}s > {_up(b.target_seconds)}s"
            )
    return lines


def _not_alarmed_lines(reports: Sequence[ScopeReport]) -> list[str]:
    """Issue 11 (9e): incidents whose alert was never delivered, with their open delay."""
    return [
        f"{r.scope}  #{a.incident_id}  ≥{_up(a.delay_seconds)}s"
        for r in reports
        for a in r.alarm_lines
        if a.alarmed_at is None
    ]


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


def _title(reports: Sequence[ScopeReport], config: NocConfig, lang: str) -> str:
    tz = ZoneInfo(config.sla.timezone)
    w = reports[0].window if reports else None
    span = f"{w.label}  [{_iso(w.start, tz)} → {_iso(w.end, tz)})" if w else ""
    objective = config.sla.availability_objective * 100
    mtbf = config.sla.mtbf_target / 3600
    if lang.startswith("en"):
        return f"SLA report {config.site.name} {span}  (objective {objective:g} %, MTBF target > {mtbf:g} h)"
    return (
        f"SLA 报表 {config.site.name} {span}（可用率目标 {objective:g}%，MTBF 目标 > {mtbf:g} h）"
    )


def render_table(reports: Sequence[ScopeReport], config: NocConfig, lang: str = "zh-CN") -> str:
    """For a terminal: scopes as rows, then the breaches listed one per line."""
    headers = _headers(lang)
    rows = [[_cell(_flat(r)[k]) for k, _, _ in COLUMNS] for r in reports]
    lines = [_title(reports, config, lang), *table(headers, rows)]
    breaches = _breach_lines(reports, lang)
    lines.append("")
    lines.append(
        ("breaches:" if lang.startswith("en") else "超时明细 breaches:")
        + ("" if breaches else " -")
    )
    lines += ["  " + b for b in breaches]
    if unalarmed := _not_alarmed_lines(reports):
        lines.append("not alarmed:" if lang.startswith("en") else "未送达告警 not alarmed:")
        lines += ["  " + u for u in unalarmed]
    for heading, items in _extra_sections(reports, config, lang):
        if items:
            lines.append(heading)
            lines += ["  " + i for i in items]
    return "\n".join(lines)


def render_md(reports: Sequence[ScopeReport], config: NocConfig, lang: str = "zh-CN") -> str:
    headers = _headers(lang)
    lines = [
        f"# {_title(reports, config, lang)}",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    for r in reports:
        flat = _flat(r)
        lines.append("| " + " | ".join(_cell(flat[k]) for k, _, _ in COLUMNS) + " |")
    breaches = _breach_lines(reports, lang)
    lines += ["", "## " + ("Breaches" if lang.startswith("en") else "超时明细"), ""]
    lines += [f"- {b}" for b in breaches] or ["- " + ("none" if lang.startswith("en") else "无")]
    if unalarmed := _not_alarmed_lines(reports):
        lines += ["", "## " + ("Not alarmed" if lang.startswith("en") else "未送达告警"), ""]
        lines += [f"- {u}" for u in unalarmed]
    for heading, items in _extra_sections(reports, config, lang):
        if items:
            lines += ["", "## " + heading.rstrip(":"), ""]
            lines += [f"- {i}" for i in items]
    return "\n".join(lines) + "\n"


def render(
    reports: Sequence[ScopeReport], config: NocConfig, fmt: str, lang: str, now: dt.datetime
) -> str:
    if fmt == "json":
        return json.dumps(document(reports, config, now), ensure_ascii=False, indent=1)
    if fmt == "csv":
        return render_csv(reports)
    if fmt == "md":
        return render_md(reports, config, lang)
    return render_table(reports, config, lang)
