"""What the board shows, from check states: service tiles, asset rows, open incidents. Pure.

A service tile is judged the way the engine grades incidents, so the wall and the alerts agree:
the checks' states become faults (:func:`noc.engine.faults.classify_all`), the outage faults'
assets are "down", and the topology says which services that leaves without a need (red) or
with a thinned redundant group (amber). A degraded fault (loss, latency, congestion …) on an
asset the service depends on makes it amber. A service none of whose checks has reported yet
is grey. The reason on a tile names the assets and what their checks said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from noc.config import NocConfig
from noc.core.vocabulary import LEVELS
from noc.engine.faults import CheckView, Fault, classify_all
from noc.engine.health import State
from noc.engine.topology import Topology


@dataclass(frozen=True)
class CheckState:
    asset: str
    check: str
    check_type: str
    state: str  # UNKNOWN | UP | DEGRADED | DOWN
    since: float | None = None
    reason: str = ""
    flapping: bool = False


@dataclass
class Tile:
    name: str
    title: str
    status: str  # green | amber | red | grey
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (asset title, what it says)


@dataclass
class AssetLine:
    name: str
    title: str
    kind: str
    status: str  # the worst of its checks: red (down) | amber (degraded) | grey | green
    checks: list[CheckState] = field(default_factory=list)


def views_of(states: Iterable[CheckState]) -> list[CheckView]:
    """The classifier's input: every check that has a state."""
    return [
        CheckView(
            s.asset, s.check, s.check_type, State(s.state), s.since or 0.0, s.reason, s.flapping
        )
        for s in states
        if s.state != State.UNKNOWN
    ]


def service_tiles(
    config: NocConfig, states: list[CheckState], language: str, faults: list[Fault] | None = None
) -> list[Tile]:
    topology = Topology.from_config(config)
    kinds = {a.name: a.kind for a in config.assets}
    if faults is None:
        faults = classify_all(kinds, views_of(states))
    down = {f.asset for f in faults if f.is_outage}
    impaired = {i.service: i for i in topology.impaired_services(down)}
    known = {s.asset for s in states if s.state != State.UNKNOWN}
    tiles = []
    for service in config.services:
        needed = service.asset_names()
        relevant = needed | {up for a in needed for up in topology.ancestors(a)}
        hits = sorted(
            (f for f in faults if f.asset in relevant),
            key=lambda f: (not f.is_outage, f.started_at, f.asset),
        )
        impairment = impaired.get(service.name)
        if impairment is not None and impairment.full:
            status = "red"
        elif impairment is not None or hits:
            status = "amber"
        elif not (needed & known):
            status = "grey"
        else:
            status = "green"
        reasons = [(_title(config, f.asset, language), f.reason or f.type) for f in hits]
        tiles.append(Tile(service.name, service.title.get(language), status, reasons))
    return tiles


def _title(config: NocConfig, asset: str, language: str) -> str:
    found = config.assets_by_name.get(asset)
    return found.display_name(language) if found is not None else asset


def asset_lines(config: NocConfig, states: list[CheckState], language: str) -> list[AssetLine]:
    by_asset: dict[str, list[CheckState]] = {}
    for s in states:
        by_asset.setdefault(s.asset, []).append(s)
    lines = []
    for asset in config.assets:
        checks = by_asset.get(asset.name, [])
        lines.append(
            AssetLine(
                asset.name,
                asset.display_name(language),
                asset.kind,
                worst(check_status(c.state) for c in checks),
                checks,
            )
        )
    return lines


def check_status(state: str) -> str:
    return {"DOWN": "red", "DEGRADED": "amber", "UP": "green"}.get(state, "grey")


def worst(statuses: Iterable[str]) -> str:
    """An asset's colour: red if a check is down, else amber if one is degraded, else green if
    one is up, else grey (nothing known yet)."""
    found = set(statuses)
    return next((s for s in ("red", "amber", "green") if s in found), "grey")


def countdown(deadline: dt.datetime | None, now: dt.datetime) -> dict[str, Any] | None:
    """A deadline as the page shows it before its script takes over: seconds left (negative:
    overdue)."""
    if deadline is None:
        return None
    return {"at": deadline.isoformat(), "left": int((deadline - now).total_seconds())}


def by_level(incidents: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Open incidents grouped by level, I first; each group oldest first."""
    groups: dict[str, list[Mapping[str, Any]]] = {level: [] for level in LEVELS}
    for incident in incidents:
        groups.setdefault(incident["severity"], []).append(incident)
    return [
        (level, sorted(items, key=lambda i: i["id"])) for level, items in groups.items() if items
    ]
