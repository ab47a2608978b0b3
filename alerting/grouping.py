"""Batching alerts per (route, group key) with Alertmanager's timers. Pure; the clock is passed in.

* A new group's first message waits ``group_wait`` (0 for level I/II: at once) so that alerts
  arriving together go out together; later changes are batched for ``group_interval``.
* An open incident nobody has acknowledged is re-notified every ``repeat_interval`` (a
  ``renotify`` event); acknowledgement, recovery or closure stops it.
* An ``escalated`` event (``context["escalate_to"]``, a receiver named by a runbook tier) also
  goes straight to that receiver, which then hears the rest of the incident (ack, recovery).
* Dedup: the same (incident, event seq, receiver) is never emitted twice, whatever the tree
  says (two ``continue`` routes to one receiver send once). Seed ``sent`` after a restart.

The shell calls :meth:`AlertGrouper.add` for each event that passed the muter, then
:meth:`AlertGrouper.due` when :meth:`AlertGrouper.next_due` comes, and renders each batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from alerting.config import Route
from alerting.model import AlertEvent
from alerting.routing import RouteMatch, RouteNode, Timers, compile_tree, event_labels, route
from noc.core.vocabulary import most_severe, normalize_level

OPENING_KINDS = ("opened", "regraded", "escalated")  # (re)start re-notification
ENDING_KINDS = ("acknowledged", "recovered", "closed")  # stop it
ESCALATION_TIMERS = Timers(group_wait=0.0, group_interval=0.0, repeat_interval=0.0)


def event_key(event: AlertEvent) -> str:
    """Identity of one event of one incident; renotifies are numbered apart from engine events."""
    base = f"{event.incident_id}:{event.seq}"
    return f"{base}:r{event.context.get('renotify_count', 0)}" if event.kind == "renotify" else base


@dataclass(frozen=True)
class Batch:
    """What one message to one receiver says: one or more events of one group."""

    receiver: str
    route_id: str
    group_key: str
    events: tuple[AlertEvent, ...]
    at: float

    @property
    def severity(self) -> str:
        return most_severe(str(normalize_level(e.severity)) for e in self.events)

    @property
    def event_kind(self) -> str:
        kinds = {e.kind for e in self.events}
        return kinds.pop() if len(kinds) == 1 else "grouped"

    @property
    def incident_id(self) -> int | None:
        ids = {e.incident_id for e in self.events}
        return ids.pop() if len(ids) == 1 else None

    @property
    def dedup_key(self) -> str:
        """Stable for the same events to the same receiver (the outbox's unique key)."""
        keys = ",".join(sorted(event_key(e) for e in self.events))
        text = f"{self.receiver}/{keys}"
        return (
            text
            if len(text) <= 200
            else f"{self.receiver}/h{hashlib.sha256(keys.encode()).hexdigest()[:32]}"
        )


@dataclass
class _Tracked:
    event: AlertEvent  # the latest engine event, the context of a re-notification
    notified_at: float | None = None  # when it last went out in this group
    count: int = 0  # re-notifications so far


@dataclass
class _Group:
    match: RouteMatch
    pending: list[AlertEvent] = field(default_factory=list)
    next_flush: float | None = None
    last_flush: float | None = None
    open: dict[int, _Tracked] = field(default_factory=dict)  # incident id → unacknowledged, open


class AlertGrouper:
    def __init__(self, tree: RouteNode | Route, sent: Iterable[tuple[int, int, str]] = ()):
        self.tree = tree if isinstance(tree, RouteNode) else compile_tree(tree)
        self.groups: dict[tuple[str, str, str], _Group] = {}
        self._sent: set[tuple[str, str]] = {(f"{i}:{s}", r) for i, s, r in sent}
        self._acknowledged: set[int] = set()
        self._escalated: dict[int, set[str]] = {}  # incident → receivers escalated to

    # -- input --------------------------------------------------------------------------------

    def matches_for(self, event: AlertEvent) -> list[RouteMatch]:
        """Route matches plus escalation receivers, one per receiver (first wins)."""
        labels = event_labels(event)
        found = route(labels, self.tree)
        target = event.context.get("escalate_to") if event.kind == "escalated" else None
        if target:
            self._escalated.setdefault(event.incident_id, set()).add(str(target))
        for receiver in sorted(self._escalated.get(event.incident_id, ())):
            found.append(
                RouteMatch(
                    receiver,
                    f'escalation{{incident="{event.incident_id}"}}',
                    ESCALATION_TIMERS,
                    "escalation",
                )
            )
        seen: set[str] = set()
        unique = []
        for m in found:
            if m.receiver not in seen:
                seen.add(m.receiver)
                unique.append(m)
        return unique

    def add(self, event: AlertEvent, now: float) -> list[RouteMatch]:
        """Queue an engine event; returns the matches it was queued for (empty: all duplicates)."""
        if event.kind == "acknowledged":
            self._acknowledged.add(event.incident_id)
        matches = self.matches_for(event)
        queued = []
        for m in matches:
            key = (event_key(event), m.receiver)
            if key in self._sent:
                continue
            self._sent.add(key)
            group = self._group(m, now)
            group.pending.append(event)
            self._track(group, event)
            queued.append(m)
        # an incident that moved to other routes (re-graded I → III) stops re-notifying in the old ones
        keep = {(m.route_id, m.group_key, m.receiver) for m in matches}
        for gkey, group in self.groups.items():
            if gkey not in keep:
                group.open.pop(event.incident_id, None)
        if event.kind == "closed":
            self._escalated.pop(event.incident_id, None)
        return queued

    def _group(self, m: RouteMatch, now: float) -> _Group:
        gkey = (m.route_id, m.group_key, m.receiver)
        group = self.groups.get(gkey)
        if group is None:
            group = self.groups[gkey] = _Group(m, next_flush=now + m.timers.group_wait)
        elif group.next_flush is None:
            last = group.last_flush if group.last_flush is not None else now
            group.next_flush = max(now, last + m.timers.group_interval)
        return group

    def _track(self, group: _Group, event: AlertEvent) -> None:
        if event.kind in ENDING_KINDS or event.incident_id in self._acknowledged:
            group.open.pop(event.incident_id, None)
        elif event.kind in OPENING_KINDS:
            previous = group.open.get(event.incident_id)
            group.open[event.incident_id] = _Tracked(
                event, previous.notified_at if previous else None, previous.count if previous else 0
            )

    # -- output -------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When :meth:`due` next has something to emit (a flush or a re-notification)."""
        times = [g.next_flush for g in self.groups.values() if g.next_flush is not None]
        for g in self.groups.values():
            if g.match.timers.repeat_interval > 0:
                times.extend(
                    t.notified_at + g.match.timers.repeat_interval
                    for t in g.open.values()
                    if t.notified_at is not None
                )
        return min(times, default=None)

    def due(
        self, now: float, muted: Callable[[AlertEvent, float], str | None] | None = None
    ) -> list[Batch]:
        """Batches to send at ``now``; ``muted`` (a muter) may hold back re-notifications."""
        batches = []
        for gkey, group in list(self.groups.items()):
            self._renotify(group, now, muted)
            if group.pending and group.next_flush is not None and group.next_flush <= now:
                batches.append(
                    Batch(
                        group.match.receiver,
                        group.match.route_id,
                        group.match.group_key,
                        tuple(group.pending),
                        now,
                    )
                )
                for e in group.pending:
                    tracked = group.open.get(e.incident_id)
                    if tracked is not None:
                        tracked.notified_at = now
                group.pending.clear()
                group.last_flush, group.next_flush = now, None
            if not group.pending and not group.open:
                del self.groups[gkey]
        return batches

    def _renotify(
        self, group: _Group, now: float, muted: Callable[[AlertEvent, float], str | None] | None
    ) -> None:
        repeat = group.match.timers.repeat_interval
        if repeat <= 0:
            return
        for incident_id, tracked in group.open.items():
            if tracked.notified_at is None or now < tracked.notified_at + repeat:
                continue
            if any(e.incident_id == incident_id for e in group.pending):
                continue  # news about it goes out anyway
            event = replace(
                tracked.event,
                kind="renotify",
                at=now,
                context={**tracked.event.context, "renotify_count": tracked.count + 1},
            )
            if muted is not None and muted(event, now):
                tracked.notified_at = now  # under maintenance: try again one interval later
                continue
            tracked.count += 1
            key = (event_key(event), group.match.receiver)
            if key in self._sent:
                continue
            self._sent.add(key)
            group.pending.append(event)
            group.next_flush = now


__all__ = ["AlertGrouper", "Batch", "ESCALATION_TIMERS", "event_key"]
