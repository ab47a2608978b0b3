"""The live feed: an in-process hub that tells the console's open pages "something was written".

The store announces each append to the event log once it has committed (a check transition,
an incident timeline event, whoever wrote it: the engine, an operator, the runbook automation,
alerting), and the hub fans the notice out to every subscriber (one per open Server-Sent Events
stream). A notice is small (what and which), never the data: a page that hears of a change asks
the server for its fresh fragment, so what it shows is always what the store says.

A subscriber that falls behind (its queue is full) is not allowed to slow the writers: it gets
one ``resync`` notice instead of the ones it missed and reloads everything it shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

QUEUE_SIZE = 256


@dataclass(frozen=True)
class Notice:
    """``kind`` is ``transition``, ``incident``, ``resync`` or ``closing``."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


RESYNC = Notice("resync")
CLOSING = Notice("closing")


class Subscription:
    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[Notice] = asyncio.Queue(size)
        self._behind = False

    def put(self, notice: Notice) -> None:
        if self._behind:
            return
        try:
            self._queue.put_nowait(notice)
        except asyncio.QueueFull:
            self._behind = True

    async def get(self) -> Notice:
        """The next notice; ``RESYNC`` once after notices were dropped."""
        if self._behind and self._queue.empty():
            self._behind = False
            return RESYNC
        return await self._queue.get()


class EventHub:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self.closed = False

    def publish(self, kind: str, data: dict[str, Any] | None = None) -> None:
        """Tell every subscriber; never blocks, never raises (the writer must not notice us)."""
        notice = Notice(kind, dict(data or {}))
        for sub in list(self._subscribers):
            sub.put(notice)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        sub = Subscription(self.queue_size)
        if self.closed:
            sub.put(CLOSING)
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def close(self) -> None:
        """The service is stopping: every stream ends now, not at the shutdown timeout."""
        self.closed = True
        for sub in list(self._subscribers):
            sub._behind = False
            try:
                sub._queue.put_nowait(CLOSING)
            except asyncio.QueueFull:
                sub._queue.get_nowait()
                sub._queue.put_nowait(CLOSING)
