"""The SLA's I/O edge: read the event log from the store, hand it to :mod:`sla.compute`, render.

One query per table (incidents, their opened/regraded/merged events, check transitions,
maintenance windows) bounded by the widest window asked for, then pure computation for every
(scope, window) pair — so the metrics snapshot of ~30 scopes × 2 windows costs four queries.
Renderings: a terminal table (zh-CN by default, ``en``), JSON, CSV and Markdown.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from noc.config import AnyOf, NocConfig
from noc.core.text import table
from noc.store.repo import Store
from noc.store.tables import CheckTransition, Incident, IncidentEvent, MaintenanceWindow
from sla.compute import (
    LOOKBACK_SECONDS,
    IncidentFact,
    Inputs,
    MaintenanceFact,
    Need,
    Scope,
    ScopeReport,
    TransitionFact,
    compute,
)
from sla.gauges import SlaSnapshot
from sla.intervals import Window, current_month, rolling

SCOPE_KINDS = ("site", "service", "asset")


class ScopeError(ValueError):
    """A ``--scope`` that cannot be read (not ``kind:name``)."""


class UnknownScope(LookupError):
    """A well-formed scope naming a site, service or asset the inventory does not have."""


# -- scopes ---------------------------------------------------------------------------------


def _upstream(config: NocConfig, names: Iterable[str]) -> frozenset[str]:
    """``names`` and every asset they depend on (planned work there is planned downtime here)."""
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen or name not in config.assets_by_name:
            continue
        seen.add(name)
        stack.extend(config.asset(name).depends_on)
    return frozenset(seen)


def upstream_map(config: NocConfig) -> dict[str, frozenset[str]]:
    """Every asset → itself and what it depends on: maintenance there covers its failures."""
    return {name: _upstream(config, [name]) for name in config.assets_by_name}


def _service_needs(config: NocConfig, service: Any) -> tuple[Need, ...]:
    """A hard need is one alternative; an ``any_of`` group is down by plan only when every member is."""
    return tuple(
        tuple(_upstream(config, [m]) for m in (need.any_of if isinstance(need, AnyOf) else [need]))
        for need in service.needs
    )


def site_scope(config: NocConfig) -> Scope:
    """The site is down by plan while maintenance takes at least one of its services down by plan
    (without services: while any asset is under maintenance)."""
    if not config.services:
        return Scope(
            "site",
            config.site.name,
            frozenset(config.assets_by_name),
            None,
            tuple((_upstream(config, [a]),) for a in sorted(config.assets_by_name)),
        )
    needed = _upstream(config, (a for s in config.services for a in s.asset_names()))
    needs = tuple(need for s in config.services for need in _service_needs(config, s))
    return Scope(
        "site", config.site.name, needed, frozenset(s.name for s in config.services), needs
    )


def service_scope(config: NocConfig, name: str) -> Scope:
    service = next((s for s in config.services if s.name == name), None)
    if service is None:
        raise UnknownScope(
            f"unknown service {name!r}; known: {', '.join(s.name for s in config.services) or 'none'}"
        )
    return Scope(
        "service",
        name,
        _upstream(config, service.asset_names()),
        frozenset({name}),
        _service_needs(config, service),
    )


def asset_scope(config: NocConfig, name: str) -> Scope:
    """Down by plan under maintenance of the asset or of anything upstream of it."""
    if name not in config.assets_by_name:
        raise UnknownScope(f"unknown asset {name!r}")
    return Scope("asset", name, frozenset({name}), frozenset(), ((_upstream(config, [name]),),))


def parse_scope(config: NocConfig, text: str | None) -> list[Scope]:
    """``None`` → the site and every service; ``all`` → also every asset with a check;
    ``site[:NAME]``, ``service:NAME``, ``asset:NAME`` → that one scope."""
    if text is None or text.strip() == "":
        return [site_scope(config)] + [service_scope(config, s.name) for s in config.services]
    value = text.strip()
    if value == "all":
        return all_scopes(config)
    kind, _, name = value.partition(":")
    if kind not in SCOPE_KINDS or (kind != "site" and not name):
        raise ScopeError(f"cannot read scope {text!r}; use site, service:NAME, asset:NAME or all")
    if kind == "site":
        if name and name != config.site.name:
            raise UnknownScope(
                f"unknown site {name!r}; this inventory is site {config.site.name!r}"
            )
        return [site_scope(config)]
    return [service_scope(config, name) if kind == "service" else asset_scope(config, name)]


def all_scopes(config: NocConfig) -> list[Scope]:
    """The site, every service and every asset with an enabled check."""
    checked = dict.fromkeys(asset.name for asset, _ in config.iter_checks())
    return (
        [site_scope(config)]
        + [service_scope(config, s.name) for s in config.services]
        + [asset_scope(config, name) for name in checked]
    )


# -- loading --------------------------------------------------------------------------------


def _names(services: Any) -> set[str]:
    """Service names from an impact's ``services`` (dicts ``{"service": …}`` or plain names)."""
    out: set[str] = set()
    for entry in services or ():
        if isinstance(entry, str):
            out.add(entry)
        elif isinstance(entry, dict) and entry.get("service"):
            out.add(str(entry["service"]))
    return out


