"""Alert text for a phone screen: Jinja2 templates, Chinese by default, English on request.

``render(events, locale, receiver)`` → ``(title, body)``. The title is at most 60 characters
(cut cleanly with "…"); the body says severity, assets, impact, first evidence, detection time
in Asia/Shanghai, the runbook's title and first three steps, the symptoms, the console link,
and for a recovery its duration and kind. Several grouped events make one message.

Templates see a *view* built here from ``AlertEvent.context`` (keys: docs/alerting.md), with
every key present, so ``StrictUndefined`` catches a template typo rather than a missing fact.
Texts in the context may be plain strings or ``{"zh": …, "en": …}``; the view picks the locale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from alerting.model import AlertEvent, Message
from noc.core.vocabulary import (
    FAULT_NAMES,
    LEVEL_NAMES,
    LEVELS,
    RECOVERY_NAMES,
    most_severe,
    normalize_level,
)

TITLE_MAX = 60
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
LOCALES = ("zh-CN", "en")

KIND_NAMES: dict[str, tuple[str, str]] = {
    "opened": ("", ""),
    "regraded": ("等级调整", "REGRADED"),
    "escalated": ("升级", "ESCALATED"),
    "renotify": ("未确认", "UNACKED"),
    "acknowledged": ("已确认", "ACKED"),
    "recovered": ("已恢复", "RECOVERED"),
    "closed": ("已关闭", "CLOSED"),
}
_CUT_CHARS = " \t,，、:：;；-·/(（[【|"


def is_en(locale: str) -> bool:
    return locale.startswith("en")


def localized(value: Any, locale: str) -> str:
    """A plain string, or a ``{"zh", "en"}`` mapping / object with ``.zh``/``.en``."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        zh, en = value.get("zh", ""), value.get("en", "")
    elif hasattr(value, "zh"):
        zh, en = value.zh, getattr(value, "en", "")
    else:
        return str(value)
    return (en or zh) if is_en(locale) else (zh or en)


def fault_name(fault_type: str, locale: str) -> str:
    zh, en = FAULT_NAMES.get(fault_type, (fault_type, fault_type.replace("_", " ")))
    return en if is_en(locale) else zh


def level_label(level: str, locale: str) -> str:
    """``I级 特别重大`` / ``P1 critical``."""
    level = str(normalize_level(level))
    if level not in LEVEL_NAMES:
        return level
    zh, en = LEVEL_NAMES[level]
    return f"P{LEVELS.index(level) + 1} {en}" if is_en(locale) else f"{level}级 {zh}"


