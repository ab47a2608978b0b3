"""Which receivers get an alert, in which group, with which timers. Pure.

Alertmanager's ``dispatch/route.go`` semantics: the root matches every alert; matching goes
depth-first; the first matching child wins and the search stops there unless that child says
``continue: true``; a node none of whose children match is itself the match. Children inherit
the receiver, ``group_by`` and timers they leave unset. A match's ``group_key`` is the route's
id plus the values of its ``group_by`` labels, so alerts that agree on them share a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alerting.config import Matchers, Route
from alerting.model import AlertEvent
from noc.core.vocabulary import normalize_level

ROOT_DEFAULTS = {
    "group_by": ("incident",),
    "group_wait": 30.0,
    "group_interval": 300.0,
    "repeat_interval": 4 * 3600.0,
}
"""Alertmanager's root defaults, except grouping: one group per incident unless told otherwise."""


@dataclass(frozen=True)
class Timers:
    group_wait: float  # first message of a new group waits this long for company
    group_interval: float  # later changes of the group are batched this long
    repeat_interval: float  # re-notify open unacknowledged incidents this often; 0 = never


@dataclass(frozen=True)
class RouteNode:
    """A route with everything inherited filled in; build with :func:`compile_tree`."""

    id: str
    receiver: str
    matchers: Matchers
    continue_: bool
    group_by: tuple[str, ...]
    timers: Timers
    children: tuple[RouteNode, ...] = ()


@dataclass(frozen=True)
class RouteMatch:
    receiver: str
    group_key: str
    timers: Timers
    route_id: str = ""


def compile_tree(route: Route, parent: RouteNode | None = None, node_id: str = "root") -> RouteNode:
    """Resolve inheritance once, so matching is a plain walk."""
    if parent is None:
        inherited_receiver = route.receiver or ""
        inherited = Timers(
            ROOT_DEFAULTS["group_wait"],
            ROOT_DEFAULTS["group_interval"],  # type: ignore[arg-type]
            ROOT_DEFAULTS["repeat_interval"],
        )  # type: ignore[arg-type]
        inherited_group_by: tuple[str, ...] = ROOT_DEFAULTS["group_by"]  # type: ignore[assignment]
    else:
        inherited_receiver, inherited, inherited_group_by = (
            parent.receiver,
            parent.timers,
            parent.group_by,
        )
    timers = Timers(
        route.group_wait if route.group_wait is not None else inherited.group_wait,
        route.group_interval if route.group_interval is not None else inherited.group_interval,
        route.repeat_interval if route.repeat_interval is not None else inherited.repeat_interval,
    )
    node = RouteNode(
        id=node_id,
        receiver=route.receiver or inherited_receiver,
        matchers=route.matchers,
        continue_=route.continue_,
        group_by=tuple(route.group_by) if route.group_by is not None else inherited_group_by,
        timers=timers,
    )
    children = tuple(
        compile_tree(child, node, f"{node_id}.{i}") for i, child in enumerate(route.routes)
    )
    return RouteNode(**{**node.__dict__, "children": children})


def _split(value: str | None) -> set[str]:
    return {v for v in (value or "").split(",") if v}


def matches(matchers: Matchers, labels: Mapping[str, str]) -> bool:
    """Every given matcher holds; a list is any-of; ``service``/``asset`` match any of the
    event's services / assets (``services`` and ``assets`` labels are comma-joined)."""
    if matchers.severity and normalize_level(labels.get("severity", "")) not in matchers.severity:
        return False
    if matchers.site and labels.get("site") not in matchers.site:
        return False
    if matchers.asset_kind and labels.get("asset_kind") not in matchers.asset_kind:
        return False
    if matchers.fault_type and labels.get("fault_type") not in matchers.fault_type:
        return False
    if matchers.service and not _split(labels.get("services")) & set(matchers.service):
        return False
    if matchers.asset:
        assets = _split(labels.get("assets")) | _split(labels.get("asset"))
        if not assets & set(matchers.asset):
            return False
    return True


def group_key(node: RouteNode, labels: Mapping[str, str]) -> str:
    """``root.0{incident="7"}``: the route and the values of its group_by labels."""
    values = ",".join(f'{name}="{labels.get(name, "")}"' for name in node.group_by)
    return f"{node.id}{{{values}}}"


def _walk(node: RouteNode, labels: Mapping[str, str], is_root: bool) -> list[RouteNode]:
    if not is_root and not matches(node.matchers, labels):
        return []
    found: list[RouteNode] = []
    for child in node.children:
        sub = _walk(child, labels, False)
        found.extend(sub)
        if sub and not child.continue_:
            break
    return found or [node]


def route(labels: Mapping[str, str], tree: RouteNode | Route) -> list[RouteMatch]:
    """The matching routes for an alert with these labels, in tree order."""
    root = tree if isinstance(tree, RouteNode) else compile_tree(tree)
    return [
        RouteMatch(n.receiver, group_key(n, labels), n.timers, n.id)
        for n in _walk(root, labels, True)
    ]


def event_labels(event: AlertEvent) -> dict[str, str]:
    """The event's labels plus the ones derived from its fields (incident, severity, assets)."""
    labels = dict(event.labels)
    labels["incident"] = str(event.incident_id)
    labels["severity"] = str(normalize_level(labels.get("severity") or event.severity))
    if event.assets and "assets" not in labels:
        labels["assets"] = ",".join(event.assets)
    return labels


__all__ = [
    "ROOT_DEFAULTS",
    "RouteMatch",
    "RouteNode",
    "Timers",
    "compile_tree",
    "event_labels",
    "group_key",
    "matches",
    "route",
]
