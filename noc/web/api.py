"""HTTP handlers: ``/healthz``, ``/metrics`` and ``/api/v1/assets``.

Each route's permission is declared in :data:`ROUTES` (``/healthz`` public, ``/metrics`` open
unless ``server.metrics_auth: bearer``, the rest ``read``).

API errors are JSON ``{"error": code, "reason": text}`` with a 4xx/5xx status, never an HTML page
(:mod:`noc.web.errors`: handlers raise, the middleware answers).
Instants are returned in UTC (ISO 8601) and, for people, in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from noc.appkeys import CONFIG, METRICS, PROBING_ALLOWED, STORE
from noc.config import ASSET_KINDS
from noc.core.errors import InputError, NotFoundError
from noc.store.tables import AssetRow
from noc.web.permissions import PUBLIC, READ, SCRAPE
from noc.web.routes import Param, Route


def _local(ts: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return ts.astimezone(tz).isoformat(timespec="seconds") if ts else None


def asset_json(row: AssetRow, tz: ZoneInfo) -> dict[str, Any]:
    spec = row.spec or {}
    return {
        "name": row.name,
        "kind": row.kind,
        "site": row.site,
        "title": row.title,
        "address": row.address,
        "bandwidth_bps": spec.get("bandwidth"),
        "interface": spec.get("interface"),
        "depends_on": spec.get("depends_on", []),
        "checks": [c.get("name") or c.get("type") for c in spec.get("checks", [])],
        "active": row.active,
        "first_seen_at": row.first_seen_at.isoformat(timespec="seconds"),
        "updated_at": row.updated_at.isoformat(timespec="seconds"),
        "updated_at_local": _local(row.updated_at, tz),
    }


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    metrics = request.app[METRICS]
    try:
        await store.ping()
    except Exception as exc:  # the store is down: say so, with a 503 a load balancer understands
        metrics.store_up.labels(backend=store.backend).set(0)
        return web.json_response(
            {"status": "fail", "store": f"error: {type(exc).__name__}"}, status=503
        )
    metrics.store_up.labels(backend=store.backend).set(1)
    return web.json_response(
        {
            "status": "ok",
            "store": "ok",
            "backend": store.backend,
            "probing_allowed": request.app.get(PROBING_ALLOWED, False),
        }
    )


async def metrics_handler(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[METRICS].exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def list_assets(request: web.Request) -> web.Response:
    tz = ZoneInfo(request.app[CONFIG].site.timezone)
    kind = request.query.get("kind")
    include_retired = request.query.get("include_retired", "false").lower()
    if include_retired not in ("true", "false", "1", "0"):
        raise InputError("include_retired must be true or false")
    rows = await request.app[STORE].list_assets(include_retired=include_retired in ("true", "1"))
    if kind is not None:
        if kind not in ASSET_KINDS:
            raise InputError(f"unknown kind {kind!r}; one of {', '.join(ASSET_KINDS)}")
        rows = [r for r in rows if r.kind == kind]
    return web.json_response({"assets": [asset_json(r, tz) for r in rows], "count": len(rows)})


async def get_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    row = await request.app[STORE].get_asset(name)
    if row is None:
        raise NotFoundError(f"no asset named {name!r}")
    tz = ZoneInfo(request.app[CONFIG].site.timezone)
    return web.json_response(asset_json(row, tz))


ROUTES = (
    Route("GET", "/healthz", healthz, PUBLIC, "Service and store health", tag="service"),
    Route("GET", "/metrics", metrics_handler, SCRAPE, "Prometheus exposition", tag="service"),
    Route(
        "GET",
        "/api/v1/assets",
        list_assets,
        READ,
        "List the inventory's assets",
        query=(
            Param("kind", "only assets of this kind"),
            Param("include_retired", "true to include assets gone from the inventory"),
        ),
        tag="assets",
    ),
    Route("GET", "/api/v1/assets/{name}", get_asset, READ, "One asset", tag="assets"),
)
