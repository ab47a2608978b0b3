"""资产 assets: each asset's checks with their last results and recent state changes.

The last results are the metrics snapshot's (what ``/metrics`` serves: RTT, loss, jitter, SIP
code, interface state and utilisation against the contracted bandwidth), so the page and the
Grafana panels show the same figures; state changes come from the store. With ``grafana.url``
configured, each asset links to the panels that show it on the shipped dashboards: their uids,
panel ids and asset variables come from the builder (``grafana.build.asset_panels``), so a link
cannot drift from the JSON files it opens. Without it no link is shown.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from grafana.build import PanelLink, asset_panels
from noc.appkeys import CONFIG, METRICS, STORE
from noc.config import NocConfig
from noc.core.vocabulary import ASSET_KINDS
from noc.store.console import active_incidents, recent_transitions
from noc.web.console.board import asset_lines
from noc.web.console.context import lang
from noc.web.console.overview import check_states
from noc.web.console.pages import page, subpage


def last_results(app: web.Application) -> dict[tuple[str, str], dict[str, Any]]:
    """(asset, check) -> the snapshot's figures of its last probe result."""
    config = app[CONFIG]
    snap = app[METRICS].snapshot if app.get(METRICS) is not None else None
    out: dict[tuple[str, str], dict[str, Any]] = {}
    if snap is None:
        return out
    site = config.site.name
    for asset, check in config.iter_checks():
        labels = (site, asset.name, asset.kind, check.check_name)
        figures: dict[str, Any] = {
            "rtt": snap.rtt.get(labels),
            "loss": snap.loss.get(labels),
            "jitter": snap.jitter.get(labels),
            "sip": snap.sip_status.get(labels),
            "at": snap.last_ts.get(labels),
            "interfaces": [],
        }
        for name in getattr(check, "interfaces", []) or []:
            series = (*labels, name)
            figures["interfaces"].append(
                {
                    "name": name,
                    "oper_up": snap.if_oper.get(series),
                    "in": snap.if_util.get((*series, "in")),
                    "out": snap.if_util.get((*series, "out")),
                    "contract": snap.if_contract.get((site, asset.name, asset.kind, name)),
                }
            )
        out[(asset.name, check.check_name)] = figures
    return out


@functools.cache
def _panels() -> tuple[PanelLink, ...]:
    return tuple(asset_panels())


def grafana_links(config: NocConfig, asset: str) -> list[dict[str, Any]]:
    """The dashboards showing ``asset`` with a link to each of their panels (in board order,
    the most specific first); empty without ``grafana.url``."""
    if config.grafana is None or asset not in config.assets_by_name:
        return []
    kind = config.asset(asset).kind
    base = config.grafana.url
    boards: dict[str, dict[str, Any]] = {}
    for link in _panels():
        if kind not in link.kinds:
            continue
        query = link.query(config.site.name, asset)
        board = boards.setdefault(
            link.uid,
            {
                "uid": link.uid,
                "title": link.dashboard,
                "specific": set(link.kinds) != set(ASSET_KINDS),  # a board of this kind
                "url": f"{base}/d/{link.uid}/?"
                + urlencode({k: v for k, v in query.items() if k != "viewPanel"}),
                "panels": [],
            },
        )
        board["panels"].append(
            {
                "id": link.panel_id,
                "title": link.title,
                "url": f"{base}/d/{link.uid}/?{urlencode(query)}",
            }
        )
    return sorted(boards.values(), key=lambda b: not b["specific"])


@page("assets")
async def assets(request: web.Request) -> dict[str, Any]:
    app = request.app
    config = app[CONFIG]
    dashboards = {}
    for a in config.assets:
        found = grafana_links(config, a.name)
        if found:
            dashboards[a.name] = found[0]["url"]
    return {
        "assets": asset_lines(config, check_states(app), lang(request)),
        "results": last_results(app),
        "transitions": await recent_transitions(app[STORE], limit=30),
        "grafana_dash": dashboards,
    }


@subpage("/assets/{name}", "asset.html")
async def asset_page(request: web.Request) -> dict[str, Any]:
    app = request.app
    config = app[CONFIG]
    name = request.match_info["name"]
    if name not in config.assets_by_name:
        raise web.HTTPNotFound(text=f"no asset named {name!r}")
    line = next(a for a in asset_lines(config, check_states(app), lang(request)) if a.name == name)
    incidents = [
        r
        for r in await active_incidents(app[STORE])
        if r.root_asset == name or name in (r.impact or {}).get("members", [])
    ]
    spec = config.asset(name)
    return {
        "asset": line,
        "spec": spec,
        "results": last_results(app),
        "transitions": await recent_transitions(app[STORE], asset=name, limit=50),
        "incidents": incidents,
        "grafana": grafana_links(config, name),
        "grafana_dash": {},
    }