def format_time(epoch: float | None, tz: str = "Asia/Shanghai") -> str:
    if epoch is None:
        return ""
    return dt.datetime.fromtimestamp(float(epoch), ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def format_span(seconds: float | None, locale: str) -> str:
    """``1小时5分`` / ``1h 5m``; seconds only under an hour."""
    if seconds is None:
        return ""
    total = int(round(float(seconds)))
    d, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    units = (("天", "d"), ("小时", "h"), ("分", "m"), ("秒", "s"))
    parts = [(d, units[0]), (h, units[1]), (m, units[2])] + (
        [(s, units[3])] if total < 3600 else []
    )
    shown = [(n, u) for n, u in parts if n] or [(0, units[3])]
    if is_en(locale):
        return " ".join(f"{n}{u[1]}" for n, u in shown)
    return "".join(f"{n}{u[0]}" for n, u in shown)


def truncate_title(text: str, limit: int = TITLE_MAX) -> str:
    """At most ``limit`` characters; a cut ends with "…" and no dangling separator."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip(_CUT_CHARS) + "…"


def _evidence(value: Any, locale: str) -> str:
    if isinstance(value, Mapping) and ("check" in value or "reason" in value):
        metrics = value.get("metrics") or {}
        shown = ", ".join(f"{k}={_num(v)}" for k, v in list(metrics.items())[:3])
        text = " ".join(str(p) for p in (value.get("check"), value.get("reason")) if p)
        return f"{text} ({shown})" if shown else text
    return localized(value, locale)


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _symptom(value: Any, locale: str) -> str:
    if isinstance(value, Mapping) and "asset" in value:
        kind = fault_name(str(value.get("type", "")), locale) if value.get("type") else ""
        return f"{value['asset']} {kind}".strip()
    return localized(value, locale)


def _flapping(value: Any, locale: str) -> dict[str, Any]:
    """A recovery after flapping: how many outages in how many minutes, and how long it was
    really down (the incident stayed open through the bounces; its duration is not downtime)."""
    if not isinstance(value, Mapping) or not value.get("outages"):
        return {"flapping": False, "flap_outages": 0, "flap_minutes": "", "down": ""}
    minutes = float(value.get("minutes") or 0.0)
    return {
        "flapping": True,
        "flap_outages": int(value["outages"]),
        "flap_minutes": f"{max(minutes, 0.1):.1f}".rstrip("0").rstrip("."),
        "down": format_span(value.get("down_seconds"), locale),
    }


def _service(value: Any, locale: str) -> str:
    if isinstance(value, Mapping) and "service" in value and "title" not in value:
        return str(value["service"])
    if isinstance(value, Mapping) and "title" in value:
        return localized(value["title"], locale)
    return localized(value, locale)


def event_view(
    event: AlertEvent, locale: str, public_url: str = DEFAULT_PUBLIC_URL, tz: str = "Asia/Shanghai"
) -> dict[str, Any]:
    """Everything a template may use for one event; every key is always present."""
    ctx, en = event.context, is_en(locale)
    fault_type = str(ctx.get("fault_type") or event.labels.get("fault_type", ""))
    asset = str(ctx.get("asset") or event.labels.get("asset", ""))
    assets = list(event.assets) or list(ctx.get("assets") or ([asset] if asset else []))
    runbook = ctx.get("runbook") or {}
    steps = runbook.get("steps", []) if isinstance(runbook, Mapping) else []
    kind_zh, kind_en = KIND_NAMES.get(event.kind, (event.kind, event.kind.upper()))
    recovery = str(ctx.get("recovery_kind") or "")
    previous = ctx.get("from_severity") or ctx.get("from")
    return {
        "id": event.incident_id,
        "kind": event.kind,
        "kind_name": kind_en if en else kind_zh,
        "severity": str(normalize_level(event.severity)),
        "level": level_label(event.severity, locale),
        "from_level": level_label(str(previous), locale) if previous else "",
        "fault_type": fault_type,
        "fault_name": fault_name(fault_type, locale) if fault_type else "",
        "asset": asset,
        "asset_title": localized(ctx.get("asset_title"), locale) or asset,
        "assets": assets,
        "services": [_service(s, locale) for s in ctx.get("services") or []],
        "evidence": _evidence(ctx.get("evidence"), locale),
        "detected_at": format_time(ctx.get("detected_at", event.at), tz),
        "started_at": format_time(ctx.get("fault_started_at"), tz),
        "at": format_time(event.at, tz),
        "runbook_title": localized(
            runbook.get("title") if isinstance(runbook, Mapping) else runbook, locale
        ),
        "runbook_steps": [localized(s, locale) for s in steps[:3]],
        "symptoms": [_symptom(s, locale) for s in ctx.get("symptoms") or []],
        "duration": format_span(ctx.get("duration_seconds"), locale),
        **_flapping(ctx.get("flapping"), locale),
        "recovery_kind": (RECOVERY_NAMES.get(recovery, (recovery, recovery))[1 if en else 0])
        if recovery
        else "",
        "escalation_title": localized(ctx.get("escalation_title"), locale),
        "escalate_to": str(ctx.get("escalate_to") or ""),
        "acknowledged_by": str(ctx.get("acknowledged_by") or ""),
        "renotify_count": int(ctx.get("renotify_count") or 0),
        "note": localized(ctx.get("note"), locale),
        "link": f"{public_url.rstrip('/')}/incidents/{event.incident_id}",
    }


def _subject(view: Mapping[str, Any], locale: str) -> str:
    """``专线中断 mstp-voice``; a grouped phone incident shows its count instead of the site."""
    if view["fault_type"] == "phones_unreachable" and len(view["assets"]) > 1:
        n = len(view["assets"])
        return f"{view['fault_name']} ×{n}" if is_en(locale) else f"{view['fault_name']} {n}部"
    return f"{view['fault_name']} {view['asset']}".strip()


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("alerting", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def warm_up() -> None:
    """Compile every template now: the first compile takes about a quarter of a second, which
    must not be paid by the first alert after a (re)start, when the NOC is waiting for it."""
    env = environment()
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)


def render(
    events: AlertEvent | Sequence[AlertEvent],
    locale: str = "zh-CN",
    receiver: str = "",
    public_url: str | None = None,
    tz: str = "Asia/Shanghai",
) -> tuple[str, str]:
    """(title, body) of one message for ``receiver`` about one event or a group of them."""
    batch = [events] if isinstance(events, AlertEvent) else list(events)
    if not batch:
        raise ValueError("nothing to render")
    locale = "en" if is_en(locale) else "zh-CN"
    views = [event_view(e, locale, public_url or DEFAULT_PUBLIC_URL, tz) for e in batch]
    for v in views:
        v["subject"] = _subject(v, locale)
    top = most_severe(str(normalize_level(e.severity)) for e in batch)
    context = {
        "events": views,
        "first": views[0],
        "count": len(views),
        "receiver": receiver,
        "level": level_label(top, locale),
    }
    env = environment()
    title = env.get_template(f"title.{locale}.j2").render(context)
    body = env.get_template(f"body.{locale}.j2").render(context)
    return truncate_title(title), body.strip() + "\n"


def to_message(
    batch: Any, locale: str = "zh-CN", public_url: str | None = None, tz: str = "Asia/Shanghai"
) -> Message:
    """An outbox :class:`Message` from a :class:`alerting.grouping.Batch`."""
    title, body = render(batch.events, locale, batch.receiver, public_url, tz)
    return Message(
        receiver=batch.receiver,
        dedup_key=batch.dedup_key,
        incident_id=batch.incident_id,
        event_kind=batch.event_kind,
        severity=batch.severity,
        title=title,
        body=body,
        locale="en" if is_en(locale) else "zh-CN",
    )


__all__ = [
    "DEFAULT_PUBLIC_URL",
    "FAULT_NAMES",
    "KIND_NAMES",
    "RECOVERY_NAMES",
    "TITLE_MAX",
    "event_view",
    "fault_name",
    "format_span",
    "format_time",
    "level_label",
    "localized",
    "render",
    "to_message",
    "truncate_title",
]
