"""A ticket's latest state, computed from its events: the ticket row is this projection.

Events are applied in the order they *happened* (``at``), not the order they arrived, so a
callback recorded before the closing it follows still leaves the ticket closed and called
back. The same function, given only the events up to an instant, gives the ticket as it stood
then; that is how any figure is recomputed as of any moment.

Status: ``new`` (created), ``dispatched`` (sent to a department), ``closed`` (办结),
``reopened`` (重办: closing, callback and rating of the earlier round are cleared from the
latest state; they stay in the events).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

# same instant: the order a ticket's life runs in
_ORDER = {
    "created": 0,
    "dispatched": 1,
    "closed": 2,
    "callback": 3,
    "rated": 4,
    "spot_checked": 5,
    "complaint_ruled": 6,
    "commended": 7,
    "reopened": 8,
}


class EventLike(Protocol):
    kind: str
    at: dt.datetime
    data: dict[str, Any]


@dataclass
class Lifecycle:
    status: str = "new"
    dispatched_to: str | None = None
    dispatched_at: dt.datetime | None = None
    deadline: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    callback_at: dt.datetime | None = None
    callback_method: str | None = None
    satisfaction: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _instant(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def project(events: Iterable[EventLike], as_of: dt.datetime | None = None) -> Lifecycle:
    """The state after ``events`` (those at or before ``as_of`` when given)."""
    state = Lifecycle()
    chosen = [e for e in events if as_of is None or e.at <= as_of]
    for _index, event in sorted(
        enumerate(chosen), key=lambda p: (p[1].at, _ORDER.get(p[1].kind, 9), p[0])
    ):
        data = event.data or {}
        kind = event.kind
        if kind == "created":
            if data.get("deadline"):
                state.deadline = _instant(data["deadline"])
        elif kind == "dispatched":
            state.status = "dispatched"
            state.dispatched_to = data.get("dispatched_to", state.dispatched_to)
            state.dispatched_at = event.at
            if data.get("deadline"):
                state.deadline = _instant(data["deadline"])
        elif kind == "closed":
            state.status = "closed"
            state.closed_at = event.at
        elif kind == "callback":
            state.callback_at = event.at
            state.callback_method = data.get("method", state.callback_method)
        elif kind == "rated":
            state.satisfaction = data.get("satisfaction")
        elif kind == "reopened":
            state.status = "reopened"
            state.closed_at = None
            state.callback_at = None
            state.callback_method = None
            state.satisfaction = None
    return state
