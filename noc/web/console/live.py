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

from aiohttp import web

from noc.appkeys import HUB
from noc.web.permissions import READ
from noc.web.routes import Route

KEEPALIVE_SECONDS = 15.0


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


ROUTES = [Route("GET", "/events", events, READ, "console: live feed (SSE)", tag="console")]
