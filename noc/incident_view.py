"""How an incident is presented to operators (API JSON and CLI text): one place, two renderings.

An incident is shown with its timeline and its runbook with progress: which steps were done
(by whom, when), which are next, and whether the acknowledge/recover deadlines of its
severity are met.

Times: the JSON gives every instant twice, ``key`` as an ISO UTC instant (what programs
compare) and ``key_local`` in the site's zone (config ``site.timezone``, Asia/Shanghai), and
names the zone once (``timezone``). The text shows site time only, the zone once in the header,
because an operator reading "故障开始" in UTC next to "发现" in local time misreads the delay.
The timeline is in the order things happened (time, then seq for equal times): events are
appended as they are written, and a probe's result, an automated step's output or a delivered
alert is often written after something that happened later.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from noc.core.vocabulary import LEVEL_NAMES
from noc.store.tables import Incident, IncidentEvent

STATUS_ZH = {"open": "未确认", "acknowledged": "已确认", "recovered": "已恢复", "closed": "已关闭"}
EVENT_ZH = {
    "opened": "发现故障",
    "graded": "定级",
    "regraded": "重新定级",
    "symptom_attached": "关联衍生告警",
    "symptom_detached": "衍生告警消除",
    "members_changed": "受影响资产变化",
    "merged": "并入上级故障",
    "alarmed": "已告警",
    "acknowledged": "已确认",
    "step_done": "执行步骤",
    "escalated": "升级",
    "recovered": "已恢复",
    "resolved": "人工处理完成",
    "closed": "已关闭",
}


TIME_KEYS = (
    "fault_started_at",
    "detected_at",
    "alarmed_at",
    "acknowledged_at",
    "recovered_at",
    "closed_at",
)
"""The incident's instants; each is in the JSON as ``key`` (UTC) and ``key_local`` (site)."""


def _iso(value: dt.datetime | None, tz: ZoneInfo | None = None) -> str | None:
    if value is None:
        return None
    return (value.astimezone(tz) if tz else value.astimezone(dt.UTC)).isoformat(
        timespec="milliseconds"
    )


def _times(key: str, value: dt.datetime | None, tz: ZoneInfo) -> dict[str, str | None]:
    return {key: _iso(value), f"{key}_local": _iso(value, tz)}


def ordered(events: list[IncidentEvent]) -> list[IncidentEvent]:
    """The timeline in the order things happened; equal times keep the order they were written."""
    return sorted(events, key=lambda e: (e.at.timestamp(), e.seq))


def zone_label(zone: str, local: str | None) -> str:
    """``Asia/Shanghai (UTC+08:00)``: the site's zone and its offset at the site-time ``local``."""
    if local is None:
        return zone
    offset = dt.datetime.fromisoformat(local).strftime("%z")
    return f"{zone} (UTC{offset[:3]}:{offset[3:]})"


def local_text(value: str | None) -> str:
    """An ISO site-time string from the JSON as the text shows it: ``2026-11-30 08:53:21``."""
    if value is None:
        return "-"
    return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")


def level_label(level: str, locale: str = "zh-CN") -> str:
    zh, en = LEVEL_NAMES.get(level, (level, level))
    return f"{level}级 {zh}" if not locale.startswith("en") else f"level {level} ({en})"


def runbook_progress(
    runbook: Any,
    events: list[IncidentEvent],
    locale: str = "zh-CN",
    tz: ZoneInfo | None = None,
) -> dict[str, Any] | None:
    if runbook is None:
        return None
    tz = tz or ZoneInfo("UTC")
    done = {e.data.get("step"): e for e in ordered(events) if e.kind == "step_done"}
    steps = []
    for step in runbook.steps:
        event = done.get(step.id)
        steps.append(
            {
                "id": step.id,
                "title": step.title.get(locale),
                "role": str(step.role),
                "action": step.action.get(locale),
                "intervention": step.intervention,
                "automated": step.automated.action if step.automated else None,
                "runs_on": step.runs_on,  # on_open | on_recovery | None (done by people)
                "contact": (
                    {"name": step.contact.name.get(locale), "phone": step.contact.phone}
                    if step.contact
                    else None
                ),
                "done": event is not None,
                "done_by": event.actor if event else None,
                **_times("done_at", event.at if event else None, tz),
                "output": event.data.get("output") if event else None,
            }
        )
    next_step = next((s["id"] for s in steps if not s["done"]), None)
    return {
        "id": runbook.id,
        "title": runbook.title.get(locale),
        "steps": steps,
        "next_step": next_step,
        "done": sum(1 for s in steps if s["done"]),
        "total": len(steps),
    }


