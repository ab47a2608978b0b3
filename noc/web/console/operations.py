"""维护 maintenance windows and 告警 alerting (receivers, outbox state, a test message).

Maintenance forms use the same parsing as the API and the CLI (:mod:`noc.maintenance`) and the
same operator acts (plan, end, and 批准 approve someone else's window, which only then counts
for the SLA), through :mod:`noc.web.console.acting`; so does the alerting page's test message.
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
from noc.core.errors import NotFoundError, UnavailableError
from noc.maintenance import check_assets, window_json, window_span
from noc.store.console import outbox_state
from noc.web.auth import writer
from noc.web.console.acting import act, acts
from noc.web.console.context import lang, site_tz
from noc.web.console.messages import translate
from noc.web.console.pages import action, page
from noc.web.requests import path_id

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


async def _maintenance_again(request: web.Request, form: dict[str, str]) -> dict[str, Any]:
    """The maintenance page again, with what the form said (for a refusal)."""
    page = _page("maintenance")
    return {**await maintenance_context(request), "form": form, "page": page, "here": page.path}


@action("/maintenance", "maintenance.write", "maintenance.add")
async def add_window(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    """Plan a window: it mutes the assets' alerts now, and counts for the SLA once someone else
    approves it (the act: :meth:`OperatorActs.add_maintenance`)."""
    config = request.app[CONFIG]
    post = await request.post()
    chosen = [str(a) for a in post.getall("assets", [])]
    chosen += [a for a in form.get("assets_text", "").replace(",", " ").split() if a]

    async def work() -> str:
        names = check_assets(config, chosen)
        starts, ends = window_span(
            config,
            form.get("starts_at") or None,
            form.get("ends_at") or None,
            form.get("duration") or None,
            dt.datetime.now(dt.UTC),
        )
        reason = form.get("reason", "").strip()
        await acts(request).add_maintenance(writer(request), names, starts, ends, reason)
        return "/maintenance"

    return await act(request, work, "maintenance.html", lambda: _maintenance_again(request, form))


@action("/maintenance/{id}/end", "maintenance.write", "maintenance.end")
async def end_window(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    async def work() -> str:
        window_id = path_id(request, "window")
        await acts(request).end_maintenance(writer(request), window_id)
        return "/maintenance"

    return await act(request, work, "maintenance.html", lambda: _maintenance_again(request, {}))


@action("/maintenance/{id}/approve", "maintenance.approve", "maintenance.approve")
async def approve_window(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    """批准: a second person approves someone else's window; from then on it excuses SLA
    downtime (the act refuses one's own window, and a window approved already)."""

    async def work() -> str:
        window_id = path_id(request, "window")
        await acts(request).approve_maintenance(writer(request), window_id)
        return f"/maintenance#window-{window_id}"

    return await act(request, work, "maintenance.html", lambda: _maintenance_again(request, {}))


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


async def alerting_context(request: web.Request) -> dict[str, Any]:
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


@page("alerting")
async def alerting(request: web.Request) -> dict[str, Any]:
    return await alerting_context(request)


@action("/alerting/test", "alert.test", "alert.test")
async def send_test(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    """Queue one test message to a receiver through the outbox, as any alert goes; the order is
    audited first (:meth:`OperatorActs.order_test_message`)."""
    config = request.app[CONFIG]
    name = form.get("receiver", "")

    async def work() -> str:
        receiver = next((r for r in config.alerting.receivers if r.name == name), None)
        if receiver is None:
            raise NotFoundError(f"未知接收方 / no receiver {name!r}")
        outbox = request.app.get(OUTBOX)
        if outbox is None:
            raise UnavailableError("告警发件箱未运行 / the alert outbox is not running here")
        actor = writer(request)
        await acts(request).order_test_message(actor, receiver.name)
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
                    body=translate("alerting.test_body", language, who=actor.user),
                    locale=receiver.locale,
                )
            ]
        )
        return f"/alerting?sent={receiver.name}"

    async def again() -> dict[str, Any]:
        page = _page("alerting")
        return {**await alerting_context(request), "page": page, "here": page.path}

    return await act(request, work, "alerting.html", again)
