"""Runs every planned check on its interval; never interprets results.

One task per check, so a slow or hung probe only delays itself: each run is bounded by the
check's deadline (a probe that overruns becomes a ``timeout`` result) and by a global
concurrency limit. Intervals carry ±10 % jitter so checks started together drift apart.

**Fast confirmation**: after each run the scheduler asks the engine whether a decision is
pending for that check (a failure on a check that was up, or a success on one that was down);
if so it re-probes after ``confirm_spacing`` (50 ms) with the check's confirmation parameters
(the probe kind's: for ICMP a short burst) until the hysteresis decides, so an outage is
confirmed in about a second while a single lost packet never raises an incident.
``kick(keys)`` runs checks now (the engine kicks an asset's own and dependent checks when its
state changes). Probes run on the clients of the ``ProbeSet`` the app hands in.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable

from noc.core.aio import cancel_and_wait, wait_event
from noc.core.logs import get_logger
from noc.engine.observe import CheckRef
from noc.runtime.planning import PlannedCheck
from probes.base import ProbeResult, ResultCode
from probes.probeset import ProbeSet

log = get_logger("noc.runtime.scheduler")

Sink = Callable[[CheckRef, ProbeResult], Awaitable[None]]


class Scheduler:
    def __init__(
        self,
        plans: Iterable[PlannedCheck],
        sink: Sink,
        pending: Callable[[tuple[str, str]], bool],
        *,
        probes: ProbeSet,
        concurrency: int = 64,
        jitter: float = 0.1,
        confirm_spacing: float = 0.05,
        recent_rtt: Callable[[tuple[str, str]], float | None] | None = None,
        rng: random.Random | None = None,
    ):
        self.plans = list(plans)
        self.sink = sink
        self.pending = pending
        self.probes = probes
        self.recent_rtt = recent_rtt or (lambda key: None)
        self.jitter = jitter
        self.confirm_spacing = confirm_spacing
        self.rng = rng or random.Random()
        self._sem = asyncio.Semaphore(concurrency)
        self._tasks: list[asyncio.Task] = []
        self._wake: dict[tuple[str, str], asyncio.Event] = {}
        self.runs = 0

    async def start(self) -> None:
        for plan in self.plans:
            self._wake[plan.ref.key] = asyncio.Event()
            self._tasks.append(
                asyncio.create_task(
                    self._loop(plan), name=f"check {plan.ref.asset}/{plan.ref.check}"
                )
            )
        log.info("scheduler_started", checks=len(self.plans))

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        log.info("scheduler_stopped", runs=self.runs)

    def kick(self, keys: Iterable[tuple[str, str]]) -> int:
        """Probe these (asset, check) pairs now instead of at their next interval; returns how many."""
        woken = 0
        for key in keys:
            event = self._wake.get(key)
            if event is not None:
                event.set()
                woken += 1
        return woken

    async def run_once(self, plan: PlannedCheck, confirming: bool = False) -> ProbeResult:
        """One bounded probe run; a crash or overrun is a result, never an exception."""
        params = (
            self.probes.confirm_params(plan.kind, plan.params, self.recent_rtt(plan.ref.key))
            if confirming
            else plan.params
        )
        async with self._sem:
            started = time.time()
            try:
                async with asyncio.timeout(plan.deadline):
                    result = await self.probes[plan.kind](plan.target, params)
            except TimeoutError:
                result = ProbeResult.failure(
                    ResultCode.TIMEOUT,
                    f"probe overran its {plan.deadline:g}s deadline",
                    kind=plan.kind,
                    target=plan.target.address,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a probe bug must not stop the check's loop
                log.exception("probe_crashed", asset=plan.ref.asset, check=plan.ref.check)
                result = ProbeResult.failure(
                    ResultCode.ERROR,
                    f"probe crashed: {type(exc).__name__}: {exc}",
                    kind=plan.kind,
                    target=plan.target.address,
                )
        if not result.started_at:
            result.started_at = started
        if not result.duration_seconds:  # an overrun or crash: the time it held the slot
            result.duration_seconds = time.time() - started
        self.runs += 1
        return result

    async def _loop(self, plan: PlannedCheck) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake[plan.ref.key]
        await self._sleep(wake, self.rng.uniform(0, min(plan.interval, 2.0)))
        while True:
            began = loop.time()
            confirming = self.pending(plan.ref.key)
            result = await self.run_once(plan, confirming)
            try:
                await self.sink(plan.ref, result)
            except asyncio.CancelledError:
                raise
            except Exception:  # the engine failing on one result must not kill the check
                log.exception("sink_failed", asset=plan.ref.asset, check=plan.ref.check)
            if self.pending(plan.ref.key):
                delay = self.confirm_spacing
            else:
                spread = plan.interval * self.rng.uniform(-self.jitter, self.jitter)
                delay = max(0.0, began + plan.interval + spread - loop.time())
            await self._sleep(wake, delay)

    @staticmethod
    async def _sleep(wake: asyncio.Event, delay: float) -> None:
        if delay > 0:
            await wait_event(wake, delay)
        wake.clear()
