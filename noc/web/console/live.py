"""``/events``: the live feed as Server-Sent Events, one stream per open page.

Each notice of the hub (:mod:`noc.runtime.events`) is one SSE event (``transition``,
``incident``, ``resync``) whose data is a small JSON object; the page's script decides whether
it concerns what it shows and fetches its fresh fragment. A comment every 15 s keeps proxies
from closing an idle stream, and ``retry`` tells the browser to reconnect after 2 s; on
reconnecting the page reloads its fragment, so nothing missed while away stays missing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from aiohttp import web

from noc.appkeys import HUB, STORE
from noc.core.aio import cancel_and_wait
from noc.core.logs import get_logger
from noc.store.console import log_heads
from noc.web.permissions import READ
from noc.web.routes import Route

KEEPALIVE_SECONDS = 15.0
log = get_logger("noc.console")


async def events(request: web.Request) -> web.StreamResponse:
    from noc.web.console.context import can
    from noc.web.console.pages import refuse

    if not can(request, READ):
        return refuse(request, READ)
    hub = request.app[HUB]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # a proxy must pass each event on at once
        }
    )
    await response.prepare(request)
    try:
        await response.write(b"retry: 2000\n: connected\n\n")
        async with hub.subscribe() as sub:
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        notice = await sub.get()
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if notice.kind == "closing":
                    break
                data = json.dumps(notice.data, separators=(",", ":"))
                await response.write(f"event: {notice.kind}\ndata: {data}\n\n".encode())
    except ConnectionResetError:  # aiohttp raises a subclass of it
        pass  # the page went away: its stream ends here
    return response


WATCH_SECONDS = 0.5


async def watch_ctx(app: web.Application) -> AsyncIterator[None]:
    """Writes by another process (``noc incident ack`` from a terminal) reach no in-process
    hub: while a page listens, the heads of the log are compared every half second, and growth
    beyond what this process announced is told as a ``resync``."""
    store, hub = app[STORE], app[HUB]
    announced = [0, 0]

    def count(kind: str, _data: dict) -> None:
        announced[0 if kind == "transition" else 1] += 1

    store.on_append.append(count)

    async def watch() -> None:
        heads = await log_heads(store)
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if not hub.subscribers:
                continue
            try:
                now = await log_heads(store)
            except Exception:  # the store may be briefly away; the next look will do
                log.exception("console_watch_failed")
                continue
            grown = (now[0] - heads[0], now[1] - heads[1])
            if grown[0] > announced[0] or grown[1] > announced[1]:
                hub.publish("resync", {})
            heads, announced[:] = now, [0, 0]

    task = asyncio.create_task(watch(), name="console log watch")
    try:
        yield
    finally:
        store.on_append.remove(count)
        await cancel_and_wait([task])


ROUTES = [Route("GET", "/events", events, READ, "console: live feed (SSE)", tag="console")]
