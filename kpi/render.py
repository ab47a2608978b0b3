"""The report as data (JSON-ready) and as table / CSV / Markdown text. Pure."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from kpi.compute import Context, Figure, compute
from kpi.correlation import Correlation, correlate
from kpi.model import NAMES
from kpi.score import Scorecard, scorecard


def figure_data(fig: Figure) -> dict:
    zh, en = NAMES[fig.id]
    return {
        "id": fig.id,
        "name_zh": zh,
        "name_en": en,
        "status": fig.status,
        "numerator": fig.numerator,
        "denominator": fig.denominator,
        "value": None if fig.value is None else round(fig.value, 6),
        "count": fig.count,
        "records": fig.records,
        "notes": fig.notes,
    }


def correlation_data(corr: Correlation) -> dict:
    def rate(pair):
        return {
            "answered": pair[0],
            "offered": pair[1],
            "value": pair[0] / pair[1] if pair[1] else None,
        }

    return {
        "incidents": [
            {**asdict(i), "start": i.start.isoformat(), "end": i.end.isoformat()}
            for i in corr.incidents
        ],
        "answer_rate": rate(corr.answer_rate_all),
        "answer_rate_outside_incidents": rate(corr.answer_rate_outside),
    }


def scorecard_data(card: Scorecard) -> dict:
    return {
        "items": [asdict(p) for p in card.items],
        "base": card.base,
        "bonus": card.bonus,
        "total": card.total,
    }


def report_data(facts, window, as_of, scope, rules, tz) -> dict:
    """The figures, the scorecard and (for the site) the correlation for one window, scope and
    as-of: what ``noc kpi report --format json`` prints and the monthly report shows."""
    figures = compute(facts, window, as_of, scope, rules, tz)
    data = {
        "period": window.label,
        "scope": scope.label,
        "as_of": as_of.astimezone(tz).isoformat(),
        "figures": [figure_data(f) for f in figures],
        "scorecard": scorecard_data(scorecard(figures, rules)),
    }
    if scope.kind == "site":
        data["correlation"] = correlation_data(
            correlate(facts, Context(window, as_of, scope, rules, tz))
        )
    return data


def _shown(f: dict) -> str:
    if f["status"] != "ok":
        return {"no_data": "无数据 no data", "n/a": "不适用 n/a"}[f["status"]]
    if f["denominator"] is not None and f["value"] is not None and f["id"] not in ("staffing",):
        return f"{f['value'] * 100:.2f}% ({f['numerator']}/{f['denominator']})"
    return str(f["count"])


def render_report(data: dict, fmt: str) -> str:
    """``data``: {period, scope, as_of, figures: [figure_data], correlation?}."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    rows = [(f["id"], f["name_zh"], f["name_en"], _shown(f)) for f in data["figures"]]
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(
            ["id", "name_zh", "name_en", "status", "numerator", "denominator", "value", "count"]
        )
        for f in data["figures"]:
            w.writerow(
                [
                    f["id"],
                    f["name_zh"],
                    f["name_en"],
                    f["status"],
                    f["numerator"],
                    f["denominator"],
                    f["value"],
                    f["count"],
                ]
            )
        return out.getvalue()
    head = f"{data['period']} · {data['scope']} · as of {data['as_of']}"
    if fmt == "md":
        lines = [f"## {head}", "", "| id | 指标 | indicator | figure |", "|---|---|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
        return "\n".join(lines) + "\n"
    lines = [head] + [f"{b:<14} {c:<30} {d}" for _, b, c, d in rows]
    return "\n".join(lines) + "\n"


def render_scorecard(data: dict, fmt: str, lang: str = "zh-CN") -> str:
    card = data["scorecard"]
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    why = "why_zh" if lang == "zh-CN" else "why_en"
    lines = [
        f"{data['period']} · 总分 total {card['total']:g} = {card['base']:g} + {card['bonus']:g}"
    ]
    for p in card["items"]:
        zh, en = NAMES[p["id"]]
        got = "—" if p["points"] is None else f"{p['points']:g}"
        lines.append(f"{zh if lang == 'zh-CN' else en}: {got}/{p['max']:g}  {p[why]}")
    return "\n".join(lines) + "\n"
