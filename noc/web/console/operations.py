"""维护 maintenance windows and 告警 alerting (receivers, outbox state, a test message).

Maintenance forms use the same parsing as the API and the CLI (:mod:`noc.maintenance`).
Receivers are shown with their URLs masked: a webhook's token or a mailbox password never
reaches a page.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web

from alerting.model import Message
from noc.appkeys import CONFIG, OUTBOX, STORE
from noc.maintenance import MaintenanceRequestError, check_assets, window_json, window_span
from noc.store.console import outbox_state
from noc.web.console.context import current_user, lang, site_tz
from noc.web.console.messages import translate
from noc.web.console.pages import action, page, render, see_other

PAST_SHOWN = 50


async def maintenance_context(request: web.Request) -> dict[str, Any]:
    app = request.app
    now = dt.datetime.now(dt.UTC)
    tz = site_tz(request)
    rows = await app[STORE].maintenance_windows()
    windows = [window_json(r, tz, now) for r in rows]
    upcoming = [w for w in windows if not w["active"] and w["starts_at"] > now.isoformat()]
    active = [w for w in windows if w["active"]]
    past = [w for w in windows if w not in upcoming and w not in active][::-1][:PAST_SHOWN]
    return {
        "upcoming": upcoming,
        "active": active,
        "past": past,
        "asset_names": [a.name for a in app[CONFIG].assets],
        "form": {},
    }


@page("maintenance")
async def maintenance(request: web.Request) -> dict[str, Any]:
    return await maintenance_context(request)


@action("/maintenance", "maintenance.write")
async def add_window(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    config = request.app[CONFIG]
    post = await request.post()
    chosen = [str(a) for a in post.getall("assets", [])]
    chosen += [a for a in form.get("assets_text", "").replace(",", " ").split() if a]
    try:
        names = check_assets(config, chosen)
        starts, ends = window_span(
            config,
            form.get("starts_at") or None,
            form.get("ends_at") or None,
            form.get("duration") or None,
            dt.datetime.now(dt.UTC),
        )
        if not form.get("reason", "").strip():
            raise MaintenanceRequestError("give the reason for the work")
    except MaintenanceRequestError as exc:
        context = await maintenance_context(request)
        context.update(error=str(exc), form=form, page=_page("maintenance"))
        return render(request, "maintenance.html", context, 400)
    await request.app[STORE].add_maintenance(
        site=config.site.name,
        assets=names,
        starts_at=starts,
        ends_at=ends,
        reason=form["reason"].strip(),
        created_by=current_user(request).name,
    )
    see_other("/maintenance")


@action("/maintenance/{id}/end", "maintenance.write")
async def end_window(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise web.HTTPNotFound(text=f"no maintenance window {raw!r}")
    try:
        await request.app[STORE].end_maintenance(int(raw))
    except LookupError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    except ValueError as exc:
        context = await maintenance_context(request)
        context.update(error=str(exc), page=_page("maintenance"))
        return render(request, "maintenance.html", context, 409)
    see_other("/maintenance")


def _page(key: str):  # noqa: ANN202 - a pages.Page
    from noc.web.console.pages import NAV

    return next(p for p in NAV if p.key == key)


def mask_url(url: str) -> str:
    """``scheme://host[:port]/…``: enough to recognise a receiver, nothing to abuse it with."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "…"
    scheme = parts.scheme or "?"
    rest = "/…" if (parts.path.strip("/") or parts.query or parts.username) else ""
    return f"{scheme}://{host}{port}{rest}" if host else f"{scheme}://…"


def _local_day_start(now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


@page("alerting")
async def alerting(request: web.Request) -> dict[str, Any]:
    app = request.app
    config = app[CONFIG]
    now = dt.datetime.now(dt.UTC)
    receivers = config.alerting.receivers
    states = await outbox_state(
        app[STORE], [r.name for r in receivers], _local_day_start(now, site_tz(request))
    )
    return {
        "receivers": [
            {
                "name": r.name,
                "locale": r.locale,
                "urls": [mask_url(u.get_secret_value()) for u in r.urls],
                "state": states.get(r.name),
            }
            for r in receivers
        ],
        "others": {k: v for k, v in states.items() if k not in {r.name for r in receivers}},
        "sent": request.query.get("sent"),
    }


@action("/alerting/test", "alert.test")
async def send_test(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    """Queue one test message to a receiver through the outbox, as any alert goes."""
    config = request.app[CONFIG]
    name = form.get("receiver", "")
    receiver = next((r for r in config.alerting.receivers if r.name == name), None)
    outbox = request.app.get(OUTBOX)
    if receiver is None or outbox is None:
        raise web.HTTPNotFound(text=f"no receiver {name!r}")
    who = current_user(request).name
    language = receiver.locale if receiver.locale in ("zh-CN", "en") else lang(request)
    await outbox.enqueue(
        [
            Message(
                receiver=receiver.name,
                dedup_key=f"test:{receiver.name}:{secrets.token_hex(8)}",
                incident_id=None,
                event_kind="test",
                severity=None,
                title=translate("alerting.test_title", language, site=config.site.name),
                body=translate("alerting.test_body", language, who=who),
                locale=receiver.locale,
            )
        ]
    )
    see_other(f"/alerting?sent={receiver.name}")
