"""The durable outbox: every notification is a ``notifications`` row before anything is sent.

Guarantees, and why:

* **Written first.** ``enqueue`` inserts the messages in one transaction and only then wakes the
  worker, so a crash after the engine decided to alert can delay the alert but never lose it.
* **Never twice by design, at least once on a crash.** ``dedup_key`` is unique (a repeated
  enqueue is ignored), and a row marked ``delivered`` is never picked again. A row is marked
  ``sending`` (and its ``attempts`` counted) before the channel is called; a worker killed
  between the channel accepting it and the row being marked leaves it ``sending``, and the next
  worker sends it again. That is the only duplicate possible: at most one message per receiver
  (its queue head) per crash.
* **In order per receiver.** Only the oldest undelivered row (lowest id) of a receiver is ever
  attempted, so a channel that was down for an hour gets everything, in order, when it is back.
  A row that has given up (``failed``) no longer blocks the queue.
* **Isolated receivers.** Each receiver drains in its own task with its own backoff; one dead
  channel (even one that hangs until the timeout) never delays another.
* **Bounded retries.** Exponential backoff with jitter, up to ``max_backoff``; a row fails after
  ``max_attempts`` (default unlimited) or ``max_age`` (default 24 h). A receiver Apprise has no
  service for fails at once ("no service matched receiver X"): retrying a config error is noise.

One worker per database: two workers could both pick a ``sending`` head.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from alerting.model import Message
from alerting.notify import DeliveryResult, Notifier
from noc.core.aio import cancel_and_wait, wait_event
from noc.store.notifications import Delivery, NotificationRepo
from noc.store.repo import Store
from noc.store.tables import Notification
from noc.store.types import utcnow

log = logging.getLogger("alerting.outbox")

ALARM_ACTOR = "alerting"


@dataclass
class OutboxStats:
    """For /metrics: attempts by (receiver, outcome ok|error) since start, and queue depths."""

    attempts: dict[tuple[str, str], int] = field(default_factory=dict)
    queue_depth: dict[str, int] = field(default_factory=dict)
    oldest_undelivered_age_seconds: dict[str, float] = field(default_factory=dict)


class Outbox:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        *,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
        max_attempts: int | None = None,
        max_age: dt.timedelta = dt.timedelta(hours=24),
        poll_interval: float = 30.0,
        stop_grace: float = 5.0,
        clock: Callable[[], dt.datetime] = utcnow,
        rng: random.Random | None = None,
    ):
        self.store = store
        self.notifications = NotificationRepo(store)
        self.notifier = notifier
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_attempts = max_attempts
        self.max_age = max_age
        self.poll_interval = poll_interval  # picks up rows another process enqueued
        self.stop_grace = stop_grace
        self.clock = clock
        self._stopping = False
        self.rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._attempts: Counter[tuple[str, str]] = Counter()

    # -- writing ------------------------------------------------------------------------------

    async def enqueue(self, messages: Sequence[Message]) -> int:
        """Store the messages (one transaction, duplicates of a dedup_key ignored); wake the worker.

        Returns how many rows were new.
        """
        if not messages:
            return 0
        added = await self.notifications.enqueue(messages, self.clock())
        self.notify_new()
        return added

    def notify_new(self) -> None:
        """Wake the worker now (a level-I alert must not wait for a poll)."""
        self._wake.set()

    # -- the worker ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled: one draining task per receiver with due messages.

        On cancellation, receivers finish the row they are on (up to ``stop_grace`` seconds) so
        a stop rarely leaves a row ``sending``; a channel still hanging then is cancelled.
        """
        tasks: dict[str, asyncio.Task[int]] = {}
        paused: dict[str, dt.datetime] = {}  # receivers whose drain crashed (database trouble)

        def finished(receiver: str, task: asyncio.Task[int]) -> None:
            if tasks.get(receiver) is task:
                del tasks[receiver]
            if not task.cancelled() and task.exception() is not None:
                log.error("outbox receiver %s: %r", receiver, task.exception())
                paused[receiver] = self.clock() + dt.timedelta(seconds=max(1.0, self.base_backoff))
            self._wake.set()

        self._stopping = False
        try:
            while True:
                self._wake.clear()
                now = self.clock()
                try:
                    heads = await self.notifications.heads()
                except Exception as exc:  # the database is away: try again later
                    log.error("outbox: cannot read the queue: %r", exc)
                    heads = []
                next_due: dt.datetime | None = None
                for head in heads:
                    if head.receiver in tasks:
                        continue
                    due = max(head.next_attempt_at, paused.get(head.receiver, head.next_attempt_at))
                    if due <= now:
                        paused.pop(head.receiver, None)
                        task = asyncio.create_task(self._drain_receiver(head.receiver))
                        tasks[head.receiver] = task
                        task.add_done_callback(lambda t, r=head.receiver: finished(r, t))
                    elif next_due is None or due < next_due:
                        next_due = due
                wait = self.poll_interval
                if next_due is not None:
                    wait = min(wait, max(0.0, (next_due - now).total_seconds()))
                await wait_event(self._wake, wait)
        finally:
            self._stopping = True
            try:
                running = list(tasks.values())
                if running:
                    _, hanging = await asyncio.wait(running, timeout=self.stop_grace)
                    await cancel_and_wait(list(hanging))
            finally:
                self._stopping = False  # drain_once / a later run() work again

    async def drain_once(self, now: dt.datetime | None = None) -> int:
        """Deliver everything due at ``now`` (receivers in parallel); returns attempts made."""
        receivers = {h.receiver for h in await self.notifications.heads()}
        counts = await asyncio.gather(*(self._drain_receiver(r, now) for r in sorted(receivers)))
        return sum(counts)

    async def _drain_receiver(self, receiver: str, now: dt.datetime | None = None) -> int:
        """Send a receiver's queue head by head until it is empty or its head must wait."""
        attempts = 0
        while not self._stopping:
            head = await self.notifications.head(receiver)
            if head is None or head.next_attempt_at > (now or self.clock()):
                return attempts
            attempts += 1
            await self._attempt(head)
        return attempts

    async def _attempt(self, row: Notification) -> None:
        # Claim before calling the channel: a crash from here on leaves the row "sending".
        await self.notifications.claim(row.id)
        attempts = row.attempts + 1
        result = await self.notifier.send(row.receiver, row.title, row.body)
        self._attempts[(row.receiver, "ok" if result.ok else "error")] += 1
        await self._record(row, attempts, result)

    async def _record(self, row: Notification, attempts: int, result: DeliveryResult) -> None:
        """The attempt's outcome, recorded in one transaction (:meth:`NotificationRepo.record`)."""
        now = self.clock()
        if result.ok:
            status, next_attempt_at = "delivered", None
        elif result.config_error or self._given_up(row, attempts, now):
            status, next_attempt_at = "failed", None
        else:
            status = "pending"
            next_attempt_at = now + dt.timedelta(seconds=self.backoff(attempts))
        delivery = Delivery(
            status, result.ok, result.duration_seconds, result.error, next_attempt_at
        )
        await self.notifications.record(row, delivery, now, ALARM_ACTOR)
        if status == "failed":
            log.warning(
                "notification %s to %s failed for good: %s", row.id, row.receiver, result.error
            )

    def _given_up(self, row: Notification, attempts: int, now: dt.datetime) -> bool:
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        return now - row.created_at >= self.max_age

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try: exponential, capped, with jitter (half to full)."""
        ceiling = min(self.max_backoff, self.base_backoff * 2 ** max(0, attempts - 1))
        return ceiling * self.rng.uniform(0.5, 1.0)

    # -- metrics ------------------------------------------------------------------------------

    async def stats(self) -> OutboxStats:
        now = self.clock()
        queues = await self.notifications.queue_depths()
        depth = {r: 0 for r in self.notifier.receivers}
        oldest: dict[str, float] = {}
        for queue in queues:
            depth[queue.receiver] = queue.undelivered
            oldest[queue.receiver] = max(0.0, (now - queue.oldest_created_at).total_seconds())
        return OutboxStats(dict(self._attempts), depth, oldest)