def _runbook(row: Incident, runbooks: Any) -> Any:
    if runbooks is None:
        return None
    try:
        return runbooks.get(row.runbook) if row.runbook else runbooks.for_fault(row.fault_type)
    except KeyError:
        return None


def _ack_deadline(runbook: Any, level: str | None) -> float | None:
    try:
        return runbook.deadline(level).acknowledge if runbook is not None and level else None
    except KeyError:
        return None


def _ack_deadlines(
    runbook: Any, gradings: list[tuple[dt.datetime, str]]
) -> tuple[tuple[dt.datetime, float], ...]:
    """(since, acknowledge seconds) for the severity at detection and after each regrade."""
    out = []
    for at, level in sorted(gradings, key=lambda g: g[0]):
        seconds = _ack_deadline(runbook, level)
        if seconds is not None:
            out.append((at, seconds))
    return tuple(out)


async def load_inputs(
    store: Store,
    start: dt.datetime,
    end: dt.datetime,
    runbooks: Any = None,
    planned_until: dt.datetime | None = None,
) -> Inputs:
    """Everything that can touch ``[start, end)``: one query per table. Maintenance is read up to
    ``planned_until`` (a period's end): planned windows still to come shape its error budget."""
    touching = and_(
        Incident.fault_started_at < end,
        or_(
            Incident.recovered_at >= start,
            and_(
                Incident.recovered_at.is_(None),
                or_(Incident.closed_at.is_(None), Incident.closed_at >= start),
            ),
        ),
    )
    ids = select(Incident.id).where(touching)
    last_before = (
        select(func.max(CheckTransition.id))
        .where(CheckTransition.at < start)
        .group_by(CheckTransition.asset, CheckTransition.check)
    )
    async with store.sessions() as session:
        rows = (await session.scalars(select(Incident).where(touching).order_by(Incident.id))).all()
        events = (
            await session.execute(
                select(
                    IncidentEvent.incident_id,
                    IncidentEvent.kind,
                    IncidentEvent.at,
                    IncidentEvent.data,
                )
                .where(
                    IncidentEvent.incident_id.in_(ids),
                    IncidentEvent.kind.in_(("opened", "graded", "regraded", "merged")),
                )
                .order_by(IncidentEvent.incident_id, IncidentEvent.seq)
            )
        ).all()
        transitions = (
            await session.scalars(
                select(CheckTransition)
                .where(
                    CheckTransition.at < end,
                    or_(CheckTransition.at >= start, CheckTransition.id.in_(last_before)),
                )
                .order_by(CheckTransition.at, CheckTransition.id)
            )
        ).all()
        windows = (
            await session.scalars(
                select(MaintenanceWindow).where(
                    MaintenanceWindow.starts_at < max(end, planned_until or end),
                    MaintenanceWindow.ends_at > start,
                )
            )
        ).all()

    services: dict[int, set[str]] = defaultdict(set)
    gradings: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    merged: set[int] = set()
    for incident_id, kind, at, data in events:
        data = data or {}
        if kind == "merged":
            merged.add(incident_id)
        elif kind == "graded" and data.get("severity"):
            gradings[incident_id].append((at, str(data["severity"])))
        elif kind == "regraded" and data.get("to"):
            gradings[incident_id].append((at, str(data["to"])))
        services[incident_id] |= _names(data.get("services"))
    incidents = []
    for row in rows:
        impact = row.impact or {}
        runbook = _runbook(row, runbooks)
        incidents.append(
            IncidentFact(
                id=row.id,
                fault_started_at=row.fault_started_at,
                detected_at=row.detected_at,
                peak_severity=row.peak_severity,
                root_asset=row.root_asset,
                recovered_at=row.recovered_at,
                recovery_kind=row.recovery_kind,
                members=frozenset(impact.get("members") or ()),
                services=frozenset(services[row.id] | _names(impact.get("services"))),
                parent_id=row.parent_id,
                merged=row.id in merged or (row.close_note or "").startswith("merged into"),
                alarmed_at=row.alarmed_at,
                acknowledged_at=row.acknowledged_at,
                closed_at=row.closed_at,
                ack_deadline_seconds=_ack_deadline(
                    runbook, row.peak_severity
                ),  # without a grading event
                ack_deadlines=_ack_deadlines(runbook, gradings[row.id]),
            )
        )
    return Inputs(
        incidents=tuple(incidents),
        transitions=tuple(
            TransitionFact(t.asset, t.check, t.from_state, t.to_state, t.at) for t in transitions
        ),
        maintenance=tuple(
            MaintenanceFact(
                w.id, frozenset(w.assets or ()), w.starts_at, w.ends_at, w.ended_at, w.created_at
            )
            for w in windows
        ),
    )


