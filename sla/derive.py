"""From the store's rows to the facts :mod:`sla.compute` needs: the parts that take a rule, not a
query (:mod:`sla.facts` reads the rows and calls these). Pure (plain tuples in, plain values
out), so the rules are tested without a store and stay put when the queries move.

* **Members of a grouped incident** (the phones): when each member joined and left, from the
  ``opened`` and ``members_changed`` timeline events — a window on one phone hides that phone's
  part only.
* **Merges**: which incident a merged symptom went into. The ``merged`` event names the parent
  by fault key; the parent is the incident with that key open at the merge (it is opened in the
  same reconciliation, so its detection time is the merge time).
* **Measured outages** of an incident held open by flapping: the DOWN intervals of its checks,
  from the check transitions, when one of those checks flapped while it was open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sla.compute import FAR, TransitionFact
from sla.intervals import Interval, clip, union

CheckKey = tuple[str, str]


def member_spans(
    start: dt.datetime, events: Iterable[tuple[str, dt.datetime, Mapping[str, Any]]]
) -> tuple[tuple[str, dt.datetime, dt.datetime | None], ...]:
    """(member, joined, left or None) of a grouped incident, from its timeline events in order:
    ``opened`` (``members``, all joined at the fault start) and ``members_changed`` (``added``,
    ``removed``, at the change). A member may leave and join again."""
    current: dict[str, dt.datetime] = {}
    out: list[tuple[str, dt.datetime, dt.datetime | None]] = []
    for kind, at, data in events:
        if kind == "opened":
            for member in data.get("members") or ():
                current.setdefault(str(member), start)
        elif kind == "members_changed":
            for member in data.get("removed") or ():
                joined = current.pop(str(member), None)
                if joined is not None:
                    out.append((str(member), joined, at))
            for member in data.get("added") or ():
                current.setdefault(str(member), at)
    out += [(member, joined, None) for member, joined in current.items()]
    return tuple(sorted(out, key=lambda m: (m[1], m[0])))


def merge_parents(
    incidents: Sequence[tuple[int, str, dt.datetime, dt.datetime | None]],
    merges: Mapping[int, tuple[dt.datetime, str]],
) -> dict[int, int]:
    """Merged incident id → the id it was merged into.

    ``incidents``: (id, fault key, detected at, ended at or None); ``merges``: merged id → (when,
    the parent's fault key). The parent is the incident with that key detected at or before the
    merge and not ended before it; the latest such one (a key is reused by later incidents)."""
    by_key: dict[str, list[tuple[int, dt.datetime, dt.datetime | None]]] = {}
    for incident_id, key, detected, ended in incidents:
        by_key.setdefault(key, []).append((incident_id, detected, ended))
    out = {}
    for merged_id, (at, key) in merges.items():
        candidates = [
            (detected, incident_id)
            for incident_id, detected, ended in by_key.get(key, ())
            if incident_id != merged_id and detected <= at and (ended is None or ended >= at)
        ]
        if candidates:
            out[merged_id] = max(candidates)[1]
    return out


def state_intervals(
    transitions: Iterable[TransitionFact], checks: Iterable[CheckKey], state: str = "DOWN"
) -> list[Interval]:
    """When any of ``checks`` was in ``state``, from their transitions (open end: ``FAR``)."""
    wanted = set(checks)
    since: dict[CheckKey, dt.datetime] = {}
    out: list[Interval] = []
    for t in sorted(transitions, key=lambda t: t.at):
        key = (t.asset, t.check)
        if key not in wanted or t.flapping is not None:
            continue
        if t.to_state == state:
            since.setdefault(key, t.at)
        elif key in since:
            out.append((since.pop(key), t.at))
    out += [(start, FAR) for start in since.values()]
    return union(out)


def flapped_during(
    transitions: Iterable[TransitionFact],
    checks: Iterable[CheckKey],
    start: dt.datetime,
    end: dt.datetime,
) -> bool:
    """Whether one of ``checks`` was flapping at some instant of ``[start, end]``."""
    wanted = set(checks)
    flapping: dict[CheckKey, bool] = {}
    for t in sorted(transitions, key=lambda t: t.at):
        key = (t.asset, t.check)
        if key not in wanted or t.flapping is None:
            continue
        if t.at > end:
            break
        if t.at >= start and t.flapping:
            return True
        flapping[key] = t.flapping
    return any(flapping.get(key, False) for key in wanted)


def by_check(transitions: Iterable[TransitionFact]) -> dict[CheckKey, list[TransitionFact]]:
    """Transitions per (asset, check), in time order: each incident reads only its own checks."""
    out: dict[CheckKey, list[TransitionFact]] = {}
    for t in sorted(transitions, key=lambda t: t.at):
        out.setdefault((t.asset, t.check), []).append(t)
    return out


def measured_down(
    transitions: Mapping[CheckKey, Sequence[TransitionFact]] | Sequence[TransitionFact],
    checks: Iterable[CheckKey],
    start: dt.datetime,
    end: dt.datetime | None,
) -> tuple[Interval, ...] | None:
    """The outages measured inside an incident ``[start, end)`` held open by flapping: the DOWN
    intervals of its checks. None when none of its checks flapped while it was open (its own
    span is then the outage), or when nothing was measured (the span stands, conservatively).
    ``transitions``: as :func:`by_check` groups them (or a plain sequence)."""
    index = transitions if isinstance(transitions, Mapping) else by_check(transitions)
    checks = list(checks)
    mine = [t for key in dict.fromkeys(checks) for t in index.get(key, ())]
    stop = end or FAR
    if not mine or not flapped_during(mine, checks, start, stop):
        return None
    down = clip(state_intervals(mine, checks), start, stop)
    return tuple(down) or None
