"""SNMP traps into the engine: a receiver plus one consumer that hands traps over in order.

A trap is the fastest evidence there is (the CE router tells us its link went down), but it
is only a hint: the engine treats it as one observation and re-polls at once. A receiver that
cannot bind (the lab's address is not up) is logged, not fatal: polling still sees every fault.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from noc.config import TrapSettings
from noc.core.logs import get_logger
from probes.snmp.traps import SnmpTrapReceiver, TrapObservation

log = get_logger("noc.runtime.traps")


class TrapIntake:
    def __init__(self, settings: TrapSettings, handle: Callable[[TrapObservation], Awaitable[Any]]):
        host, _, port = settings.listen.rpartition(":")
        self.settings = settings
        self.handle = handle
        self.queue: asyncio.Queue[TrapObservation] = asyncio.Queue()
        self.receiver = SnmpTrapReceiver(
            host.strip("[]"),
            int(port),
            communities=[c.get_secret_value() for c in settings.communities],
            v3_users=settings.users,
            queue=self.queue,
        )
        self._consumer: asyncio.Task | None = None
        self.handled = 0

    async def start(self) -> TrapIntake | None:
        try:
            await self.receiver.start()
        except OSError as exc:
            log.error("trap_receiver_failed", listen=self.settings.listen, reason=str(exc))
            return None
        self._consumer = asyncio.create_task(self._consume(), name="snmp traps")
        log.info("trap_receiver_started", listen=self.settings.listen)
        return self

    async def _consume(self) -> None:
        while True:  # in arrival order, one at a time
            trap = await self.queue.get()
            try:
                await self.handle(trap)
                self.handled += 1
            except Exception:
                log.exception("trap_handling_failed", source=trap.source, kind=trap.kind)

    async def close(self) -> None:
        await self.receiver.close()
        if self._consumer is not None:
            self._consumer.cancel()
            await asyncio.gather(self._consumer, return_exceptions=True)