async def build(
    store: Store,
    config: NocConfig,
    runbooks: Any,
    windows: Sequence[Window],
    scopes: Sequence[Scope],
    now: dt.datetime,
) -> list[ScopeReport]:
    """One report row per (window, scope)."""
    longest = dt.timedelta(
        seconds=max(LOOKBACK_SECONDS.values())
    )  # burn rates look back from the end
    start = min(min(w.start, min(w.end, now) - longest) for w in windows)
    end = max(min(w.end, now) for w in windows)
    inputs = await load_inputs(store, start, max(end, start), runbooks, max(w.end for w in windows))
    inputs = dataclasses.replace(inputs, upstream=upstream_map(config))
    targets = config.sla.targets()
    # pure but CPU-bound (about 1 s for 1,000 asset scopes): off the event loop
    return await asyncio.to_thread(
        lambda: [
            compute(inputs, scope, window, targets, now) for window in windows for scope in scopes
        ]
    )


async def current_snapshot(
    store: Store, config: NocConfig, runbooks: Any, now: dt.datetime
) -> SlaSnapshot:
    """For the metrics collector: the current Asia/Shanghai month so far and the rolling 30 days,
    for the site, every service and every asset with a check."""
    tz = ZoneInfo(config.sla.timezone)
    named = {"month": current_month(now, tz), "30d": rolling(now, 30)}
    reports = await build(store, config, runbooks, list(named.values()), all_scopes(config), now)
    by_label = {w.label: name for name, w in named.items()}
    rows = tuple(r.gauges(config.site.name, by_label[r.window.label]) for r in reports)
    return SlaSnapshot(computed_at=now, targets=config.sla.targets(), rows=rows)


# -- rendering ------------------------------------------------------------------------------

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
        "response": {
            "due": report.responses_due,
            "on_time": report.responses_on_time,
            "timeliness_ratio": _num(report.response_timeliness_ratio),
        },
        "error_budget_seconds": _num(report.error_budget_seconds, 3),
        "error_budget_remaining_ratio": _num(report.error_budget_remaining_ratio),
        "burn_rates": {k: _num(v) for k, v in report.burn_rates.items()},
        "burn_alerts": list(report.burn_alerts),
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