def deadlines(
    incident: Incident, runbook: Any, now: dt.datetime, tz: ZoneInfo | None = None
) -> dict[str, Any] | None:
    if runbook is None:
        return None
    tz = tz or ZoneInfo("UTC")
    deadline = runbook.deadline(incident.peak_severity)
    ack_by = incident.detected_at + dt.timedelta(seconds=deadline.acknowledge)
    recover_by = incident.fault_started_at + dt.timedelta(seconds=deadline.recover)
    acked = incident.acknowledged_at
    recovered = incident.recovered_at
    return {
        "acknowledge_within_seconds": deadline.acknowledge,
        **_times("acknowledge_by", ack_by, tz),
        "acknowledged_in_time": (acked <= ack_by) if acked else (None if now <= ack_by else False),
        "recover_within_seconds": deadline.recover,
        **_times("recover_by", recover_by, tz),
        "recovered_in_time": (recovered <= recover_by)
        if recovered
        else (None if now <= recover_by else False),
    }


def incident_summary(row: Incident, tz: ZoneInfo) -> dict[str, Any]:
    impact = row.impact or {}
    return {
        "id": row.id,
        "key": row.fault_key,
        "type": row.fault_type,
        "root_asset": row.root_asset,
        "severity": row.severity,
        "peak_severity": row.peak_severity,
        "status": row.status,
        "impact": impact.get("impact"),
        "members": impact.get("members", []),
        "symptoms": impact.get("symptoms", []),
        "services": impact.get("services", []),
        "runbook": row.runbook,
        "timezone": tz.key,
        **{k: v for key in TIME_KEYS for k, v in _times(key, getattr(row, key), tz).items()},
        "acknowledged_by": row.acknowledged_by,
        "recovery_kind": row.recovery_kind,
        "close_note": row.close_note,
    }


def incident_detail(
    row: Incident,
    events: list[IncidentEvent],
    runbook: Any,
    tz: ZoneInfo,
    locale: str = "zh-CN",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.UTC)
    return {
        **incident_summary(row, tz),
        "timeline": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "at": _iso(e.at),
                "at_local": _iso(e.at, tz),
                "actor": e.actor,
                "data": e.data,
            }
            for e in ordered(events)
        ],
        "runbook_progress": runbook_progress(runbook, events, locale, tz),
        "deadlines": deadlines(row, runbook, now, tz),
    }


def _auto_mark(step: dict[str, Any], en: bool) -> str:
    if not step["automated"]:
        return ""
    if step["runs_on"] == "on_recovery":
        return " [auto, after recovery]" if en else " [auto 恢复后]"
    return " [auto]"


def render_text(detail: dict[str, Any], locale: str = "zh-CN") -> str:
    """The CLI's ``noc incident show``: readable on an 80-column terminal, all in site time."""
    en = locale.startswith("en")
    zone = zone_label(detail["timezone"], detail["detected_at_local"])
    lines = [
        f"#{detail['id']}  {level_label(detail['severity'], locale)}  {detail['type']}  "
        f"{detail['status'] if en else STATUS_ZH.get(detail['status'], detail['status'])}",
        f"  {'asset' if en else '资产'}: {detail['root_asset']}"
        + (f"  members: {', '.join(detail['members'])}" if len(detail["members"]) > 1 else ""),
        f"  {'time zone' if en else '时区'}: {zone}",
        f"  {'fault started' if en else '故障开始'}: {local_text(detail['fault_started_at_local'])}"
        f"   {'detected' if en else '发现'}: {local_text(detail['detected_at_local'])}",
    ]
    if detail["symptoms"]:
        lines.append(
            f"  {'symptoms' if en else '衍生告警'}: "
            + ", ".join(s["fault"] for s in detail["symptoms"])
        )
    if detail.get("deadlines"):
        d = detail["deadlines"]
        lines.append(
            f"  {'acknowledge by' if en else '确认时限'}: {local_text(d['acknowledge_by_local'])}"
            f"   {'recover by' if en else '恢复时限'}: {local_text(d['recover_by_local'])}"
        )
    lines.append("")
    lines.append("timeline:" if en else "时间线 timeline:")
    for e in detail["timeline"]:
        label = e["kind"] if en else f"{EVENT_ZH.get(e['kind'], e['kind'])}"
        extra = (
            e["data"].get("step")
            or e["data"].get("to")
            or e["data"].get("note")
            or e["data"].get("fault")
            or ""
        )
        who = f" ({e['actor']})" if e["actor"] else ""
        lines.append(f"  {local_text(e['at_local'])}  {label}{who}  {extra}".rstrip())
    progress = detail.get("runbook_progress")
    if progress:
        lines.append("")
        lines.append(
            f"{'runbook' if en else '运维方案'}: {progress['title']}  ({progress['done']}/{progress['total']})"
        )
        for i, s in enumerate(progress["steps"], 1):
            mark = "x" if s["done"] else ">" if s["id"] == progress["next_step"] else " "
            auto = _auto_mark(s, en)
            lines.append(f"  [{mark}] {i}. {s['id']}: {s['title']} — {s['role']}{auto}")
    return "\n".join(lines)
