"""Runs a runbook's automated steps (re-probe, SNMP interface dump, traceroute, SIP detail)
when an incident opens, and on request; each output goes into the incident's timeline as a
``step_done`` by ``noc-auto``. Diagnostics never block the engine: they run as tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

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
        # diagnostics start a moment after the incident opens: the opening alert goes first,
        # without their probes and timeline writes competing for the loop and the store
        self.start_delay = start_delay
        self.runbooks = runbooks
        self.repo = repo
        self.probes = probes
        self._sem = asyncio.Semaphore(max_parallel)
        self._tasks: set[asyncio.Task] = set()

    async def on_changes(self, changes: Iterable[Change], active: dict) -> None:
        """Engine listener: for each newly opened incident, start its automated steps."""
        for change in changes:
            if change.kind != "opened":
                continue
            incident = active.get(change.key)
            if incident is None or incident.id is None:
                continue
            try:
                runbook = self.runbooks.for_fault(incident.type)
            except KeyError:
                continue
            members = tuple(sorted(m for m in incident.members if m != incident.root_asset))
            for step in runbook.automated_steps():
                task = asyncio.create_task(
                    self.run(incident.id, step, incident.root_asset, members, self.start_delay),
                    name=f"auto step {incident.id}/{step.id}",
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

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

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
