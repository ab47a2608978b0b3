"""Runs a runbook's automated steps (re-probe, SNMP interface dump, traceroute, SIP detail)
for an incident, and on request; each output goes into the incident's timeline as a
``step_done`` by ``noc-auto``. Diagnostics never block the engine: they run as tasks.

A step runs when its runbook says (``when``): diagnostics as the incident opens, verification
once it has recovered. A verify step run at opening would only re-confirm the fault and then
show as done, so the operator would never see it confirm the recovery. A verification waits
for the same incident's opening diagnostics still running, so an incident that recovers within
seconds gets both, in that order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any

from incident_runbooks.loader import RunbookSet
from noc.config import NocConfig
from noc.core.logs import get_logger
from noc.engine.incidents import Change
from noc.runtime.automation_steps import StepContext, run_automated_step
from noc.store.incidents import IncidentError, IncidentRepo
from probes.probeset import ProbeSet

log = get_logger("noc.automation")
ACTOR = "noc-auto"


class StepAutomation:
    def __init__(
        self,
        config: NocConfig,
        runbooks: RunbookSet,
        repo: IncidentRepo,
        probes: ProbeSet,
        max_parallel: int = 4,
        start_delay: float = 1.0,
    ):
        self.config = config
        # steps start a moment after the incident opens or recovers: the alert goes first,
        # without their probes and timeline writes competing for the loop and the store
        self.start_delay = start_delay
        self.runbooks = runbooks
        self.repo = repo
        self.probes = probes
        self._sem = asyncio.Semaphore(max_parallel)
        self._tasks: set[asyncio.Task] = set()
        self._opening: dict[int, set[asyncio.Task]] = {}  # open-time steps still running

    async def on_changes(self, changes: Iterable[Change], active: dict) -> None:
        """Engine listener: diagnostics for a newly opened incident, verification for a
        recovered one."""
        for change in changes:
            if change.kind == "opened":
                self._opened(change, active)
            elif change.kind == "recovered":
                incident_id = change.data.get("id")
                if incident_id is None:
                    log.warning("automated_verify_skipped", key=change.key, reason="no id")
                    continue
                self.recovered(incident_id)

    def _opened(self, change: Change, active: dict) -> None:
        incident = active.get(change.key)
        if incident is None or incident.id is None:
            return
        try:
            runbook = self.runbooks.for_fault(incident.type)
        except KeyError:
            return
        members = tuple(sorted(m for m in incident.members if m != incident.root_asset))
        running = self._opening.setdefault(incident.id, set())
        for step in runbook.automated_steps("on_open"):
            task = self._spawn(
                self.run(incident.id, step, incident.root_asset, members, self.start_delay),
                f"auto step {incident.id}/{step.id}",
            )
            running.add(task)
            task.add_done_callback(lambda t, i=incident.id: self._opening_done(i, t))

    def _opening_done(self, incident_id: int, task: asyncio.Task) -> None:
        running = self._opening.get(incident_id)
        if running is not None:
            running.discard(task)
            if not running:
                del self._opening[incident_id]

    def recovered(self, incident_id: int) -> asyncio.Task:
        """Start the incident's on-recovery steps (the engine saw it recover, or an operator
        resolved it)."""
        return self._spawn(self._verify(incident_id), f"auto verify {incident_id}")

    async def _verify(self, incident_id: int) -> None:
        opening = list(self._opening.get(incident_id, ()))
        if opening:
            await asyncio.gather(*opening, return_exceptions=True)
        try:
            row = await self.repo.get(incident_id)
            runbook = self.runbooks.for_fault(row.fault_type)
        except (IncidentError, KeyError) as exc:
            log.info("automated_verify_skipped", incident=incident_id, reason=str(exc))
            return
        members = tuple(
            sorted(m for m in (row.impact or {}).get("members", []) if m != row.root_asset)
        )
        steps = runbook.automated_steps("on_recovery")
        results = await asyncio.gather(
            *(self.run(incident_id, s, row.root_asset, members, self.start_delay) for s in steps),
            return_exceptions=True,
        )
        for step, result in zip(steps, results, strict=True):
            if isinstance(result, Exception):
                log.error(
                    "automated_step_failed", incident=incident_id, step=step.id, error=repr(result)
                )

    def _spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run(
        self,
        incident_id: int,
        step,
        root_asset: str,
        members: tuple[str, ...] = (),
        delay: float = 0.0,
    ):
        root = (
            root_asset
            if root_asset in self.config.assets_by_name
            else (members[0] if members else root_asset)
        )
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._sem:
            context = StepContext(self.config, root, members, probes=self.probes)
            output = await run_automated_step(step, context)
        try:
            await self.repo.step_done(
                incident_id,
                step.id,
                ACTOR,
                output.text or output.summary,
                intervention=False,
                data={"automated": True, "ok": output.ok, "summary": output.summary},
            )
        except IncidentError as exc:  # closed meanwhile: the output has nowhere to go
            log.info("automated_step_dropped", incident=incident_id, step=step.id, reason=str(exc))
        log.info("automated_step_done", incident=incident_id, step=step.id, ok=output.ok)
        return output

    async def idle(self) -> None:
        """Wait until every step started so far (and any verification they lead to) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
