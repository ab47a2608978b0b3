"""Should this alert be held back? One question, several reasons. Pure.

Like Alertmanager's silences and inhibitions behind one ``Muter`` interface:
``muted(event, now)`` returns a reason (for the log and the timeline) or ``None``.

* **Maintenance windows** (planned work, from the store's ``maintenance_windows`` rows) mute an
  event when *every* asset of its incident (root, members) is covered by a window active at the
  event's time — covered as the SLA reads it: a window on the asset *or on anything upstream of
  it* (``upstream``: asset → itself and what it depends on), so a window on the CE router mutes
  the circuits behind it, exactly where the SLA counts that time as planned. Symptom assets are
  explained by the root and need no window of their own. A window counts from when it was
  entered at the earliest (``created_at``), as in the SLA. An incident that outlasts its window
  must then alert: :meth:`MaintenanceMuter.ended_windows` tells the shell which windows ended
  since it last looked, and :func:`outlasting` which open incidents to re-alert.
* **Inhibition**: an update that only concerns symptoms (``context["symptom_only"]``) is muted;
  the parent's messages list the symptoms. The recovery of a parent (an incident with
  symptoms) is never muted, so whoever saw its symptoms learns that they are over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from alerting.model import AlertEvent


class Muter(Protocol):
    def muted(self, event: AlertEvent, now: float) -> str | None: ...


@dataclass(frozen=True)
class Window:
    """A maintenance window as plain data (epoch seconds, UTC)."""

    id: int
    assets: frozenset[str]
    starts_at: float
    ends_at: float
    ended_at: float | None = None  # ended early by an operator
    reason: str = ""

    @property
    def end(self) -> float:
        return min(self.ends_at, self.ended_at) if self.ended_at is not None else self.ends_at

    def active(self, at: float) -> bool:
        return self.starts_at <= at < self.end

    @classmethod
    def from_row(cls, row: Any) -> Window:
        """From a ``maintenance_windows`` row (or anything with its attributes)."""

        def epoch(value: Any) -> float | None:
            if value is None:
                return None
            if isinstance(value, dt.datetime):
                return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
            return float(value)

        starts_at = epoch(row.starts_at) or 0.0
        created_at = epoch(getattr(row, "created_at", None))
        return cls(
            id=row.id,
            assets=frozenset(row.assets or ()),
            # entered after its start, it counts from its entry (the SLA's rule too)
            starts_at=max(starts_at, created_at) if created_at is not None else starts_at,
            ends_at=epoch(row.ends_at) or 0.0,
            ended_at=epoch(row.ended_at),
            reason=getattr(row, "reason", "") or "",
        )


def event_assets(event: AlertEvent) -> set[str]:
    """The assets an event concerns: its ``assets`` field, else the root ``asset`` label."""
    if event.assets:
        return set(event.assets)
    root = event.labels.get("asset")
    return {root} if root else set()


def cause_assets(event: AlertEvent) -> set[str]:
    """The assets whose planned work can explain the event: its assets without the symptom-only
    ones (a symptom is explained by the root, as in the SLA)."""
    assets = event_assets(event)
    symptoms = {
        s["asset"]
        for s in event.context.get("symptoms") or ()
        if isinstance(s, Mapping) and "asset" in s
    }
    members = set(event.context.get("members") or ()) | {event.labels.get("asset")}
    return (assets - symptoms) | (assets & members) or assets


def is_parent(event: AlertEvent) -> bool:
    return bool(event.context.get("symptoms"))


class MaintenanceMuter:
    """Mutes events whose assets are all covered by maintenance (on them or upstream) at the
    event's time."""

    def __init__(
        self, windows: Iterable[Window] = (), upstream: Mapping[str, frozenset[str]] | None = None
    ):
        self.windows: tuple[Window, ...] = tuple(windows)
        self.upstream: Mapping[str, frozenset[str]] = upstream or {}

    def reach(self, asset: str) -> frozenset[str]:
        """The asset and what it depends on: a window on any of them covers it."""
        return self.upstream.get(asset, frozenset({asset}))

    def covering(self, assets: set[str], at: float) -> list[Window]:
        """Active windows at ``at`` that together cover all ``assets`` (empty if not all covered)."""
        active = [w for w in self.windows if w.active(at)]
        if not assets or not all(any(w.assets & self.reach(a) for w in active) for a in assets):
            return []
        reach = frozenset().union(*(self.reach(a) for a in assets))
        return [w for w in active if w.assets & reach]

    def touches(self, event: AlertEvent, window: Window) -> bool:
        """The window covers one of the event's assets (on it or upstream)."""
        return any(window.assets & self.reach(a) for a in cause_assets(event))

    def muted(self, event: AlertEvent, now: float) -> str | None:
        windows = self.covering(cause_assets(event), event.at if event.kind != "renotify" else now)
        if not windows:
            return None
        names = ", ".join(f"#{w.id}" + (f" ({w.reason})" if w.reason else "") for w in windows)
        return f"maintenance window {names}"

    def ended_windows(self, prev_now: float, now: float) -> list[Window]:
        """Windows that ended in (prev_now, now]: re-alert the incidents that outlast them."""
        return [w for w in self.windows if prev_now < w.end <= now]


class Inhibitor:
    """Symptom-only updates are muted; the parent's messages carry the symptom list."""

    def muted(self, event: AlertEvent, now: float) -> str | None:
        if event.context.get("symptom_only"):
            return "inhibited: symptom of a parent incident"
        return None


class AlertMuter:
    """The muter the shell uses: inhibition, then maintenance; a parent's recovery always passes."""

    def __init__(
        self,
        windows: Iterable[Window] = (),
        extra: Sequence[Muter] = (),
        upstream: Mapping[str, frozenset[str]] | None = None,
    ):
        self.maintenance = MaintenanceMuter(windows, upstream)
        self.stages: tuple[Muter, ...] = (Inhibitor(), self.maintenance, *extra)

    def muted(self, event: AlertEvent, now: float) -> str | None:
        if event.kind == "recovered" and is_parent(event):
            return None
        for stage in self.stages:
            reason = stage.muted(event, now)
            if reason:
                return reason
        return None

    def ended_windows(self, prev_now: float, now: float) -> list[Window]:
        return self.maintenance.ended_windows(prev_now, now)

    def __call__(self, event: AlertEvent, now: float) -> str | None:  # AlertGrouper.due(muted=...)
        return self.muted(event, now)


def outlasting(
    window: Window,
    open_events: Iterable[AlertEvent],
    muter: Muter | None = None,
) -> list[AlertEvent]:
    """Open incidents (their latest event) touching ``window`` that are no longer muted at its
    end: the shell sends them again as ``opened`` so the NOC hears of them."""
    maintenance = muter.maintenance if isinstance(muter, AlertMuter) else muter
    if not isinstance(maintenance, MaintenanceMuter):
        maintenance = MaintenanceMuter()
    out = []
    for event in open_events:
        if not maintenance.touches(event, window):
            continue
        if muter is not None and muter.muted(replace(event, at=window.end), window.end):
            continue  # another window still covers it
        out.append(event)
    return out


__all__ = [
    "AlertMuter",
    "Inhibitor",
    "MaintenanceMuter",
    "Muter",
    "Window",
    "cause_assets",
    "event_assets",
    "is_parent",
    "outlasting",
]
